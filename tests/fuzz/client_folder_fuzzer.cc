// Client folder resolution (appwire/client/client_folder.h ResolveClientFolder): a
// host name from the app (the target's host or server_name, which a desktop
// app often takes from its user) and the files the folder holds.
//
// Input: the host, up to the first '\n' (at most 255 bytes), then one byte
// whose bits say which files exist:
//   bit 0..3  FOLDER/cert.pem, key.pem, ca.pem, known_servers
//   bit 4..6  FOLDER/HOST/cert.pem, key.pem, ca.pem (HOST lower-cased)
// The per-server files are only created when HOST is one plain path
// component (so the fuzzer never writes outside its folder).
//
// Checks: every file returned exists; known_servers is FOLDER/known_servers;
// cert.pem and key.pem come from the same folder; and nothing outside
// FOLDER is ever used, whatever the host ("..", "a/../..", "/etc"): decoy
// cert.pem, key.pem and ca.pem lie in FOLDER's parent.
#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "appwire/client/client_folder.h"
#include "appwire/common/files.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

bool PlainComponent(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.size() < 200 &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

// `path` lies in `folder` once "." and ".." are resolved (lexically, as the
// kernel would for folders that exist).
bool Inside(const std::string& path, const std::string& folder) {
  const std::filesystem::path normal = std::filesystem::path(path).lexically_normal();
  const std::filesystem::path root = std::filesystem::path(folder + "/").lexically_normal();
  const std::filesystem::path rel = normal.lexically_relative(root);
  return !rel.empty() && rel != "." && *rel.begin() != "..";
}

std::string Dirname(const std::string& path) { return path.substr(0, path.rfind('/')); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace appwire;
  const absl::string_view input = fuzz::AsText(data, size);
  const size_t newline = input.find('\n');
  const std::string host(input.substr(0, std::min<size_t>(newline, 255)));
  const unsigned bits = newline != absl::string_view::npos && newline + 1 < input.size()
                            ? static_cast<unsigned char>(input[newline + 1])
                            : 0x0f;

  static const std::string folder = fuzz::ScratchDir::Get().File("client");
  // Decoys beside the folder: a host that leads out of it finds them.
  static const bool decoys = [] {
    for (const char* name : {"cert.pem", "key.pem", "ca.pem"}) {
      fuzz::WriteScratchFile(fuzz::ScratchDir::Get().File(name), "decoy");
    }
    return true;
  }();
  (void)decoys;
  std::error_code ignored;
  std::filesystem::remove_all(folder, ignored);
  std::filesystem::create_directories(folder);
  static const char* const kNames[] = {"cert.pem", "key.pem", "ca.pem", "known_servers"};
  for (int i = 0; i < 4; ++i) {
    if (bits & (1u << i)) fuzz::WriteScratchFile(folder + "/" + kNames[i], "x");
  }
  const std::string lower = absl::AsciiStrToLower(host);
  if (PlainComponent(lower) && (bits & 0x70) != 0) {
    std::filesystem::create_directories(folder + "/" + lower);
    for (int i = 0; i < 3; ++i) {
      if (bits & (0x10u << i)) fuzz::WriteScratchFile(folder + "/" + lower + "/" + kNames[i], "x");
    }
  }

  const ClientFolderFiles files = ResolveClientFolder(folder, host);
  FUZZ_CHECK(files.known_servers_file == JoinPath(folder, "known_servers"),
             "known_servers is \"%s\"", files.known_servers_file.c_str());
  for (const std::string* file :
       {&files.certificate_file, &files.private_key_file, &files.ca_file}) {
    if (file->empty()) continue;
    FUZZ_CHECK(FileExists(*file), "\"%s\" is returned but does not exist", file->c_str());
    FUZZ_CHECK(Inside(*file, folder), "host \"%s\": \"%s\" is outside the client folder",
               absl::CHexEscape(host).c_str(), absl::CHexEscape(*file).c_str());
  }
  if (!files.certificate_file.empty() && !files.private_key_file.empty()) {
    FUZZ_CHECK(Dirname(files.certificate_file) == Dirname(files.private_key_file),
               "cert.pem from \"%s\", key.pem from \"%s\"", files.certificate_file.c_str(),
               files.private_key_file.c_str());
  }
  return 0;
}
