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
  int port = 0;
  if (!examples::ParseServerArgs(argc, argv, "echo_server PROJECT_DIR [PORT]", appwire::kDefaultPort,
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
