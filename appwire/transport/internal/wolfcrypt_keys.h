// wolfCrypt keys for what transport makes and signs: RAII holders so that
// every early return frees what was made, and the one PEM reader for private
// keys of every type appwire handles (ECDSA, RSA, Ed25519; traditional or
// PKCS#8). Internal: includes wolfSSL.
#ifndef APPWIRE_TRANSPORT_INTERNAL_WOLFCRYPT_KEYS_H_
#define APPWIRE_TRANSPORT_INTERNAL_WOLFCRYPT_KEYS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "appwire/transport/internal/wolfssl.h"

#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/rsa.h>

namespace appwire::internal {

// InternalError "WHAT failed: TEXT (CODE)" for a wolfCrypt return code.
absl::Status CryptoError(absl::string_view what, int code);

// RAII holders so every early return frees what was made.
struct Rng {
  WC_RNG rng;
  bool ok = false;
  Rng() { ok = wc_InitRng(&rng) == 0; }
  ~Rng() { if (ok) wc_FreeRng(&rng); }
};

// An ECDSA, RSA or Ed25519 private key (or, to make a certificate for it,
// only its public half).
struct PrivateKey {
  int type = ECC_TYPE;  // or RSA_TYPE, ED25519_TYPE
  ecc_key ecc;
  RsaKey rsa;
  ed25519_key ed25519;
  bool ok = false;
  PrivateKey() {
    ok = wc_ecc_init(&ecc) == 0 && wc_InitRsaKey(&rsa, nullptr) == 0 &&
         wc_ed25519_init(&ed25519) == 0;
  }
  ~PrivateKey() {
    wc_ecc_free(&ecc);
    wc_FreeRsaKey(&rsa);
    wc_ed25519_free(&ed25519);
  }
  void* native() {
    switch (type) {
      case RSA_TYPE: return &rsa;
      case ED25519_TYPE: return &ed25519;
      default: return &ecc;
    }
  }
  int signature_type() const {
    switch (type) {
      case RSA_TYPE: return CTC_SHA256wRSA;
      case ED25519_TYPE: return CTC_ED25519;
      default: return CTC_SHA256wECDSA;
    }
  }
};

// DER to PEM of wolfSSL's `type` (CERT_TYPE, CRL_TYPE, ...).
absl::StatusOr<std::string> DerToPem(const std::vector<byte>& der, int type);

// Reads a private key PEM (ECDSA, RSA or Ed25519, traditional or PKCS#8,
// not encrypted) into `key`, which must be fresh. InvalidArgument for
// another kind of key.
absl::Status LoadKey(const std::string& pem, PrivateKey* key);

}  // namespace appwire::internal

#endif  // APPWIRE_TRANSPORT_INTERNAL_WOLFCRYPT_KEYS_H_
