// TlsFailure: why a TLS handshake failed, as data. The transport attaches
// it to the failed absl::Status as a payload, so that callers switch on the
// cause instead of searching the message, which is for people and may be
// reworded (issue 11, "errors as data").
//
//   if (std::optional<TlsFailure> failure = GetTlsFailure(status);
//       failure && failure->kind == TlsFailure::Kind::kPinMismatch) { ... }
#ifndef APPWIRE_TRANSPORT_TLS_FAILURE_H_
#define APPWIRE_TRANSPORT_TLS_FAILURE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"

namespace appwire {

struct TlsFailure {
  enum class Kind {
    // The server's certificate is not the one whose SHA-256 fingerprint
    // the client pinned (ChannelOptions::pinned_sha256 or known_servers).
    kPinMismatch,
    // The peer refused the certificate this end presented, or that it
    // presented none: it ended the handshake with a certificate alert
    // (bad_certificate, unsupported_certificate, certificate_revoked,
    // certificate_expired, certificate_unknown, unknown_ca or
    // certificate_required). On a client this is the server saying it
    // requires a client certificate (certificate_required, or what TLS 1.2
    // servers send) or does not accept this one; TLS 1.3 servers say it
    // after the client's handshake has finished, so it shows on the first
    // read.
    kPeerRefusedCertificate,
    // Server side: the peer closed the connection without sending a byte,
    // before any handshake: what a load balancer's TCP health check or a
    // port scan does.
    kClosedBeforeHello,
    // The handshake finished but the peer did not negotiate ALPN
    // "appwire/1": not an appwire peer (on a server, typically a TLS health
    // check or a scanner; on a client, a server of another protocol).
    kNoApplicationProtocol,
  };
  Kind kind;
  // kPinMismatch: the fingerprint of the certificate the server presented
  // ("SHA256:AB:CD:..."), empty when it presented none.
  std::string presented_fingerprint;
  // kPeerRefusedCertificate: the alert the peer sent (RFC 8446 section 6,
  // AlertDescription: 116 is certificate_required, 42 bad_certificate, ...).
  int alert = -1;

  bool operator==(const TlsFailure& other) const {
    return kind == other.kind && presented_fingerprint == other.presented_fingerprint &&
           alert == other.alert;
  }
};

// `status` (not OK) with `failure` attached.
absl::Status WithTlsFailure(absl::Status status, const TlsFailure& failure);

// The failure attached by WithTlsFailure, if any (copies of the status keep it).
std::optional<TlsFailure> GetTlsFailure(const absl::Status& status);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_TLS_FAILURE_H_
