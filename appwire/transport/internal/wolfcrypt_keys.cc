#include "appwire/transport/internal/wolfcrypt_keys.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "appwire/transport/internal/errors.h"

namespace appwire::internal {

absl::Status CryptoError(absl::string_view what, int code) {
  return absl::InternalError(
      absl::StrCat(what, " failed: ", WolfCryptErrorText(code, CodeTextStyle::kParenthesized)));
}

absl::StatusOr<std::string> DerToPem(const std::vector<byte>& der, int type) {
  int size = wc_DerToPem(der.data(), static_cast<word32>(der.size()), nullptr, 0, type);
  if (size <= 0) return CryptoError("PEM size", size);
  std::string pem(static_cast<size_t>(size), '\0');
  int written = wc_DerToPem(der.data(), static_cast<word32>(der.size()),
                            reinterpret_cast<byte*>(&pem[0]), static_cast<word32>(size), type);
  if (written <= 0) return CryptoError("PEM encoding", written);
  pem.resize(static_cast<size_t>(written));
  return pem;
}

absl::Status LoadKey(const std::string& pem, PrivateKey* key) {
  std::vector<byte> der(pem.size());
  int der_size = wc_KeyPemToDer(reinterpret_cast<const byte*>(pem.data()),
                                static_cast<int>(pem.size()), der.data(),
                                static_cast<word32>(der.size()), nullptr);
  if (der_size <= 0) return CryptoError("reading the private key PEM", der_size);
  // PKCS#8 wraps the key. wolfCrypt's decoders read the wrapper themselves
  // (which also gives them the EC curve when the inner key omits it); the
  // inner (traditional) key, at the offset wc_GetPkcs8TraditionalOffset
  // sets (it returns the inner key's length), is the second try.
  word32 inner_offset = 0;
  std::vector<word32> starts = {0};
  if (wc_GetPkcs8TraditionalOffset(der.data(), &inner_offset, static_cast<word32>(der_size)) >= 0) {
    starts.push_back(inner_offset);
  }
  for (word32 start : starts) {
    word32 index = start;
    if (wc_EccPrivateKeyDecode(der.data(), &index, &key->ecc, static_cast<word32>(der_size)) ==
        0) {
      key->type = ECC_TYPE;
      std::memset(der.data(), 0, der.size());
      return absl::OkStatus();
    }
    index = start;
    if (wc_RsaPrivateKeyDecode(der.data(), &index, &key->rsa, static_cast<word32>(der_size)) ==
        0) {
      key->type = RSA_TYPE;
      std::memset(der.data(), 0, der.size());
      return absl::OkStatus();
    }
  }
  // Ed25519 keys come as PKCS#8 only (RFC 8410); openssl writes them without
  // the public key, which is then derived from the private one.
  word32 index = 0;
  if (wc_Ed25519PrivateKeyDecode(der.data(), &index, &key->ed25519,
                                 static_cast<word32>(der_size)) == 0) {
    std::memset(der.data(), 0, der.size());
    key->type = ED25519_TYPE;
    if (!key->ed25519.pubKeySet) {
      byte public_key[ED25519_PUB_KEY_SIZE];
      int ret = wc_ed25519_make_public(&key->ed25519, public_key, sizeof(public_key));
      if (ret == 0) {
        ret = wc_ed25519_import_private_key(key->ed25519.k, ED25519_KEY_SIZE, public_key,
                                            sizeof(public_key), &key->ed25519);
      }
      if (ret != 0) return CryptoError("deriving the Ed25519 public key", ret);
    }
    return absl::OkStatus();
  }
  std::memset(der.data(), 0, der.size());
  return absl::InvalidArgumentError(
      "the private key is not an ECDSA, RSA or Ed25519 key");
}

}  // namespace appwire::internal
