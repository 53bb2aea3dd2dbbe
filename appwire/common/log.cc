#include "appwire/common/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace appwire {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> format{static_cast<int>(LogFormat::kText)};

std::mutex& SinkMutex() {
  static std::mutex mu;
  return mu;
}

std::function<void(LogLevel, absl::string_view)>& Sink() {
  static auto* sink = new std::function<void(LogLevel, absl::string_view)>();
  return *sink;
}

char LevelLetter(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return 'D';
    case LogLevel::kInfo: return 'I';
    case LogLevel::kWarning: return 'W';
    case LogLevel::kError: return 'E';
  }
  return '?';
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "unknown";
}

// A JSON string literal (escaped by the library; bytes that are not UTF-8
// become U+FFFD rather than an exception).
std::string JsonText(absl::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

// The text form of a field's value: as it is, or quoted when it would not
// read back as one word.
std::string TextValue(const LogField& field) {
  if (const int64_t* number = std::get_if<int64_t>(&field.value)) return absl::StrCat(*number);
  const std::string& text = std::get<std::string>(field.value);
  if (!text.empty() && text.find_first_of(" \"=\t\n\r") == std::string::npos) return text;
  return JsonText(text);
}

// Writes one line to the sink or stderr. `text` is the sink's (and the
// text format's) form; `json_members` what follows "event" in JSON.
void Write(LogLevel level, absl::string_view event, absl::string_view text,
           const nlohmann::ordered_json& json_members) {
  std::lock_guard<std::mutex> lock(SinkMutex());
  if (Sink()) {
    Sink()(level, text);
    return;
  }
  const absl::Time now = absl::Now();
  std::string line;
  if (format.load(std::memory_order_relaxed) == static_cast<int>(LogFormat::kJson)) {
    nlohmann::ordered_json object = {{"time_us", absl::ToUnixMicros(now)},
                                     {"level", LevelName(level)},
                                     {"event", std::string(event)}};
    for (const auto& [name, value] : json_members.items()) object[name] = value;
    line = absl::StrCat(
        object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace), "\n");
  } else {
    line = absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone()),
                        " appwire ", std::string(1, LevelLetter(level)), " ", text, "\n");
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

void Log(LogLevel level, absl::string_view message) {
  if (static_cast<int>(level) < min_level.load(std::memory_order_relaxed)) return;
  Write(level, "message", message, nlohmann::ordered_json{{"message", std::string(message)}});
}

void LogEvent(LogLevel level, absl::string_view event, const std::vector<LogField>& fields) {
  if (static_cast<int>(level) < min_level.load(std::memory_order_relaxed)) return;
  std::string text(event);
  nlohmann::ordered_json members = nlohmann::ordered_json::object();
  for (const LogField& field : fields) {
    absl::StrAppend(&text, " ", field.name, "=", TextValue(field));
    if (const int64_t* number = std::get_if<int64_t>(&field.value)) {
      members[field.name] = *number;
    } else {
      members[field.name] = std::get<std::string>(field.value);
    }
  }
  Write(level, event, text, members);
}

void SetLogFormat(LogFormat log_format) {
  format.store(static_cast<int>(log_format), std::memory_order_relaxed);
}

void SetMinLogLevel(LogLevel level) {
  min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

void SetLogSink(std::function<void(LogLevel, absl::string_view)> sink) {
  std::lock_guard<std::mutex> lock(SinkMutex());
  Sink() = std::move(sink);
}

}  // namespace appwire
