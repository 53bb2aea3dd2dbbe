// Encrypted private keys: detected, and decrypted with a passphrase so that
// the rest of appwire only ever handles plain PEM (in memory, never written).
#ifndef APPWIRE_TRANSPORT_PRIVATE_KEY_H_
#define APPWIRE_TRANSPORT_PRIVATE_KEY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace appwire {

// True for "BEGIN ENCRYPTED PRIVATE KEY" (PKCS#8) and traditional PEM with
// "Proc-Type: 4,ENCRYPTED".
bool IsEncryptedPrivateKeyPem(absl::string_view pem);

// The key in plain PEM. InvalidArgument when the passphrase does not
// decrypt it (the message never contains the passphrase).
absl::StatusOr<std::string> DecryptPrivateKeyPem(absl::string_view pem,
                                                 const std::string& passphrase,
                                                 absl::string_view source);

// `pem` (a plain ECDSA or RSA key) encrypted with `passphrase` as PKCS#8
// ("BEGIN ENCRYPTED PRIVATE KEY": PBES2, PBKDF2 with HMAC-SHA-1, the PKCS#5
// default and all wolfSSL 5.5 writes, 32,767 rounds, and AES-256-CBC, as
// `openssl pkcs8 -topk8 -v2 aes256 -v2prf hmacWithSHA1` makes it), readable by
// DecryptPrivateKeyPem, appwire-server's key_passphrase_file and openssl.
// InvalidArgument for an empty passphrase.
absl::StatusOr<std::string> EncryptPrivateKeyPem(absl::string_view pem,
                                                 const std::string& passphrase);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_PRIVATE_KEY_H_
