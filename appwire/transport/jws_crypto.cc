#include "appwire/transport/jws_crypto.h"

#include <algorithm>

#include "appwire/transport/internal/wolfcrypt_keys.h"

#include <wolfssl/wolfcrypt/hmac.h>

namespace appwire {
namespace {

constexpr size_t kCoordinateSize = 32;

absl::Status LoadP256(const std::string& pem, internal::PrivateKey* key) {
  absl::Status status = internal::LoadKey(pem, key);
  if (!status.ok()) return status;
  if (key->type != ECC_TYPE || wc_ecc_size(&key->ecc) != static_cast<int>(kCoordinateSize)) {
    return absl::InvalidArgumentError("an ES256 key must be an ECDSA P-256 key");
  }
  return absl::OkStatus();
}

// Big-endian `bytes` left-padded with zeros to the coordinate size.
std::string Padded(const byte* bytes, word32 size) {
  std::string out(kCoordinateSize - std::min<size_t>(size, kCoordinateSize), '\0');
  out.append(reinterpret_cast<const char*>(bytes), size);
  return out;
}

}  // namespace

absl::StatusOr<Es256PublicKey> Es256PublicKeyOf(const std::string& private_key_pem) {
  internal::EnsureWolfSslInitialized();
  internal::PrivateKey key;
  if (!key.ok) return absl::InternalError("cannot initialise wolfCrypt");
  absl::Status status = LoadP256(private_key_pem, &key);
  if (!status.ok()) return status;
  byte x[kCoordinateSize], y[kCoordinateSize];
  word32 x_size = sizeof(x), y_size = sizeof(y);
  int ret = wc_ecc_export_public_raw(&key.ecc, x, &x_size, y, &y_size);
  if (ret != 0) return internal::CryptoError("exporting the public key", ret);
  return Es256PublicKey{Padded(x, x_size), Padded(y, y_size)};
}

absl::StatusOr<std::string> SignEs256(const std::string& private_key_pem,
                                      absl::string_view message) {
  internal::EnsureWolfSslInitialized();
  internal::Rng rng;
  internal::PrivateKey key;
  if (!rng.ok || !key.ok) return absl::InternalError("cannot initialise wolfCrypt");
  absl::Status status = LoadP256(private_key_pem, &key);
  if (!status.ok()) return status;
  const std::string digest = Sha256Digest(message);
  byte der[ECC_MAX_SIG_SIZE];
  word32 der_size = sizeof(der);
  int ret = wc_ecc_sign_hash(reinterpret_cast<const byte*>(digest.data()),
                             static_cast<word32>(digest.size()), der, &der_size, &rng.rng,
                             &key.ecc);
  if (ret != 0) return internal::CryptoError("signing", ret);
  byte r[kCoordinateSize], s[kCoordinateSize];
  word32 r_size = sizeof(r), s_size = sizeof(s);
  ret = wc_ecc_sig_to_rs(der, der_size, r, &r_size, s, &s_size);
  if (ret != 0) return internal::CryptoError("reading the signature", ret);
  return Padded(r, r_size) + Padded(s, s_size);
}

absl::StatusOr<std::string> HmacSha256(absl::string_view key, absl::string_view data) {
  internal::EnsureWolfSslInitialized();
  Hmac hmac;
  if (wc_HmacInit(&hmac, nullptr, INVALID_DEVID) != 0) {
    return absl::InternalError("cannot initialise wolfCrypt's HMAC");
  }
  byte mac[WC_SHA256_DIGEST_SIZE];
  int ret = wc_HmacSetKey(&hmac, WC_SHA256, reinterpret_cast<const byte*>(key.data()),
                          static_cast<word32>(key.size()));
  if (ret == 0) {
    ret = wc_HmacUpdate(&hmac, reinterpret_cast<const byte*>(data.data()),
                        static_cast<word32>(data.size()));
  }
  if (ret == 0) ret = wc_HmacFinal(&hmac, mac);
  wc_HmacFree(&hmac);
  if (ret != 0) return internal::CryptoError("HMAC-SHA-256", ret);
  return std::string(reinterpret_cast<char*>(mac), sizeof(mac));
}

std::string Sha256Digest(absl::string_view data) {
  byte digest[WC_SHA256_DIGEST_SIZE];
  if (wc_Sha256Hash(reinterpret_cast<const byte*>(data.data()), static_cast<word32>(data.size()),
                    digest) != 0) {
    return std::string();  // only on a broken wolfCrypt build
  }
  return std::string(reinterpret_cast<char*>(digest), sizeof(digest));
}

}  // namespace appwire
