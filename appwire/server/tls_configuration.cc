#include "appwire/server/tls_configuration.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include "appwire/common/log.h"
#include "appwire/common/pem.h"
#include "appwire/common/thread_priority.h"
#include "appwire/transport/dh_params.h"
#include "appwire/transport/session_ticket_key.h"
#include "appwire/transport/tls_options.h"

namespace appwire {

std::shared_ptr<const TlsContext> ContextSet::Select(const std::string& requested) const {
  if (requested.empty() || by_name.empty()) return default_context;
  const std::string name = absl::AsciiStrToLower(requested);
  auto exact = by_name.find(name);
  if (exact != by_name.end()) return exact->second;
  size_t dot = name.find('.');
  if (dot != std::string::npos) {
    auto wildcard = by_name.find(absl::StrCat("*", name.substr(dot)));
    if (wildcard != by_name.end()) return wildcard->second;
  }
  return default_context;
}

struct TlsConfiguration::Timers {
  explicit Timers(asio::io_context& io) : watch(io), expiry(io) {}
  asio::steady_timer watch;
  asio::steady_timer expiry;
};

TlsConfiguration::TlsConfiguration(const ServerOptions& options,
                                   std::shared_ptr<ServerParameters> parameters)
    : folder_(ProjectFolder::At(options.project_dir, options.client_ca_file)),
      key_passphrase_file_(options.key_passphrase_file),
      key_passphrase_env_(options.key_passphrase_env),
      check_interval_(options.certificate_check_interval),
      parameters_(std::move(parameters)) {}

TlsConfiguration::~TlsConfiguration() { StopDhGeneration(); }

absl::StatusOr<std::unique_ptr<TlsConfiguration>> TlsConfiguration::Load(
    const ServerOptions& options, std::shared_ptr<ServerParameters> parameters) {
  std::unique_ptr<TlsConfiguration> tls(new TlsConfiguration(options, std::move(parameters)));
  const ProjectFolder& folder = tls->folder_;
  IdentityLoadOptions load;
  load.passphrase_file = options.key_passphrase_file;
  load.passphrase_env = options.key_passphrase_env;
  absl::StatusOr<ServerIdentity> identity = LoadOrMakeServerIdentity(folder.dir, load);
  if (!identity.ok()) return identity.status();
  tls->generated_ = identity->generated;
  tls->identity_unwritten_ = identity->generated;
  tls->identity_ = *std::move(identity);
  absl::StatusOr<std::vector<SniIdentity>> sni = LoadSniIdentities(folder.dir, load);
  if (!sni.ok()) return sni.status();
  tls->sni_identities_ = *std::move(sni);
  // Tickets that survive restarts (appwire/transport/session_ticket_key.h). Without
  // the file (a read-only folder), clients just do full handshakes.
  absl::StatusOr<SessionTicketKey> ticket_key = LoadOrMakeSessionTicketKey(folder.session_ticket_key);
  if (ticket_key.ok()) {
    tls->session_ticket_key_ = ticket_key->bytes;
    tls->ticket_key_unwritten_ = ticket_key->made;
  } else {
    LogWarning(absl::StrCat("TLS session resumption across restarts is off: ",
                            ticket_key.status().message()));
  }
  absl::StatusOr<std::string> client_ca = tls->LoadClientCa();
  if (!client_ca.ok()) return client_ca.status();
  tls->client_ca_pem_ = *std::move(client_ca);
  if (FileExists(folder.crl)) {
    absl::StatusOr<std::string> crl = ReadFile(folder.crl);
    if (!crl.ok()) return crl.status();
    tls->crl_pem_ = *std::move(crl);
  }
  // dhparams.pem beside key.pem and cert.pem: used when present and valid,
  // generated in the background by Start() when absent, never replaced.
  if (FileExists(folder.dh_params)) {
    absl::StatusOr<std::string> dh = ReadFile(folder.dh_params);
    if (!dh.ok()) return dh.status();
    absl::StatusOr<int> bits = CheckDhParamsPem(*dh, folder.dh_params);
    if (!bits.ok()) return bits.status();
    tls->dh_params_pem_ = *std::move(dh);
  }
  std::lock_guard<std::mutex> lock(tls->mu_);
  absl::Status status = tls->RebuildLocked();
  if (!status.ok()) return status;
  return tls;
}

absl::Status TlsConfiguration::WriteGeneratedFiles() {
  std::lock_guard<std::mutex> lock(mu_);
  if (identity_unwritten_) {
    absl::Status status = WriteGeneratedIdentity(identity_);
    if (!status.ok()) return status;
    identity_unwritten_ = false;
  }
  if (ticket_key_unwritten_) {
    ticket_key_unwritten_ = false;
    absl::Status status =
        WriteSessionTicketKey(folder_.session_ticket_key, SessionTicketKey{session_ticket_key_, true});
    if (!status.ok()) {
      LogWarning(absl::StrCat("TLS session resumption across restarts is off: ",
                              status.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status TlsConfiguration::RebuildLocked() {
  // Read before the values it stands for: a change made meanwhile then
  // shows as a generation not yet built, and is built next time. The
  // snapshot carries the process-wide generation its values are from.
  const uint64_t parameters_generation = parameters_->generation();
  const std::shared_ptr<const ParameterSnapshot> parameters = parameters_->Snapshot();
  TlsOptions options;
  options.role = TlsRole::kServer;
  ApplyParameters(*parameters, &options);
  options.dh_params_pem = dh_params_pem_;
  options.session_ticket_key = session_ticket_key_;
  options.trusted_ca_pem = client_ca_pem_;
  options.trusted_ca_source = folder_.client_ca;
  options.crl_pem = crl_pem_;
  options.crl_source = folder_.crl;
  auto build = [&options](const ServerIdentity& id) {
    TlsOptions with_identity = options;
    with_identity.certificate_chain_pem = id.certificate_chain_pem;
    with_identity.private_key_pem = id.private_key_pem;
    with_identity.certificate_source = id.certificate_path;
    with_identity.private_key_source = id.private_key_path;
    return TlsContext::Create(with_identity);
  };
  auto set = std::make_shared<ContextSet>();
  absl::StatusOr<std::shared_ptr<TlsContext>> context = build(identity_);
  if (!context.ok()) return context.status();
  set->default_context = *std::move(context);
  for (const SniIdentity& sni : sni_identities_) {
    context = build(sni.identity);
    if (!context.ok()) return context.status();
    set->by_name[sni.host_name] = *std::move(context);
  }
  contexts_ = std::move(set);
  limits_.max_message_bytes = static_cast<size_t>(parameters->Int(Parameter::kMaxMessageSize));
  built_global_generation_ = parameters->generation();
  built_parameters_generation_ = parameters_generation;
  rebuild_ = false;
  return absl::OkStatus();
}

absl::StatusOr<std::string> TlsConfiguration::LoadClientCa() const {
  if (!FileExists(folder_.client_ca)) {
    // client-ca.pem is optional; a file the operator named is not: a typo
    // must not quietly leave client certificates unchecked.
    if (!folder_.client_ca_named) return std::string();
    return absl::NotFoundError(absl::StrCat(
        "the client CA file \"", folder_.client_ca,
        "\" (client_ca / --client-ca) does not exist; fix the path, or remove the setting to "
        "use client-ca.pem in the project folder"));
  }
  return ReadPemFile(folder_.client_ca, PemKind::kCertificate);
}

std::shared_ptr<const ContextSet> TlsConfiguration::Current(FrameLimits* limits) {
  std::lock_guard<std::mutex> lock(mu_);
  if (rebuild_ || built_global_generation_ != DatabaseParametersGeneration() ||
      built_parameters_generation_ != parameters_->generation()) {
    absl::Status status = RebuildLocked();
    if (!status.ok()) {
      LogError(absl::StrCat("new TLS settings not applied, keeping the previous ones: ",
                            status.message()));
      // Logged once, not at every connection: the next change tries again.
      built_global_generation_ = DatabaseParametersGeneration();
      built_parameters_generation_ = parameters_->generation();
      rebuild_ = false;
    }
  }
  *limits = limits_;
  return contexts_;
}

absl::Status TlsConfiguration::Reload() {
  // Everything is read and checked before anything is replaced: a bad new
  // file leaves the last good configuration serving.
  IdentityLoadOptions load;
  load.allow_generate = false;
  load.passphrase_file = key_passphrase_file_;
  load.passphrase_env = key_passphrase_env_;
  absl::StatusOr<ServerIdentity> new_identity = LoadOrMakeServerIdentity(folder_.dir, load);
  absl::Status status = new_identity.status();
  absl::StatusOr<std::vector<SniIdentity>> new_sni = LoadSniIdentities(folder_.dir, load);
  if (status.ok()) status = new_sni.status();
  absl::StatusOr<std::string> new_client_ca = LoadClientCa();
  if (status.ok()) status = new_client_ca.status();
  std::string new_crl;
  if (status.ok() && FileExists(folder_.crl)) {
    absl::StatusOr<std::string> crl = ReadFile(folder_.crl);
    status = crl.status();
    if (status.ok()) new_crl = *std::move(crl);
  }
  std::string new_dh;
  if (status.ok() && FileExists(folder_.dh_params)) {
    absl::StatusOr<std::string> dh = ReadFile(folder_.dh_params);
    status = dh.status();
    if (status.ok()) status = CheckDhParamsPem(*dh, folder_.dh_params).status();
    if (status.ok()) new_dh = *std::move(dh);
  }
  std::lock_guard<std::mutex> lock(mu_);
  watched_files_ = DescribeWatchedFiles();
  if (status.ok()) {
    ServerIdentity old_identity = identity_;
    std::vector<SniIdentity> old_sni = sni_identities_;
    std::string old_dh = dh_params_pem_;
    std::string old_client_ca = client_ca_pem_;
    std::string old_crl = crl_pem_;
    client_ca_pem_ = *std::move(new_client_ca);
    crl_pem_ = std::move(new_crl);
    identity_ = *std::move(new_identity);
    sni_identities_ = *std::move(new_sni);
    if (!new_dh.empty()) dh_params_pem_ = std::move(new_dh);
    status = RebuildLocked();
    if (!status.ok()) {
      identity_ = std::move(old_identity);
      sni_identities_ = std::move(old_sni);
      dh_params_pem_ = std::move(old_dh);
      client_ca_pem_ = std::move(old_client_ca);
      crl_pem_ = std::move(old_crl);
    }
  }
  if (!status.ok()) {
    LogError(absl::StrCat(
        "certificate reload failed, still serving the previous certificates and settings: ",
        status.message()));
    return status;
  }
  LogInfo(absl::StrCat("certificates reloaded: ", identity_.certificate_path, " (",
                       identity_.leaf.subject, ", ", identity_.leaf.sha256_fingerprint, ")",
                       sni_identities_.empty()
                           ? ""
                           : absl::StrCat(" and ", sni_identities_.size(), " SNI certificate(s)")));
  return absl::OkStatus();
}

std::string TlsConfiguration::DescribeWatchedFiles() const {
  std::vector<std::string> paths = folder_.ReloadedFiles();
  std::error_code error;
  if (std::filesystem::is_directory(folder_.sni_certificates, error)) {
    for (const auto& entry : std::filesystem::directory_iterator(folder_.sni_certificates, error)) {
      paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::string description;
  for (const std::string& path : paths) {
    // Size and modification time, as the file system keeps it (nanoseconds
    // on Linux's file systems, 100 ns on NTFS): a change of either is a
    // change. Files that are gone are left out, so a removal is one too.
    const std::filesystem::file_time_type modified =
        std::filesystem::last_write_time(path, error);
    if (error) continue;
    std::error_code size_error;  // a folder has none
    const std::uintmax_t size = std::filesystem::file_size(path, size_error);
    absl::StrAppend(&description, path, ":", size_error ? 0 : size, ":",
                    static_cast<int64_t>(modified.time_since_epoch().count()), ";");
  }
  return description;
}

void TlsConfiguration::StartTimers(asio::io_context& io) {
  timers_ = std::make_unique<Timers>(io);
  CheckExpiry();
  {
    std::lock_guard<std::mutex> lock(mu_);
    watched_files_ = DescribeWatchedFiles();
  }
  WatchFiles();
}

void TlsConfiguration::WatchFiles() {
  if (check_interval_ <= absl::ZeroDuration()) return;
  timers_->watch.expires_after(
      std::chrono::milliseconds(absl::ToInt64Milliseconds(check_interval_)));
  timers_->watch.async_wait([this](const std::error_code& error) {
    if (error) return;
    bool changed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      changed = DescribeWatchedFiles() != watched_files_;
    }
    if (changed) {
      LogInfo("certificate files changed on disk; reloading");
      Reload().IgnoreError();  // logged; the last good configuration stays
    }
    WatchFiles();
  });
}

void TlsConfiguration::CheckExpiry() {
  // At start and then once a day, as long as the server runs.
  std::vector<ServerIdentity> identities;
  {
    std::lock_guard<std::mutex> lock(mu_);
    identities.push_back(identity_);
    for (const SniIdentity& sni : sni_identities_) identities.push_back(sni.identity);
  }
  for (const ServerIdentity& id : identities) {
    const absl::Duration left = id.leaf.not_after - absl::Now();
    if (left < absl::Hours(24 * 30)) {
      LogWarning(absl::StrCat("certificate ", id.certificate_path, " expires on ",
                              FormatUtc(id.leaf.not_after), " (in ",
                              absl::ToInt64Hours(left) / 24, " days); renew it"));
    }
  }
  timers_->expiry.expires_after(std::chrono::hours(24));
  timers_->expiry.async_wait([this](const std::error_code& error) {
    if (!error) CheckExpiry();
  });
}

std::vector<std::pair<std::string, absl::Time>> TlsConfiguration::CertificateExpiries() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, absl::Time>> expiries = {{"", identity_.leaf.not_after}};
  for (const SniIdentity& sni : sni_identities_) {
    expiries.emplace_back(sni.host_name, sni.identity.leaf.not_after);
  }
  return expiries;
}

std::string TlsConfiguration::DhParamsState() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!dh_params_pem_.empty()) return "loaded";
  }
  return dh_generating_ ? "generating" : "none";
}

CertificateInfo TlsConfiguration::certificate() const {
  std::lock_guard<std::mutex> lock(mu_);
  return identity_.leaf;
}

namespace {

std::mutex dh_generator_mu;

// Empty unless a test set one. Never destroyed: no exit-time destructor.
internal::DhParamsGenerator& DhParamsGeneratorForTesting() {
  static auto* generator = new internal::DhParamsGenerator;
  return *generator;
}

internal::DhParamsGenerator CurrentDhParamsGenerator() {
  std::lock_guard<std::mutex> lock(dh_generator_mu);
  if (DhParamsGeneratorForTesting()) return DhParamsGeneratorForTesting();
  return [](const SafePrimeGeneration& generation) { return GenerateDhParamsPem(generation); };
}

}  // namespace

void internal::SetDhParamsGeneratorForTesting(DhParamsGenerator generator) {
  std::lock_guard<std::mutex> lock(dh_generator_mu);
  DhParamsGeneratorForTesting() = std::move(generator);
}

void TlsConfiguration::StartDhGeneration() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!dh_params_pem_.empty()) return;
  }
  const int bits = static_cast<int>(parameters_->Int(Parameter::kDhParamBits));
  dh_generator_ = CurrentDhParamsGenerator();
  dh_generating_ = true;
  dh_thread_ = std::thread([this, bits] {
    GenerateDhParams(bits);
    dh_generating_ = false;
  });
}

void TlsConfiguration::CancelDhGeneration() { dh_cancel_ = true; }

void TlsConfiguration::StopDhGeneration() {
  CancelDhGeneration();
  if (dh_thread_.joinable()) dh_thread_.join();
}

void TlsConfiguration::GenerateDhParams(int bits) {
  const std::string& path = folder_.dh_params;
  // The calling thread only, at the lowest priority (nice 19 on Linux): a
  // safe prime takes a core for seconds to minutes, and serving calls
  // matters more.
  absl::Status lowered = LowerThisThreadsPriority();
  if (!lowered.ok()) {
    LogWarning(absl::StrCat("DH parameter generation: ", lowered.message()));
  }
  LogInfo(absl::StrCat("generating ", bits, "-bit DH parameters into ", path,
                       " for TLS 1.2 DHE suites (a safe prime: this could take several "
                       "minutes); TLS 1.3 is served meanwhile"));
  const absl::Time start = absl::Now();
  absl::Time next_report = start + absl::Seconds(5);
  SafePrimeGeneration generation;
  generation.bits = bits;
  generation.cancel = &dh_cancel_;
  generation.progress = [&](int64_t tried) {
    const absl::Time now = absl::Now();
    if (now < next_report) return;
    next_report = now + absl::Seconds(5);
    LogInfo(absl::StrCat("still generating DH parameters (",
                         absl::FormatDuration(absl::Trunc(now - start, absl::Seconds(1))), ", ",
                         tried, " candidates tried)"));
  };
  absl::StatusOr<std::string> pem = dh_generator_(generation);
  if (absl::IsCancelled(pem.status())) {
    LogInfo(absl::StrCat("DH parameter generation stopped: the server is stopping; ", path,
                         " is generated at the next start"));
    return;
  }
  absl::Status status = pem.status();
  // Written atomically: a crash leaves no half file for the next start. A
  // file the operator put there meanwhile wins: it is never replaced.
  if (status.ok() && FileExists(path)) {
    LogInfo(absl::StrCat(path, " appeared while generating; using it instead"));
    return;  // the file watcher loads it
  }
  if (status.ok()) status = WriteFileAtomically(path, *pem, 0644);
  if (!status.ok()) {
    LogError(absl::StrCat("DH parameters not generated, TLS 1.2 DHE suites stay off: ",
                          status.message()));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    dh_params_pem_ = *std::move(pem);
    rebuild_ = true;  // new connections pick them up
    // The file watcher will see dhparams.pem appear and reload once: not
    // refreshing its snapshot here keeps it from missing a certificate
    // change made meanwhile.
  }
  LogInfo(absl::StrCat("DH parameters ready in ", path, " (",
                       absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(1))),
                       "); TLS 1.2 DHE suites are offered from now on"));
}

}  // namespace appwire
