#include "appwire/transport/internal/errors.h"

#include <cctype>
#include <system_error>

#include <asio/error.hpp>

#include "absl/strings/str_cat.h"
#include "appwire/transport/internal/wolfssl.h"
#include "appwire/transport/internal/x509_names.h"
#include "appwire/transport/socket_errors.h"
#include "appwire/transport/tls_failure.h"

namespace appwire::internal {

std::string WolfSslErrorText(int code) {
  char text[WOLFSSL_MAX_ERROR_SZ];
  wolfSSL_ERR_error_string_n(static_cast<unsigned long>(code), text, sizeof(text));
  return absl::StrCat("wolfSSL error ", code, ": ", text);
}

std::string WolfCryptErrorText(int code, CodeTextStyle style) {
  const char* text = wc_GetErrorString(code);
  return style == CodeTextStyle::kColon ? absl::StrCat("wolfCrypt error ", code, ": ", text)
                                        : absl::StrCat("wolfCrypt error ", code, " (", text, ")");
}

namespace {

std::string Printable(absl::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    out.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : '.');
  }
  return out;
}

// Verification failures, in either wolfSSL's negative codes or the
// OpenSSL-compatible X509_V_ERR codes that OPENSSL_COMPATIBLE_DEFAULTS
// builds hand to the verify callback.
enum class VerifyProblem {
  kNone, kUntrusted, kHostname, kExpired, kNotYetValid, kSignature, kRevoked, kOther
};

VerifyProblem Classify(int code) {
  switch (code) {
    case 0: return VerifyProblem::kNone;
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E:
    case 2:   // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
    case 18:  // X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
    case 19:  // X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
    case 20:  // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    case 21:  // X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
      return VerifyProblem::kUntrusted;
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH:
    case 62:  // X509_V_ERR_HOSTNAME_MISMATCH
    case 64:  // X509_V_ERR_IP_ADDRESS_MISMATCH
      return VerifyProblem::kHostname;
    case ASN_AFTER_DATE_E:
    case 10:  // X509_V_ERR_CERT_HAS_EXPIRED
      return VerifyProblem::kExpired;
    case ASN_BEFORE_DATE_E:
    case 9:   // X509_V_ERR_CERT_NOT_YET_VALID
      return VerifyProblem::kNotYetValid;
    case ASN_SIG_CONFIRM_E:
    case 7:   // X509_V_ERR_CERT_SIGNATURE_FAILURE
      return VerifyProblem::kSignature;
    case CRL_CERT_REVOKED:
    case 23:  // X509_V_ERR_CERT_REVOKED
      return VerifyProblem::kRevoked;
    default:
      return VerifyProblem::kOther;
  }
}

std::string DescribeVerifyFailure(const TlsFailureContext& c, VerifyProblem problem,
                                  int code) {
  const std::string who = c.role == TlsRole::kClient ? "server" : "client";
  std::string cert_text = "certificate";
  std::string names;
  if (c.failed_certificate) {
    names = DescribeNames(*c.failed_certificate);
    cert_text = absl::StrCat("certificate '", c.failed_certificate->subject,
                             "' (issued by '", c.failed_certificate->issuer,
                             "', ", c.failed_certificate->sha256_fingerprint, ")");
  }
  switch (problem) {
    case VerifyProblem::kHostname:
      return absl::StrCat("certificate verify failed: hostname mismatch: ", who,
                          " certificate is for '", names, "', connected as '",
                          c.expected_server_name,
                          "'; connect with a name the certificate lists, or "
                          "issue the server a certificate for '",
                          c.expected_server_name, "'");
    case VerifyProblem::kUntrusted:
      return absl::StrCat(
          "certificate verify failed: the ", who, "'s ", cert_text,
          " is not signed by a CA this ", c.role == TlsRole::kClient ? "client" : "server",
          " trusts; add the ", who, "'s CA to the trusted CA file",
          c.role == TlsRole::kClient
              ? " (for a self-signed server, its cert.pem) or pin its fingerprint"
              : "");
    case VerifyProblem::kExpired:
      return absl::StrCat("certificate verify failed: the ", who, "'s ", cert_text,
                          " expired",
                          c.failed_certificate
                              ? absl::StrCat(" on ", FormatUtc(c.failed_certificate->not_after))
                              : std::string(),
                          "; renew it");
    case VerifyProblem::kNotYetValid:
      return absl::StrCat("certificate verify failed: the ", who, "'s ", cert_text,
                          " is not valid yet",
                          c.failed_certificate
                              ? absl::StrCat(" (valid from ",
                                             FormatUtc(c.failed_certificate->not_before), ")")
                              : std::string(),
                          "; check both machines' clocks");
    case VerifyProblem::kSignature:
      return absl::StrCat("certificate verify failed: the ", who, "'s ", cert_text,
                          " has a signature that does not verify");
    case VerifyProblem::kRevoked:
      return absl::StrCat("certificate verify failed: the ", who, "'s ", cert_text,
                          " is revoked (listed in the certificate revocation list); issue ",
                          who == "client" ? "the client" : "the server", " a new certificate");
    case VerifyProblem::kOther:
    case VerifyProblem::kNone:
      break;
  }
  return absl::StrCat("certificate verify failed: the ", who, "'s ", cert_text,
                      " was refused (code ", code, ": ",
                      wolfSSL_X509_verify_cert_error_string(code), ")");
}

// TLS alert names (RFC 8446 section 6); wolfSSL's own table lacks some.
std::string AlertName(int alert) {
  switch (alert) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 109: return "missing_extension";
    case 112: return "unrecognized_name";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: {
      const char* name = wolfSSL_alert_desc_string_long(alert);
      return name != nullptr && *name != '\0' ? name : absl::StrCat("alert ", alert);
    }
  }
}

}  // namespace

absl::Status TlsErrorToStatus(int error, const TlsFailureContext& c) {
  const std::string prefix =
      absl::StrCat(c.operation, " with ", c.peer_address, " failed: ");
  const std::string detail = WolfSslErrorText(error);
  const bool client = c.role == TlsRole::kClient;

  // The peer sent something that is not TLS at all.
  if (!client && !c.first_bytes.empty() &&
      static_cast<unsigned char>(c.first_bytes[0]) != 0x16) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, "the client did not start a TLS handshake (first bytes: \"",
        Printable(c.first_bytes),
        "\"); is it a plaintext client? appwire speaks TLS only"));
  }

  // Our verify callback saw the peer's certificate fail.
  VerifyProblem problem = Classify(c.verify_error);
  if (problem == VerifyProblem::kNone) problem = Classify(error);
  if (problem != VerifyProblem::kNone && problem != VerifyProblem::kOther) {
    return absl::UnauthenticatedError(absl::StrCat(
        prefix, DescribeVerifyFailure(c, problem, c.verify_error ? c.verify_error : error),
        " (", detail, ")"));
  }

  // The peer refused us with an alert.
  switch (c.alert_received) {
    case -1:
      break;
    case 70:  // protocol_version
      return absl::FailedPreconditionError(absl::StrCat(
          prefix, "the ", client ? "server" : "client",
          " refused the TLS version: this ", client ? "client" : "server",
          " allows ", TlsVersionName(c.min_version), " to ",
          TlsVersionName(c.max_version),
          client ? "; the server requires another version (its min TLS version setting)"
                 : "; the client requires another version",
          " (", detail, ")"));
    case 120:  // no_application_protocol
      return absl::FailedPreconditionError(absl::StrCat(
          prefix, "the ", client ? "server" : "client", " does not speak ",
          kAlpnProtocol, " (ALPN refused); is it an appwire peer? (", detail, ")"));
    case 42: case 43: case 44: case 45: case 46: case 48: case 116:
      return WithTlsFailure(
          absl::UnauthenticatedError(absl::StrCat(
              prefix, "the ", client ? "server" : "client", " refused ",
              client ? "this client's" : "this server's", " certificate (alert '",
              AlertName(c.alert_received), "'); check that ",
              client ? "the server" : "the client",
              " trusts our CA and expects our name (", detail, ")")),
          TlsFailure{TlsFailure::Kind::kPeerRefusedCertificate, "", c.alert_received});
    case 0:  // close_notify
      break;
    default:
      return absl::UnavailableError(absl::StrCat(
          prefix, "the ", client ? "server" : "client", " aborted with alert '",
          AlertName(c.alert_received), "' (", detail, ")"));
  }

  switch (error) {
    case ASN_VERSION_E:
      return absl::UnauthenticatedError(absl::StrCat(
          prefix, "the ", client ? "server" : "client", " presented ", kVersion1WithExtensions,
          " (", detail, ")"));
    case NO_PEER_CERT:
      return absl::UnauthenticatedError(absl::StrCat(
          prefix, client ? "the server presented no certificate"
                         : "the client presented no certificate, and this server requires one "
                           "(kClientCertificateMode); give the client a certificate issued by a "
                           "CA in the server's client-ca.pem",
          " (", detail, ")"));
    case VERSION_ERROR:
      return absl::FailedPreconditionError(absl::StrCat(
          prefix, "no TLS version in common: this ", client ? "client" : "server",
          " allows ", TlsVersionName(c.min_version), " to ",
          TlsVersionName(c.max_version),
          client ? "" : "; the client offered an older version (lower the server's min TLS version to accept it)",
          " (", detail, ")"));
    case MATCH_SUITE_ERROR:
      return absl::FailedPreconditionError(absl::StrCat(
          prefix, "no cipher suite in common; compare both ends' suite lists (",
          detail, ")"));
    case SOCKET_PEER_CLOSED_E:
    case SOCKET_ERROR_E:
    case 5:  // SSL_ERROR_SYSCALL: what OpenSSL-compatible builds report for a close
      return absl::UnavailableError(absl::StrCat(
          prefix, "the connection was closed by the peer",
          client ? " (does the server accept this client? see its log)" : "",
          " (", detail, ")"));
    case WOLFSSL_ERROR_ZERO_RETURN:
      return absl::UnavailableError(absl::StrCat(prefix, "the peer closed the TLS session"));
    default:
      break;
  }
  return absl::UnavailableError(absl::StrCat(prefix, detail));
}

absl::Status AsioErrorToStatus(const std::error_code& error,
                               absl::string_view operation,
                               absl::string_view peer_address) {
  const std::string prefix =
      absl::StrCat(operation, " with ", peer_address, " failed: ");
  const std::string text = absl::StrCat(error.message(), " (", error.category().name(),
                                        " error ", error.value(), ")");
  const absl::string_view category = error.category().name();
  // asio::error's values are each platform's own (ECONNREFUSED here,
  // WSAECONNREFUSED on Windows), as the error codes Asio reports are:
  // compare with them, not with <cerrno>'s numbers. std::errc covers codes
  // in the generic category.
  auto is = [&error](asio::error::basic_errors asio_error, std::errc generic) {
    return error == asio_error ||
           (error.category() == std::generic_category() && error == generic);
  };
  if (is(asio::error::operation_aborted, std::errc::operation_canceled)) {
    return absl::CancelledError(absl::StrCat(prefix, "cancelled"));
  }
  if (is(asio::error::connection_refused, std::errc::connection_refused)) {
    return absl::UnavailableError(absl::StrCat(
        prefix, "connection refused; is appwire-server running on that "
                "address and port? (", text, ")"));
  }
  if (is(asio::error::timed_out, std::errc::timed_out)) {
    return absl::DeadlineExceededError(absl::StrCat(prefix, text));
  }
  if (is(asio::error::connection_reset, std::errc::connection_reset) ||
      is(asio::error::broken_pipe, std::errc::broken_pipe)) {
    return absl::UnavailableError(
        absl::StrCat(prefix, "the connection was reset by the peer (", text, ")"));
  }
  if (is(asio::error::address_in_use, std::errc::address_in_use)) {
    return absl::FailedPreconditionError(absl::StrCat(
        prefix, "the address is already in use; stop the other server or "
                "choose another port (", text, ")"));
  }
  if (is(asio::error::access_denied, std::errc::permission_denied)) {
    return absl::PermissionDeniedError(absl::StrCat(
        prefix, "permission denied; ports below 1024 need privileges (", text, ")"));
  }
  // Asio names no "address not available": the portable condition does
  // (EADDRNOTAVAIL, WSAEADDRNOTAVAIL map to it).
  if (error == std::errc::address_not_available) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, "that address is not on this machine (", text, ")"));
  }
  if (error == asio::error::eof) {
    return absl::UnavailableError(absl::StrCat(prefix, "the peer closed the connection"));
  }
  if (category == "asio.netdb") {
    return absl::NotFoundError(absl::StrCat(
        prefix, "cannot resolve the host name; check its spelling (", text, ")"));
  }
  return absl::UnavailableError(absl::StrCat(prefix, text));
}

}  // namespace appwire::internal

namespace appwire {

absl::Status SocketErrorToStatus(const std::error_code& error, absl::string_view operation,
                                 absl::string_view peer_address) {
  return internal::AsioErrorToStatus(error, operation, peer_address);
}

}  // namespace appwire
