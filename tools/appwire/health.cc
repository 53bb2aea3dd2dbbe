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
#include "tools/appwire/client_flags.h"
#include "tools/appwire/command.h"

namespace appwire::cli {
namespace {

int RunHealth(const Arguments& a) {
  if (a.positional.empty()) return Usage(kHealth, "give HOST:PORT");
  absl::Duration timeout;
  absl::StatusOr<ChannelOptions> options =
      ChannelOptionsFromFlags(a, a.positional[0], absl::Seconds(5), &timeout);
  if (!options.ok()) return Usage(kHealth, std::string(options.status().message()));
  absl::StatusOr<v1::HealthCheckResponse> response = CallOnce<v1::HealthCheckResponse>(
      *options, timeout, "appwire.v1.Health/Check", v1::HealthCheckRequest());
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
    ClientFlags(),
    /*max_positional=*/1};

}  // namespace appwire::cli
