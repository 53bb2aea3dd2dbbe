// The smallest appwire server: the built-in health, server-info and echo
// services, served over TLS 1.3 from a project folder.
//
//   echo_server PROJECT_DIR [PORT]
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
  if (!examples::ParseArgs(argc, argv, "echo_server PROJECT_DIR [PORT]", {}, {&project_dir, &port_text},
                           /*required=*/1)) {
    return 2;
  }
  if (!examples::ParseNumber(port_text, 0, 65535, &port)) {
    std::fprintf(stderr, "echo_server: port \"%s\" is not a number from 0 to 65535\n", port_text.c_str());
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
  auto server = appwire::Server::Create(options, nullptr);
  if (!server.ok()) {
    appwire::LogError(server.status().message());
    return 1;
  }
  if (absl::Status started = (*server)->Start(); !started.ok()) {
    appwire::LogError(started.message());
    return 1;
  }
  std::printf("echo_server listening on %s, certificate %s\n",
              (*server)->listen_address().c_str(),
              (*server)->certificate().sha256_fingerprint.c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  (*server)->Drain();
  return 0;
}
