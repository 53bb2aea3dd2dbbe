#include "tools/appwire/command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "appwire/common/files.h"
#include "appwire/common/pem.h"
#include "appwire/common/log.h"
#include "appwire/common/project_folder.h"
#include "appwire/server/server.h"
#include "appwire/server/settings_file.h"
#include "appwire/transport/certificate_info.h"
#include "appwire/transport/certificate_store.h"
#include "appwire/transport/dh_params.h"
#include "appwire/transport/tls_context.h"
#include "appwire/transport/tls_options.h"
#include "tools/appwire/json_output.h"

namespace appwire::cli {
namespace {

// One line per check: "ok", "warning" or "error".
struct Report {
  int errors = 0;
  std::vector<std::pair<std::string, std::string>> lines;
  void Line(const char* level, const std::string& text) {
    if (std::string(level) == "error") ++errors;
    lines.emplace_back(level, text);
  }
};

// The server's own rule and words (KeyPermissionWarning).
void CheckPermissions(const std::string& key_path, Report* report) {
  struct stat st;
  if (::stat(key_path.c_str(), &st) != 0) return;
  const std::string warning = appwire::KeyPermissionWarning(key_path);
  if (!warning.empty()) {
    report->Line("warning", warning);
  } else {
    report->Line("ok", absl::StrCat(key_path, " is readable only by its owner (mode ",
                                    absl::StrFormat("%04o", st.st_mode & 0777), ")"));
  }
}

void CheckLineEndings(const std::string& path, Report* report) {
  absl::StatusOr<std::string> text = appwire::ReadFile(path);
  if (!text.ok()) return;
  if (text->find('\r') != std::string::npos) {
    report->Line("ok", absl::StrCat(path, " uses CR or CRLF line endings (accepted)"));
  }
}

void CheckIdentity(const std::string& cert_path, const std::string& key_path, Report* report) {
  CheckLineEndings(cert_path, report);
  CheckLineEndings(key_path, report);
  CheckPermissions(key_path, report);
  appwire::IdentityLoadOptions load;
  load.warn_readable_key = false;  // reported above
  absl::StatusOr<appwire::ServerIdentity> identity =
      appwire::LoadIdentityFiles(cert_path, key_path, load);
  if (!identity.ok()) {
    report->Line("error", std::string(identity.status().message()));
    return;
  }
  report->Line("ok", absl::StrCat(cert_path, ": ", identity->leaf.subject, ", ",
                                  identity->leaf.sha256_fingerprint));
  const size_t chain = appwire::SplitPemCertificates(identity->certificate_chain_pem).size();
  report->Line("ok", absl::StrCat(cert_path, " holds ", chain, " certificate",
                                  chain == 1 ? "" : "s", ", in order"));
  appwire::TlsOptions tls;
  tls.role = appwire::TlsRole::kServer;
  tls.certificate_chain_pem = identity->certificate_chain_pem;
  tls.private_key_pem = identity->private_key_pem;
  tls.certificate_source = cert_path;
  tls.private_key_source = key_path;
  absl::StatusOr<std::shared_ptr<appwire::TlsContext>> context = appwire::TlsContext::Create(tls);
  if (!context.ok()) {
    report->Line("error", std::string(context.status().message()));
    return;
  }
  report->Line("ok", absl::StrCat(key_path, " is the key of ", cert_path));
  const absl::Duration left = identity->leaf.not_after - absl::Now();
  report->Line(left < absl::Hours(24 * 30) ? "warning" : "ok",
               absl::StrCat(cert_path, " expires on ", appwire::FormatUtc(identity->leaf.not_after),
                            " (in ", absl::ToInt64Hours(left) / 24, " days)"));
  report->Line("ok", absl::StrCat(cert_path, " names: ",
                                  absl::StrJoin(identity->leaf.subject_alt_names, ", ")));
  // Completeness: the last certificate should be a root, or clients need
  // its issuer in their CA file.
  std::vector<std::string> blocks = appwire::SplitPemCertificates(identity->certificate_chain_pem);
  auto last = appwire::DescribeCertificatePem(blocks.back(), cert_path);
  if (last.ok() && last->issuer != last->subject) {
    report->Line("ok", absl::StrCat(cert_path, " ends at '", last->subject, "', issued by '",
                                    last->issuer, "': peers need that CA in their CA file"));
  }
}

// A server's certificate should name this machine for clients on it and
// on the network.
void CheckServerNames(const std::string& cert_path, Report* report) {
  auto text = appwire::ReadFile(cert_path);
  if (!text.ok()) return;
  auto leaf = appwire::DescribeCertificatePem(*text, cert_path);
  if (!leaf.ok()) return;
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  std::vector<std::string> wanted = {"localhost", host};
  for (const std::string& name : wanted) {
    if (name.empty()) continue;
    bool listed = name == leaf->common_name;
    for (const std::string& san : leaf->subject_alt_names) listed = listed || san == name;
    report->Line(listed ? "ok" : "warning",
                 absl::StrCat(cert_path, listed ? " covers " : " does not cover ", "'", name, "'",
                              listed ? "" : ": clients connecting with that name will refuse it"));
  }
}

// What appwire-server does with the folder, by its own code: the settings
// file (ApplySettingsFile), then Server::Create, which reads and checks
// every file a start reads and writes nothing. The detailed lines come
// from the checks above; the server's verdict decides.
void CheckProject(const std::string& dir, Report* report) {
  appwire::ServerOptions options;
  options.project_dir = dir;
  const appwire::ProjectFolder folder = appwire::ProjectFolder::At(dir);
  absl::Status settings = appwire::ApplySettingsFile(folder.settings, &options);
  if (!settings.ok()) {
    report->Line("error", absl::StrCat("the server would not start: ", settings.message()));
    return;
  }
  if (appwire::FileExists(folder.settings)) {
    report->Line("ok", absl::StrCat(folder.settings, ": settings the server accepts"));
  }
  const bool has_pair =
      appwire::FileExists(folder.certificate) || appwire::FileExists(folder.key);
  if (has_pair) {
    CheckIdentity(folder.certificate, folder.key, report);
    CheckServerNames(folder.certificate, report);
  }
  absl::StatusOr<std::unique_ptr<appwire::Server>> server;
  {
    // Its warnings (a key others can read) are lines of this report already.
    appwire::SetMinLogLevel(appwire::LogLevel::kError);
    server = appwire::Server::Create(options, nullptr);
    appwire::SetMinLogLevel(appwire::LogLevel::kInfo);
  }
  if (!server.ok()) {
    const std::string message(server.status().message());
    bool reported = false;
    for (const auto& [level, text] : report->lines) reported = reported || text == message;
    if (!reported) report->Line("error", absl::StrCat("the server would not start: ", message));
    return;
  }
  if ((*server)->certificate_generated()) {
    report->Line("ok", absl::StrCat("no ", folder.certificate, " or ", folder.key,
                                    ": the server will generate a self-signed certificate at "
                                    "its first start"));
  }
  const appwire::Server::TlsSettings tls = (*server)->tls_settings();
  report->Line("ok", absl::StrCat("TLS ", appwire::TlsVersionName(tls.min_version),
                                  tls.max_version != tls.min_version
                                      ? absl::StrCat(" to ", appwire::TlsVersionName(tls.max_version))
                                      : std::string(" only")));
  for (const std::string& path : {folder.client_ca, folder.crl}) {
    if (appwire::FileExists(path)) report->Line("ok", absl::StrCat(path, ": read and accepted"));
  }
}

int RunCheck(const Arguments& a) {
  Report report;
  if (!a.Get("project").empty()) {
    const appwire::ProjectFolder folder = appwire::ProjectFolder::At(a.Get("project"));
    CheckProject(folder.dir, &report);
    const std::string& dh = folder.dh_params;
    if (appwire::FileExists(dh)) {
      absl::StatusOr<std::string> text = appwire::ReadFile(dh);
      absl::StatusOr<int> bits = text.ok() ? appwire::CheckDhParamsPem(*text, dh)
                                           : absl::StatusOr<int>(text.status());
      if (bits.ok()) report.Line("ok", absl::StrCat(dh, ": ", *bits, "-bit DH parameters"));
      else report.Line("error", std::string(bits.status().message()));
    } else {
      report.Line("ok", absl::StrCat(dh, " absent: the server generates it on first start"));
    }
  } else if (!a.Get("client").empty()) {
    const std::string dir = a.Get("client");
    if (appwire::FileExists(appwire::JoinPath(dir, "cert.pem")) ||
        appwire::FileExists(appwire::JoinPath(dir, "key.pem"))) {
      CheckIdentity(appwire::JoinPath(dir, "cert.pem"), appwire::JoinPath(dir, "key.pem"), &report);
    } else {
      report.Line("ok", "no client certificate (only servers that do not require one)");
    }
    const std::string ca = appwire::JoinPath(dir, "ca.pem");
    if (appwire::FileExists(ca)) {
      absl::StatusOr<std::string> pem = appwire::ReadPemFile(ca, appwire::PemKind::kCertificate);
      if (pem.ok()) report.Line("ok", absl::StrCat(ca, ": trusted roots for servers"));
      else report.Line("error", std::string(pem.status().message()));
    } else if (!appwire::FileExists(appwire::JoinPath(dir, "known_servers"))) {
      report.Line("warning", absl::StrCat("no ", ca, " or known_servers: servers must be "
                                          "trusted another way (system store, pin, TOFU)"));
    }
  } else {
    return Usage(kCheck, "give --project DIR or --client DIR");
  }
  if (a.Has("json")) {
    Json checks = Json::array();
    for (const auto& [level, text] : report.lines) {
      checks.push_back({{"level", level}, {"message", text}});
    }
    PrintJson({{"usable", report.errors == 0}, {"checks", checks}});
  } else {
    for (const auto& [level, text] : report.lines) std::printf("%-7s %s\n", level.c_str(), text.c_str());
    std::printf("%s\n", report.errors == 0 ? "usable" : "NOT usable: fix the errors above");
  }
  return report.errors == 0 ? 0 : 1;
}

}  // namespace

const Subcommand kCheck = {
    "check",
    "check (--project DIR | --client DIR) [--json]",
    "Reports what appwire-server (or a client) would do with the folder. --project reads it\n"
    "with the server's own code, writing nothing: appwire.conf, key.pem and cert.pem (or\n"
    "that the first start generates them), certificates/, client-ca.pem, crl.pem,\n"
    "dhparams.pem; with line endings, key permissions, key/certificate match, chain order,\n"
    "names and expiry (warning under 30 days) in detail. Exit status 0 when usable (the\n"
    "server would start), 1 otherwise; --json for machines.",
    &RunCheck,
    {{"project"}, {"client"}, {"json", Kind::kSwitch}}};

}  // namespace appwire::cli
