// A TlsContext is the configuration every TLS connection of one end starts
// from: role, versions, suites, our certificate, and how the peer is trusted.
// Built once from TlsOptions; immutable and shareable afterwards. A change of
// settings builds a new context for the connections opened after it.
//
//   TlsOptions options;
//   options.role = TlsRole::kClient;
//   options.trusted_ca_pem = *ReadFile("ca.pem");
//   absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::Create(options);
//
// Thread-safe: any thread may start connections from one context.
#ifndef APPWIRE_TRANSPORT_TLS_CONTEXT_H_
#define APPWIRE_TRANSPORT_TLS_CONTEXT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "appwire/transport/certificate_info.h"
#include "appwire/transport/tls_options.h"

struct WOLFSSL_CTX;  // wolfSSL's type, deliberately opaque here.

namespace appwire {

class TlsContext {
 public:
  // Fails with InvalidArgument when the options contradict each other, a PEM
  // does not parse, or the private key does not belong to the certificate
  // ("\"cert.pem\" and \"key.pem\" do not match: ..."), naming the sources.
  static absl::StatusOr<std::shared_ptr<TlsContext>> Create(const TlsOptions& options);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  const TlsOptions& options() const { return options_; }
  // Our own leaf certificate, when we have one.
  const CertificateInfo* certificate() const {
    return has_certificate_ ? &certificate_ : nullptr;
  }
  // The TLS 1.3 suites offered, colon-separated IANA names.
  const std::string& tls13_cipher_suites() const { return tls13_suites_; }
  // The TLS 1.2 cipher list in force (empty when TLS 1.2 is not allowed).
  const std::string& tls12_cipher_list() const { return tls12_suites_; }

  // For transport internals.
  WOLFSSL_CTX* native_handle() const { return ctx_; }
  const std::string& pinned_sha256_raw() const { return pinned_raw_; }

 private:
  TlsContext() = default;

  TlsOptions options_;
  WOLFSSL_CTX* ctx_ = nullptr;
  bool has_certificate_ = false;
  CertificateInfo certificate_;
  std::string tls13_suites_;
  std::string tls12_suites_;
  std::string pinned_raw_;
};

namespace internal {
// Whether the private key's public half is the leaf certificate's key.
bool KeyMatchesCertificate(const std::string& key_pem, const std::string& chain_pem);

// Resolves a TLS 1.2 cipher list ("" = the default) and checks it names
// suites this build has, and at least one forward-secret suite unless
// `allow_non_forward_secret`. Returns the list to use.
absl::StatusOr<std::string> CheckTls12CipherList(absl::string_view list,
                                                 bool allow_non_forward_secret);
}  // namespace internal

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_TLS_CONTEXT_H_
