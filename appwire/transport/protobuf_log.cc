#include "appwire/transport/protobuf_log.h"

#include <mutex>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "absl/strings/str_cat.h"
#include "appwire/common/log.h"

namespace appwire {
namespace {

void ToAppwireLog(google::protobuf::LogLevel level, const char* filename, int line,
                  const std::string& message) {
  // A peer's bad bytes are a warning at most: the frame is refused and said
  // so in our own words; protobuf's words go along for the record.
  const LogLevel ours = level >= google::protobuf::LOGLEVEL_ERROR
                            ? LogLevel::kWarning
                            : level == google::protobuf::LOGLEVEL_WARNING ? LogLevel::kWarning
                                                                          : LogLevel::kInfo;
  Log(ours, absl::StrCat("protobuf: ", message, " (", filename, ":", line, ")"));
}

}  // namespace

void RouteProtobufLogs() {
  static std::once_flag once;
  std::call_once(once, [] { google::protobuf::SetLogHandler(&ToAppwireLog); });
}

}  // namespace appwire
