// Helpers shared by the fuzz targets in this folder: an invariant check that
// crashes (so both drivers report it), a scratch folder for APIs that take
// paths, and PEM wrapping for inputs that are DER.
#ifndef APPWIRE_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define APPWIRE_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/escaping.h"
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

}  // namespace appwire::fuzz

#endif  // APPWIRE_TESTS_FUZZ_FUZZ_SUPPORT_H_
