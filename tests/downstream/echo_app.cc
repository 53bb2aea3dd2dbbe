// A desktop app of its own, outside appwire's tree: calls the built-in
// Health and Echo services of a running appwire-server. Includes only
// installed headers.
//
//   echo_app --target 127.0.0.1:PORT --ca PROJECT/cert.pem --message TEXT
// Prints "health: SERVING" and "echo: TEXT"; exits 1 with the status on an
// error.
#include <cstdio>
#include <cstring>
#include <string>

#include <appwire/client/channel.h>
#include <appwire/v1/builtin.pb.h>

int main(int argc, char** argv) {
  appwire::ChannelOptions options;
  std::string message;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--target") == 0) options.target = argv[i + 1];
    else if (std::strcmp(argv[i], "--ca") == 0) options.ca_file = argv[i + 1];
    else if (std::strcmp(argv[i], "--message") == 0) message = argv[i + 1];
  }
  options.connect_timeout = absl::Seconds(10);
  absl::StatusOr<std::shared_ptr<appwire::Channel>> channel = appwire::Channel::Connect(options);
  if (!channel.ok()) {
    std::fprintf(stderr, "echo_app: %s\n", channel.status().ToString().c_str());
    return 1;
  }
  appwire::CallOptions call;
  call.timeout = absl::Seconds(10);
  absl::StatusOr<appwire::v1::HealthCheckResponse> health =
      (*channel)->Call<appwire::v1::HealthCheckResponse>(
          "appwire.v1.Health/Check", appwire::v1::HealthCheckRequest(), call);
  if (!health.ok()) {
    std::fprintf(stderr, "echo_app: %s\n", health.status().ToString().c_str());
    return 1;
  }
  std::printf("health: %s\n",
              appwire::v1::HealthCheckResponse::ServingStatus_Name(health->status()).c_str());
  appwire::v1::EchoRequest request;
  request.set_payload(message);
  absl::StatusOr<appwire::v1::EchoResponse> reply =
      (*channel)->Call<appwire::v1::EchoResponse>("appwire.v1.Echo/Echo", request, call);
  if (!reply.ok()) {
    std::fprintf(stderr, "echo_app: %s\n", reply.status().ToString().c_str());
    return 1;
  }
  std::printf("echo: %s\n", reply->payload().c_str());
  return 0;
}
