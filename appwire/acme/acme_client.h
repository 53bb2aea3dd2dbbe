// An ACME client (RFC 8555): the account, and for a list of names an order,
// its authorizations and challenges, finalization with a CSR, and the
// certificate chain. What answers a challenge is the caller's
// (ChallengeResponder): appwire-server answers TLS-ALPN-01 on its own port.
//
//   AcmeClient client(options, responder, log);
//   absl::StatusOr<IssuedCertificate> issued = client.Issue({"shop.example"});
//
// Blocking and not thread-safe: appwire-server runs it on a thread of its
// own, one issuance at a time. Every wait is bounded by options.timeout.
#ifndef APPWIRE_ACME_ACME_CLIENT_H_
#define APPWIRE_ACME_ACME_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "appwire/acme/http_client.h"

namespace appwire::acme {

// Let's Encrypt's directories.
inline constexpr char kLetsEncryptProduction[] = "https://acme-v02.api.letsencrypt.org/directory";
inline constexpr char kLetsEncryptStaging[] =
    "https://acme-staging-v02.api.letsencrypt.org/directory";

struct AcmeClientOptions {
  std::string directory_url = kLetsEncryptProduction;
  // The ACME server's own TLS root (PEM file), for private CAs; empty: the
  // system trust store.
  std::string ca_file;
  // The account key (ECDSA P-256, PEM). Secret: never logged.
  std::string account_key_pem;
  // Contact for the account ("mailto:" is added). Optional.
  std::string email;
  // External account binding, when the CA requires it: the key id and the
  // HMAC key (base64url, as CAs hand it out).
  std::string eab_key_id;
  std::string eab_hmac_key;
  // Bound on one Issue (every request and every wait for the CA).
  absl::Duration timeout = absl::Minutes(2);
  // Longest pause between two polls of an authorization or order (the CA's
  // Retry-After is followed up to this).
  absl::Duration max_poll_interval = absl::Seconds(5);
  // Asked between steps and while waiting: true abandons the issuance
  // (Cancelled) within a tenth of a second, for a server that stops.
  std::function<bool()> cancelled;
};

// Answers challenges of one type.
class ChallengeResponder {
 public:
  virtual ~ChallengeResponder() = default;
  // "tls-alpn-01" or "http-01".
  virtual std::string type() const = 0;
  // Be ready to answer for `domain` with `key_authorization` (token "."
  // thumbprint) until Remove.
  virtual absl::Status Present(const std::string& domain, const std::string& token,
                               const std::string& key_authorization) = 0;
  virtual void Remove(const std::string& domain, const std::string& token) = 0;
};

// What Issue gets.
struct IssuedCertificate {
  std::string chain_pem;        // leaf first
  std::string private_key_pem;  // secret: the certificate's key, made by Issue
  std::string url;              // where the CA keeps it
};

// Each step, in order, for the log ("order created for shop.example", ...).
using AcmeProgress = std::function<void(const std::string& step)>;

class AcmeClient {
 public:
  AcmeClient(AcmeClientOptions options, ChallengeResponder* responder, AcmeProgress progress);
  ~AcmeClient();
  AcmeClient(const AcmeClient&) = delete;
  AcmeClient& operator=(const AcmeClient&) = delete;

  // Finds the account of the key, creating it (terms of service agreed)
  // when the CA has none. Issue calls it first when needed.
  absl::Status EnsureAccount();
  const std::string& account_url() const { return account_url_; }

  // A certificate for `names` (DNS names; the first is the subject's common
  // name) with a new ECDSA P-256 key. Errors say which step failed, what
  // the CA said (its problem document's detail) and, for a failed
  // challenge, what to check.
  // `replaces`: the ARI certID of the certificate this one renews (RFC 9773
  // section 5), which CAs exempt from some rate limits; empty: none.
  absl::StatusOr<IssuedCertificate> Issue(const std::vector<std::string>& names,
                                          const std::string& replaces = "");

  // Revokes `chain_pem`'s leaf (signed with the account key; reason 0).
  absl::Status Revoke(const std::string& chain_pem);

  // The CA's suggested renewal window for `chain_pem`'s leaf (ACME Renewal
  // Information, RFC 9773), and when to ask again (its Retry-After, else
  // six hours). NotFound when the CA offers no renewalInfo.
  struct RenewalWindow {
    absl::Time start;
    absl::Time end;
    absl::Duration ask_again = absl::Hours(6);
  };
  absl::StatusOr<RenewalWindow> RenewalInfo(const std::string& chain_pem);

 private:
  struct Directory;
  absl::Status LoadDirectory();
  absl::StatusOr<std::string> NewNonce();
  // A signed POST (POST-as-GET when `payload` is empty), retried once per
  // badNonce with the nonce the error carried (RFC 8555 section 6.5).
  absl::StatusOr<HttpResponse> Post(const std::string& url, const std::string& payload,
                                    const std::string& accept = "");
  absl::Status Authorize(const std::string& authorization_url, absl::Time deadline);
  absl::StatusOr<std::string> PollUntil(const std::string& url, const std::string& done_status,
                                        absl::Time deadline, const std::string& what);

  AcmeClientOptions options_;
  ChallengeResponder* responder_;
  AcmeProgress progress_;
  HttpClient http_;
  std::unique_ptr<Directory> directory_;
  std::string nonce_;
  std::string account_url_;
  std::string thumbprint_;
};

}  // namespace appwire::acme

#endif  // APPWIRE_ACME_ACME_CLIENT_H_
