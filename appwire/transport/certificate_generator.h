// Making keys and certificates with wolfSSL: the self-signed pair that
// appwire-server creates on first start, and the small CA the tests use.
//
//   auto key = GenerateEcdsaP256KeyPem();
//   CertificateSpec spec{.common_name = "localhost", .dns_names = {"localhost"}};
//   auto cert = CreateSelfSignedCertificatePem(*key, spec);
//
// The returned private keys are secrets: write them with mode 0600
// (WriteFileAtomically) and never log them.
#ifndef APPWIRE_TRANSPORT_CERTIFICATE_GENERATOR_H_
#define APPWIRE_TRANSPORT_CERTIFICATE_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace appwire {

struct CertificateSpec {
  std::string common_name;
  std::string organization;
  // The other subject fields 4D's GENERATE CERTIFICATE REQUEST takes.
  std::string country;  // two letters
  std::string state;
  std::string locality;
  std::string organizational_unit;
  std::vector<std::string> dns_names;     // subjectAltName dNSName entries
  std::vector<std::string> ip_addresses;  // "127.0.0.1", "::1"
  std::vector<std::string> email_addresses;  // rfc822Name entries
  std::vector<std::string> uris;             // uniformResourceIdentifier entries
  int days_valid = 825;
  // A CA certificate may sign others (basicConstraints CA:TRUE, keyCertSign).
  bool is_ca = false;
};

// A new ECDSA P-256 private key, PEM ("-----BEGIN EC PRIVATE KEY-----").
absl::StatusOr<std::string> GenerateEcdsaP256KeyPem();

// A new RSA private key of `bits` (2048 to 4096), PEM ("BEGIN RSA PRIVATE KEY").
absl::StatusOr<std::string> GenerateRsaKeyPem(int bits);

// A new ECDSA private key on "P-256" or "P-384", PEM.
absl::StatusOr<std::string> GenerateEcdsaKeyPem(const std::string& curve);

// A new Ed25519 private key, PKCS#8 PEM ("BEGIN PRIVATE KEY", RFC 8410, as
// `openssl genpkey -algorithm ed25519` writes it). Certificates for it and
// signed by it use the Ed25519 signature; TLS 1.3 clients offer it, TLS 1.2
// ones may not.
absl::StatusOr<std::string> GenerateEd25519KeyPem();

// A new key of `algorithm`: "P-256", "P-384" (ECDSA) or "Ed25519";
// InvalidArgument naming the three for anything else.
absl::StatusOr<std::string> GenerateKeyPem(const std::string& algorithm);

// The public half of a private key (ECDSA, RSA or Ed25519), PEM ("BEGIN PUBLIC KEY").
absl::StatusOr<std::string> PublicKeyPem(const std::string& private_key_pem);

// A certificate for `spec`, signed by its own key. Marked CA:TRUE so that a
// client can use the file itself as its trust anchor (as `openssl req -x509`
// does), which is how desktop clients trust a self-signed LAN server.
absl::StatusOr<std::string> CreateSelfSignedCertificatePem(
    const std::string& key_pem, CertificateSpec spec);

// The certificate appwire-server answers an ACME TLS-ALPN-01 challenge with
// (RFC 8737 section 3): self-signed by `key_pem`, `domain` as its only
// subjectAltName, and the critical acmeIdentifier extension
// (1.3.6.1.5.5.7.1.31) holding SHA-256(`key_authorization`). Seven days
// valid; only a validator that offers ALPN "acme-tls/1" ever sees it.
absl::StatusOr<std::string> CreateAcmeChallengeCertificatePem(const std::string& key_pem,
                                                              const std::string& domain,
                                                              const std::string& key_authorization);

// A PKCS#10 certificate signing request (PEM, "BEGIN CERTIFICATE REQUEST")
// for `spec`'s subject and subject alternative names, signed by `key_pem`.
absl::StatusOr<std::string> CreateCertificateRequestPem(const std::string& key_pem,
                                                        const CertificateSpec& spec);

// A certificate for `spec` and the public half of `subject_key_pem`, signed
// by the CA in `issuer_cert_pem` / `issuer_key_pem`. Keys may be ECDSA, RSA or
// Ed25519.
absl::StatusOr<std::string> IssueCertificatePem(
    const std::string& subject_key_pem, const CertificateSpec& spec,
    const std::string& issuer_cert_pem, const std::string& issuer_key_pem);

// What a certificate request (PKCS#10, PEM) asks for, once its signature
// verifies with the key it carries: the subject's fields and names as a
// CertificateSpec (days_valid and is_ca left at their defaults: the CA
// decides those), and the public key (SubjectPublicKeyInfo, DER).
struct CertificateRequest {
  CertificateSpec spec;
  std::string public_key_der;
};
absl::StatusOr<CertificateRequest> ReadCertificateRequestPem(absl::string_view pem,
                                                             absl::string_view source);

// What a certificate says of its subject, for renewing it: its fields and
// names, whether it is a CA, its lifetime in whole days (days_valid) and its
// public key. Its signature is not checked here: the CA that renews it
// compares the issuer.
absl::StatusOr<CertificateRequest> ReadCertificateSubjectPem(absl::string_view pem,
                                                             absl::string_view source);

// A certificate for `spec` and `public_key_der` (an ECDSA or RSA
// SubjectPublicKeyInfo, DER), signed by the CA: what `appwire ca sign`
// makes from a request made elsewhere.
absl::StatusOr<std::string> IssueCertificateForPublicKeyPem(const std::string& public_key_der,
                                                            const CertificateSpec& spec,
                                                            const std::string& issuer_cert_pem,
                                                            const std::string& issuer_key_pem);

// One entry of a certificate revocation list.
struct RevokedCertificate {
  std::string serial;  // hex, with or without colons ("3A:F1:..", as CertificateInfo says)
  absl::Time revoked_at;
};

// A certificate revocation list (RFC 5280 section 5, v2, PEM "BEGIN X509
// CRL") signed by the CA in `issuer_cert_pem` / `issuer_key_pem`: the file a
// server reads as crl.pem. `number` is its cRLNumber (each new list of the
// same CA gets a larger one); it is valid from `this_update` for `days_valid`
// days (nextUpdate). The CA's subject key id is the authority key id.
absl::StatusOr<std::string> CreateRevocationListPem(const std::vector<RevokedCertificate>& revoked,
                                                    int64_t number, absl::Time this_update,
                                                    int days_valid,
                                                    const std::string& issuer_cert_pem,
                                                    const std::string& issuer_key_pem);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_CERTIFICATE_GENERATOR_H_
