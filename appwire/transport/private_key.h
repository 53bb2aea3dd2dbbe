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

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_PRIVATE_KEY_H_
