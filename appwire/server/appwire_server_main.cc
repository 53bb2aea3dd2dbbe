// appwire-server: serves the built-in services (and, later, project
// services) over TLS from a project folder.
//
//   appwire-server --project DIR [--port N] [--bind ADDR] [--min-tls 1.2|1.3] ...
//
// Settings come from flags, then the project folder's appwire.conf, then the
// defaults (docs/configuration.md).
//
// SIGINT / SIGTERM drain calls in flight, then exit 0.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "appwire/common/log.h"
#include "appwire/common/project_folder.h"
#include "appwire/server/server.h"
#include "appwire/server/settings_file.h"

namespace {

std::string Usage() {
  std::string usage =
      "usage: appwire-server --project DIR [--SETTING VALUE ...]\n"
      "\n"
      "  --project DIR   project folder: key.pem and cert.pem (generated as a\n"
      "                  self-signed pair when both are absent), appwire.conf\n"
      "  --port N        TCP port (default 19813; 0 picks a free port)\n"
      "  --bind ADDR     address to listen on (default 127.0.0.1; 0.0.0.0 or ::\n"
      "                  for every interface)\n"
      "  --min-tls V     lowest TLS version accepted: 1.3 (default) or 1.2\n"
      "  --max-tls V     highest TLS version accepted: 1.3 (default) or 1.2\n"
      "  --ciphers LIST  TLS 1.2 suites, OpenSSL syntax (4D selector 64)\n"
      "  --tls13-ciphers LIST  TLS 1.3 suites, IANA names\n"
      "\n"
      "Every key of appwire.conf is also a flag (underscores become dashes):\n ";
  for (const std::string& key : appwire::SettingKeys()) {
    std::string flag = key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    absl::StrAppend(&usage, " --", flag);
  }
  absl::StrAppend(&usage, "\nSee docs/configuration.md.\n");
  return usage;
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "appwire-server: %s\n\n%s", message.c_str(), Usage().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  appwire::ServerOptions options;
  std::vector<std::pair<std::string, std::string>> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(Usage().c_str(), stdout);
      return 0;
    }
    if (arg.rfind("--", 0) != 0 || i + 1 >= argc) {
      return UsageError(absl::StrCat("\"", arg, "\" needs to be --SETTING VALUE"));
    }
    std::string key = arg.substr(2);
    std::replace(key.begin(), key.end(), '-', '_');
    std::string value = argv[++i];
    if (key == "project") {
      options.project_dir = value;
    } else {
      flags.emplace_back(key, value);
    }
  }
  if (options.project_dir.empty()) return UsageError("--project DIR is required");

  // The settings file first, then flags: a flag wins.
  const std::string settings_path = appwire::ProjectFolder::At(options.project_dir).settings;
  absl::Status settings = appwire::ApplySettingsFile(settings_path, &options);
  if (!settings.ok()) {
    appwire::LogError(absl::StrCat("cannot start: ", settings.message()));
    return 1;
  }
  for (const auto& [key, value] : flags) {
    std::string flag = key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    absl::Status status = appwire::ApplySetting(key, value, &options);
    if (!status.ok()) {
      return UsageError(absl::StrCat("--", flag, " ", value, ": ", status.message()));
    }
  }

  // Signals are taken synchronously by this thread, so every other thread
  // (I/O, workers) is started with them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
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
  const appwire::Server::TlsSettings tls = (*server)->tls_settings();
  appwire::LogInfo(absl::StrCat("minimum TLS version: ", appwire::TlsVersionName(tls.min_version)));
  if (tls.max_version != tls.min_version) {
    appwire::LogInfo(absl::StrCat("maximum TLS version: ",
                                  appwire::TlsVersionName(tls.max_version)));
  }
  appwire::LogInfo(absl::StrCat("certificate subject: ", cert.subject));
  appwire::LogInfo(absl::StrCat("certificate expires: ", appwire::FormatUtc(cert.not_after)));
  appwire::LogInfo(absl::StrCat("certificate fingerprint: ", cert.sha256_fingerprint));

  // SIGHUP reloads the certificates (a bad file keeps the running ones);
  // SIGINT and SIGTERM drain and stop.
  int signal_number = 0;
  for (;;) {
    sigwait(&signals, &signal_number);
    if (signal_number != SIGHUP) break;
    appwire::LogInfo("received SIGHUP; reloading certificates");
    (*server)->ReloadCertificates().IgnoreError();  // logged either way
  }
  appwire::LogInfo(absl::StrCat("received ", signal_number == SIGINT ? "SIGINT" : "SIGTERM",
                                "; draining calls in flight"));
  (*server)->Drain(absl::Seconds(30));
  appwire::LogInfo("stopped");
  return 0;
}
