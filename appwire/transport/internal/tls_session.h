// A sans-I/O TLS engine: one WOLFSSL object whose I/O callbacks read
// ciphertext from an input buffer we fill and write ciphertext into an output
// buffer we drain (the shape of Asio's ssl::detail::engine and wolfSSL's
// memory-tls.c example). It never touches a socket, so TlsStream decides how
// and when bytes move, and every WANT_READ becomes one socket read.
//
// Not thread-safe: the owner serialises calls (TlsStream holds a mutex).
#ifndef APPWIRE_TRANSPORT_INTERNAL_TLS_SESSION_H_
#define APPWIRE_TRANSPORT_INTERNAL_TLS_SESSION_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "appwire/transport/internal/errors.h"
#include "appwire/transport/internal/wolfssl.h"
#include "appwire/transport/tls_context.h"
#include "appwire/transport/tls_session_info.h"

namespace appwire::internal {

// wolfSSL verify callback installed on client contexts: records the first
// failure (with the certificate's names) for the error message, and lets
// chain errors through when the context pins a fingerprint (the pin is
// checked after the handshake instead).
int VerifyCallback(int preverify_ok, WOLFSSL_X509_STORE_CTX* store);

class TlsSession {
 public:
  // `server_name` (client only) sets SNI (when it is a host name, not an IP
  // address) and the name the server certificate must carry.
  static absl::StatusOr<std::unique_ptr<TlsSession>> Create(
      std::shared_ptr<const TlsContext> context, std::string peer_address,
      std::string server_name);
  ~TlsSession();

  // Ciphertext that arrived from the peer: PrepareInput returns room for at
  // least `size` bytes, CommitInput says how many were written there. The
  // input buffer is freed whenever it has been consumed, so idle sessions
  // hold none.
  char* PrepareInput(size_t size);
  void CommitInput(size_t size);
  void Feed(const char* data, size_t size);
  // After a wake-up's reads: frees the input buffer when it holds nothing.
  // PrepareInput makes 64 KiB of room before each read, and a read that
  // found nothing left it allocated on an idle connection (a third of bench
  // W5's connections held 64-128 KiB: 20 -> 15 KiB per connection).
  void TrimInput();
  // Bytes of input buffer held (its capacity), for tests and accounting.
  size_t input_capacity() const { return input_capacity_; }

  // Advances the handshake: true when done, false when it needs more input
  // (send output() first). Errors carry the full reason.
  absl::StatusOr<bool> Handshake();

  // Decrypts whatever complete records the input holds, appending plaintext.
  // OK with nothing appended when more input is needed; Unavailable when the
  // peer closed the TLS session.
  absl::Status Read(std::string* plaintext);

  // Encrypts `data` into output().
  absl::Status Write(absl::string_view data);

  // Queues close_notify into output().
  void Shutdown();

  // Ciphertext waiting to go to the peer. The owner sends and erases it.
  std::string& output() { return output_; }

  // The session has ended (the peer sent close_notify, or a record failed).
  // Plaintext that came before the end is delivered first; the Read() after
  // that reports the end.
  bool peer_closed() const { return !deferred_error_.ok(); }
  // Why the session ended (OK while it has not).
  const absl::Status& end_reason() const { return deferred_error_; }

  TlsSessionInfo Info() const;
  // Client: the TLS session to resume later (caller frees with
  // wolfSSL_SESSION_free), and resuming one.
  WOLFSSL_SESSION* SavedSession() { return wolfSSL_get1_session(ssl_); }
  bool Resume(WOLFSSL_SESSION* session) { return wolfSSL_set_session(ssl_, session) == WOLFSSL_SUCCESS; }
  // Server: the host name the client asked for (SNI), as the stream read it
  // from the ClientHello.
  void set_requested_server_name(std::string name) { requested_server_name_ = std::move(name); }
  const TlsContext& context() const { return *context_; }
  const std::string& peer_address() const { return peer_address_; }

 private:
  friend int VerifyCallback(int, WOLFSSL_X509_STORE_CTX*);
  TlsSession() = default;
  static int Receive(WOLFSSL* ssl, char* buffer, int size, void* self);
  static int Send(WOLFSSL* ssl, char* buffer, int size, void* self);
  absl::Status Failure(int ret, absl::string_view operation);
  absl::Status CheckPeerAfterHandshake();
  // The peer's certificate, described once per handshake: the pin check
  // and Info() both need it, and parsing it again costs about 1% of a new
  // connection (bench W4). Null when the peer presented none. Held on the
  // heap: inline it would add 384 bytes to every connection (bench W5).
  const CertificateInfo* PeerCertificate() const;

  std::shared_ptr<const TlsContext> context_;
  WOLFSSL* ssl_ = nullptr;
  std::string peer_address_;
  std::string server_name_;
  std::string requested_server_name_;
  std::unique_ptr<char[]> input_;
  size_t input_capacity_ = 0;
  size_t input_begin_ = 0;
  size_t input_end_ = 0;
  std::string output_;
  TlsFailureContext failure_;
  bool first_bytes_recorded_ = false;
  absl::Status deferred_error_;
  mutable bool peer_described_ = false;
  mutable std::unique_ptr<const CertificateInfo> peer_certificate_;
};

}  // namespace appwire::internal

#endif  // APPWIRE_TRANSPORT_INTERNAL_TLS_SESSION_H_
