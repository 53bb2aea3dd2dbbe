#include "appwire/server/acme_manager.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "appwire/acme/acme_client.h"
#include "appwire/common/files.h"
#include "appwire/common/log.h"
#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/certificate_info.h"

namespace appwire {
namespace {

// Bounds that keep a flood of names from costing memory: names waiting for
// an order or for the decision function, and names it refused.
constexpr size_t kMaxQueued = 64;
constexpr size_t kMaxRefused = 4096;  // then forgotten all at once
constexpr int kMaxRefusalsLogged = 10;
// An on-demand name that fails this often is forgotten until a handshake
// asks for it again (and spends one of the hour's orders).
constexpr int kMaxOnDemandFailures = 5;
constexpr absl::Duration kMaxBackoff = absl::Hours(24);

void LogAcme(const std::string& text) { LogInfo(absl::StrCat("acme: ", text)); }

}  // namespace

bool AcmeNameMatches(const std::string& pattern, const std::string& name) {
  const std::string p = absl::AsciiStrToLower(pattern);
  const std::string n = absl::AsciiStrToLower(name);
  const size_t star = p.find('*');
  if (star == std::string::npos) return p == n;
  const std::string prefix = p.substr(0, star);
  const std::string suffix = p.substr(star + 1);
  if (n.size() <= prefix.size() + suffix.size()) return false;  // '*' is one character or more
  if (!absl::StartsWith(n, prefix) || !absl::EndsWith(n, suffix)) return false;
  const std::string matched = n.substr(prefix.size(), n.size() - prefix.size() - suffix.size());
  return matched.find('.') == std::string::npos;  // within one label
}

std::string NormalizeAcmeName(const std::string& name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (!lower.empty() && lower.back() == '.') lower.pop_back();
  if (lower.empty() || lower.size() > 253) return "";
  bool all_digits_and_dots = true;
  size_t label = 0;
  for (size_t i = 0; i <= lower.size(); ++i) {
    if (i == lower.size() || lower[i] == '.') {
      if (label == 0 || label > 63) return "";
      label = 0;
      continue;
    }
    const char c = lower[i];
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return "";
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) all_digits_and_dots = false;
    ++label;
  }
  if (all_digits_and_dots) return "";  // an IPv4 address
  return lower;
}

absl::Status CheckAcmeDomains(const std::vector<std::string>& domains, absl::string_view setting) {
  for (const std::string& name : domains) {
    if (NormalizeAcmeName(name).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          setting, ": \"", name, "\" is not a DNS name an ACME CA can issue for (IP addresses "
          "and wildcards are not; list each host name)"));
    }
  }
  return absl::OkStatus();
}

namespace {

std::vector<std::string> NormalizedNames(const std::vector<std::string>& domains) {
  std::vector<std::string> names;
  for (const std::string& domain : domains) {
    const std::string name = NormalizeAcmeName(domain);
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

}  // namespace

// Answers the CA's challenges while an authorization is pending: for
// TLS-ALPN-01 a context per name (RFC 8737), for HTTP-01 the key
// authorization per token (RFC 8555 section 8.3).
class AcmeManager::Responder : public acme::ChallengeResponder {
 public:
  explicit Responder(bool http01) : http01_(http01) {}

  std::string type() const override { return http01_ ? "http-01" : "tls-alpn-01"; }

  absl::Status Present(const std::string& domain, const std::string& token,
                       const std::string& key_authorization) override {
    if (http01_) {
      std::lock_guard<std::mutex> lock(mu_);
      http01_answers_[token] = key_authorization;
      return absl::OkStatus();
    }
    absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> certificate =
        CreateAcmeChallengeCertificatePem(*key, domain, key_authorization);
    if (!certificate.ok()) return certificate.status();
    TlsOptions options;
    options.role = TlsRole::kServer;
    options.min_version = TlsVersion::k1_2;  // RFC 8737 section 3: TLS 1.2 or later
    options.certificate_chain_pem = *certificate;
    options.private_key_pem = *key;
    options.certificate_source = absl::StrCat("the TLS-ALPN-01 certificate for ", domain);
    options.alpn_protocol = std::string(kAcmeTlsAlpnProtocol);
    absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::Create(options);
    if (!context.ok()) return context.status();
    std::lock_guard<std::mutex> lock(mu_);
    contexts_[absl::AsciiStrToLower(domain)] = *std::move(context);
    return absl::OkStatus();
  }

  void Remove(const std::string& domain, const std::string& token) override {
    std::lock_guard<std::mutex> lock(mu_);
    contexts_.erase(absl::AsciiStrToLower(domain));
    http01_answers_.erase(token);
  }

  std::shared_ptr<const TlsContext> Find(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto found = contexts_.find(absl::AsciiStrToLower(name));
    return found == contexts_.end() ? nullptr : found->second;
  }

  // The key authorization for `token`, or "".
  std::string Http01Answer(const std::string& token) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto found = http01_answers_.find(token);
    return found == http01_answers_.end() ? std::string() : found->second;
  }

 private:
  const bool http01_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const TlsContext>> contexts_;
  std::map<std::string, std::string> http01_answers_;
};

AcmeManager::AcmeManager(const ServerOptions& options, std::function<absl::Status()> reload)
    : options_(options),
      managed_names_(NormalizedNames(options.acme.domains)),
      folder_(ProjectFolder::At(options.project_dir)),
      reload_(std::move(reload)),
      responder_(std::make_unique<Responder>(options.acme.http_port.has_value())) {}

AcmeManager::~AcmeManager() { Stop(); }

void AcmeManager::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void AcmeManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const TlsContext> AcmeManager::ChallengeContext(
    const TlsStream::ClientHello& hello) const {
  if (std::find(hello.alpn_protocols.begin(), hello.alpn_protocols.end(),
                kAcmeTlsAlpnProtocol) == hello.alpn_protocols.end()) {
    return nullptr;
  }
  return responder_->Find(hello.server_name);
}

HttpReply AcmeManager::Http01Reply(const std::string& path) const {
  constexpr absl::string_view kPrefix = "/.well-known/acme-challenge/";
  HttpReply reply;
  const std::string answer =
      absl::StartsWith(path, kPrefix) ? responder_->Http01Answer(path.substr(kPrefix.size())) : "";
  if (answer.empty()) {
    reply.body = "not found: this port answers ACME HTTP-01 challenges only\n";
    return reply;
  }
  LogAcme(absl::StrCat("answered the CA's HTTP-01 validation (", path, ")"));
  reply.status = "200 OK";
  reply.content_type = "application/octet-stream";
  reply.body = answer;
  return reply;
}

bool AcmeManager::Stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stop_;
}

void AcmeManager::EnqueueLocked(const std::string& name, bool on_demand) {
  if (std::find(queue_.begin(), queue_.end(), name) != queue_.end()) return;
  NameState& state = names_[name];
  state.on_demand = state.on_demand || on_demand;
  if (absl::Now() < state.next_attempt) return;
  queue_.push_back(name);
  wake_.notify_all();
}

bool AcmeManager::TakeOnDemandSlotLocked(const std::string& name) {
  const absl::Time now = absl::Now();
  while (!on_demand_orders_.empty() && now - on_demand_orders_.front() > absl::Hours(1)) {
    on_demand_orders_.pop_front();
  }
  if (static_cast<int>(on_demand_orders_.size()) >= options_.acme.on_demand_per_hour) {
    if (!logged_rate_limit_) {
      LogWarning(absl::StrCat("acme: on-demand limit reached (", options_.acme.on_demand_per_hour,
                              " names an hour, acme_on_demand_per_hour); ", name,
                              " and later names get the base certificate for now"));
      logged_rate_limit_ = true;
    }
    return false;
  }
  on_demand_orders_.push_back(now);
  return true;
}

void AcmeManager::OnUnknownName(const std::string& requested) {
  if (!options_.acme.on_demand) return;
  const std::string name = NormalizeAcmeName(requested);
  if (name.empty()) return;
  const bool pattern_allows =
      std::any_of(options_.acme.allow.begin(), options_.acme.allow.end(),
                  [&](const std::string& pattern) { return AcmeNameMatches(pattern, name); });
  if (!pattern_allows && !options_.acme.allow_name) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (names_.count(name) > 0 || refused_.count(name) > 0) return;
  if (!pattern_allows) {
    // The decision function runs on the manager's thread (Run), never
    // here; only the names it accepts spend the hour's orders.
    if (undecided_.size() >= kMaxQueued ||
        std::find(undecided_.begin(), undecided_.end(), name) != undecided_.end()) {
      return;
    }
    undecided_.push_back(name);
    wake_.notify_all();
    return;
  }
  if (queue_.size() >= kMaxQueued || !TakeOnDemandSlotLocked(name)) return;
  EnqueueLocked(name, /*on_demand=*/true);
}

acme::AcmeClientOptions AcmeClientOptionsFor(const AcmeOptions& acme) {
  acme::AcmeClientOptions client;
  client.directory_url = !acme.directory.empty() ? acme.directory
                         : acme.staging          ? acme::kLetsEncryptStaging
                                                 : acme::kLetsEncryptProduction;
  client.ca_file = acme.ca_file;
  client.email = acme.email;
  client.eab_key_id = acme.eab_key_id;
  client.eab_hmac_key = acme.eab_hmac_key;
  return client;
}

std::string ManagedCertificatePath(const ProjectFolder& folder, const std::string& name) {
  return JoinPath(folder.sni_certificates, name + ".crt");
}

absl::StatusOr<ManagedCertificate> ReadManagedCertificate(const ProjectFolder& folder,
                                                          const std::string& name,
                                                          absl::Duration renew_before) {
  const std::string path = ManagedCertificatePath(folder, name);
  if (!FileExists(path)) return absl::NotFoundError(absl::StrCat(path, " does not exist"));
  ManagedCertificate certificate;
  absl::StatusOr<std::string> pem = ReadFile(path);
  if (!pem.ok()) return pem.status();
  certificate.pem = *std::move(pem);
  absl::StatusOr<CertificateInfo> info = DescribeCertificatePem(certificate.pem, path);
  if (!info.ok()) return info.status();
  certificate.info = *std::move(info);
  certificate.renewal_start =
      AcmeRenewalStart(certificate.info.not_before, certificate.info.not_after, renew_before);
  return certificate;
}

bool AcmeManager::Due(const std::string& name, std::string* why) {
  absl::StatusOr<ManagedCertificate> certificate =
      ReadManagedCertificate(folder_, name, options_.acme.renew_before);
  if (absl::IsNotFound(certificate.status())) {
    *why = "no certificate yet";
    return true;
  }
  if (!certificate.ok()) {
    *why = absl::StrCat(ManagedCertificatePath(folder_, name), " cannot be read (",
                        certificate.status().message(), ")");
    return true;
  }
  const CertificateInfo& info = certificate->info;
  const absl::Time now = absl::Now();
  const absl::Time renewal = certificate->renewal_start;
  if (now >= renewal) {
    *why = absl::StrCat("it expires ", FormatUtc(info.not_after));
    return true;
  }
  *why = absl::StrCat("valid until ", FormatUtc(info.not_after), "; renewal from ",
                      FormatUtc(renewal));
  if (IsLocalAcmeName(name) || info.issuer == info.subject || !ari_offered_) return false;
  // The CA may want it renewed sooner (a revocation coming, a new
  // intermediate): its renewal information, asked at most as often as it says.
  auto known = renewal_info_.find(name);
  if (known == renewal_info_.end() || now >= known->second.ask_again) {
    acme::AcmeClientOptions client_options = AcmeClientOptionsFor(options_.acme);
    client_options.timeout = absl::Seconds(30);
    client_options.cancelled = [this] { return Stopping(); };
    acme::AcmeClient client(client_options, responder_.get(), nullptr);
    absl::StatusOr<acme::AcmeClient::RenewalWindow> window = client.RenewalInfo(certificate->pem);
    if (absl::IsNotFound(window.status())) {
      ari_offered_ = false;
      return false;
    }
    if (!window.ok()) {
      LogAcme(absl::StrCat(name, ": no renewal information from the CA (", window.status().message(),
                           "); renewing by the certificate's dates"));
      renewal_info_[name] = {absl::InfiniteFuture(), now + absl::Hours(6)};
      return false;
    }
    // A moment of the window that is the same for a name at each ask, and
    // differs between names and servers: the CA spreads its load.
    const double fraction =
        static_cast<double>(std::hash<std::string>()(name + options_.project_dir) % 1000) / 1000.0;
    renewal_info_[name] = {window->start + (window->end - window->start) * fraction,
                           now + window->ask_again};
    known = renewal_info_.find(name);
  }
  if (now >= known->second.renew_at) {
    *why = absl::StrCat("the CA's renewal information (ARI) says renew from ",
                        FormatUtc(known->second.renew_at));
    absl::StatusOr<std::string> id = AcmeRenewalCertificateId(info.der);
    if (id.ok()) replaces_[name] = *id;
    return true;
  }
  if (known->second.renew_at < renewal) {
    *why = absl::StrCat("valid until ", FormatUtc(info.not_after), "; renewal from ",
                        FormatUtc(known->second.renew_at), " (the CA's renewal information)");
  }
  return false;
}

absl::StatusOr<std::string> AcmeManager::AccountKey() {
  const std::string& path = folder_.acme_account_key;
  if (FileExists(path)) return ReadFile(path);
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  if (!key.ok()) return key.status();
  absl::Status status = MakeDirectories(folder_.acme);
  if (status.ok()) status = WriteFileAtomically(path, *key, 0600, ExistingFile::kKeep);
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat("cannot keep the ACME account key in ", path,
                                                    ": ", status.message()));
  }
  LogAcme(absl::StrCat("new account key written to ", path));
  return key;
}

absl::Time AcmeRenewalStart(absl::Time not_before, absl::Time not_after,
                            absl::Duration renew_before) {
  if (renew_before == absl::InfiniteDuration()) return absl::InfinitePast();
  return not_after - std::max(renew_before, (not_after - not_before) / 3);
}

bool IsLocalAcmeName(const std::string& name) {
  return name.find('.') == std::string::npos || absl::EndsWith(name, ".local");
}

absl::Status AcmeManager::SaveCertificate(const std::string& name, const std::string& chain_pem,
                                          const std::string& key_pem) {
  absl::Status status = MakeDirectories(folder_.sni_certificates);
  const std::string key_path = JoinPath(folder_.sni_certificates, name + ".key");
  const std::string certificate_path = ManagedCertificatePath(folder_, name);
  // Both files are written in full first (as NAME.key.new and NAME.crt.new,
  // which the SNI loader ignores), so a full disk or a crash while writing
  // leaves the old pair, never a key without its certificate; then the two
  // renames, one right after the other.
  const std::string staged_key = key_path + ".new";
  const std::string staged_certificate = certificate_path + ".new";
  if (status.ok()) status = WriteFileAtomically(staged_key, key_pem, 0600);
  if (status.ok()) status = WriteFileAtomically(staged_certificate, chain_pem, 0644);
  std::error_code error;
  if (status.ok()) {
    std::filesystem::rename(staged_key, key_path, error);
    if (!error) std::filesystem::rename(staged_certificate, certificate_path, error);
    if (error) {
      status = absl::InternalError(absl::StrCat("cannot put the new certificate for ", name,
                                                " in place: ", error.message()));
    }
  }
  if (!status.ok()) {
    std::filesystem::remove(staged_key, error);
    std::filesystem::remove(staged_certificate, error);
    return status;
  }
  absl::StatusOr<CertificateInfo> info = DescribeCertificatePem(chain_pem, certificate_path);
  LogAcme(absl::StrCat("certificate saved: ", certificate_path,
                       info.ok() ? absl::StrCat(", expires ", FormatUtc(info->not_after)) : ""));
  status = reload_();
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat("the new certificate for ", name,
                                                    " was saved but not served: ", status.message()));
  }
  return absl::OkStatus();
}

absl::Status AcmeManager::IssueAndSave(const std::string& name) {
  if (IsLocalAcmeName(name)) {
    // No public CA issues for these (NetTalk's rule): a self-signed one,
    // which LAN clients pin or trust as their anchor.
    absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
    if (!key.ok()) return key.status();
    CertificateSpec spec;
    spec.common_name = name;
    spec.dns_names = {name};
    spec.days_valid = 397;
    absl::StatusOr<std::string> certificate = CreateSelfSignedCertificatePem(*key, spec);
    if (!certificate.ok()) return certificate.status();
    LogAcme(absl::StrCat(name, ": a name without a dot or ending in .local gets a self-signed "
                         "certificate (no public CA issues for it)"));
    return SaveCertificate(name, *certificate, *key);
  }
  absl::StatusOr<std::string> account_key = AccountKey();
  if (!account_key.ok()) return account_key.status();
  acme::AcmeClientOptions client_options = AcmeClientOptionsFor(options_.acme);
  client_options.account_key_pem = *std::move(account_key);
  client_options.cancelled = [this] { return Stopping(); };
  acme::AcmeClient client(client_options, responder_.get(),
                          [&](const std::string& step) { LogAcme(step); });
  auto replaced = replaces_.find(name);
  absl::StatusOr<acme::IssuedCertificate> issued =
      client.Issue({name}, replaced == replaces_.end() ? "" : replaced->second);
  if (!issued.ok()) return issued.status();
  return SaveCertificate(name, issued->chain_pem, issued->private_key_pem);
}

void AcmeManager::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  absl::Time next_check = absl::InfinitePast();
  while (!stop_) {
    const absl::Time now = absl::Now();
    if (now >= next_check) {
      // The managed names, and every name issued on demand: renew what is due.
      std::vector<std::pair<std::string, bool>> names;
      for (const std::string& name : managed_names_) names.emplace_back(name, false);
      for (const auto& [name, state] : names_) {
        if (state.on_demand) names.emplace_back(name, true);
      }
      lock.unlock();
      std::vector<std::pair<std::string, bool>> due;
      for (const auto& [name, on_demand] : names) {
        std::string why;
        if (Due(name, &why)) {
          due.emplace_back(name, on_demand);
          LogAcme(absl::StrCat(name, ": ordering a certificate (", why, ")"));
        } else if (next_check == absl::InfinitePast()) {
          LogAcme(absl::StrCat(name, ": certificate on disk ", why));
        }
      }
      lock.lock();
      for (const auto& [name, on_demand] : due) EnqueueLocked(name, on_demand);
      next_check = now + options_.acme.check_interval;
    }
    if (!undecided_.empty()) {
      const std::string name = undecided_.front();
      undecided_.pop_front();
      lock.unlock();
      const bool accepted = options_.acme.allow_name(name);
      lock.lock();
      if (!accepted) {
        if (refused_.size() >= kMaxRefused) refused_.clear();
        refused_.insert(name);
        if (refusals_logged_ < kMaxRefusalsLogged) {
          LogAcme(absl::StrCat(name, ": not ordered: the server's decision function refused it",
                               ++refusals_logged_ == kMaxRefusalsLogged
                                   ? " (later refusals are not logged)"
                                   : ""));
        }
      } else if (names_.count(name) == 0 && queue_.size() < kMaxQueued &&
                 TakeOnDemandSlotLocked(name)) {
        EnqueueLocked(name, /*on_demand=*/true);
      }
      continue;
    }
    if (queue_.empty()) {
      // Stop() may have come while the lock was released above: the
      // predicate sees it, a bare wait would sleep through it.
      wake_.wait_for(lock, absl::ToChronoMilliseconds(next_check - absl::Now()),
                     [&] { return stop_ || !queue_.empty() || !undecided_.empty(); });
      continue;
    }
    const std::string name = queue_.front();
    queue_.pop_front();
    const bool on_demand = names_[name].on_demand;
    lock.unlock();
    absl::Status status;
    std::string why;
    if (on_demand && !Due(name, &why)) {
      status = absl::OkStatus();  // a certificate appeared meanwhile
    } else {
      status = IssueAndSave(name);
    }
    if (status.ok()) {
      // What the CA said of the old certificate is not about the new one.
      renewal_info_.erase(name);
      replaces_.erase(name);
    }
    if (options_.acme.on_result) options_.acme.on_result(name, status);
    lock.lock();
    NameState& state = names_[name];
    if (status.ok()) {
      state.failures = 0;
      state.next_attempt = absl::InfinitePast();
      continue;
    }
    if (stop_) break;
    ++state.failures;
    const bool managed =
        std::find(managed_names_.begin(), managed_names_.end(), name) != managed_names_.end();
    if (state.on_demand && !managed && state.failures >= kMaxOnDemandFailures) {
      LogWarning(absl::StrCat("acme: could not get a certificate for ", name, ": ",
                              status.message(), "; given up after ", state.failures,
                              " tries, until a handshake asks for it again"));
      names_.erase(name);
      continue;
    }
    const absl::Duration backoff =
        std::min(kMaxBackoff, options_.acme.retry_backoff * (1 << std::min(state.failures - 1, 16)));
    state.next_attempt = absl::Now() + backoff;
    // The next check (which queues what is due and past its backoff) then.
    next_check = std::min(next_check, state.next_attempt);
    LogWarning(absl::StrCat("acme: could not get a certificate for ", name, ": ", status.message(),
                            "; the base certificate is served for it meanwhile; next try in ",
                            absl::FormatDuration(backoff)));
  }
}

}  // namespace appwire
