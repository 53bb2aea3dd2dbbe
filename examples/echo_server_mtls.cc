// echo_server.cc with mutual TLS: clients must present a certificate issued
// by the CA in PROJECT_DIR/client-ca.pem, and only "alice" may echo.
//
//   echo_server_mtls PROJECT_DIR [PORT]
#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include "appwire/common/log.h"
#include "appwire/server/server.h"
#include "example_args.h"

int main(int argc, char** argv) {
  std::string project_dir;
  std::string port_text = std::to_string(appwire::kDefaultPort);
  long port = 0;
  if (!examples::ParseArgs(argc, argv, "echo_server_mtls PROJECT_DIR [PORT]", {}, {&project_dir, &port_text},
                           /*required=*/1)) {
    return 2;
  }
  if (!examples::ParseNumber(port_text, 0, 65535, &port)) {
    std::fprintf(stderr, "echo_server_mtls: port \"%s\" is not a number from 0 to 65535\n", port_text.c_str());
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  appwire::ServerOptions options;
  options.project_dir = project_dir;
  options.port = static_cast<int>(port);
  // The difference from echo_server: client certificates are required ...
  absl::Status required =
      options.parameters.Set(appwire::Parameter::kClientCertificateMode, appwire::kClientCertRequire);
  // ... and the echo service only answers "alice".
  auto registry = std::make_shared<appwire::ServiceRegistry>();
  appwire::AuthorizationPolicy alice_only;
  alice_only.allowed_common_names = {"alice"};
  absl::Status policy = registry->SetPolicy("appwire.v1.Echo", alice_only);
  if (!required.ok() || !policy.ok()) return 1;

  auto server = appwire::Server::Create(options, registry);
  if (!server.ok()) {
    appwire::LogError(server.status().message());
    return 1;
  }
  if (absl::Status started = (*server)->Start(); !started.ok()) {
    appwire::LogError(started.message());
    return 1;
  }
  std::printf("echo_server_mtls listening on %s\n", (*server)->listen_address().c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  (*server)->Drain();
  return 0;
}
