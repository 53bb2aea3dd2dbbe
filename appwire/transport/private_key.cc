#include "appwire/transport/private_key.h"

#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "appwire/transport/internal/errors.h"
#include "appwire/transport/internal/wolfssl.h"

#include <wolfssl/wolfcrypt/rsa.h>

namespace appwire {

bool IsEncryptedPrivateKeyPem(absl::string_view pem) {
  return absl::StrContains(pem, "BEGIN ENCRYPTED PRIVATE KEY") ||
         absl::StrContains(pem, "Proc-Type: 4,ENCRYPTED");
}

absl::StatusOr<std::string> DecryptPrivateKeyPem(absl::string_view pem,
                                                 const std::string& passphrase,
                                                 absl::string_view source) {
  internal::EnsureWolfSslInitialized();
  std::vector<byte> der(pem.size());
  int der_size = wc_KeyPemToDer(reinterpret_cast<const byte*>(pem.data()),
                                static_cast<int>(pem.size()), der.data(),
                                static_cast<int>(der.size()), passphrase.c_str());
  if (der_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot decrypt \"", source, "\" with the passphrase given; is it the right one? "
        "(", internal::WolfCryptErrorText(der_size), ")"));
  }
  // A decrypted PKCS#8 key stays PKCS#8 ("BEGIN PRIVATE KEY"): its
  // algorithm identifier carries the EC curve, which the inner key may omit.
  word32 offset = 0;
  const bool pkcs8 =
      wc_GetPkcs8TraditionalOffset(der.data(), &offset, static_cast<word32>(der_size)) >= 0;
  int type = PKCS8_PRIVATEKEY_TYPE;
  if (!pkcs8) {
    type = PRIVATEKEY_TYPE;  // traditional RSA ...
    ecc_key ecc;
    if (wc_ecc_init(&ecc) == 0) {
      word32 index = 0;
      if (wc_EccPrivateKeyDecode(der.data(), &index, &ecc, static_cast<word32>(der_size)) == 0) {
        type = ECC_PRIVATEKEY_TYPE;  // ... or EC
      }
      wc_ecc_free(&ecc);
    }
  }
  const word32 start = 0;
  const word32 length = static_cast<word32>(der_size);
  std::string out(length * 2 + 128, '\0');
  int pem_size = wc_DerToPem(der.data() + start, length, reinterpret_cast<byte*>(&out[0]),
                             static_cast<word32>(out.size()), type);
  std::memset(der.data(), 0, der.size());  // the secret, in the clear
  if (pem_size <= 0) {
    return absl::InternalError(absl::StrCat("re-encoding the key of \"", source, "\" failed"));
  }
  out.resize(static_cast<size_t>(pem_size));
  return out;
}

}  // namespace appwire
