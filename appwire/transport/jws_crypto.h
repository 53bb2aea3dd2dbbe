// The JSON Web Signature algorithms the ACME client needs (RFC 7518): ES256
// (section 3.4: ECDSA on P-256 with SHA-256), which signs every request with
// the account key, and HS256 (section 3.2: HMAC-SHA-256), which signs an
// external account binding. Keys are PEM private keys
// (GenerateEcdsaP256KeyPem); nothing here logs them.
#ifndef APPWIRE_TRANSPORT_JWS_CRYPTO_H_
#define APPWIRE_TRANSPORT_JWS_CRYPTO_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace appwire {

// The public point of a P-256 key: x and y, 32 big-endian bytes each (the
// JWK's "x" and "y" before base64url). InvalidArgument for any other key.
struct Es256PublicKey {
  std::string x;
  std::string y;
};
absl::StatusOr<Es256PublicKey> Es256PublicKeyOf(const std::string& private_key_pem);

// The ES256 signature of `message`: r and s, 32 bytes each, concatenated
// (64 bytes; JWS's form, not DER).
absl::StatusOr<std::string> SignEs256(const std::string& private_key_pem,
                                      absl::string_view message);

// HMAC-SHA-256 of `data` with `key` (32 bytes).
absl::StatusOr<std::string> HmacSha256(absl::string_view key, absl::string_view data);

// SHA-256 of `data` (32 bytes).
std::string Sha256Digest(absl::string_view data);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_JWS_CRYPTO_H_
