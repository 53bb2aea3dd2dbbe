#include "appwire/transport/private_key.h"

#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "appwire/transport/internal/der_reader.h"
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

// The length of an EncryptedPrivateKeyInfo's encryptedData (the OCTET
// STRING after the AlgorithmIdentifier); 0 when malformed.
size_t CiphertextLength(const std::vector<byte>& encrypted) {
  const absl::string_view der(reinterpret_cast<const char*>(encrypted.data()), encrypted.size());
  size_t pos = 0, content = 0;
  if (internal::NextTlv(der, &pos, &content).empty()) return 0;
  pos = content;  // into the SEQUENCE
  if (internal::NextTlv(der, &pos, &content).empty()) return 0;  // AlgorithmIdentifier
  if (pos >= der.size() || der[pos] != 0x04) return 0;  // OCTET STRING
  const absl::string_view data = internal::NextTlv(der, &pos, &content);
  return data.empty() ? 0 : pos - content;
}

// `der` (a traditional ECDSA or RSA key, or PKCS#8 already) as PKCS#8
// PrivateKeyInfo; empty when it is none of those.
std::vector<byte> ToPkcs8(std::vector<byte> der) {
  word32 offset = 0;
  const word32 size = static_cast<word32>(der.size());
  // wc_GetPkcs8TraditionalOffset returns the inner key's length, or < 0.
  if (wc_GetPkcs8TraditionalOffset(der.data(), &offset, size) >= 0) return der;
  std::vector<byte> out(der.size() + 128);
  word32 out_size = static_cast<word32>(out.size());
  int ret = -1;
  ecc_key ecc;
  if (wc_ecc_init(&ecc) == 0) {
    word32 index = 0;
    if (wc_EccPrivateKeyDecode(der.data(), &index, &ecc, size) == 0) {
      ret = wc_EccKeyToPKCS8(&ecc, out.data(), &out_size);
    }
    wc_ecc_free(&ecc);
  }
  if (ret <= 0) {
    out_size = static_cast<word32>(out.size());
    ret = wc_CreatePKCS8Key(out.data(), &out_size, der.data(), size, RSAk, nullptr, 0);
  }
  std::memset(der.data(), 0, der.size());
  if (ret <= 0) {
    std::memset(out.data(), 0, out.size());
    return {};
  }
  out.resize(static_cast<size_t>(ret));
  return out;
}

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
  der.resize(static_cast<size_t>(der_size));
  std::vector<byte> pkcs8 = ToPkcs8(std::move(der));
  if (pkcs8.empty()) {
    return absl::InvalidArgumentError("the key is not an ECDSA, RSA or Ed25519 key");
  }
  // PKCS#5 padding always adds 1 to 16 bytes; wolfSSL 5.5.4 adds none when
  // the key's length is a multiple of 16 (every Ed25519 key, some RSA keys),
  // and openssl then refuses the file ("bad decrypt"). So that block is
  // added here, and the result checked to be one block longer at most.
  const size_t key_size = pkcs8.size();
  if (key_size % 16 == 0) pkcs8.insert(pkcs8.end(), 16, 16);
  WC_RNG rng;
  if (wc_InitRng(&rng) != 0) return absl::InternalError("cannot initialise wolfCrypt's RNG");
  auto encrypt = [&](byte* out, word32* out_size) {
    return wc_EncryptPKCS8Key(pkcs8.data(), static_cast<word32>(pkcs8.size()), out, out_size,
                              passphrase.c_str(), static_cast<int>(passphrase.size()), PKCS5,
                              PBES2, AES256CBCb, nullptr, 0, kPbkdf2Iterations, &rng, nullptr);
  };
  word32 out_size = 0;
  encrypt(nullptr, &out_size);  // says how large the output is
  std::vector<byte> encrypted(out_size + 64);
  out_size = static_cast<word32>(encrypted.size());
  int ret = encrypt(encrypted.data(), &out_size);
  wc_FreeRng(&rng);
  std::memset(pkcs8.data(), 0, pkcs8.size());
  if (ret <= 0) {
    return absl::InternalError(
        absl::StrCat("encrypting the key failed (", internal::WolfCryptErrorText(ret), ")"));
  }
  encrypted.resize(static_cast<size_t>(ret));
  // The ciphertext (EncryptedPrivateKeyInfo's OCTET STRING, after the
  // algorithm) must be exactly the padded key: one block more than a key of
  // a multiple of 16, whichever way this wolfSSL pads.
  const size_t padded = (key_size / 16 + 1) * 16;
  if (const size_t ciphertext = CiphertextLength(encrypted); ciphertext != padded) {
    return absl::InternalError(absl::StrCat(
        "wolfCrypt encrypted a key of ", key_size, " bytes to ", ciphertext,
        " (expected ", padded, "): this wolfSSL pads differently than 5.5.4"));
  }
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
