// `appwire stats HOST:PORT`: the server's metrics through the appwire port
// (appwire.v1.Stats/Get), for hosts whose metrics port cannot be reached.
// Prints the same Prometheus text the metrics endpoint serves (one
// formatter, appwire/server/metric_families.h), or with --json the
// StatsResponse in protobuf's JSON mapping.
#include <cstdio>
#include <memory>
#include <string>

#include <google/protobuf/util/json_util.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "appwire/client/channel.h"
#include "appwire/server/metric_families.h"
#include "appwire/v1/builtin.pb.h"
#include "tools/appwire/client_flags.h"
#include "tools/appwire/command.h"

namespace appwire::cli {
namespace {

int RunStats(const Arguments& a) {
  if (a.positional.empty()) return Usage(kStats, "give HOST:PORT");
  absl::Duration timeout;
  absl::StatusOr<ChannelOptions> options =
      ChannelOptionsFromFlags(a, a.positional[0], absl::Seconds(10), &timeout);
  if (!options.ok()) return Usage(kStats, std::string(options.status().message()));
  absl::StatusOr<v1::StatsResponse> response =
      CallOnce<v1::StatsResponse>(*options, timeout, "appwire.v1.Stats/Get", v1::StatsRequest());
  if (absl::IsUnimplemented(response.status())) {
    return Fail(absl::UnimplementedError(absl::StrCat(
        a.positional[0], " does not serve appwire.v1.Stats: its operator turns it on with "
        "`stats = true` in appwire.conf (or appwire-server --stats true), or reads the metrics "
        "port (metrics_port)")));
  }
  if (!response.ok()) return Fail(response.status());
  if (a.Has("json")) {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(*response, &json, print).ok()) {
      return Fail(absl::InternalError("the server's StatsResponse does not map to JSON"));
    }
    std::printf("%s\n", json.c_str());
    return kExitOk;
  }
  const std::string text = FormatExposition(MetricFamiliesFromProto(*response));
  std::fwrite(text.data(), 1, text.size(), stdout);
  return kExitOk;
}

std::vector<FlagSpec> StatsFlags() {
  std::vector<FlagSpec> flags = ClientFlags();
  flags.push_back({"json", Kind::kSwitch});
  return flags;
}

}  // namespace

const Subcommand kStats = {
    "stats",
    "stats HOST:PORT (--ca FILE | --pin SHA256:.. | --client DIR | --system-trust) "
    "[--server-name NAME] [--timeout 10s] [--json]",
    "Asks the server appwire.v1.Stats/Get over TLS and prints its metrics as the metrics\n"
    "endpoint does (Prometheus text: connections, handshake failures by reason, calls by\n"
    "method and code, latency histograms, bytes, certificate expiry, DH parameters), or\n"
    "with --json as protobuf's JSON of appwire.v1.StatsResponse. The server serves it only\n"
    "with `stats = true` in appwire.conf. Exit status 1 when it does not, or cannot be\n"
    "reached or trusted.",
    &RunStats,
    StatsFlags(),
    /*max_positional=*/1};

}  // namespace appwire::cli
