#include "appwire/acme/acme_client.h"

#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "appwire/acme/jws.h"
#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/certificate_info.h"

namespace appwire::acme {
namespace {

using Json = nlohmann::json;

constexpr char kJoseJson[] = "application/jose+json";
constexpr char kBadNonce[] = "urn:ietf:params:acme:error:badNonce";
constexpr int kBadNonceRetries = 3;

// The body as JSON, or an error naming `what` and the URL.
absl::StatusOr<Json> ParseJson(const HttpResponse& response, const std::string& what) {
  Json json = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::UnavailableError(
        absl::StrCat("the ACME server's ", what, " is not a JSON object (HTTP ", response.status, ")"));
  }
  return json;
}

std::string StringField(const Json& json, const char* name) {
  auto found = json.find(name);
  return found != json.end() && found->is_string() ? found->get<std::string>() : std::string();
}

// "DETAIL (TYPE)" of an RFC 7807 problem document, with its subproblems.
std::string ProblemText(const Json& problem) {
  std::string text = StringField(problem, "detail");
  const std::string type = StringField(problem, "type");
  if (!type.empty()) absl::StrAppend(&text, text.empty() ? "" : " ", "(", type, ")");
  auto sub = problem.find("subproblems");
  if (sub != problem.end() && sub->is_array()) {
    for (const Json& each : *sub) {
      if (each.is_object()) absl::StrAppend(&text, "; ", ProblemText(each));
    }
  }
  return text.empty() ? "no detail given" : text;
}

// An error for a response that is not what `what` expected.
absl::Status RefusedBy(const HttpResponse& response, const std::string& what) {
  Json problem = Json::parse(response.body, nullptr, false);
  const std::string said = problem.is_object() ? ProblemText(problem) : response.body.substr(0, 200);
  const std::string text =
      absl::StrCat("the ACME server refused ", what, " (HTTP ", response.status, "): ", said);
  if (response.status == 429) return absl::ResourceExhaustedError(text);
  if (response.status >= 500) return absl::UnavailableError(text);
  return absl::FailedPreconditionError(text);
}

// The DER of the first PEM block of `pem`.
absl::StatusOr<std::string> FirstPemBlockDer(const std::string& pem, const std::string& what) {
  const size_t begin = pem.find("-----BEGIN ");
  const size_t body = begin == std::string::npos ? begin : pem.find('\n', begin);
  const size_t end = body == std::string::npos ? body : pem.find("-----END ", body);
  std::string der;
  if (end == std::string::npos || !absl::Base64Unescape(pem.substr(body, end - body), &der)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not PEM"));
  }
  return der;
}

}  // namespace

struct AcmeClient::Directory {
  std::string new_nonce;
  std::string new_account;
  std::string new_order;
  std::string revoke_cert;
  std::string renewal_info;
  bool external_account_required = false;
};

AcmeClient::AcmeClient(AcmeClientOptions options, ChallengeResponder* responder,
                       AcmeProgress progress)
    : options_(std::move(options)),
      responder_(responder),
      progress_(progress ? std::move(progress) : [](const std::string&) {}),
      http_(HttpClientOptions{options_.ca_file, std::min(options_.timeout, absl::Seconds(30)),
                              1 << 20, options_.cancelled}) {}

AcmeClient::~AcmeClient() = default;

absl::Status AcmeClient::LoadDirectory() {
  if (directory_ != nullptr) return absl::OkStatus();
  absl::StatusOr<HttpResponse> response = http_.Fetch({"GET", options_.directory_url, "", "", ""});
  if (!response.ok()) {
    return absl::Status(response.status().code(),
                        absl::StrCat("cannot reach the ACME directory: ", response.status().message(),
                                     " (check acme_directory)"));
  }
  if (response->status != 200) return RefusedBy(*response, "the directory request");
  absl::StatusOr<Json> json = ParseJson(*response, "directory");
  if (!json.ok()) return json.status();
  auto directory = std::make_unique<Directory>();
  directory->new_nonce = StringField(*json, "newNonce");
  directory->new_account = StringField(*json, "newAccount");
  directory->new_order = StringField(*json, "newOrder");
  directory->revoke_cert = StringField(*json, "revokeCert");
  directory->renewal_info = StringField(*json, "renewalInfo");
  auto meta = json->find("meta");
  if (meta != json->end() && meta->is_object()) {
    directory->external_account_required = meta->value("externalAccountRequired", false);
  }
  if (directory->new_nonce.empty() || directory->new_account.empty() ||
      directory->new_order.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        options_.directory_url,
        " is not an ACME directory (no newNonce, newAccount or newOrder); check acme_directory"));
  }
  directory_ = std::move(directory);
  return absl::OkStatus();
}

absl::StatusOr<std::string> AcmeClient::NewNonce() {
  absl::StatusOr<HttpResponse> response = http_.Fetch({"HEAD", directory_->new_nonce, "", "", ""});
  if (!response.ok()) return response.status();
  std::string nonce = response->Header("replay-nonce");
  if (nonce.empty()) return RefusedBy(*response, "a new nonce");
  return nonce;
}

absl::StatusOr<HttpResponse> AcmeClient::Post(const std::string& url, const std::string& payload,
                                              const std::string& accept) {
  for (int attempt = 0;; ++attempt) {
    if (nonce_.empty()) {
      absl::StatusOr<std::string> nonce = NewNonce();
      if (!nonce.ok()) return nonce.status();
      nonce_ = *std::move(nonce);
    }
    absl::StatusOr<std::string> body =
        SignJws(options_.account_key_pem, ProtectedHeader{url, nonce_, account_url_}, payload);
    nonce_.clear();  // each nonce is good for one request
    if (!body.ok()) return body.status();
    HttpRequest request{"POST", url, *std::move(body), kJoseJson, accept};
    absl::StatusOr<HttpResponse> response = http_.Fetch(request);
    if (!response.ok()) return response.status();
    nonce_ = response->Header("replay-nonce");
    if (response->status == 400 && attempt < kBadNonceRetries) {
      Json problem = Json::parse(response->body, nullptr, false);
      if (problem.is_object() && StringField(problem, "type") == kBadNonce) continue;
    }
    return response;
  }
}

absl::Status AcmeClient::EnsureAccount() {
  if (!account_url_.empty()) return absl::OkStatus();
  absl::Status status = LoadDirectory();
  if (!status.ok()) return status;
  absl::StatusOr<std::string> thumbprint = JwkThumbprint(options_.account_key_pem);
  if (!thumbprint.ok()) return thumbprint.status();
  Json payload = {{"termsOfServiceAgreed", true}};
  if (!options_.email.empty()) payload["contact"] = Json::array({"mailto:" + options_.email});
  if (!options_.eab_key_id.empty()) {
    std::string hmac_key;
    if (!absl::WebSafeBase64Unescape(options_.eab_hmac_key, &hmac_key) || hmac_key.empty()) {
      return absl::InvalidArgumentError(
          "acme_eab_hmac_key is not base64url (copy it as the CA gave it)");
    }
    absl::StatusOr<std::string> binding = ExternalAccountBinding(
        options_.account_key_pem, options_.eab_key_id, hmac_key, directory_->new_account);
    if (!binding.ok()) return binding.status();
    payload["externalAccountBinding"] = Json::parse(*binding);
  } else if (directory_->external_account_required) {
    return absl::FailedPreconditionError(
        "this ACME CA requires external account binding: set acme_eab_key_id and "
        "acme_eab_hmac_key to the values the CA gave you");
  }
  absl::StatusOr<HttpResponse> response = Post(directory_->new_account, payload.dump());
  if (!response.ok()) return response.status();
  if (response->status != 200 && response->status != 201) {
    return RefusedBy(*response, "the account request");
  }
  account_url_ = response->Header("location");
  if (account_url_.empty()) return RefusedBy(*response, "the account request (no Location)");
  thumbprint_ = *std::move(thumbprint);
  progress_(absl::StrCat(response->status == 201 ? "account created: " : "account found: ",
                         account_url_));
  return absl::OkStatus();
}

absl::StatusOr<std::string> AcmeClient::PollUntil(const std::string& url,
                                                  const std::string& done_status,
                                                  absl::Time deadline, const std::string& what) {
  absl::Duration pause = absl::Milliseconds(100);
  for (;;) {
    absl::StatusOr<HttpResponse> response = Post(url, "");
    if (!response.ok()) return response.status();
    if (response->status != 200) return RefusedBy(*response, absl::StrCat("reading ", what));
    absl::StatusOr<Json> json = ParseJson(*response, what);
    if (!json.ok()) return json.status();
    const std::string status = StringField(*json, "status");
    if (status == done_status || status == "invalid" || status == "revoked" ||
        status == "deactivated" || status == "expired") {
      return response->body;
    }
    // Retry-After (seconds) when the CA gives one, else growing pauses;
    // never past max_poll_interval or the deadline.
    int64_t retry_after = 0;
    if (absl::SimpleAtoi(response->Header("retry-after"), &retry_after) && retry_after > 0) {
      pause = absl::Seconds(retry_after);
    }
    pause = std::min(pause, options_.max_poll_interval);
    if (absl::Now() + pause > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          what, " is still \"", status, "\" after ", absl::FormatDuration(options_.timeout),
          "; the ACME server is slow or stuck, it will be tried again later"));
    }
    for (absl::Time until = absl::Now() + pause; absl::Now() < until;) {
      if (options_.cancelled && options_.cancelled()) {
        return absl::CancelledError(absl::StrCat("stopped while waiting for ", what));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::min<int64_t>(100, absl::ToInt64Milliseconds(until - absl::Now()) + 1)));
    }
    pause = pause * 2;
  }
}

absl::Status AcmeClient::Authorize(const std::string& authorization_url, absl::Time deadline) {
  absl::StatusOr<HttpResponse> response = Post(authorization_url, "");
  if (!response.ok()) return response.status();
  if (response->status != 200) return RefusedBy(*response, "reading an authorization");
  absl::StatusOr<Json> authorization = ParseJson(*response, "authorization");
  if (!authorization.ok()) return authorization.status();
  std::string domain;
  auto identifier = authorization->find("identifier");
  if (identifier != authorization->end() && identifier->is_object()) {
    domain = StringField(*identifier, "value");
  }
  if (StringField(*authorization, "status") == "valid") {
    progress_(absl::StrCat(domain, ": already authorized"));
    return absl::OkStatus();
  }
  const std::string type = responder_->type();
  std::string challenge_url, token;
  std::vector<std::string> offered;
  auto challenges = authorization->find("challenges");
  if (challenges != authorization->end() && challenges->is_array()) {
    for (const Json& challenge : *challenges) {
      if (!challenge.is_object()) continue;
      offered.push_back(StringField(challenge, "type"));
      if (offered.back() == type) {
        challenge_url = StringField(challenge, "url");
        token = StringField(challenge, "token");
      }
    }
  }
  if (challenge_url.empty() || token.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the ACME server offers no ", type, " challenge for ", domain,
                     " (it offers: ", absl::StrJoin(offered, ", "), ")"));
  }
  absl::Status status = responder_->Present(domain, token, absl::StrCat(token, ".", thumbprint_));
  if (!status.ok()) return status;
  progress_(absl::StrCat(domain, ": ", type, " challenge ready"));
  absl::StatusOr<std::string> final_body;
  response = Post(challenge_url, "{}");
  if (!response.ok()) {
    status = response.status();
  } else if (response->status != 200) {
    status = RefusedBy(*response, absl::StrCat("the ", type, " challenge for ", domain));
  } else {
    progress_(absl::StrCat(domain, ": the CA is validating"));
    final_body = PollUntil(authorization_url, "valid", deadline,
                           absl::StrCat("the authorization of ", domain));
    status = final_body.status();
  }
  responder_->Remove(domain, token);
  if (!status.ok()) return status;
  Json result = Json::parse(*final_body, nullptr, false);
  if (StringField(result, "status") == "valid") {
    progress_(absl::StrCat(domain, ": valid"));
    return absl::OkStatus();
  }
  std::string said = "no reason given";
  for (const Json& challenge : result.value("challenges", Json::array())) {
    if (challenge.is_object() && StringField(challenge, "type") == type &&
        challenge.contains("error") && challenge["error"].is_object()) {
      said = ProblemText(challenge["error"]);
    }
  }
  progress_(absl::StrCat(domain, ": invalid: ", said));
  const std::string fix =
      type == "tls-alpn-01"
          ? absl::StrCat("make sure ", domain, " resolves to this server and that its port 443 "
                         "reaches appwire-server")
          : absl::StrCat("make sure ", domain, " resolves to this server and that its port 80 "
                         "reaches appwire-server's acme_http_port");
  return absl::FailedPreconditionError(absl::StrCat("the CA could not validate ", domain, " by ",
                                                    type, ": ", said, "; ", fix));
}

absl::StatusOr<IssuedCertificate> AcmeClient::Issue(const std::vector<std::string>& names,
                                                    const std::string& replaces) {
  if (names.empty()) return absl::InvalidArgumentError("a certificate needs at least one name");
  const absl::Time deadline = absl::Now() + options_.timeout;
  absl::Status status = EnsureAccount();
  if (!status.ok()) return status;
  Json identifiers = Json::array();
  for (const std::string& name : names) identifiers.push_back({{"type", "dns"}, {"value", name}});
  Json new_order = {{"identifiers", identifiers}};
  if (!replaces.empty()) new_order["replaces"] = replaces;
  absl::StatusOr<HttpResponse> response = Post(directory_->new_order, new_order.dump());
  if (!response.ok()) return response.status();
  const std::string listed = absl::StrJoin(names, ", ");
  if (response->status != 201) {
    return RefusedBy(*response, absl::StrCat("the order for ", listed));
  }
  const std::string order_url = response->Header("location");
  absl::StatusOr<Json> order = ParseJson(*response, "order");
  if (!order.ok()) return order.status();
  progress_(absl::StrCat("order created for ", listed, ": ", order_url));
  for (const Json& authorization : order->value("authorizations", Json::array())) {
    if (!authorization.is_string()) continue;
    status = Authorize(authorization.get<std::string>(), deadline);
    if (!status.ok()) return status;
  }

  IssuedCertificate issued;
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  if (!key.ok()) return key.status();
  issued.private_key_pem = *std::move(key);
  CertificateSpec spec;
  spec.common_name = names.front();
  spec.dns_names = names;
  absl::StatusOr<std::string> request = CreateCertificateRequestPem(issued.private_key_pem, spec);
  if (!request.ok()) return request.status();
  absl::StatusOr<std::string> request_der = FirstPemBlockDer(*request, "the request");
  if (!request_der.ok()) return request_der.status();
  response = Post(StringField(*order, "finalize"),
                  Json{{"csr", Base64Url(*request_der)}}.dump());
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return RefusedBy(*response, absl::StrCat("finalizing the order for ", listed));
  }
  progress_(absl::StrCat("order for ", listed, " finalized; waiting for the certificate"));
  absl::StatusOr<std::string> done =
      PollUntil(order_url, "valid", deadline, absl::StrCat("the order for ", listed));
  if (!done.ok()) return done.status();
  order = Json::parse(*done, nullptr, false);
  issued.url = StringField(*order, "certificate");
  if (StringField(*order, "status") != "valid" || issued.url.empty()) {
    std::string said = order->contains("error") && (*order)["error"].is_object()
                           ? ProblemText((*order)["error"])
                           : absl::StrCat("status \"", StringField(*order, "status"), "\"");
    return absl::FailedPreconditionError(
        absl::StrCat("the ACME server did not issue the certificate for ", listed, ": ", said));
  }
  response = Post(issued.url, "", "application/pem-certificate-chain");
  if (!response.ok()) return response.status();
  if (response->status != 200 || !absl::StrContains(response->body, "-----BEGIN CERTIFICATE-----")) {
    return RefusedBy(*response, absl::StrCat("downloading the certificate for ", listed));
  }
  issued.chain_pem = std::move(response->body);
  progress_(absl::StrCat("certificate for ", listed, " issued: ", issued.url));
  return issued;
}

absl::StatusOr<AcmeClient::RenewalWindow> AcmeClient::RenewalInfo(const std::string& chain_pem) {
  absl::Status status = LoadDirectory();
  if (!status.ok()) return status;
  if (directory_->renewal_info.empty()) {
    return absl::NotFoundError("the ACME server offers no renewal information (no renewalInfo)");
  }
  absl::StatusOr<std::string> leaf = FirstPemBlockDer(chain_pem, "the certificate");
  if (!leaf.ok()) return leaf.status();
  absl::StatusOr<std::string> id = AcmeRenewalCertificateId(*leaf);
  if (!id.ok()) return id.status();
  // An unauthenticated GET (RFC 9773 section 4.2).
  const std::string url = absl::StrCat(absl::StripSuffix(directory_->renewal_info, "/"), "/", *id);
  absl::StatusOr<HttpResponse> response = http_.Fetch({"GET", url, "", "", ""});
  if (!response.ok()) return response.status();
  if (response->status != 200) return RefusedBy(*response, "the renewal information request");
  absl::StatusOr<Json> json = ParseJson(*response, "renewal information");
  if (!json.ok()) return json.status();
  RenewalWindow window;
  std::string error;
  auto suggested = json->find("suggestedWindow");
  if (suggested == json->end() || !suggested->is_object() ||
      !absl::ParseTime(absl::RFC3339_full, StringField(*suggested, "start"), &window.start,
                       &error) ||
      !absl::ParseTime(absl::RFC3339_full, StringField(*suggested, "end"), &window.end, &error) ||
      window.end < window.start) {
    return absl::UnavailableError(absl::StrCat(
        "the ACME server's renewal information for ", url, " has no usable suggestedWindow"));
  }
  int64_t retry_after = 0;
  if (absl::SimpleAtoi(response->Header("retry-after"), &retry_after) && retry_after > 0) {
    window.ask_again = std::min(absl::Seconds(retry_after), absl::Hours(24));
  }
  return window;
}

absl::Status AcmeClient::Revoke(const std::string& chain_pem) {
  absl::Status status = EnsureAccount();
  if (!status.ok()) return status;
  if (directory_->revoke_cert.empty()) {
    return absl::UnimplementedError("this ACME server offers no revocation (no revokeCert)");
  }
  absl::StatusOr<std::string> leaf = FirstPemBlockDer(chain_pem, "the certificate");
  if (!leaf.ok()) return leaf.status();
  absl::StatusOr<HttpResponse> response =
      Post(directory_->revoke_cert, Json{{"certificate", Base64Url(*leaf)}, {"reason", 0}}.dump());
  if (!response.ok()) return response.status();
  if (response->status != 200) return RefusedBy(*response, "the revocation");
  progress_("certificate revoked");
  return absl::OkStatus();
}

}  // namespace appwire::acme
