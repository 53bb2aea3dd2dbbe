// Probing a TLS server the way sslscan does, one handshake per question,
// with blocking sockets (for the `appwire probe` command, not for serving).
// Only the command uses it, so it lives here and not in appwire/transport/; it
// drives transport/internal's sans-I/O TlsSession over a blocking socket.
// Any thread; each ProbeHandshake is independent.
#ifndef APPWIRE_TOOLS_APPWIRE_TLS_PROBE_H_
#define APPWIRE_TOOLS_APPWIRE_TLS_PROBE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "appwire/transport/tls_options.h"
#include "appwire/transport/tls_session_info.h"

namespace appwire {

struct ProbeAttempt {
  TlsVersion min_version = TlsVersion::k1_2;
  TlsVersion max_version = TlsVersion::k1_3;
  std::string tls13_cipher_suites;  // "" = default
  std::string tls12_cipher_list;    // "" = default
  std::string key_exchange_groups;  // "" = default
  std::string server_name;          // SNI and name; "" = the host
  // A session from an earlier ProbeResult, to try resuming it.
  std::shared_ptr<void> resume;
  absl::Duration timeout = absl::Seconds(5);
};

// One handshake with `host:port` accepting any certificate (the point is to
// see what the server offers). The session info on success; the reason
// otherwise.
struct ProbeResult {
  TlsSessionInfo session;
  // The server refused us right after the handshake for presenting no
  // client certificate (TLS 1.3 servers say so after the handshake): the
  // read after it failed with TlsFailure::Kind::kPeerRefusedCertificate.
  bool client_certificate_required = false;
  // The session the server let us keep (tickets), for ProbeAttempt::resume.
  std::shared_ptr<void> session_for_resumption;
};
absl::StatusOr<ProbeResult> ProbeHandshake(const std::string& host, int port,
                                           const ProbeAttempt& attempt);

}  // namespace appwire

#endif  // APPWIRE_TOOLS_APPWIRE_TLS_PROBE_H_
