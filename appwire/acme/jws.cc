#include "appwire/acme/jws.h"

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "appwire/transport/jws_crypto.h"

namespace appwire::acme {

std::string Base64Url(absl::string_view bytes) {
  std::string out;
  absl::WebSafeBase64Escape(bytes, &out);  // no padding
  return out;
}

absl::StatusOr<std::string> PublicJwk(const std::string& account_key_pem) {
  absl::StatusOr<Es256PublicKey> key = Es256PublicKeyOf(account_key_pem);
  if (!key.ok()) return key.status();
  // Written by hand, not by a JSON library: RFC 7638 fixes this exact text
  // (required members only, in this order, no spaces) for the thumbprint,
  // and base64url needs no escaping.
  return absl::StrCat(R"({"crv":"P-256","kty":"EC","x":")", Base64Url(key->x), R"(","y":")",
                      Base64Url(key->y), R"("})");
}

absl::StatusOr<std::string> JwkThumbprint(const std::string& account_key_pem) {
  absl::StatusOr<std::string> jwk = PublicJwk(account_key_pem);
  if (!jwk.ok()) return jwk.status();
  return Base64Url(Sha256Digest(*jwk));
}

namespace {

// {"protected":..,"payload":..,"signature":..} for `header` and `payload`,
// signed by `sign` over "protected.payload".
template <typename Sign>
absl::StatusOr<std::string> Flattened(const nlohmann::json& header, absl::string_view payload,
                                      Sign sign) {
  const std::string protected_b64 = Base64Url(header.dump());
  const std::string payload_b64 = Base64Url(payload);
  absl::StatusOr<std::string> signature = sign(absl::StrCat(protected_b64, ".", payload_b64));
  if (!signature.ok()) return signature.status();
  nlohmann::json body = {{"protected", protected_b64},
                         {"payload", payload_b64},
                         {"signature", Base64Url(*signature)}};
  return body.dump();
}

}  // namespace

absl::StatusOr<std::string> SignJws(const std::string& account_key_pem,
                                    const ProtectedHeader& header, absl::string_view payload) {
  nlohmann::json fields = {{"alg", "ES256"}, {"nonce", header.nonce}, {"url", header.url}};
  if (header.kid.empty()) {
    absl::StatusOr<std::string> jwk = PublicJwk(account_key_pem);
    if (!jwk.ok()) return jwk.status();
    fields["jwk"] = nlohmann::json::parse(*jwk);
  } else {
    fields["kid"] = header.kid;
  }
  return Flattened(fields, payload, [&](const std::string& input) {
    return SignEs256(account_key_pem, input);
  });
}

absl::StatusOr<std::string> ExternalAccountBinding(const std::string& account_key_pem,
                                                   const std::string& key_id,
                                                   absl::string_view hmac_key,
                                                   const std::string& url) {
  absl::StatusOr<std::string> jwk = PublicJwk(account_key_pem);
  if (!jwk.ok()) return jwk.status();
  const nlohmann::json fields = {{"alg", "HS256"}, {"kid", key_id}, {"url", url}};
  return Flattened(fields, *jwk, [&](const std::string& input) {
    return HmacSha256(hmac_key, input);
  });
}

}  // namespace appwire::acme
