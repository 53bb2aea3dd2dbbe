// CallContext: what a handler knows about the call it is serving.
//
//   absl::StatusOr<EchoResponse> Echo(CallContext& context, const EchoRequest& r) {
//     LogInfo(absl::StrCat(context.method(), " from ", context.peer_address(),
//                          " over ", context.tls_version()));
//     auto id = context.metadata().find("x-request-id");
//     context.AddTrailer("x-served-by", "node-1");
//     ...
//   }
//
// Cancellation: a call is cancelled when the client cancels it, when its
// deadline passes, when its connection is lost, and when Server::Drain
// times out. A long handler checks cancelled() or registers OnCancel();
// whatever it returns afterwards is discarded (the client already has its
// status). Stream reads and writes return false once the call is cancelled.
//
// Valid for the duration of the handler call. cancelled(), OnCancel() and
// AddTrailer() are thread-safe; the rest is read-only.
#ifndef APPWIRE_SERVER_CALL_CONTEXT_H_
#define APPWIRE_SERVER_CALL_CONTEXT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "appwire/common/export.h"
#include "appwire/common/metadata.h"
#include "appwire/transport/tls_session_info.h"

namespace appwire {

struct ServerCall;

// Who the client proved to be with its certificate (mutual TLS): subject
// and common name, subject alternative names (DNS names, IP addresses,
// e-mail addresses and URIs as wolfSSL lists them), issuer, serial,
// validity and SHA-256 fingerprint.
using PeerIdentity = CertificateInfo;

class APPWIRE_EXPORT CallContext {
 public:
  // Made by the server for each call.
  explicit CallContext(std::shared_ptr<ServerCall> call);

  // "package.Service/Method".
  const std::string& method() const;
  // The client's address, "127.0.0.1:53412" or "[::1]:53412".
  const std::string& peer_address() const { return session().peer_address; }
  // Always true: appwire has no plaintext mode. Kept so handlers can assert it.
  bool is_tls() const { return true; }
  // "TLSv1.3".
  const std::string& tls_version() const { return session().version; }
  // IANA suite name, "TLS_AES_128_GCM_SHA256".
  const std::string& cipher() const { return session().cipher; }
  // The host name the client asked for with SNI; empty when it sent none.
  const std::string& server_name() const { return session().server_name; }
  // The client's certificate, when it presented one (mutual TLS).
  const std::optional<PeerIdentity>& peer_certificate() const {
    return session().peer_certificate;
  }
  // Whether the TLS session was resumed rather than fully negotiated.
  bool session_resumed() const { return session().resumed; }
  const TlsSessionInfo& session() const;

  // The request headers the client sent (appwire/common/metadata.h).
  const Metadata& metadata() const;
  // Adds a response trailer, sent with the call's status. Checked against
  // kMaxMetadataSize when the call ends: too large, and the client gets
  // kResourceExhausted instead of the response.
  void AddTrailer(std::string key, std::string value);

  // When the client stops waiting; absl::InfiniteFuture() when it set none.
  absl::Time deadline() const;
  // On the server's clock (the one its deadlines are read on).
  bool deadline_passed() const;

  // Whether the call was cancelled (see above), and why (OK when not).
  bool cancelled() const;
  absl::Status cancel_reason() const;
  // Runs `callback` once when the call is cancelled, on the thread that
  // cancels it (the server's I/O or deadline thread, Server::Drain's caller;
  // keep it short and do not take locks the handler holds), or at once on
  // this thread when it already is.
  // Not run when the call completes normally.
  void OnCancel(std::function<void()> callback);

 private:
  std::shared_ptr<ServerCall> call_;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_CALL_CONTEXT_H_
