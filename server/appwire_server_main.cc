// appwire-server: serves the built-in services (and, later, project
// services) over TLS from a project folder.
//
//   appwire-server --project DIR [--port N] [--bind ADDR] [--min-tls 1.2|1.3]
//
// SIGINT / SIGTERM drain calls in flight, then exit 0.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "server/server.h"

namespace {

constexpr char kUsage[] =
    "usage: appwire-server --project DIR [--port N] [--bind ADDR] [--min-tls 1.2|1.3]\n"
    "\n"
    "  --project DIR  project folder: key.pem and cert.pem (generated as a\n"
    "                 self-signed pair when both are absent)\n"
    "  --port N       TCP port (default 19813; 0 picks a free port)\n"
    "  --bind ADDR    address to listen on (default 127.0.0.1; 0.0.0.0 or ::\n"
    "                 for every interface)\n"
    "  --min-tls V    lowest TLS version accepted: 1.3 (default) or 1.2\n";

int UsageError(const std::string& message) {
  std::fprintf(stderr, "appwire-server: %s\n\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  appwire::ServerOptions options;
  options.project_dir.clear();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--project") {
      if (!value(&options.project_dir)) return UsageError("--project needs a folder");
    } else if (arg == "--port") {
      if (!value(&v) || !absl::SimpleAtoi(v, &options.port)) {
        return UsageError(absl::StrCat("--port needs a number, got \"", v, "\""));
      }
    } else if (arg == "--bind") {
      if (!value(&options.bind_address)) return UsageError("--bind needs an address");
    } else if (arg == "--min-tls") {
      if (!value(&v)) return UsageError("--min-tls needs 1.2 or 1.3");
      if (v == "1.2") {
        options.min_tls_version = appwire::TlsVersion::k1_2;
      } else if (v == "1.3") {
        options.min_tls_version = appwire::TlsVersion::k1_3;
      } else if (v == "1.0" || v == "1.1") {
        return UsageError(absl::StrCat("--min-tls ", v, ": TLS ", v,
                                       " is obsolete and not supported; use 1.2 or 1.3"));
      } else {
        return UsageError(absl::StrCat("--min-tls ", v, ": use 1.2 or 1.3"));
      }
    } else {
      return UsageError(absl::StrCat("unknown argument \"", arg, "\""));
    }
  }
  if (options.project_dir.empty()) return UsageError("--project DIR is required");

  // Signals are taken synchronously by this thread, so every other thread
  // (I/O, workers) is started with them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = appwire::Server::Create(options, nullptr);
  if (!server.ok()) {
    appwire::LogError(absl::StrCat("cannot start: ", server.status().message()));
    return 1;
  }
  const appwire::CertificateInfo& cert = (*server)->certificate();
  if ((*server)->certificate_generated()) {
    appwire::LogInfo(absl::StrCat(
        "generated a self-signed certificate in ", options.project_dir,
        " (key.pem written with mode 0600); clients trust it with its cert.pem "
        "as CA file or by pinning its fingerprint"));
  }
  absl::Status started = (*server)->Start();
  if (!started.ok()) {
    appwire::LogError(absl::StrCat("cannot start: ", started.message()));
    return 1;
  }
  appwire::LogInfo(absl::StrCat("listening on ", (*server)->listen_address()));
  appwire::LogInfo(absl::StrCat("minimum TLS version: ",
                                appwire::TlsVersionName(options.min_tls_version)));
  appwire::LogInfo(absl::StrCat("certificate subject: ", cert.subject));
  appwire::LogInfo(absl::StrCat("certificate expires: ", appwire::FormatUtc(cert.not_after)));
  appwire::LogInfo(absl::StrCat("certificate fingerprint: ", cert.sha256_fingerprint));

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  appwire::LogInfo(absl::StrCat("received ", signal_number == SIGINT ? "SIGINT" : "SIGTERM",
                                "; draining calls in flight"));
  (*server)->Drain(absl::Seconds(30));
  appwire::LogInfo("stopped");
  return 0;
}
