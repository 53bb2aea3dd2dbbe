// The one place wolfSSL and wolfCrypt error codes become text, and wolfSSL
// and Asio error codes become absl::Status. Every detail the libraries give
// is kept, and each message says what went wrong in terms of files and
// settings the user controls. Code elsewhere that reports a wolfSSL or
// wolfCrypt return value words it with WolfSslErrorText or
// WolfCryptErrorText instead of calling the libraries' string functions.
//
// Code map: peer closed -> kUnavailable; deadline ->
// kDeadlineExceeded; untrusted or mismatched certificate -> kUnauthenticated;
// TLS version or ALPN mismatch -> kFailedPrecondition; cancelled -> kCancelled.
#ifndef APPWIRE_TRANSPORT_INTERNAL_ERRORS_H_
#define APPWIRE_TRANSPORT_INTERNAL_ERRORS_H_

#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "appwire/transport/certificate_info.h"
#include "appwire/transport/tls_options.h"

namespace appwire::internal {

// What wolfSSL's ASN_VERSION_E means for a certificate, and the fix: said
// the same way when a peer presents one and when a file holds one.
inline constexpr absl::string_view kVersion1WithExtensions =
    "an X.509 version 1 certificate that carries extensions (only version 3 certificates "
    "may, RFC 5280 4.1.2.1), which wolfSSL cannot parse; reissue it as a version 3 "
    "certificate (the tool that made it forgot to set the version; openssl x509 -req with "
    "-extfile makes version 3)";

// "wolfSSL error N: TEXT": a wolfSSL (SSL layer) error code, such as
// wolfSSL_get_error or a wolfSSL_CTX_* call returns, with wolfSSL's text
// for it.
std::string WolfSslErrorText(int code);

// How WolfCryptErrorText puts the text after the number. Both are kept
// because messages users may already match on use each.
enum class CodeTextStyle {
  kColon,          // "wolfCrypt error N: TEXT" (key and PKCS#12 messages)
  kParenthesized,  // "wolfCrypt error N (TEXT)" (internal failures of key,
                   // certificate and prime generation)
};

// A wolfCrypt (wc_*) return code with wolfCrypt's text for it.
std::string WolfCryptErrorText(int code, CodeTextStyle style = CodeTextStyle::kColon);

// What a failing TLS operation knew besides the error code.
struct TlsFailureContext {
  TlsRole role = TlsRole::kClient;
  std::string peer_address;
  // "TLS handshake", "TLS read", ...
  std::string operation;
  // Client: the name the server certificate must carry.
  std::string expected_server_name;
  TlsVersion min_version = TlsVersion::k1_3;
  TlsVersion max_version = TlsVersion::k1_3;
  // First certificate-verification failure, from the verify callback.
  int verify_error = 0;  // wolfSSL or OpenSSL-compatible X509_V_ERR code
  int verify_depth = -1;
  // On the heap: every session holds a TlsFailureContext, few fail.
  std::shared_ptr<const CertificateInfo> failed_certificate;
  // Last alert the peer sent us, or -1.
  int alert_received = -1;
  // The first bytes the peer sent (server side), to spot plaintext clients.
  std::string first_bytes;
};

// `wolfssl_error` (from wolfSSL_get_error) as a Status whose message names
// the peer, the cause and the fix. A peer's certificate alert also carries
// TlsFailure::Kind::kPeerRefusedCertificate (appwire/transport/tls_failure.h).
absl::Status TlsErrorToStatus(int wolfssl_error, const TlsFailureContext& context);

absl::Status AsioErrorToStatus(const std::error_code& error,
                               absl::string_view operation,
                               absl::string_view peer_address);

}  // namespace appwire::internal

#endif  // APPWIRE_TRANSPORT_INTERNAL_ERRORS_H_
