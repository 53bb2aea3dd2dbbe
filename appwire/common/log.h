// Process-wide logging for appwire: one line per event on stderr, or to the
// app's own logger through SetLogSink.
//
//   appwire::LogInfo(absl::StrCat("listening on ", address));
//
// Lines look like `2026-11-21T23:59:01Z appwire I listening on 127.0.0.1:19813`.
// Never pass private key material to these functions. Thread-safe.
#ifndef APPWIRE_COMMON_LOG_H_
#define APPWIRE_COMMON_LOG_H_

#include <functional>
#include <string>

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

// Replaces where lines go (default: stderr). Tests use this to capture what
// was logged; pass nullptr to restore stderr. The sink receives whole lines
// without the trailing newline and must be thread-safe.
APPWIRE_EXPORT void SetLogSink(std::function<void(LogLevel, absl::string_view)> sink);

}  // namespace appwire

#endif  // APPWIRE_COMMON_LOG_H_
