// The generated client headers (X.appwire.h, from protoc-gen-appwire) are
// what a client-only app compiles against, so they include client headers
// only: the standard library, Abseil, X.pb.h and public headers of
// appwire/client/, appwire/common/ and appwire/transport/, and nothing of
// appwire/server/ (or an internal/ folder, wolfSSL or Asio) down their whole
// include tree. The server's base classes are in X.appwire_service.h.
// Checked on the headers the build generated: tests/proto/inventory (every
// kind of method) and the built-in services' stubs (with MESSAGES).
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "generated_includes_test_paths.h"  // tests/CMakeLists.txt writes it
#include "gtest/gtest.h"
#include "tests/include_scanner.h"

namespace appwire {
namespace {

namespace fs = std::filesystem;

using ::appwire::testing::IncludeLine;
using ::appwire::testing::IncludeLinesOf;

// The include folders of appwire::client (its sources and its generated
// headers, appwire_proto's among them), as the compiler sees them.
std::vector<fs::path> IncludeDirs() {
  std::vector<fs::path> dirs;
  for (const char* dir : kClientIncludeDirs) {
    if (*dir != '\0') dirs.emplace_back(dir);
  }
  return dirs;
}

std::optional<fs::path> Resolve(const std::string& include, const std::vector<fs::path>& dirs) {
  for (const fs::path& dir : dirs) {
    if (fs::is_regular_file(dir / include)) return dir / include;
  }
  return std::nullopt;
}

// Headers of the client's folders that are not part of the public API (the
// issue's list: they are not installed).
bool IsInternal(const std::string& include) {
  return absl::StrContains(include, "/internal/") ||
         include == "appwire/transport/metadata_wire.h";
}

// What `header` (generated from REL.proto) may include directly.
std::vector<std::string> DirectIncludeProblems(const fs::path& header, const std::string& rel,
                                               const std::vector<fs::path>& dirs) {
  static const std::regex standard(R"([a-z_]+)");
  static const std::regex client_public(R"(appwire/(client|common|transport)/[a-z0-9_]+\.h)");
  std::vector<std::string> problems;
  for (const IncludeLine& include : IncludeLinesOf(header)) {
    const std::string where = absl::StrCat(header.string(), ":", include.line, ": ");
    if (include.angled && std::regex_match(include.path, standard)) continue;
    if (!include.angled && absl::StartsWith(include.path, "absl/")) continue;
    if (!include.angled && include.path == rel + ".pb.h") continue;
    if (!include.angled && std::regex_match(include.path, client_public) &&
        !IsInternal(include.path)) {
      if (!Resolve(include.path, dirs)) {
        problems.push_back(absl::StrCat(where, "\"", include.path, "\" is not a header of appwire"));
      }
      continue;
    }
    problems.push_back(absl::StrCat(
        where, "includes ", include.angled ? "<" : "\"", include.path, include.angled ? ">" : "\"",
        "; a generated client header may include only the standard library, absl/, ", rel,
        ".pb.h and public headers of appwire/client/, appwire/common/ and appwire/transport/"));
  }
  return problems;
}

// Follows every appwire/ include from `header` down; what a client-only app
// must not reach is named with the chain of includes that gets there.
std::vector<std::string> TransitiveIncludeProblems(const fs::path& header,
                                                   const std::vector<fs::path>& dirs) {
  std::vector<std::string> problems;
  std::map<std::string, std::string> reached_from;  // include -> the chain to it
  std::deque<std::pair<fs::path, std::string>> queue = {{header, header.filename().string()}};
  while (!queue.empty()) {
    const auto [file, chain] = queue.front();
    queue.pop_front();
    for (const IncludeLine& include : IncludeLinesOf(file)) {
      const std::string path = include.path;
      const std::string to = absl::StrCat(chain, " -> ", path);
      if (absl::StartsWith(path, "wolfssl/") || absl::StartsWith(path, "asio/") ||
          path == "asio.hpp") {
        problems.push_back(absl::StrCat(to, ": a third-party library the app does not link"));
        continue;
      }
      if (!absl::StartsWith(path, "appwire/")) continue;
      if (absl::StartsWith(path, "appwire/server/")) {
        problems.push_back(absl::StrCat(to, ": a server header in a client-only app"));
        continue;
      }
      if (IsInternal(path)) {
        problems.push_back(absl::StrCat(to, ": an internal header, not installed"));
        continue;
      }
      if (!reached_from.emplace(path, to).second) continue;
      std::optional<fs::path> found = Resolve(path, dirs);
      if (!found) {
        problems.push_back(absl::StrCat(to, ": not found in appwire::client's include folders"));
        continue;
      }
      queue.emplace_back(*found, to);
    }
  }
  if (reached_from.size() < 3) {
    problems.push_back(absl::StrCat(header.string(), " reaches only ", reached_from.size(),
                                    " appwire headers: is the scan right?"));
  }
  return problems;
}

TEST(GeneratedIncludesTest, ClientHeadersIncludeOnlyClientHeaders) {
  const std::vector<fs::path> dirs = IncludeDirs();
  ASSERT_GE(std::size(kGeneratedFiles), 1u);
  for (const GeneratedFile& generated : kGeneratedFiles) {
    const fs::path header = fs::path(generated.dir) / (std::string(generated.rel) + ".appwire.h");
    SCOPED_TRACE(header.string());
    ASSERT_TRUE(fs::is_regular_file(header)) << "not generated";
    std::vector<fs::path> search = dirs;
    search.insert(search.begin(), generated.dir);
    const std::vector<std::string> direct = DirectIncludeProblems(header, generated.rel, search);
    EXPECT_TRUE(direct.empty()) << absl::StrJoin(direct, "\n");
    const std::vector<std::string> below = TransitiveIncludeProblems(header, search);
    EXPECT_TRUE(below.empty()) << absl::StrJoin(below, "\n");
  }
}

// The other half of the split: the server's base classes are in
// X.appwire_service.h, which builds on the client header.
TEST(GeneratedIncludesTest, ServiceHeadersHoldTheServerSide) {
  for (const GeneratedFile& generated : kGeneratedFiles) {
    const fs::path header =
        fs::path(generated.dir) / (std::string(generated.rel) + ".appwire_service.h");
    SCOPED_TRACE(header.string());
    ASSERT_TRUE(fs::is_regular_file(header)) << "not generated";
    std::set<std::string> included;
    for (const IncludeLine& include : IncludeLinesOf(header)) included.insert(include.path);
    EXPECT_EQ(included.count(std::string(generated.rel) + ".appwire.h"), 1u);
    EXPECT_EQ(included.count("appwire/server/service_registry.h"), 1u);
  }
}

// The checks themselves: a header that includes a server header fails both.
TEST(GeneratedIncludesTest, AServerIncludeIsReported) {
  const fs::path folder = fs::path(::testing::TempDir()) / "generated_includes_test";
  fs::create_directories(folder / "shop");
  const fs::path header = folder / "shop" / "shop.appwire.h";
  {
    std::ofstream out(header);
    out << "#include <memory>\n"
           "#include \"absl/status/status.h\"\n"
           "#include \"appwire/client/channel.h\"\n"
           "#include \"appwire/server/service_registry.h\"\n"
           "#include \"shop/shop.pb.h\"\n";
  }
  std::vector<fs::path> dirs = IncludeDirs();
  const std::vector<std::string> direct = DirectIncludeProblems(header, "shop/shop", dirs);
  ASSERT_EQ(direct.size(), 1u) << absl::StrJoin(direct, "\n");
  EXPECT_TRUE(absl::StrContains(
      direct[0], ":4: includes \"appwire/server/service_registry.h\"; a generated client header "
                 "may include only"))
      << direct[0];
  const std::vector<std::string> below = TransitiveIncludeProblems(header, dirs);
  ASSERT_EQ(below.size(), 1u) << absl::StrJoin(below, "\n");
  EXPECT_EQ(below[0],
            "shop.appwire.h -> appwire/server/service_registry.h: a server header in a "
            "client-only app");
  fs::remove_all(folder);
}

}  // namespace
}  // namespace appwire
