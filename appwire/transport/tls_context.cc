#include "appwire/transport/tls_context.h"

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "appwire/common/parameters.h"
#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/internal/tls_session.h"
#include "appwire/transport/internal/wolfssl.h"
#include "appwire/transport/session_ticket_key.h"

#include <wolfssl/wolfcrypt/chacha20_poly1305.h>

namespace appwire {
namespace {

constexpr absl::string_view kDefaultTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
    "TLS_CHACHA20_POLY1305_SHA256";

// TLS 1.2 is only offered when the minimum allows it, and then only
// forward-secret (ECDHE, and DHE once dhparams.pem exists) AEAD suites.
constexpr absl::string_view kTls12Suites =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";

constexpr absl::string_view kDefaultGroups = "P-256:X25519:P-384";

// OpenSSL-style TLS 1.2 names: forward-secret when the key exchange is
// ECDHE or DHE (TLS 1.3 suites always are).
bool IsForwardSecret(absl::string_view suite) {
  return absl::StartsWith(suite, "ECDHE-") || absl::StartsWith(suite, "DHE-") ||
         absl::StartsWith(suite, "TLS13-") || absl::StartsWith(suite, "TLS_AES") ||
         absl::StartsWith(suite, "TLS_CHACHA");
}

absl::StatusOr<std::vector<int>> ParseGroups(absl::string_view text) {
  std::vector<int> groups;
  for (absl::string_view name : absl::StrSplit(text, ':', absl::SkipEmpty())) {
    if (name == "P-256") groups.push_back(WOLFSSL_ECC_SECP256R1);
    else if (name == "P-384") groups.push_back(WOLFSSL_ECC_SECP384R1);
    else if (name == "P-521") groups.push_back(WOLFSSL_ECC_SECP521R1);
    else if (name == "X25519") groups.push_back(WOLFSSL_ECC_X25519);
    else if (name == "ffdhe2048") groups.push_back(WOLFSSL_FFDHE_2048);
    else if (name == "ffdhe3072") groups.push_back(WOLFSSL_FFDHE_3072);
    else {
      return absl::InvalidArgumentError(absl::StrCat(
          "key-exchange group \"", name, "\" is unknown; use P-256, P-384, P-521, X25519, "
          "ffdhe2048 or ffdhe3072"));
    }
  }
  return groups;
}

WOLFSSL_METHOD* MethodFor(const TlsOptions& options) {
  const bool server = options.role == TlsRole::kServer;
  if (options.min_version == TlsVersion::k1_3) {
    return server ? wolfTLSv1_3_server_method() : wolfTLSv1_3_client_method();
  }
  if (options.max_version == TlsVersion::k1_2) {
    return server ? wolfTLSv1_2_server_method() : wolfTLSv1_2_client_method();
  }
  return server ? wolfSSLv23_server_method() : wolfSSLv23_client_method();
}

absl::Status WolfError(absl::string_view what, int code) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " (", internal::WolfSslErrorText(code), ")"));
}

}  // namespace

namespace internal {

bool KeyMatchesCertificate(const std::string& key_pem, const std::string& chain_pem) {
  // Our own check beside wolfSSL's: some builds (Debian's binary package,
  // with PKCS#11 support) let a mismatched ECDSA key through. The public
  // half of the key must be the certificate's public key, byte for byte.
  absl::StatusOr<std::string> public_pem = PublicKeyPem(key_pem);
  if (!public_pem.ok()) return true;  // not a key type we generate: wolfSSL's check stands
  WOLFSSL_X509* x509 = wolfSSL_X509_load_certificate_buffer(
      reinterpret_cast<const unsigned char*>(chain_pem.data()), static_cast<int>(chain_pem.size()),
      WOLFSSL_FILETYPE_PEM);
  if (x509 == nullptr) return false;
  unsigned char spki[4096];
  int spki_size = sizeof(spki);
  const bool got = wolfSSL_X509_get_pubkey_buffer(x509, spki, &spki_size) == WOLFSSL_SUCCESS;
  wolfSSL_X509_free(x509);
  if (!got) return true;
  std::string cert_public(spki_size * 2 + 128, '\0');
  int pem_size = wc_DerToPem(spki, static_cast<word32>(spki_size),
                             reinterpret_cast<byte*>(&cert_public[0]),
                             static_cast<word32>(cert_public.size()), PUBLICKEY_TYPE);
  if (pem_size <= 0) return true;
  cert_public.resize(static_cast<size_t>(pem_size));
  return cert_public == *public_pem;
}

absl::StatusOr<std::string> CheckTls12CipherList(absl::string_view list,
                                                 bool allow_non_forward_secret) {
  if (list.empty()) return std::string(kTls12Suites);
  WOLFSSL_CTX* ctx = wolfSSL_CTX_new(wolfTLSv1_2_server_method());
  if (ctx == nullptr) return absl::InternalError("wolfSSL_CTX_new failed");
  // Suite by suite, so that an unknown name is named, and the suites the
  // list would allow are known without peeking into wolfSSL's tables.
  std::vector<std::string> allowed;
  std::vector<std::string> unknown;
  bool forward_secret = false;
  for (absl::string_view name : absl::StrSplit(list, ':', absl::SkipEmpty())) {
    std::string suite(name);
    if (wolfSSL_CTX_set_cipher_list(ctx, suite.c_str()) == WOLFSSL_SUCCESS) {
      forward_secret = forward_secret || IsForwardSecret(suite);
      allowed.push_back(std::move(suite));
    } else {
      unknown.push_back(std::move(suite));
    }
  }
  wolfSSL_CTX_free(ctx);
  if (!unknown.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", list, "\" names ", absl::StrJoin(unknown, ", "),
        ", which this build does not support as TLS 1.2 cipher suites; use OpenSSL names "
        "such as ECDHE-ECDSA-AES128-GCM-SHA256 or ECDHE-RSA-AES256-GCM-SHA384, or \"\" "
        "for the default"));
  }
  if (!forward_secret && !allow_non_forward_secret) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", list, "\" leaves no forward-secret suite: it would allow only ",
        absl::StrJoin(allowed, ", "),
        "; add ECDHE or DHE suites, or set kAllowNonForwardSecret (1008) to 1 if you "
        "really mean it"));
  }
  return absl::StrJoin(allowed, ":");
}

}  // namespace internal

TlsContext::~TlsContext() {
  if (ctx_ != nullptr) wolfSSL_CTX_free(ctx_);
}

namespace {

// Encrypts and decrypts session tickets with the project's key
// (TlsOptions::session_ticket_key: 16-byte name, 32-byte key) using
// ChaCha20-Poly1305; the name, IV and length are authenticated too.
int SessionTicketCallback(WOLFSSL* ssl, unsigned char key_name[WOLFSSL_TICKET_NAME_SZ],
                          unsigned char iv[WOLFSSL_TICKET_IV_SZ],
                          unsigned char mac[WOLFSSL_TICKET_MAC_SZ], int encrypt,
                          unsigned char* ticket, int in_length, int* out_length,
                          void* user_context) {
  const auto* key = static_cast<const unsigned char*>(user_context);
  const unsigned char* name = key;
  const unsigned char* secret = key + WOLFSSL_TICKET_NAME_SZ;
  if (encrypt) {
    std::memcpy(key_name, name, WOLFSSL_TICKET_NAME_SZ);
    // One generator per thread: instantiating one costs more than the rest
    // of the ticket, on every full handshake.
    struct ThreadRng {
      WC_RNG rng;
      bool ok = wc_InitRng(&rng) == 0;
      ~ThreadRng() {
        if (ok) wc_FreeRng(&rng);
      }
    };
    thread_local ThreadRng thread_rng;
    if (!thread_rng.ok ||
        wc_RNG_GenerateBlock(&thread_rng.rng, iv, WOLFSSL_TICKET_IV_SZ) != 0) {
      return WOLFSSL_TICKET_RET_REJECT;
    }
  } else if (std::memcmp(key_name, name, WOLFSSL_TICKET_NAME_SZ) != 0) {
    return WOLFSSL_TICKET_RET_REJECT;  // another key: a full handshake
  }
  unsigned char aad[WOLFSSL_TICKET_NAME_SZ + WOLFSSL_TICKET_IV_SZ + 2];
  std::memcpy(aad, name, WOLFSSL_TICKET_NAME_SZ);
  std::memcpy(aad + WOLFSSL_TICKET_NAME_SZ, iv, WOLFSSL_TICKET_IV_SZ);
  aad[sizeof(aad) - 2] = static_cast<unsigned char>(in_length >> 8);
  aad[sizeof(aad) - 1] = static_cast<unsigned char>(in_length);
  int ret;
  if (encrypt) {
    ret = wc_ChaCha20Poly1305_Encrypt(secret, iv, aad, sizeof(aad), ticket,
                                      static_cast<word32>(in_length), ticket, mac);
  } else {
    ret = wc_ChaCha20Poly1305_Decrypt(secret, iv, aad, sizeof(aad), ticket,
                                      static_cast<word32>(in_length), mac, ticket);
  }
  if (ret != 0) return WOLFSSL_TICKET_RET_REJECT;
  *out_length = in_length;
  (void)ssl;
  return WOLFSSL_TICKET_RET_OK;
}

}  // namespace

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::Create(
    const TlsOptions& options) {
  absl::Status valid = options.Validate();
  if (!valid.ok()) return valid;
  internal::EnsureWolfSslInitialized();

  std::shared_ptr<TlsContext> context(new TlsContext());
  context->options_ = options;
  context->ctx_ = wolfSSL_CTX_new(MethodFor(options));
  if (context->ctx_ == nullptr) {
    return absl::InternalError("wolfSSL_CTX_new failed (out of memory?)");
  }
  WOLFSSL_CTX* ctx = context->ctx_;
  if (options.min_version == TlsVersion::k1_2 &&
      options.max_version == TlsVersion::k1_3) {
    wolfSSL_CTX_SetMinVersion(ctx, WOLFSSL_TLSV1_2);
  }

  context->tls13_suites_ = options.tls13_cipher_suites.empty()
                               ? std::string(kDefaultTls13Suites)
                               : options.tls13_cipher_suites;
  // The TLS 1.3 list alone first: appended to the TLS 1.2 suites, a list
  // naming nothing valid would still "succeed". TLS 1.2 names do not belong.
  bool only_tls13_names = true;
  for (absl::string_view name : absl::StrSplit(context->tls13_suites_, ':', absl::SkipEmpty())) {
    only_tls13_names = only_tls13_names &&
                       (absl::StartsWith(name, "TLS_AES") || absl::StartsWith(name, "TLS_CHACHA") ||
                        absl::StartsWith(name, "TLS13-"));
  }
  if (!only_tls13_names ||
      wolfSSL_CTX_set_cipher_list(ctx, context->tls13_suites_.c_str()) != WOLFSSL_SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS 1.3 cipher suites \"", context->tls13_suites_,
        "\" name none this build supports; use IANA names such as "
        "TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256"));
  }
  if (options.min_version == TlsVersion::k1_2) {
    absl::StatusOr<std::string> tls12 =
        internal::CheckTls12CipherList(options.tls12_cipher_list, options.allow_non_forward_secret);
    if (!tls12.ok()) return tls12.status();
    context->tls12_suites_ = *tls12;
    if (wolfSSL_CTX_set_cipher_list(
            ctx, absl::StrCat(context->tls13_suites_, ":", *tls12).c_str()) != WOLFSSL_SUCCESS) {
      return absl::InternalError("wolfSSL_CTX_set_cipher_list failed on a checked list");
    }
  }

  absl::StatusOr<std::vector<int>> groups = ParseGroups(options.key_exchange_groups);
  if (groups.ok() && groups->empty()) groups = ParseGroups(kDefaultGroups);  // "" = default
  if (!groups.ok()) return groups.status();
  // The first group is the one a client sends a key share for; secp256r1
  // first by default: it has the fastest assembly in wolfSSL's SP code.
  if (wolfSSL_CTX_set_groups(ctx, groups->data(), static_cast<int>(groups->size())) !=
      WOLFSSL_SUCCESS) {
    // TLS 1.2-only contexts have no key-share groups, only supported curves.
    for (int group : *groups) {
      if (wolfSSL_CTX_UseSupportedCurve(ctx, static_cast<word16>(group)) != WOLFSSL_SUCCESS) {
        return absl::InternalError(absl::StrCat("cannot enable key-exchange group ", group));
      }
    }
  }

  // Peers' DHE must be at least as strong as our own parameters.
  wolfSSL_CTX_SetMinDhKey_Sz(ctx, 2048);
  // Only TLS 1.2 DHE suites use them. wolfSSL does DH work for every
  // connection once they are set, which a TLS 1.3-only server must not pay.
  if (!options.dh_params_pem.empty() && options.min_version == TlsVersion::k1_2) {
    const std::string& dh = options.dh_params_pem;
    if (wolfSSL_CTX_SetTmpDH_buffer(ctx, reinterpret_cast<const unsigned char*>(dh.data()),
                                    static_cast<long>(dh.size()), WOLFSSL_FILETYPE_PEM) !=
        WOLFSSL_SUCCESS) {
      return absl::InvalidArgumentError("the DH parameters are not usable PEM DH parameters");
    }
  }

  if (!options.certificate_chain_pem.empty()) {
    const std::string& chain = options.certificate_chain_pem;
    int ret = wolfSSL_CTX_use_certificate_chain_buffer(
        ctx, reinterpret_cast<const unsigned char*>(chain.data()),
        static_cast<long>(chain.size()));
    if (ret != WOLFSSL_SUCCESS) {
      return WolfError(absl::StrCat("\"", options.certificate_source,
                                    "\" is not a usable PEM certificate chain"),
                       ret);
    }
    const std::string& key = options.private_key_pem;
    ret = wolfSSL_CTX_use_PrivateKey_buffer(
        ctx, reinterpret_cast<const unsigned char*>(key.data()),
        static_cast<long>(key.size()), WOLFSSL_FILETYPE_PEM);
    if (ret != WOLFSSL_SUCCESS) {
      // Never echo the key's contents, only where it came from.
      return WolfError(absl::StrCat("\"", options.private_key_source,
                                    "\" is not a usable PEM private key"),
                       ret);
    }
    // An ACME TLS-ALPN-01 certificate was made a moment ago, for its key,
    // by CreateAcmeChallengeCertificatePem. Its critical acmeIdentifier
    // extension is one wolfSSL's parser does not know, and refuses by
    // design (RFC 5280 4.2), so it is not described: only the validator
    // reads it, wolfSSL only sends it.
    if (options.alpn_protocol != kAcmeTlsAlpnProtocol) {
      // A certificate wolfSSL cannot parse fails the key check too: say why
      // it cannot be parsed instead.
      absl::StatusOr<CertificateInfo> info =
          DescribeCertificatePem(chain, options.certificate_source);
      if (!info.ok()) return info.status();
      if (wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS ||
          !internal::KeyMatchesCertificate(key, chain)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "\"", options.certificate_source, "\" and \"", options.private_key_source,
            "\" do not match: the private key is not the key of the certificate; "
            "put the matching key beside the certificate (or remove both files "
            "to have appwire-server generate a self-signed pair)"));
      }
      context->certificate_ = *std::move(info);
      context->has_certificate_ = true;
    }
  }

  if (options.role == TlsRole::kClient) {
    if (!options.trusted_ca_pem.empty()) {
      const std::string& ca = options.trusted_ca_pem;
      int ret = wolfSSL_CTX_load_verify_buffer(
          ctx, reinterpret_cast<const unsigned char*>(ca.data()),
          static_cast<long>(ca.size()), WOLFSSL_FILETYPE_PEM);
      if (ret != WOLFSSL_SUCCESS) {
        return WolfError(absl::StrCat("\"", options.trusted_ca_source,
                                      "\" holds no usable CA certificate"),
                         ret);
      }
    }
    if (options.use_system_trust_store &&
        wolfSSL_CTX_load_system_CA_certs(ctx) != WOLFSSL_SUCCESS) {
      return absl::FailedPreconditionError(
          "cannot load the system trust store (/etc/ssl/certs); install the "
          "ca-certificates package or give a CA file");
    }
    if (!options.pinned_sha256.empty()) {
      absl::Status status =
          ParseSha256Fingerprint(options.pinned_sha256, &context->pinned_raw_);
      if (!status.ok()) return status;
    }
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, &internal::VerifyCallback);
  } else if (options.client_certificate_mode != TlsOptions::ClientCertificateMode::kNone) {
    const std::string& ca = options.trusted_ca_pem;
    int ret = wolfSSL_CTX_load_verify_buffer(
        ctx, reinterpret_cast<const unsigned char*>(ca.data()), static_cast<long>(ca.size()),
        WOLFSSL_FILETYPE_PEM);
    if (ret != WOLFSSL_SUCCESS) {
      return WolfError(absl::StrCat("\"", options.trusted_ca_source,
                                    "\" holds no usable CA certificate"),
                       ret);
    }
    if (!options.crl_pem.empty()) {
      const std::string& crl = options.crl_pem;
      if (wolfSSL_CTX_EnableCRL(ctx, WOLFSSL_CRL_CHECK) != WOLFSSL_SUCCESS ||
          wolfSSL_CTX_LoadCRLBuffer(ctx, reinterpret_cast<const unsigned char*>(crl.data()),
                                    static_cast<long>(crl.size()),
                                    WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) {
        return absl::InvalidArgumentError(absl::StrCat(
            "\"", options.crl_source, "\" is not a usable PEM certificate revocation list "
            "signed by a CA in the client CA file"));
      }
    }
    int mode = WOLFSSL_VERIFY_PEER;
    if (options.client_certificate_mode == TlsOptions::ClientCertificateMode::kRequire) {
      mode |= WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    wolfSSL_CTX_set_verify(ctx, mode, &internal::VerifyCallback);
  } else {
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, nullptr);
  }
  if (options.role == TlsRole::kServer &&
      options.client_certificate_mode != TlsOptions::ClientCertificateMode::kNone) {
    // A resumed session skips the client's certificate: a CRL or CA change
    // since the ticket was issued would not apply to it. With client
    // certificates, every connection is a full handshake.
    wolfSSL_CTX_set_num_tickets(ctx, 0);
    wolfSSL_CTX_NoTicketTLSv12(ctx);
    wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);  // TLS 1.2 session ids
  } else if (options.role == TlsRole::kServer && !options.session_ticket_key.empty()) {
    if (options.session_ticket_key.size() != kSessionTicketKeyBytes) {
      return absl::InvalidArgumentError("session ticket key: wrong size");
    }
    // options_ lives as long as the context, so the pointer stays valid.
    wolfSSL_CTX_set_TicketEncCb(ctx, &SessionTicketCallback);
    wolfSSL_CTX_set_TicketEncCtx(ctx, context->options_.session_ticket_key.data());
  }
  return context;
}

}  // namespace appwire
