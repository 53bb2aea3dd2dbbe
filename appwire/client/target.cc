#include "appwire/client/target.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "appwire/common/version.h"

namespace appwire {

absl::StatusOr<Target> ParseTarget(const std::string& target) {
  Target parsed;
  if (target.empty()) {
    return absl::InvalidArgumentError(
        "target is empty; use \"host:port\", e.g. \"localhost:19813\"");
  }
  if (target.front() == '[') {
    size_t close = target.find(']');
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("target \"", target, "\" lacks a ']'"));
    }
    parsed.host = target.substr(1, close - 1);
    parsed.port = close + 1 < target.size() && target[close + 1] == ':'
                      ? target.substr(close + 2)
                      : std::to_string(kDefaultPort);
  } else {
    size_t colon = target.rfind(':');
    if (colon != std::string::npos && target.find(':') != colon) {
      return absl::InvalidArgumentError(absl::StrCat(
          "target \"", target, "\": put IPv6 addresses in brackets, \"[::1]:19813\""));
    }
    parsed.host = target.substr(0, colon);
    parsed.port = colon == std::string::npos ? std::to_string(kDefaultPort)
                                              : target.substr(colon + 1);
  }
  int port = 0;
  if (parsed.host.empty() || !absl::SimpleAtoi(parsed.port, &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target \"", target, "\" is not \"host:port\" with a port from 1 to 65535"));
  }
  return parsed;
}

}  // namespace appwire
