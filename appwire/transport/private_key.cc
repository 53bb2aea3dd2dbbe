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
namespace {

// PBKDF2 rounds for keys we encrypt: the most wolfSSL 5.5.4 encodes right.
// It writes the count as a two-byte INTEGER without a leading zero, so
// 32,768 and above come out as a negative number openssl rejects ("BAD
// INTEGER"). OpenSSL's own default is 2,048.
constexpr int kPbkdf2Iterations = 32767;

}  // namespace

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

absl::StatusOr<std::string> EncryptPrivateKeyPem(absl::string_view pem,
                                                 const std::string& passphrase) {
  internal::EnsureWolfSslInitialized();
  if (passphrase.empty()) {
    return absl::InvalidArgumentError("an empty password encrypts nothing: give a password");
  }
  std::vector<byte> der(pem.size());
  int der_size = wc_KeyPemToDer(reinterpret_cast<const byte*>(pem.data()),
                                static_cast<int>(pem.size()), der.data(),
                                static_cast<int>(der.size()), nullptr);
  if (der_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a plain private key PEM (", internal::WolfCryptErrorText(der_size), ")"));
  }
  // The traditional key inside, if it came as PKCS#8: it starts at the
  // offset wc_GetPkcs8TraditionalOffset sets (what it returns is its length).
  word32 offset = 0;
  const int inner = wc_GetPkcs8TraditionalOffset(der.data(), &offset, static_cast<word32>(der_size));
  const word32 start = inner >= 0 ? offset : 0;
  WC_RNG rng;
  if (wc_InitRng(&rng) != 0) return absl::InternalError("cannot initialise wolfCrypt's RNG");
  word32 out_size = 0;
  // The first call says how large the output is.
  wc_CreateEncryptedPKCS8Key(der.data() + start, static_cast<word32>(der_size) - start, nullptr,
                             &out_size, passphrase.c_str(), static_cast<int>(passphrase.size()),
                             PKCS5, PBES2, AES256CBCb, nullptr, 0, kPbkdf2Iterations, &rng,
                             nullptr);
  std::vector<byte> encrypted(out_size + 64);
  out_size = static_cast<word32>(encrypted.size());
  int ret = wc_CreateEncryptedPKCS8Key(
      der.data() + start, static_cast<word32>(der_size) - start, encrypted.data(), &out_size,
      passphrase.c_str(), static_cast<int>(passphrase.size()), PKCS5, PBES2, AES256CBCb, nullptr,
      0, kPbkdf2Iterations, &rng, nullptr);
  wc_FreeRng(&rng);
  std::memset(der.data(), 0, der.size());
  if (ret <= 0) {
    return absl::InternalError(
        absl::StrCat("encrypting the key failed (", internal::WolfCryptErrorText(ret), ")"));
  }
  encrypted.resize(static_cast<size_t>(ret));
  int pem_size = wc_DerToPem(encrypted.data(), static_cast<word32>(encrypted.size()), nullptr, 0,
                             PKCS8_ENC_PRIVATEKEY_TYPE);
  if (pem_size <= 0) return absl::InternalError("encoding the encrypted key as PEM failed");
  std::string out(static_cast<size_t>(pem_size), '\0');
  pem_size = wc_DerToPem(encrypted.data(), static_cast<word32>(encrypted.size()),
                         reinterpret_cast<byte*>(&out[0]), static_cast<word32>(out.size()),
                         PKCS8_ENC_PRIVATEKEY_TYPE);
  if (pem_size <= 0) return absl::InternalError("encoding the encrypted key as PEM failed");
  out.resize(static_cast<size_t>(pem_size));
  return out;
}

}  // namespace appwire
