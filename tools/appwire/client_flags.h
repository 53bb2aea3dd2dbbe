// The flags of the subcommands that connect as a client (`health`,
// `stats`, `call`): how the server is trusted, the name it must carry, and how long
// to wait. One place, so that they read the same everywhere.
#ifndef APPWIRE_TOOLS_APPWIRE_CLIENT_FLAGS_H_
#define APPWIRE_TOOLS_APPWIRE_CLIENT_FLAGS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "appwire/client/channel.h"
#include "tools/appwire/command.h"

namespace appwire::cli {

// --ca FILE, --pin SHA256:.., --client DIR, --system-trust, --server-name
// NAME, --timeout DURATION.
std::vector<FlagSpec> ClientFlags();

// ChannelOptions for `target` from those flags; *timeout gets --timeout
// (default `fallback`). InvalidArgument (a usage error) when no way to
// trust the server is given or the timeout does not parse.
absl::StatusOr<ChannelOptions> ChannelOptionsFromFlags(const Arguments& a,
                                                       const std::string& target,
                                                       absl::Duration fallback,
                                                       absl::Duration* timeout);

// One call to `method` on a new connection, as a probe makes it: failing
// fast (no waiting for a reconnection), within `timeout`. For health and
// stats.
template <typename Response, typename Request>
absl::StatusOr<Response> CallOnce(const ChannelOptions& options, absl::Duration timeout,
                                  const std::string& method, const Request& request) {
  absl::StatusOr<std::shared_ptr<Channel>> channel = Channel::Connect(options);
  if (!channel.ok()) return channel.status();
  CallOptions call;
  call.timeout = timeout;
  call.fail_fast = true;
  return (*channel)->template Call<Response>(method, request, call);
}

}  // namespace appwire::cli

#endif  // APPWIRE_TOOLS_APPWIRE_CLIENT_FLAGS_H_
