// What a certificate says, read from PEM: who it is for, who issued it, when
// it expires and its SHA-256 fingerprint. Used for start-up logs, error
// messages and pinning.
#ifndef APPWIRE_TRANSPORT_CERTIFICATE_INFO_H_
#define APPWIRE_TRANSPORT_CERTIFICATE_INFO_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "appwire/common/export.h"

namespace appwire {

struct APPWIRE_EXPORT CertificateInfo {
  std::string subject;          // "CN=localhost, O=appwire"
  std::string issuer;
  std::string common_name;      // "localhost"
  std::vector<std::string> subject_alt_names;  // every SAN, as text
  // The same, by kind.
  std::vector<std::string> dns_names;
  std::vector<std::string> email_addresses;
  std::vector<std::string> uris;
  std::vector<std::string> ip_addresses;
  std::string serial;  // hex, "3A:F1:..."
  absl::Time not_before;
  absl::Time not_after;
  std::string sha256_fingerprint;  // "SHA256:AB:CD:..."
  std::string public_key;          // "ECDSA P-256", "ECDSA P-384", "RSA 2048", "Ed25519"
  bool is_ca = false;              // basicConstraints CA:TRUE
  std::string der;                  // the certificate itself
};

// Describes the first certificate of `pem` (the leaf of a chain).
// InvalidArgument naming `source` when it does not parse.
absl::StatusOr<CertificateInfo> DescribeCertificatePem(absl::string_view pem,
                                                       absl::string_view source);

// The certificate's identifier for ACME Renewal Information (RFC 9773
// section 4.1): base64url(authorityKeyIdentifier's keyIdentifier) "."
// base64url(the serial number's DER content octets), from its DER.
// InvalidArgument when it has no authority key identifier (a self-signed
// certificate: no CA renews it).
absl::StatusOr<std::string> AcmeRenewalCertificateId(absl::string_view certificate_der);

// Splits PEM text into its "-----BEGIN CERTIFICATE-----" blocks, in order.
APPWIRE_EXPORT std::vector<std::string> SplitPemCertificates(absl::string_view pem);

// "2027-11-21T23:59:59Z".
APPWIRE_EXPORT std::string FormatUtc(absl::Time time);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_CERTIFICATE_INFO_H_
