// `appwire acme status|issue NAME|renew [NAME]|revoke NAME --project DIR`:
// AutoSSL from the command line, by the server's own code. status reads the
// project folder (appwire.conf and certificates/); issue and renew run the
// server's AcmeManager for the names (it answers the CA's challenge on the
// configured port, so the port must be free: the running server orders its
// acme_domains itself); revoke asks the CA with the project's account key.
#include <cstdio>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "appwire/acme/acme_client.h"
#include "appwire/common/files.h"
#include "appwire/common/log.h"
#include "appwire/common/project_folder.h"
#include "appwire/server/acme_manager.h"
#include "appwire/server/server.h"
#include "appwire/server/settings_file.h"
#include "appwire/transport/certificate_info.h"
#include "tools/appwire/command.h"
#include "tools/appwire/json_output.h"

namespace appwire::cli {
namespace {

// The server's options from DIR/appwire.conf, as appwire-server reads them.
absl::StatusOr<ServerOptions> ProjectOptions(const std::string& dir) {
  ServerOptions options;
  options.project_dir = dir;
  absl::Status status = ApplySettingsFile(ProjectFolder::At(dir).settings, &options);
  if (!status.ok()) return status;
  return options;
}

// One name's certificate, as status reports it.
struct NameStatus {
  std::string name;
  std::string managed;  // "acme_domains", "on disk"
  std::string state;    // "missing", "valid", "due", "expired", "unreadable"
  std::string file;
  std::optional<CertificateInfo> certificate;
  absl::Time renewal;
};

int RunStatus(const Arguments& a, const ServerOptions& options) {
  const ProjectFolder folder = ProjectFolder::At(options.project_dir);
  std::map<std::string, NameStatus> names;
  for (const std::string& domain : options.acme.domains) {
    const std::string name = NormalizeAcmeName(domain);
    if (!name.empty()) names[name] = NameStatus{name, "acme_domains"};
  }
  std::error_code error;
  if (std::filesystem::is_directory(folder.sni_certificates, error)) {
    for (const auto& entry : std::filesystem::directory_iterator(folder.sni_certificates, error)) {
      const std::filesystem::path path = entry.path();
      if (path.extension() != ".crt") continue;
      const std::string name = path.stem().string();
      if (names.count(name) == 0) names[name] = NameStatus{name, "on disk"};
    }
  }
  const absl::Time now = absl::Now();
  for (auto& [name, status] : names) {
    status.file = ManagedCertificatePath(folder, name);
    absl::StatusOr<ManagedCertificate> certificate =
        ReadManagedCertificate(folder, name, options.acme.renew_before);
    if (!certificate.ok()) {
      status.state = absl::IsNotFound(certificate.status()) ? "missing" : "unreadable";
      continue;
    }
    status.certificate = certificate->info;
    status.renewal = certificate->renewal_start;
    status.state = now >= certificate->info.not_after ? "expired"
                   : now >= status.renewal            ? "due"
                                                      : "valid";
  }
  if (a.Has("json")) {
    Json list = Json::array();
    for (const auto& [name, status] : names) {
      Json item = {{"name", name}, {"managed", status.managed}, {"state", status.state},
                   {"file", status.file}};
      if (status.certificate.has_value()) {
        item["issuer"] = status.certificate->issuer;
        item["not_after"] = FormatUtc(status.certificate->not_after);
        item["renewal_from"] = FormatUtc(status.renewal);
      }
      list.push_back(std::move(item));
    }
    PrintJson(Json{{"project", options.project_dir},
                   {"on_demand", options.acme.on_demand},
                   {"names", list}});
    return kExitOk;
  }
  if (names.empty()) {
    std::printf("%s: no names managed (acme_domains is empty) and no certificates/ files\n",
                options.project_dir.c_str());
  }
  for (const auto& [name, status] : names) {
    std::string line = absl::StrCat(name, ": ", status.state);
    if (status.certificate.has_value()) {
      absl::StrAppend(&line, ", expires ", FormatUtc(status.certificate->not_after),
                      ", renewal from ", FormatUtc(status.renewal), " (", status.certificate->issuer,
                      ")");
    }
    absl::StrAppend(&line, status.managed == "acme_domains" ? "" : " [not in acme_domains]");
    std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

// issue and renew: the server's AutoSSL for `names`, now, whatever their
// certificates' dates, on the configured port; then it stops.
int RunIssue(const Arguments& a, ServerOptions options, std::vector<std::string> names) {
  if (names.empty()) {
    return Fail(absl::FailedPreconditionError(absl::StrCat(
        options.project_dir, ": acme_domains is empty; name the certificate to renew")));
  }
  absl::Duration timeout = absl::Minutes(3);
  if (a.Has("timeout") && !absl::ParseDuration(a.Get("timeout"), &timeout)) {
    return Usage(kAcme, absl::StrCat("--timeout \"", a.Get("timeout"), "\" is not a duration (3m)"));
  }
  auto results = std::make_shared<std::map<std::string, absl::Status>>();
  auto mu = std::make_shared<std::mutex>();
  auto done = std::make_shared<std::promise<void>>();
  const size_t wanted = names.size();
  options.acme.domains = names;
  options.acme.on_demand = false;
  options.acme.renew_before = absl::InfiniteDuration();  // every name is due now
  options.acme.on_result = [results, mu, done, wanted](const std::string& name,
                                                        const absl::Status& result) {
    std::lock_guard<std::mutex> lock(*mu);
    if (results->count(name) > 0) return;
    (*results)[name] = result;
    if (results->size() == wanted) done->set_value();
  };
  options.metrics_port.reset();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(options, nullptr);
  if (!server.ok()) return Fail(server.status());
  absl::Status started = (*server)->Start();
  if (!started.ok()) {
    return Fail(absl::Status(started.code(), absl::StrCat(
        started.message(), "; the CA's challenge is answered on this port, so it must be free: "
        "a running appwire-server orders the names of its acme_domains itself")));
  }
  const bool finished =
      done->get_future().wait_for(absl::ToChronoMilliseconds(timeout)) == std::future_status::ready;
  (*server)->Drain(absl::ZeroDuration());
  std::lock_guard<std::mutex> lock(*mu);
  int failed = 0;
  for (const std::string& requested : names) {
    const std::string name = NormalizeAcmeName(requested);
    auto found = results->find(name);
    if (found == results->end()) {
      std::fprintf(stderr, "appwire: %s: no certificate within %s\n", name.c_str(),
                   absl::FormatDuration(timeout).c_str());
      ++failed;
    } else if (!found->second.ok()) {
      std::fprintf(stderr, "appwire: %s: %s\n", name.c_str(),
                   std::string(found->second.message()).c_str());
      ++failed;
    } else {
      std::printf("%s: certificate saved in %s\n", name.c_str(),
                  ManagedCertificatePath(ProjectFolder::At(options.project_dir), name).c_str());
    }
  }
  (void)finished;
  return failed == 0 ? kExitOk : kExitFailed;
}

int RunRevoke(const ServerOptions& options, const std::string& requested) {
  const std::string name = NormalizeAcmeName(requested);
  const ProjectFolder folder = ProjectFolder::At(options.project_dir);
  const std::string certificate_path = ManagedCertificatePath(folder, name);
  const std::string key_path = JoinPath(folder.sni_certificates, name + ".key");
  const std::string& account_path = folder.acme_account_key;
  absl::StatusOr<std::string> chain = ReadFile(certificate_path);
  if (!chain.ok()) return Fail(chain.status());
  absl::StatusOr<std::string> account_key = ReadFile(account_path);
  if (!account_key.ok()) {
    return Fail(absl::FailedPreconditionError(absl::StrCat(
        "no ACME account key (", account_path, "): this project's certificates were not "
        "issued by appwire's AutoSSL")));
  }
  acme::AcmeClientOptions client_options = AcmeClientOptionsFor(options.acme);
  client_options.account_key_pem = *account_key;
  acme::AcmeClient client(client_options, nullptr, [](const std::string& step) {
    LogInfo(absl::StrCat("acme: ", step));
  });
  absl::Status status = client.Revoke(*chain);
  if (!status.ok()) return Fail(status);
  // Kept, not deleted: the key is never lost unasked. Without the pair the
  // server serves the base certificate for the name from its next reload
  // (and orders a new one when the name is in acme_domains).
  std::error_code error;
  std::filesystem::rename(certificate_path, certificate_path + ".revoked", error);
  if (!error) std::filesystem::rename(key_path, key_path + ".revoked", error);
  if (error) {
    return Fail(absl::InternalError(absl::StrCat("revoked, but renaming ", certificate_path,
                                                 " failed: ", error.message())));
  }
  std::printf("%s: revoked; %s and its key renamed to *.revoked\n", name.c_str(),
              certificate_path.c_str());
  return kExitOk;
}

int RunAcme(const Arguments& a) {
  if (a.positional.empty()) return Usage(kAcme, "give status, issue NAME, renew [NAME] or revoke NAME");
  if (a.Get("project").empty()) return Usage(kAcme, "give --project DIR");
  const std::string& action = a.positional[0];
  const std::string name = a.positional.size() > 1 ? a.positional[1] : "";
  absl::StatusOr<ServerOptions> options = ProjectOptions(a.Get("project"));
  if (!options.ok()) return Fail(options.status());
  if ((action == "issue" || action == "revoke") && name.empty()) {
    return Usage(kAcme, absl::StrCat(action, " needs the NAME"));
  }
  if (!name.empty() && NormalizeAcmeName(name).empty()) {
    return Usage(kAcme, absl::StrCat("\"", name, "\" is not a DNS name"));
  }
  if (action == "status") {
    if (!name.empty()) return Usage(kAcme, "status takes no NAME");
    return RunStatus(a, *options);
  }
  if (action == "issue") return RunIssue(a, *options, {name});
  if (action == "renew") {
    return RunIssue(a, *options, name.empty() ? options->acme.domains
                                              : std::vector<std::string>{name});
  }
  if (action == "revoke") return RunRevoke(*options, name);
  return Usage(kAcme, absl::StrCat("unknown action \"", action, "\"; use status, issue, renew or revoke"));
}

}  // namespace

const Subcommand kAcme = {
    "acme",
    "acme status|issue NAME|renew [NAME]|revoke NAME --project DIR [--json] [--timeout 3m]",
    "AutoSSL for a project folder, with its appwire.conf (acme_* settings).\n"
    "  status      each managed name (acme_domains) and certificates/ file: missing, valid,\n"
    "              due or expired, its expiry and when renewal starts (--json: one document)\n"
    "  issue NAME  gets a certificate for NAME now, answering the CA's challenge on the\n"
    "              project's port (or acme_http_port) as appwire-server does: the port must be\n"
    "              free, so run it while the server is stopped (a running server orders the\n"
    "              names of its acme_domains itself)\n"
    "  renew       the same for NAME, or for every name of acme_domains, whatever their dates\n"
    "  revoke NAME asks the CA to revoke certificates/NAME.crt and renames it and its key to\n"
    "              *.revoked (the server then serves the base certificate for NAME)\n"
    "Exit status 1 when the CA refuses or cannot be reached; the message says why.",
    &RunAcme,
    {{"project"}, {"json", Kind::kSwitch}, {"timeout"}},
    /*max_positional=*/2};

}  // namespace appwire::cli
