// Helpers shared by the fuzz targets in this folder: an invariant check that
// crashes (so both drivers report it), a scratch folder for APIs that take
// paths, and PEM wrapping for inputs that are DER.
#ifndef APPWIRE_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define APPWIRE_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

// An invariant of the code under test. A violation aborts: libFuzzer saves
// the input as a crash, and the standalone driver dies with a non-zero status.
#define FUZZ_CHECK(condition, ...)                                                            \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__, __LINE__, #condition); \
      std::fprintf(stderr, __VA_ARGS__);                                                      \
      std::fprintf(stderr, "\n");                                                             \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace appwire::fuzz {

inline absl::string_view AsText(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

// A folder of this process in /dev/shm (memory: a target that writes its
// input to disk runs 10 to 50 times slower), else under $TMPDIR or /tmp;
// removed at exit. Targets write their input there when the API under test
// reads files.
class ScratchDir {
 public:
  static const ScratchDir& Get() {
    static const ScratchDir* dir = new ScratchDir();  // never destroyed: see atexit
    return *dir;
  }
  const std::string& path() const { return path_; }
  std::string File(absl::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = ::access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm"
                       : tmp != nullptr && *tmp != '\0'       ? tmp
                                                              : "/tmp";
    std::string pattern = base + "/appwire-fuzz-XXXXXX";
    if (::mkdtemp(&pattern[0]) == nullptr) {
      std::perror("appwire fuzz: mkdtemp");
      std::abort();
    }
    path_ = pattern;
    static std::string* to_remove = new std::string(path_);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(*to_remove, ignored);
    });
  }
  std::string path_;
};

// Replaces the file at `path` with `contents` (not atomically: only this
// process uses the scratch folder). A new file each time, not O_TRUNC: ext4
// flushes a truncated file to disk on close, which made a target that
// writes its input 10 times slower.
inline void WriteScratchFile(const std::string& path, absl::string_view contents) {
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror(path.c_str());
    std::abort();
  }
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n <= 0) {
      std::perror(path.c_str());
      std::abort();
    }
    written += static_cast<size_t>(n);
  }
  ::close(fd);
}

// `der` as one PEM block of `label` ("CERTIFICATE", "PRIVATE KEY", ...),
// base64 in 64-character lines, as `openssl` writes it.
inline std::string WrapPem(absl::string_view label, absl::string_view der) {
  const std::string base64 = absl::Base64Escape(der);
  std::string pem = "-----BEGIN " + std::string(label) + "-----\n";
  for (size_t i = 0; i < base64.size(); i += 64) {
    pem.append(base64, i, 64);
    pem.push_back('\n');
  }
  pem += "-----END " + std::string(label) + "-----\n";
  return pem;
}

// True when `data` starts like DER (a SEQUENCE): the inputs a target wraps
// in PEM so that mutations reach the ASN.1 parser instead of breaking base64.
inline bool StartsLikeDer(absl::string_view data) {
  return !data.empty() && static_cast<unsigned char>(data[0]) == 0x30;
}

// The bytes the base64 lines of the PEM blocks in `text` decode to, block
// after block (header lines such as "Proc-Type: ..." left out; characters
// outside the base64 alphabet skipped, as a lenient decoder would).
inline std::string PemBodies(absl::string_view text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  bool in_block = false;
  for (absl::string_view line : absl::StrSplit(text, absl::ByAnyChar("\r\n"))) {
    if (absl::StartsWith(line, "-----BEGIN")) {
      in_block = true;
      bits = 0;
      count = 0;
      continue;
    }
    if (absl::StartsWith(line, "-----END")) {
      in_block = false;
      continue;
    }
    if (!in_block || absl::StrContains(line, ':')) continue;
    for (char c : line) {
      int v = -1;
      if (c >= 'A' && c <= 'Z') v = c - 'A';
      if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
      if (c >= '0' && c <= '9') v = c - '0' + 52;
      if (c == '+') v = 62;
      if (c == '/') v = 63;
      if (v < 0) continue;
      bits = (bits << 6) | static_cast<uint32_t>(v);
      if (++count == 4) {
        out.push_back(static_cast<char>(bits >> 16));
        out.push_back(static_cast<char>(bits >> 8));
        out.push_back(static_cast<char>(bits));
        bits = 0;
        count = 0;
      }
    }
  }
  return out;
}

// Whether DER `der` holds an iteration count above `limit`: an INTEGER
// right after an OCTET STRING, as the salt and count of PBKDF2, PKCS#5 v1.5
// and PKCS#12 MAC parameters are (a byte scan, not a parse: it may also
// match elsewhere, which only skips an input). DecryptPrivateKeyPem and
// ConvertToPem use a file's count as it is: ten million iterations take
// 8 s, 2^31 about half an hour, so targets skip such inputs rather than
// time out.
inline bool HasLargeIterationCount(absl::string_view der, uint64_t limit = 100000) {
  const auto byte = [&der](size_t i) { return static_cast<unsigned char>(der[i]); };
  for (size_t i = 0; i + 2 <= der.size(); ++i) {
    if (byte(i) != 0x04) continue;
    size_t j = i + 2;
    size_t length = byte(i + 1);
    if (length & 0x80) {
      const size_t n = length & 0x7f;
      if (n == 0 || n > 2 || j + n > der.size()) continue;
      length = 0;
      for (size_t k = 0; k < n; ++k) length = (length << 8) | byte(j++);
    }
    if (length > der.size() - j) continue;
    j += length;
    if (j + 2 > der.size() || byte(j) != 0x02) continue;
    const size_t n = byte(j + 1);
    if (n == 0) continue;
    if (n > 4) return true;  // long form or more than 32 bits
    uint64_t value = 0;
    for (size_t k = 0; k < n && j + 2 + k < der.size(); ++k) value = (value << 8) | byte(j + 2 + k);
    if (value > limit) return true;
  }
  return false;
}

}  // namespace appwire::fuzz

#endif  // APPWIRE_TESTS_FUZZ_FUZZ_SUPPORT_H_
