// JSON Web Signatures as ACME uses them (RFC 8555 section 6.2, RFC 7515):
// flattened JSON serialization, ES256, the account key as a JWK (for
// newAccount) or as its account URL ("kid", for everything after).
//
//   auto body = SignJws(key_pem, ProtectedHeader{.url = u, .nonce = n, .kid = account},
//                       R"({"status":"deactivated"})");
#ifndef APPWIRE_ACME_JWS_H_
#define APPWIRE_ACME_JWS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace appwire::acme {

// Base64url without padding (RFC 7515 section 2).
std::string Base64Url(absl::string_view bytes);

// The public JWK of a P-256 key, members in lexicographic order with no
// white space (RFC 7638 section 3): {"crv":"P-256","kty":"EC","x":..,"y":..}.
absl::StatusOr<std::string> PublicJwk(const std::string& account_key_pem);

// The JWK thumbprint (RFC 7638): base64url(SHA-256(PublicJwk)). The second
// half of every key authorization.
absl::StatusOr<std::string> JwkThumbprint(const std::string& account_key_pem);

// The protected header's fields. With `kid` empty the JWK is sent instead
// (only newAccount and revocation by certificate key do that).
struct ProtectedHeader {
  std::string url;
  std::string nonce;
  std::string kid;
};

// The request body: {"protected":..,"payload":..,"signature":..}. An empty
// `payload` is POST-as-GET (RFC 8555 section 6.3): payload "".
absl::StatusOr<std::string> SignJws(const std::string& account_key_pem,
                                    const ProtectedHeader& header, absl::string_view payload);

// The inner JWS of external account binding (RFC 8555 section 7.3.4): the
// account's JWK signed with HS256 by the CA-given `hmac_key` (raw bytes),
// for `url` (newAccount) and `key_id`. A JSON object, the value of
// "externalAccountBinding".
absl::StatusOr<std::string> ExternalAccountBinding(const std::string& account_key_pem,
                                                   const std::string& key_id,
                                                   absl::string_view hmac_key,
                                                   const std::string& url);

}  // namespace appwire::acme

#endif  // APPWIRE_ACME_JWS_H_
