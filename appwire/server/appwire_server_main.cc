// appwire-server: serves the built-in services (and, later, project
// services) over TLS from a project folder.
//
//   appwire-server --project DIR [--config FILE] [--port N] [--bind ADDR] ...
//
// Settings come from flags, then the project folder's appwire.conf (or
// --config FILE), then the defaults (docs/configuration.md). The command
// line is parsed strictly (appwire/common/command_line.h): an unknown flag
// or a stray word is exit status 2, before anything starts.
//
// SIGINT / SIGTERM drain calls in flight, then exit 0.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "appwire/common/command_line.h"
#include "appwire/common/files.h"
#include "appwire/common/log.h"
#include "appwire/common/project_folder.h"
#include "appwire/common/version.h"
#include "appwire/server/internal/listener.h"
#include "appwire/server/server.h"
#include "appwire/server/service_manager.h"
#include "appwire/server/settings_file.h"

namespace {

constexpr int kExitUsage = 2;

// The flags that are not settings (ReadSettings skips them).
std::vector<appwire::FlagSpec> ProgramFlags() {
  using Kind = appwire::FlagSpec::Kind;
  return {{"project"}, {"config"}, {"log-level"}, {"log-format"}, {"version", Kind::kSwitch},
          {"check", Kind::kSwitch}};
}

// The flags: the program's own, then one per settings key (underscores
// become dashes), each taking a value.
std::vector<appwire::FlagSpec> Flags() {
  std::vector<appwire::FlagSpec> flags = ProgramFlags();
  for (const std::string& key : appwire::SettingKeys()) {
    std::string flag = key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    flags.push_back({flag});
  }
  return flags;
}

std::string Usage() {
  std::string usage =
      "usage: appwire-server --project DIR [--config FILE] [--SETTING VALUE ...]\n"
      "\n"
      "  --project DIR     project folder: key.pem and cert.pem (generated as a\n"
      "                    self-signed pair when both are absent), appwire.conf,\n"
      "                    certificates/, client-ca.pem, crl.pem\n"
      "  --config FILE     settings file to read instead of DIR/appwire.conf (it\n"
      "                    must exist)\n"
      "  --log-level L     debug, info (default), warning or error\n"
      "  --log-format F    text (default) or json: one JSON object per line with\n"
      "                    time_us, level, event and the event's fields\n"
      "  --check           reads and checks the folder and settings as a start\n"
      "                    would, prints what would be served, writes nothing,\n"
      "                    and exits: 0 usable, 1 not\n"
      "  --version         prints the version and exits\n"
      "  --help            prints this and exits\n"
      "\n"
      "Settings (flag, default, what the value is); each is also an appwire.conf\n"
      "key, with underscores for dashes, and a flag wins over the file:\n";
  for (const appwire::SettingDescription& setting : appwire::DescribeSettings()) {
    std::string flag = setting.key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    absl::StrAppend(&usage, "  --", flag, " ",
                    setting.default_value.empty() ? "(none)" : setting.default_value,
                    setting.unit.empty() ? "" : "  ", setting.unit, "\n");
  }
  absl::StrAppend(&usage,
                  "\nSIGHUP reloads the certificates; SIGINT and SIGTERM drain calls in "
                  "flight, then stop.\nExit status: 0 stopped, 1 could not start, 2 wrong "
                  "command line. See docs/configuration.md.\n");
  return usage;
}

int UsageError(const std::string& message) {
  std::fprintf(stderr,
               "appwire-server: %s\n(appwire-server --help lists the flags and settings)\n",
               message.c_str());
  return kExitUsage;
}

// What a server serves, one line each: the lines logged at start, and
// what --check prints (before a start, the address is the one it would bind
// and a generated pair is one it would write).
std::vector<std::string> Served(const appwire::Server& server, bool started) {
  std::vector<std::string> lines;
  const appwire::ServerOptions& options = server.options();
  lines.push_back(
      absl::StrCat(started ? "listening on " : "would listen on ", server.listen_address()));
  const appwire::Server::TlsSettings tls = server.tls_settings();
  lines.push_back(absl::StrCat("minimum TLS version: ", appwire::TlsVersionName(tls.min_version)));
  if (tls.max_version != tls.min_version) {
    lines.push_back(absl::StrCat("maximum TLS version: ", appwire::TlsVersionName(tls.max_version)));
  }
  if (started && server.metrics_port() != 0) {
    lines.push_back(absl::StrCat(
        "metrics on http://",
        appwire::internal::AddressAndPort(options.metrics_bind, server.metrics_port()),
        "/metrics"));
  } else if (!started && options.metrics_port.has_value()) {
    lines.push_back(absl::StrCat("would serve metrics on port ", *options.metrics_port));
  }
  if (!started && server.certificate_generated()) {
    lines.push_back(absl::StrCat("certificate: none yet; the first start generates a self-signed "
                                 "pair in ", options.project_dir, " (key.pem, cert.pem)"));
    return lines;
  }
  const appwire::CertificateInfo cert = server.certificate();
  lines.push_back(absl::StrCat("certificate subject: ", cert.subject));
  lines.push_back(absl::StrCat("certificate expires: ", appwire::FormatUtc(cert.not_after)));
  lines.push_back(absl::StrCat("certificate fingerprint: ", cert.sha256_fingerprint));
  return lines;
}

// The settings: the file, then the flags on top (a flag wins). When a
// flag's value is refused, *flag_refused is set and the error says
// "--FLAG VALUE: why" (a usage error); otherwise errors are the file's.
absl::Status ReadSettings(const appwire::CommandLine& line, const std::string& settings_path,
                          appwire::ServerOptions* options, bool* flag_refused) {
  *flag_refused = false;
  absl::Status status = appwire::ApplySettingsFile(settings_path, options);
  if (!status.ok()) return status;
  const std::vector<appwire::FlagSpec> program_flags = ProgramFlags();
  for (const auto& [flag, value] : line.flags) {
    const bool setting =
        std::none_of(program_flags.begin(), program_flags.end(),
                     [&flag = flag](const appwire::FlagSpec& own) { return own.name == flag; });
    if (!setting) continue;
    std::string key = flag;
    std::replace(key.begin(), key.end(), '-', '_');
    status = appwire::ApplySetting(key, value, options);
    if (!status.ok()) {
      *flag_refused = true;
      return absl::InvalidArgumentError(absl::StrCat("--", flag, " ", value, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

// SIGHUP: reads the settings again and applies those that can change in a
// running server (its database parameters, for connections accepted from
// now on); says which changed and which wait for a restart. A file that
// does not read keeps every running setting.
void RereadSettings(const appwire::CommandLine& line, const std::string& settings_path,
                    appwire::Server& server, const appwire::ServerOptions& running) {
  appwire::ServerOptions reread;
  reread.project_dir = running.project_dir;
  bool flag_refused = false;
  absl::Status status = ReadSettings(line, settings_path, &reread, &flag_refused);
  if (!status.ok()) {
    appwire::LogError(absl::StrCat("settings not re-read, the running ones stay: ",
                                   status.message()));
    return;
  }
  const appwire::SettingsChange change = appwire::CompareSettings(
      running, reread, [&server](appwire::Parameter p) { return server.GetParameter(p); });
  // Two rounds: a value checked against another (min_tls against
  // max_tls) may be refused until the other has changed too.
  std::vector<std::pair<appwire::Parameter, appwire::ParameterValue>> pending = change.parameters;
  for (int round = 0; round < 2 && !pending.empty(); ++round) {
    std::vector<std::pair<appwire::Parameter, appwire::ParameterValue>> refused;
    for (const auto& [selector, value] : pending) {
      absl::Status set = server.SetParameter(selector, value);
      if (set.ok()) {
        appwire::LogInfo(absl::StrCat(appwire::ParameterName(selector), " is now ",
                                      value.ToString(), " for new connections"));
      } else if (round == 0) {
        refused.emplace_back(selector, value);
      } else {
        appwire::LogError(absl::StrCat("not applied, the running value stays: ", set.message()));
      }
    }
    pending = std::move(refused);
  }
  for (const std::string& key : change.need_restart) {
    appwire::LogWarning(absl::StrCat(key, " changed in ", settings_path,
                                     " but is read only at start: it takes effect at the next "
                                     "start of appwire-server"));
  }
  if (change.parameters.empty() && change.need_restart.empty()) {
    appwire::LogInfo("settings unchanged");
  }
}

absl::StatusOr<appwire::LogLevel> ParseLogLevel(const std::string& words) {
  if (words == "debug") return appwire::LogLevel::kDebug;
  if (words == "info") return appwire::LogLevel::kInfo;
  if (words == "warning") return appwire::LogLevel::kWarning;
  if (words == "error") return appwire::LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("--log-level ", words, ": use debug, info, warning or error"));
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<appwire::FlagSpec> flag_specs = Flags();
  absl::StatusOr<appwire::CommandLine> line =
      appwire::ParseCommandLine(argc, argv, 1, flag_specs, /*max_positional=*/0);
  if (!line.ok()) return UsageError(std::string(line.status().message()));
  if (line->help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  if (line->Has("version")) {
    std::printf("appwire-server %s\n", appwire::kSoftwareVersion);
    return 0;
  }
  if (line->Has("log-level")) {
    absl::StatusOr<appwire::LogLevel> level = ParseLogLevel(line->Get("log-level"));
    if (!level.ok()) return UsageError(std::string(level.status().message()));
    appwire::SetMinLogLevel(*level);
  }
  if (line->Has("log-format")) {
    const std::string format = line->Get("log-format");
    if (format == "json") {
      appwire::SetLogFormat(appwire::LogFormat::kJson);
    } else if (format != "text") {
      return UsageError(absl::StrCat("--log-format ", format, ": use text or json"));
    }
  }
  appwire::ServerOptions options;
  options.project_dir = line->Get("project");
  if (options.project_dir.empty()) return UsageError("--project DIR is required");

  // The settings file first, then flags: a flag wins.
  std::string settings_path = appwire::ProjectFolder::At(options.project_dir).settings;
  if (line->Has("config")) {
    settings_path = line->Get("config");
    if (!appwire::FileExists(settings_path)) {
      appwire::LogError(absl::StrCat("cannot start: --config ", settings_path,
                                     ": no such file (give a settings file that exists, or leave "
                                     "--config out to read the project folder's appwire.conf)"));
      return 1;
    }
  }
  bool flag_refused = false;
  absl::Status settings = ReadSettings(*line, settings_path, &options, &flag_refused);
  if (flag_refused) return UsageError(std::string(settings.message()));
  if (!settings.ok()) {
    appwire::LogError(absl::StrCat("cannot start: ", settings.message()));
    return 1;
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
  if (line->Has("check")) {
    // Create() read and checked everything a start would, and wrote
    // nothing; say what would be served.
    std::printf("%s: usable\n", options.project_dir.c_str());
    for (const std::string& served : Served(**server, /*started=*/false)) {
      std::printf("  %s\n", served.c_str());
    }
    return 0;
  }
  absl::Status started = (*server)->Start();
  if (!started.ok()) {
    appwire::LogError(absl::StrCat("cannot start: ", started.message()));
    return 1;
  }
  if ((*server)->certificate_generated()) {
    appwire::LogInfo(absl::StrCat(
        "generated a self-signed certificate in ", options.project_dir,
        " (key.pem written with mode 0600); clients trust it with its cert.pem "
        "as CA file or by pinning its fingerprint"));
  }
  for (const std::string& served : Served(**server, /*started=*/true)) appwire::LogInfo(served);
  appwire::NotifyReady(absl::StrCat("listening on ", (*server)->listen_address()));

  // SIGHUP re-reads the settings and reloads the certificates (a bad file
  // keeps the running ones); SIGINT and SIGTERM drain and stop.
  int signal_number = 0;
  for (;;) {
    sigwait(&signals, &signal_number);
    if (signal_number != SIGHUP) break;
    appwire::LogInfo(absl::StrCat("received SIGHUP; re-reading ", settings_path,
                                  " and reloading certificates"));
    appwire::NotifyReloading();
    RereadSettings(*line, settings_path, **server, options);
    (*server)->ReloadCertificates().IgnoreError();  // logged either way
    appwire::NotifyReady(absl::StrCat("listening on ", (*server)->listen_address()));
  }
  appwire::LogInfo(absl::StrCat("received ", signal_number == SIGINT ? "SIGINT" : "SIGTERM",
                                "; draining calls in flight"));
  appwire::NotifyStopping("draining calls in flight");
  (*server)->Drain(absl::Seconds(30));
  appwire::LogInfo("stopped");
  return 0;
}
