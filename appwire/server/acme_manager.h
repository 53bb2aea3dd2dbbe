// AcmeManager: appwire-server's AutoSSL. It keeps certificates/<name>.crt
// and .key current for the names ServerOptions::acme manages (from the
// start, and on demand for allowed names a handshake asks for), getting
// them from an ACME CA on a thread of its own, and answers the CA's
// TLS-ALPN-01 validations on the server's own port (RFC 8737): a handshake
// offering ALPN "acme-tls/1" for a name with a pending challenge gets the
// challenge certificate, and no ordinary client ever sees one.
//
// The CA being slow, down or refusing never stops the server: until a
// certificate exists (and whenever one could not be had) the base
// certificate is served, failures are logged with the fix and retried
// with backoff, and certificates already on disk and valid are used at
// start without contacting anyone.
//
// Owned by Server::Impl. Threads: ChallengeContext and OnUnknownName are
// called from the I/O thread during handshakes and only take a lock;
// everything slow (the CA, keys, files) happens on the manager's thread.
#ifndef APPWIRE_SERVER_ACME_MANAGER_H_
#define APPWIRE_SERVER_ACME_MANAGER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "appwire/acme/acme_client.h"
#include "appwire/common/project_folder.h"
#include "appwire/server/http_endpoint.h"
#include "appwire/server/server.h"
#include "appwire/transport/certificate_info.h"
#include "appwire/transport/tls_context.h"
#include "appwire/transport/tls_stream.h"

namespace appwire {

// True when `name` matches `pattern`: equal (any case), or `pattern` has
// one '*' standing for one or more characters of a single label
// ("*.shop.example" matches "a.shop.example", not "a.b.shop.example";
// "pos-*.example" matches "pos-12.example").
bool AcmeNameMatches(const std::string& pattern, const std::string& name);

// The name as a DNS host name ACME can issue for, in lower case; empty
// when it is not one (an IP address, empty labels, characters outside
// letters, digits and '-', longer than 253).
std::string NormalizeAcmeName(const std::string& name);

// OK when every name of `domains` is one NormalizeAcmeName accepts, else
// InvalidArgument naming `setting` ("acme_domains" or "acme.domains"), the
// name and the fix.
absl::Status CheckAcmeDomains(const std::vector<std::string>& domains, absl::string_view setting);

// True for names no public CA issues for: no dot ("pos-terminal") or
// ending in ".local". AcmeManager makes them a self-signed certificate.
bool IsLocalAcmeName(const std::string& name);

// When a certificate becomes due for renewal: once less than
// `renew_before`, or a third of its lifetime, remains, whichever comes
// first.
absl::Time AcmeRenewalStart(absl::Time not_before, absl::Time not_after,
                            absl::Duration renew_before);

// certificates/NAME.crt: where a name's certificate is kept.
std::string ManagedCertificatePath(const ProjectFolder& folder, const std::string& name);

// A name's certificate as renewal sees it: its PEM, what it says, and when
// renewal starts (AcmeRenewalStart). NotFound when there is none; the
// reader's or parser's error when it cannot be read.
struct ManagedCertificate {
  std::string pem;
  CertificateInfo info;
  absl::Time renewal_start;
};
absl::StatusOr<ManagedCertificate> ReadManagedCertificate(const ProjectFolder& folder,
                                                          const std::string& name,
                                                          absl::Duration renew_before);

// The ACME client's options from the server's: the directory (Let's
// Encrypt, its staging server, or acme_directory), the CA file, the contact
// and external account binding. The account key is the caller's.
acme::AcmeClientOptions AcmeClientOptionsFor(const AcmeOptions& acme);

class AcmeManager {
 public:
  // `reload` serves what was written (TlsConfiguration::Reload).
  AcmeManager(const ServerOptions& options, std::function<absl::Status()> reload);
  ~AcmeManager();  // Stop()
  AcmeManager(const AcmeManager&) = delete;
  AcmeManager& operator=(const AcmeManager&) = delete;

  // Starts the thread: checks the managed names' certificates on disk and
  // orders those missing or due. Called once the port is bound (the CA's
  // validation connects to it).
  void Start();
  // Stops the thread (an issuance under way is abandoned at its next
  // step's timeout at worst; the CA's requests are bounded). Idempotent.
  void Stop();

  // The context that answers an ACME TLS-ALPN-01 validation, when `hello`
  // is one (it offers "acme-tls/1") for a name with a challenge pending;
  // else null.
  std::shared_ptr<const TlsContext> ChallengeContext(const TlsStream::ClientHello& hello) const;

  // A handshake asked for `name` and no certificate has it: on demand, an
  // allowed name is queued for an order. Cheap and bounded whatever the
  // client sends: names not allowed, and names over the rate limit, start
  // nothing.
  void OnUnknownName(const std::string& name);

  // The reply to GET `path` on the HTTP-01 port (AcmeOptions::http_port):
  // the key authorization of a pending challenge's token, else 404.
  HttpReply Http01Reply(const std::string& path) const;

 private:
  class Responder;
  struct NameState {
    int failures = 0;
    absl::Time next_attempt = absl::InfinitePast();
    bool on_demand = false;
  };
  void Run();
  bool Stopping() const;
  // Queues `name` unless it is queued already or waiting out a backoff.
  void EnqueueLocked(const std::string& name, bool on_demand);
  // One of the hour's on-demand orders for `name`, or false (logged once)
  // when they are used up.
  bool TakeOnDemandSlotLocked(const std::string& name);
  // Missing, unreadable, expired or within its renewal window, by its
  // dates or by the CA's renewal information (ARI, asked when the CA offers
  // it, again when it said to). The manager's thread only.
  bool Due(const std::string& name, std::string* why);
  absl::Status IssueAndSave(const std::string& name);
  // Writes certificates/NAME.key (0600) then .crt, and serves them.
  absl::Status SaveCertificate(const std::string& name, const std::string& chain_pem,
                               const std::string& key_pem);
  absl::StatusOr<std::string> AccountKey();

  const ServerOptions options_;
  // options_.acme.domains, normalized: the names managed from the start.
  const std::vector<std::string> managed_names_;
  const ProjectFolder folder_;
  const std::function<absl::Status()> reload_;
  std::unique_ptr<Responder> responder_;
  // The CA's renewal windows (ARI) by name, and when to ask again. The
  // manager's thread only.
  struct RenewalInfo {
    absl::Time renew_at;
    absl::Time ask_again;
  };
  std::map<std::string, RenewalInfo> renewal_info_;
  // The ARI certID of the certificate a renewal replaces (RFC 9773 section 5).
  std::map<std::string, std::string> replaces_;
  bool ari_offered_ = true;  // until the CA's directory says otherwise

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::deque<std::string> queue_;           // names to order, in order
  // Each name queued, and not given up on: managed names, and on-demand
  // names within the hourly budget.
  std::map<std::string, NameState> names_;
  // On-demand names for the decision function (allow_name), which runs on
  // the manager's thread, and the names it refused (both bounded).
  std::deque<std::string> undecided_;
  std::set<std::string> refused_;
  int refusals_logged_ = 0;
  std::deque<absl::Time> on_demand_orders_;  // on-demand names queued in the last hour
  bool logged_rate_limit_ = false;
  std::thread thread_;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_ACME_MANAGER_H_
