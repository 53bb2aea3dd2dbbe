// A client folder's known_servers file (appwire/client/client_folder.h): the input
// is the file. FindKnownServer looks up the server of every line in it and a
// server that is not in it; RememberServer then records that new server, as
// Connect does on a first use.
//
// Checks: a lookup finds the first line whose fields are exactly that server
// and a fingerprint, with its line number; a fingerprint that parses
// (ParseSha256Fingerprint) formats back to the same bytes; after
// RememberServer the new server is found with what was recorded, and every
// server found before is still found, on the same line, with the same
// fingerprint (recording never damages the file).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "appwire/client/client_folder.h"
#include "appwire/transport/tls_options.h"
#include "tests/fuzz/fuzz_support.h"

namespace appwire {
namespace {

struct Lookup {
  std::string server;
  std::optional<KnownServer> found;
};

std::optional<KnownServer> Find(const std::string& file, const std::string& server) {
  absl::StatusOr<std::optional<KnownServer>> found = FindKnownServer(file, server);
  FUZZ_CHECK(found.ok(), "FindKnownServer: %s", found.status().ToString().c_str());
  return *found;
}

// The format as client_folder.h documents it, written again: the expected
// answer for `server`.
std::optional<KnownServer> Expected(absl::string_view text, absl::string_view server) {
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() == 2 && fields[0] == server) {
      return KnownServer{std::string(fields[1]), number};
    }
  }
  return std::nullopt;
}

bool Same(const std::optional<KnownServer>& a, const std::optional<KnownServer>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a.has_value() || (a->fingerprint == b->fingerprint && a->line == b->line);
}

}  // namespace
}  // namespace appwire

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace appwire;
  const absl::string_view input = fuzz::AsText(data, size);
  static const std::string file = fuzz::ScratchDir::Get().File("known_servers");
  fuzz::WriteScratchFile(file, input);

  // The servers the file names (the first word of each line), at most 16.
  std::vector<Lookup> lookups;
  for (absl::string_view line : absl::StrSplit(input, '\n')) {
    if (lookups.size() == 16) break;
    std::vector<absl::string_view> fields =
        absl::StrSplit(absl::StripAsciiWhitespace(line), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (!fields.empty()) lookups.push_back(Lookup{std::string(fields[0]), std::nullopt});
  }
  for (Lookup& lookup : lookups) {
    lookup.found = Find(file, lookup.server);
    const std::optional<KnownServer> expected = Expected(input, lookup.server);
    FUZZ_CHECK(Same(lookup.found, expected), "lookup of \"%s\": found line %d, expected line %d",
               lookup.server.c_str(), lookup.found ? lookup.found->line : 0,
               expected ? expected->line : 0);
    if (lookup.found) {
      std::string raw;
      if (ParseSha256Fingerprint(lookup.found->fingerprint, &raw).ok()) {
        FUZZ_CHECK(raw.size() == 32, "a %zu-byte fingerprint", raw.size());
        std::string again;
        FUZZ_CHECK(
            ParseSha256Fingerprint(FormatSha256Fingerprint(raw), &again).ok() && again == raw,
            "fingerprint \"%s\" does not format back", lookup.found->fingerprint.c_str());
      }
    }
  }

  // A first use: a server the file does not know is recorded.
  const std::string server = "new-server.fuzz.example:19813";
  if (Find(file, server).has_value()) return 0;
  const std::string fingerprint = FormatSha256Fingerprint(std::string(32, '\x5a'));
  absl::Status remembered = RememberServer(file, server, fingerprint);
  FUZZ_CHECK(remembered.ok(), "RememberServer: %s", remembered.ToString().c_str());
  const std::optional<KnownServer> recorded = Find(file, server);
  FUZZ_CHECK(recorded.has_value() && recorded->fingerprint == fingerprint,
             "the server just recorded is not found");
  for (const Lookup& lookup : lookups) {
    if (lookup.server == server) continue;
    FUZZ_CHECK(Same(Find(file, lookup.server), lookup.found),
               "recording a server changed the entry of \"%s\" (line %d)", lookup.server.c_str(),
               lookup.found ? lookup.found->line : 0);
  }
  return 0;
}
