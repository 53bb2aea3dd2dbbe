// appwire.conf (appwire/server/settings_file.h): the input is the file, applied to
// default ServerOptions with ApplySettingsFile, as appwire-server does at
// start-up (the cipher-list checks of appwire/transport/ included).
//
// Checks: errors are InvalidArgument naming the file and a line that exists;
// after a file that applies cleanly the options validate, the port is in
// range, and the last value of each key, applied again with ApplySetting,
// is accepted (the result is a combination the checks allow).
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "appwire/server/server.h"
#include "appwire/server/settings_file.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

// An open bug, not fatal here until it is fixed (then delete this): the
// check of kAllowNonForwardSecret (1008) does not look at kSslCipherList
// (64), so "allow_non_forward_secret = 1", then "ciphers = AES256-GCM-SHA384"
// (no forward secrecy), then "allow_non_forward_secret = 0" is accepted;
// with min_tls = 1.2, TlsContext::Create refuses the result later, at
// start-up, naming neither the file nor the line. The min_tls/max_tls pair
// is checked both ways.
// Input: regressions/settings_file/non_forward_secret_turned_off.
bool KnownOpenBug(const std::string& key, const absl::Status& status) {
  const bool known =
      key == "ciphers" && absl::StrContains(status.message(), "leaves no forward-secret suite");
  static bool reported = false;
  if (known && !reported) {
    reported = true;
    std::fprintf(stderr,
                 "settings_file_fuzzer: known open bug, not counted as a crash: "
                 "allow_non_forward_secret = 0 after a cipher list without forward secrecy is "
                 "accepted (%s)\n",
                 std::string(status.message()).c_str());
  }
  return known;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace appwire;
  const absl::string_view input = fuzz::AsText(data, size);
  static const std::string path = fuzz::ScratchDir::Get().File(kSettingsFileName);
  fuzz::WriteScratchFile(path, input);

  ServerOptions options;
  options.project_dir = fuzz::ScratchDir::Get().path();
  absl::Status status = ApplySettingsFile(path, &options);
  const std::string lines = absl::StrReplaceAll(input, {{"\r\n", "\n"}, {"\r", "\n"}});
  const std::vector<absl::string_view> split = absl::StrSplit(lines, '\n');
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument, "ApplySettingsFile: %s",
               status.ToString().c_str());
    const std::string prefix = absl::StrCat("\"", path, "\" line ");
    FUZZ_CHECK(absl::StartsWith(status.message(), prefix), "the error does not name the file: %s",
               status.ToString().c_str());
    absl::string_view rest = status.message().substr(prefix.size());
    const size_t colon = rest.find(':');
    size_t line = 0;
    FUZZ_CHECK(colon != absl::string_view::npos && absl::SimpleAtoi(rest.substr(0, colon), &line),
               "no line number: %s", status.ToString().c_str());
    FUZZ_CHECK(line >= 1 && line <= split.size(), "line %zu of a %zu-line file", line,
               split.size());
    return 0;
  }
  absl::Status valid = options.Validate();
  FUZZ_CHECK(valid.ok(), "a clean file makes invalid options: %s", valid.ToString().c_str());
  FUZZ_CHECK(!options.port.has_value() || (*options.port >= 0 && *options.port <= 65535), "port %d",
             *options.port);
  // The last value of each key again, on the options the file produced:
  // setting a selector to the value it already has must be accepted, or the
  // file reached a combination that the checks across selectors refuse
  // (each line is checked only against the lines before it).
  std::map<std::string, std::string> last;
  for (absl::string_view line : split) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    const size_t equals = line.find('=');
    FUZZ_CHECK(equals != absl::string_view::npos, "a line without '=' was accepted");
    last[std::string(absl::StripAsciiWhitespace(line.substr(0, equals)))] =
        std::string(absl::StripAsciiWhitespace(line.substr(equals + 1)));
  }
  for (const auto& [key, value] : last) {
    ServerOptions copy = options;
    absl::Status again = ApplySetting(key, value, &copy);
    FUZZ_CHECK(again.ok() || KnownOpenBug(key, again),
               "the file set %s = \"%s\", which the result refuses: %s", key.c_str(), value.c_str(),
               again.ToString().c_str());
  }
  return 0;
}
