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
  int port = 0;
  if (!examples::ParseServerArgs(argc, argv, "echo_server_mtls PROJECT_DIR [PORT]", appwire::kDefaultPort,
                                 &project_dir, &port)) {
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  appwire::ServerOptions options;
  options.project_dir = project_dir;
  options.port = port;
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
