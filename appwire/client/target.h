// Target: where a channel connects, parsed from ChannelOptions::target.
//
//   absl::StatusOr<Target> target = ParseTarget("[::1]:19813");
//   // target->host == "::1", target->port == "19813"
//
// Accepted forms: "host:port", "host" (port kDefaultPort, 19813),
// "[v6address]:port" and "[v6address]". A bare IPv6 address must be put in
// brackets, so that its colons are not mistaken for the port's. Refusals
// are kInvalidArgument and say which form to use. Pure; any thread.
#ifndef APPWIRE_CLIENT_TARGET_H_
#define APPWIRE_CLIENT_TARGET_H_

#include <string>

#include "absl/status/statusor.h"

namespace appwire {

struct Target {
  std::string host;  // without brackets: "localhost", "127.0.0.1", "::1"
  std::string port;  // decimal, 1 to 65535 (the resolver takes it as a service)

  // "host:port" as known_servers records it (no brackets around IPv6).
  std::string HostPort() const { return host + ":" + port; }
};

absl::StatusOr<Target> ParseTarget(const std::string& target);

}  // namespace appwire

#endif  // APPWIRE_CLIENT_TARGET_H_
