// The layers of docs/architecture.md, checked on the sources: each folder
// includes only from the folders below it, a folder's internal/ headers stay
// in that folder, and wolfSSL is seen by appwire/transport/ alone. A new include
// that breaks the picture fails here, naming the file, the line and the
// rule, instead of surfacing later as a cycle or a leaked dependency.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/include_scanner.h"

namespace appwire {
namespace {

namespace fs = std::filesystem;

// Folder -> the project folders its files may include from ("appwire/v1"
// is the generated protobuf code, "google" protobuf's own headers). tests/
// may include anything and is not listed.
const std::map<std::string, std::set<std::string>>& AllowedIncludes() {
  static const auto* allowed = new std::map<std::string, std::set<std::string>>{
      {"appwire/common", {"appwire/common"}},
      {"appwire/transport", {"appwire/transport", "appwire/common", "appwire/v1"}},
      {"appwire/rpc", {"appwire/rpc", "appwire/transport", "appwire/common", "appwire/v1"}},
      // The ACME client: signs with transport's wolfCrypt, speaks HTTPS
      // through libcurl.
      {"appwire/acme", {"appwire/acme", "appwire/transport", "appwire/common"}},
      {"appwire/server",
       {"appwire/server", "appwire/acme", "appwire/rpc", "appwire/transport", "appwire/common", "appwire/v1",
        "google"}},
      {"appwire/client",
       {"appwire/client", "appwire/rpc", "appwire/transport", "appwire/common", "appwire/v1",
        "google"}},
      // The C API: a layer over the client's public API, nothing below it.
      {"appwire/c", {"appwire/c", "appwire/client", "appwire/common"}},
      {"tools",
       {"tools", "appwire/server", "appwire/acme", "appwire/client", "appwire/rpc", "appwire/transport",
        "appwire/common", "appwire/v1", "google"}},
      {"examples",
       {"examples", "appwire/server", "appwire/client", "appwire/common", "appwire/v1",
        "google"}},
      {"bench",
       {"bench", "appwire/server", "appwire/client", "appwire/rpc", "appwire/transport",
        "appwire/common", "appwire/v1", "google"}},
  };
  return *allowed;
}

// Includes of another folder's internal/ headers, each with its reason.
// Keep this list short; an entry is a debt, not a permission.
const std::set<std::string>& InternalExceptions() {
  static const auto* exceptions = new std::set<std::string>{
      // The CLI's probe drives the sans-I/O handshake over a blocking
      // socket, and PEM conversion words wolfCrypt's PKCS#12 codes
      // (tools/README.md).
      "tools/appwire/tls_probe.cc -> appwire/transport/internal/tls_session.h",
      "tools/appwire/pem_conversion.cc -> appwire/transport/internal/errors.h",
      "tools/appwire/pem_conversion.cc -> appwire/transport/internal/wolfssl.h",
  };
  return *exceptions;
}

struct Include {
  std::string file;  // relative to the source root
  int line;
  std::string path;  // what is between the quotes or brackets
  bool angled;
};

std::vector<Include> IncludesOf(const fs::path& root, const fs::path& file) {
  std::vector<Include> includes;
  const std::string relative = fs::relative(file, root).string();
  for (const testing::IncludeLine& include : testing::IncludeLinesOf(file)) {
    includes.push_back({relative, include.line, include.path, include.angled});
  }
  return includes;
}

std::vector<fs::path> SourcesUnder(const fs::path& folder) {
  std::vector<fs::path> files;
  if (!fs::is_directory(folder)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    const std::string extension = entry.path().extension().string();
    if (entry.is_regular_file() && (extension == ".cc" || extension == ".h")) {
      files.push_back(entry.path());
    }
  }
  return files;
}

// "appwire/rpc/hello.h" -> "appwire/rpc"; "absl/strings/str_cat.h" -> "absl".
std::string FolderOf(const std::string& include) {
  const size_t first = include.find('/');
  if (include.substr(0, first) != "appwire") return include.substr(0, first);
  return include.substr(0, include.find('/', first + 1));
}

TEST(LayeringTest, EachFolderIncludesOnlyFromTheLayersBelowIt) {
  const fs::path root = APPWIRE_SOURCE_DIR;
  std::vector<std::string> violations;
  int checked = 0;
  for (const auto& [folder, allowed] : AllowedIncludes()) {
    for (const fs::path& file : SourcesUnder(root / folder)) {
      for (const Include& include : IncludesOf(root, file)) {
        if (include.angled || include.path.find('/') == std::string::npos) continue;
        const std::string from = FolderOf(include.path);
        // absl, gtest, gmock: libraries every layer may use.
        if (from == "absl" || from == "gtest" || from == "gmock") continue;
        ++checked;
        if (allowed.count(from) == 0) {
          violations.push_back(absl::StrCat(include.file, ":", include.line, ": ", folder,
                                            "/ may not include \"", include.path, "\" (", from,
                                            "/ is not below it)"));
        }
      }
    }
  }
  EXPECT_GT(checked, 100) << "the scan found too few includes: is APPWIRE_SOURCE_DIR right?";
  EXPECT_TRUE(violations.empty()) << absl::StrJoin(violations, "\n");
}

TEST(LayeringTest, InternalHeadersStayInTheirFolder) {
  const fs::path root = APPWIRE_SOURCE_DIR;
  std::vector<std::string> violations;
  for (const auto& [folder, allowed] : AllowedIncludes()) {
    for (const fs::path& file : SourcesUnder(root / folder)) {
      for (const Include& include : IncludesOf(root, file)) {
        if (include.angled || !absl::StrContains(include.path, "/internal/")) continue;
        if (FolderOf(include.path) == folder) continue;
        const std::string key = absl::StrCat(include.file, " -> ", include.path);
        if (InternalExceptions().count(key) > 0) continue;
        violations.push_back(absl::StrCat(include.file, ":", include.line, ": \"", include.path,
                                          "\" is internal to ", FolderOf(include.path), "/"));
      }
    }
  }
  EXPECT_TRUE(violations.empty()) << absl::StrJoin(violations, "\n");
}

// tools/appwire's probe and PEM conversion also need wolfSSL itself (in
// their .cc files only; tools/README.md says why).
TEST(LayeringTest, OnlyTransportAndTheCliToolsSeeWolfSsl) {
  const fs::path root = APPWIRE_SOURCE_DIR;
  const std::set<std::string> may = {"appwire/transport/", "tools/appwire/tls_probe.cc",
                                     "tools/appwire/pem_conversion.cc"};
  std::vector<std::string> violations;
  for (const auto& [folder, allowed] : AllowedIncludes()) {
    for (const fs::path& file : SourcesUnder(root / folder)) {
      for (const Include& include : IncludesOf(root, file)) {
        const bool permitted = std::any_of(may.begin(), may.end(), [&](const std::string& prefix) {
          return absl::StartsWith(include.file, prefix);
        });
        if (absl::StartsWith(include.path, "wolfssl/") && !permitted) {
          violations.push_back(absl::StrCat(include.file, ":", include.line, ": includes <",
                                            include.path, ">; only appwire/transport/ may"));
        }
      }
    }
  }
  EXPECT_TRUE(violations.empty()) << absl::StrJoin(violations, "\n");
}

// The test itself: a rule it cannot break would check nothing.
TEST(LayeringTest, TheScanSeesARealInclude) {
  const fs::path root = APPWIRE_SOURCE_DIR;
  bool found = false;
  for (const Include& include : IncludesOf(root, root / "appwire" / "rpc" / "hello.cc")) {
    found = found || include.path == "appwire/rpc/hello.h";
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace appwire
