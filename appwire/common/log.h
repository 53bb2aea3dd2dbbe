// Process-wide logging for appwire: one line per event on stderr, or to the
// app's own logger through SetLogSink.
//
//   appwire::LogInfo(absl::StrCat("listening on ", address));
//
// Lines look like `2026-11-21T23:59:01Z appwire I listening on 127.0.0.1:19813`,
// or, with SetLogFormat(LogFormat::kJson), one JSON object per line:
// {"time_us":1795000000123456,"level":"info","event":"message","message":"listening on ..."}.
// Events with named fields (LogEvent: the access log's "call") give
// `appwire I call peer=... method=...` in text and their fields as members
// in JSON. Never pass private key material to these functions. Thread-safe.
#ifndef APPWIRE_COMMON_LOG_H_
#define APPWIRE_COMMON_LOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "appwire/common/export.h"

namespace appwire {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

APPWIRE_EXPORT void Log(LogLevel level, absl::string_view message);
inline void LogInfo(absl::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarning(absl::string_view m) { Log(LogLevel::kWarning, m); }
inline void LogError(absl::string_view m) { Log(LogLevel::kError, m); }

// Lines below `level` are dropped. Default: kInfo.
APPWIRE_EXPORT void SetMinLogLevel(LogLevel level);

// How lines written to stderr look (a sink gets the text form either way).
enum class LogFormat {
  kText,  // default: "TIME appwire L MESSAGE"
  kJson,  // one object per line: time_us, level, event, then the fields
};
APPWIRE_EXPORT void SetLogFormat(LogFormat format);

// One named field of an event: text, or a whole number (written as a JSON
// number).
struct LogField {
  std::string name;
  std::variant<std::string, int64_t> value;
};

// An event with fields, e.g. LogEvent(kInfo, "call", {{"method", m},
// {"duration_us", 812}}). Text: "call method=pkg.S/M duration_us=812"
// (a value with spaces, quotes or '=' is quoted, JSON style); JSON: the
// fields as members after "event".
APPWIRE_EXPORT void LogEvent(LogLevel level, absl::string_view event,
                             const std::vector<LogField>& fields);

// Replaces where lines go (default: stderr). Tests use this to capture what
// was logged; pass nullptr to restore stderr. The sink receives whole lines
// without the trailing newline and must be thread-safe.
APPWIRE_EXPORT void SetLogSink(std::function<void(LogLevel, absl::string_view)> sink);

}  // namespace appwire

#endif  // APPWIRE_COMMON_LOG_H_
