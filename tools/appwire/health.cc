// `appwire health HOST:PORT`: the grpc_health_probe of appwire, for scripts,
// load balancers and service managers. Exit status 0 only when the server
// answers appwire.v1.Health/Check with SERVING over a verified TLS
// connection; 1 when it does not (not serving, unreachable, not trusted,
// too slow), with the reason on stderr; 2 for a wrong command line.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "appwire/client/channel.h"
#include "appwire/v1/builtin.pb.h"
#include "tools/appwire/command.h"

namespace appwire::cli {
namespace {

int RunHealth(const Arguments& a) {
  if (a.positional.empty()) return Usage(kHealth, "give HOST:PORT");
  absl::Duration timeout;
  if (!absl::ParseDuration(a.Get("timeout", "5s"), &timeout) || timeout <= absl::ZeroDuration()) {
    return Usage(kHealth, absl::StrCat("--timeout ", a.Get("timeout"),
                                       ": give a duration such as 5s or 500ms"));
  }
  ChannelOptions options;
  options.target = a.positional[0];
  options.server_name = a.Get("server-name");
  options.ca_file = a.Get("ca");
  options.pinned_sha256 = a.Get("pin");
  options.client_folder = a.Get("client");
  options.use_system_trust_store = a.Has("system-trust");
  if (options.ca_file.empty() && options.pinned_sha256.empty() && options.client_folder.empty() &&
      !options.use_system_trust_store) {
    return Usage(kHealth,
                 "say how to trust the server: --ca FILE, --pin SHA256:..., --client DIR or "
                 "--system-trust");
  }
  options.connect_timeout = timeout;  // Connect() connects once and says why it could not
  absl::StatusOr<std::shared_ptr<Channel>> channel = Channel::Connect(options);
  if (!channel.ok()) return Fail(channel.status());
  CallOptions call;
  call.timeout = timeout;
  call.fail_fast = true;  // a probe asks once: no waiting for a reconnection
  absl::StatusOr<v1::HealthCheckResponse> response =
      (*channel)->Call<v1::HealthCheckResponse>("appwire.v1.Health/Check",
                                                v1::HealthCheckRequest(), call);
  if (!response.ok()) return Fail(response.status());
  const std::string status = v1::HealthCheckResponse::ServingStatus_Name(response->status());
  std::printf("%s\n", status.c_str());
  return response->status() == v1::HealthCheckResponse::SERVING ? kExitOk : kExitFailed;
}

}  // namespace

const Subcommand kHealth = {
    "health",
    "health HOST:PORT (--ca FILE | --pin SHA256:.. | --client DIR | --system-trust) "
    "[--server-name NAME] [--timeout 5s]",
    "Asks the server appwire.v1.Health/Check over TLS, verifying it as a client does, and\n"
    "prints the answer (SERVING, NOT_SERVING, UNKNOWN). Exit status 0 only for SERVING;\n"
    "1 for any other answer or when the server cannot be reached or trusted within\n"
    "--timeout (default 5s), with the reason on stderr. For scripts and load balancers.",
    &RunHealth,
    {{"ca"}, {"pin"}, {"client"}, {"system-trust", Kind::kSwitch}, {"server-name"}, {"timeout"}},
    /*max_positional=*/1};

}  // namespace appwire::cli
