// CallContext: what a handler knows about the call it is serving.
//
//   absl::StatusOr<EchoResponse> Echo(CallContext& context, const EchoRequest& r) {
//     LogInfo(absl::StrCat(context.method(), " from ", context.peer_address(),
//                          " over ", context.tls_version()));
//     ...
//   }
//
// Valid for the duration of the handler call. Not thread-safe: one handler
// uses it at a time.
#ifndef APPWIRE_SERVER_CALL_CONTEXT_H_
#define APPWIRE_SERVER_CALL_CONTEXT_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "transport/tls_session_info.h"

namespace appwire {

// Who the client proved to be with its certificate (mutual TLS): subject
// and common name, subject alternative names (DNS names, IP addresses,
// e-mail addresses and URIs as wolfSSL lists them), issuer, serial,
// validity and SHA-256 fingerprint.
using PeerIdentity = CertificateInfo;

class CallContext {
 public:
  CallContext(std::string method, std::shared_ptr<const TlsSessionInfo> session,
              absl::Time deadline)
      : method_(std::move(method)), session_(std::move(session)), deadline_(deadline) {}

  // "package.Service/Method".
  const std::string& method() const { return method_; }
  // The client's address, "127.0.0.1:53412" or "[::1]:53412".
  const std::string& peer_address() const { return session_->peer_address; }
  // Always true: appwire has no plaintext mode. Kept so handlers can assert it.
  bool is_tls() const { return true; }
  // "TLSv1.3".
  const std::string& tls_version() const { return session_->version; }
  // IANA suite name, "TLS_AES_128_GCM_SHA256".
  const std::string& cipher() const { return session_->cipher; }
  // The host name the client asked for with SNI; empty when it sent none.
  const std::string& server_name() const { return session_->server_name; }
  // The client's certificate, when it presented one (mutual TLS).
  const std::optional<PeerIdentity>& peer_certificate() const {
    return session_->peer_certificate;
  }
  // Whether the TLS session was resumed rather than fully negotiated.
  bool session_resumed() const { return session_->resumed; }
  const TlsSessionInfo& session() const { return *session_; }

  // When the client stops waiting; absl::InfiniteFuture() when it set none.
  absl::Time deadline() const { return deadline_; }
  bool deadline_passed() const { return absl::Now() >= deadline_; }

 private:
  std::string method_;
  std::shared_ptr<const TlsSessionInfo> session_;
  absl::Time deadline_;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_CALL_CONTEXT_H_
