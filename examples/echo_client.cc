// The smallest appwire desktop client: connect over TLS 1.3, check the
// server's health, ask what it runs, and echo a message.
//
//   echo_client --target 127.0.0.1:19813 --ca PROJECT/cert.pem [--message TEXT]
//   echo_client --target 127.0.0.1:19813 --pin SHA256:AB:...
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "appwire/client/channel.h"
#include "appwire/v1/builtin.appwire.h"
#include "example_args.h"

int main(int argc, char** argv) {
  appwire::ChannelOptions options;
  options.target = "localhost:19813";
  std::string message = "hello from a desktop app";
  if (!examples::ParseArgs(argc, argv,
                           "echo_client --target HOST:PORT (--ca FILE | --pin SHA256:..) "
                           "[--server-name NAME] [--message TEXT]",
                           {{"--target", &options.target},
                            {"--ca", &options.ca_file},
                            {"--pin", &options.pinned_sha256},
                            {"--server-name", &options.server_name},
                            {"--message", &message}})) {
    return 2;
  }

  auto channel = appwire::Channel::Connect(options);
  if (!channel.ok()) {
    std::fprintf(stderr, "echo_client: cannot connect: %s\n",
                 std::string(channel.status().ToString()).c_str());
    return 1;
  }
  const appwire::TlsSessionInfo tls = (*channel)->session_info();
  std::printf("connected to %s over %s (%s, ALPN %s)\n", options.target.c_str(),
              tls.version.c_str(), tls.cipher.c_str(), tls.alpn.c_str());
  if (tls.peer_certificate) {
    std::printf("server certificate: %s, %s\n", tls.peer_certificate->subject.c_str(),
                tls.peer_certificate->sha256_fingerprint.c_str());
  }

  // Typed stubs generated from proto/appwire/v1/builtin.proto.
  appwire::v1::Health::Stub health_stub(*channel);
  appwire::v1::ServerInfo::Stub info_stub(*channel);
  appwire::v1::Echo::Stub echo_stub(*channel);

  auto health = health_stub.Check(appwire::v1::HealthCheckRequest());
  if (!health.ok()) {
    std::fprintf(stderr, "echo_client: health check failed: %s\n", health.status().ToString().c_str());
    return 1;
  }
  std::printf("health: %s\n", appwire::v1::HealthCheckResponse::ServingStatus_Name(health->status()).c_str());

  auto info = info_stub.Get(appwire::v1::ServerInfoRequest());
  if (!info.ok()) {
    std::fprintf(stderr, "echo_client: server info failed: %s\n", info.status().ToString().c_str());
    return 1;
  }
  std::printf("server: %s %s, protocol %u, TLS %s..%s, certificate expires %s\n",
              info->software_name().c_str(), info->software_version().c_str(),
              info->protocol_version(), info->min_tls_version().c_str(),
              info->max_tls_version().c_str(), info->certificate_not_after().c_str());

  appwire::v1::EchoRequest request;
  request.set_payload(message);
  auto echo = echo_stub.Echo(request);
  if (!echo.ok()) {
    std::fprintf(stderr, "echo_client: echo failed: %s\n", echo.status().ToString().c_str());
    return 1;
  }
  std::printf("echo: \"%s\"\n", echo->payload().c_str());
  return 0;
}
