// A desktop client that outlives its server: it makes a call every
// --interval-ms, prints every connection state change, and keeps going while
// the server restarts. Calls made while the server is away wait for the
// reconnection (up to their deadline); the reconnection resumes the TLS
// session, so it costs no certificate exchange.
//
//   resilient_client --target 127.0.0.1:19813 --ca PROJECT/cert.pem [--calls 12]
//                    [--interval-ms 150]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "appwire/client/channel.h"
#include "appwire/v1/builtin.appwire.h"
#include "example_args.h"

int main(int argc, char** argv) {
  appwire::ChannelOptions options;
  std::string calls_text = "12";
  std::string interval_text = "150";
  const char* const usage = "resilient_client --target HOST:PORT --ca FILE [--calls N] [--interval-ms MS]";
  if (!examples::ParseArgs(argc, argv, usage,
                           {{"--target", &options.target},
                            {"--ca", &options.ca_file},
                            {"--calls", &calls_text},
                            {"--interval-ms", &interval_text}})) {
    return 2;
  }
  long calls_number = 0;
  long interval_number = 0;
  if (!examples::ParseNumber(calls_text, 1, 1000000, &calls_number) ||
      !examples::ParseNumber(interval_text, 0, 3600000, &interval_number)) {
    std::fprintf(stderr, "resilient_client: --calls takes 1 to 1000000, --interval-ms 0 to 3600000\nusage: %s\n", usage);
    return 2;
  }
  const int calls = static_cast<int>(calls_number);
  const int interval_ms = static_cast<int>(interval_number);
  // Quick retries for the demo; the defaults (1 s, x1.6, up to 120 s) suit
  // real deployments.
  options.reconnect_backoff.initial = absl::Milliseconds(100);
  options.reconnect_backoff.max = absl::Seconds(1);
  options.on_state_change = [](appwire::ChannelState state, const absl::Status& reason) {
    std::printf("state: %s%s%s\n", std::string(appwire::ChannelStateName(state)).c_str(),
                reason.ok() ? "" : " - ", std::string(reason.message()).c_str());
    std::fflush(stdout);
  };
  auto channel = appwire::Channel::Connect(options);
  if (!channel.ok()) {
    std::fprintf(stderr, "resilient_client: %s\n", channel.status().ToString().c_str());
    return 1;
  }
  appwire::v1::Echo::Stub echo(*channel);
  int failed = 0;
  for (int i = 1; i <= calls; ++i) {
    appwire::v1::EchoRequest request;
    request.set_payload(absl::StrCat("call ", i));
    appwire::CallOptions call_options;
    call_options.timeout = absl::Seconds(10);  // waits for a reconnection up to this
    absl::StatusOr<appwire::v1::EchoResponse> reply = echo.Echo(request, call_options);
    if (reply.ok()) {
      std::printf("%s: ok on connection %d%s\n", reply->payload().c_str(),
                  (*channel)->connections_made(),
                  (*channel)->session_info().resumed ? " (TLS session resumed)" : "");
    } else {
      ++failed;
      std::printf("call %d: %s\n", i, reply.status().ToString().c_str());
    }
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  return failed == 0 ? 0 : 1;
}
