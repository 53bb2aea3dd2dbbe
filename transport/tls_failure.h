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
  };
  Kind kind;
  // kPinMismatch: the fingerprint of the certificate the server presented
  // ("SHA256:AB:CD:..."), empty when it presented none.
  std::string presented_fingerprint;

  bool operator==(const TlsFailure& other) const {
    return kind == other.kind && presented_fingerprint == other.presented_fingerprint;
  }
};

// `status` (not OK) with `failure` attached.
absl::Status WithTlsFailure(absl::Status status, const TlsFailure& failure);

// The failure attached by WithTlsFailure, if any (copies of the status keep it).
std::optional<TlsFailure> GetTlsFailure(const absl::Status& status);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_TLS_FAILURE_H_
