// TlsStream: TLS over one connected TCP socket, with the same shape as the
// socket itself: an asynchronous handshake, asynchronous reads, writes and
// a shutdown. Framing and RPC code above it never see wolfSSL: they hold it
// as a ByteStream (appwire/transport/byte_stream.h).
//
// Threads: the handshake and reads run on the socket's executor (one read at
// a time; completion handlers run there). Write() may be called from any
// thread at any time after the handshake: it encrypts and sends at once when
// the socket can take the bytes and otherwise queues them (in order) until
// the socket is writable, so it never blocks.
//
// Memory: an idle stream holds no read buffer; reads use a per-thread
// scratch buffer and wolfSSL's own buffers shrink after use.
#ifndef APPWIRE_TRANSPORT_TLS_STREAM_H_
#define APPWIRE_TRANSPORT_TLS_STREAM_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "appwire/transport/byte_stream.h"
#include "appwire/transport/tls_context.h"
#include "appwire/transport/tls_session_info.h"

namespace appwire {
namespace internal {
class TlsSession;
}

class TlsStream final : public ByteStream, public std::enable_shared_from_this<TlsStream> {
 public:
  // `server_name`: for clients, the name the server must prove (SNI and
  // certificate check); ignored for servers.
  // `resume`: a session saved from an earlier connection to the same server
  // (SavedSession()); the handshake then offers its ticket, and a server that
  // accepts it skips the certificate exchange (info().resumed is true).
  static absl::StatusOr<std::shared_ptr<TlsStream>> Create(
      asio::ip::tcp::socket socket, std::shared_ptr<const TlsContext> context,
      std::string server_name, std::shared_ptr<void> resume = nullptr);

  // What a server chooses its TlsContext by, from the ClientHello: the host
  // name the client asked for with SNI ("" when it sent none, or an IP
  // address) and the ALPN protocols it offers (an ACME validator offers
  // only "acme-tls/1").
  struct ClientHello {
    std::string server_name;
    std::vector<std::string> alpn_protocols;
  };
  using ContextSelector =
      std::function<std::shared_ptr<const TlsContext>(const ClientHello& hello)>;
  // A server stream that picks its context once the ClientHello arrived.
  static absl::StatusOr<std::shared_ptr<TlsStream>> CreateServer(
      asio::ip::tcp::socket socket, ContextSelector selector, absl::Duration handshake_timeout);
  ~TlsStream() override;

  // Performs the handshake, within the context's handshake_timeout.
  void AsyncHandshake(std::function<void(absl::Status)> done) override;

  // Waits for data and appends the plaintext it decrypts to `*plaintext`
  // (which must outlive the call), then calls done(OK). Unavailable when the
  // peer closed the connection.
  void AsyncRead(std::string* plaintext, std::function<void(absl::Status)> done) override;

  // Encrypts `plaintext` and sends it, or queues it behind earlier writes.
  // Thread-safe and non-blocking. Fails once the stream is closed.
  absl::Status Write(absl::string_view plaintext) override;

  // Sends close_notify (after queued writes), stops sending, and closes the
  // socket when the peer closes or after 2 s; reads go on meanwhile, so keep
  // reading (and discarding). Thread-safe; idempotent.
  void Shutdown() override;

  // Closes the socket at once, cancelling pending operations. Thread-safe.
  void Close() override;

  // What the handshake negotiated. Valid after AsyncHandshake succeeded.
  const TlsSessionInfo& info() const override { return info_; }
  const std::string& peer_address() const override { return peer_address_; }

  // Client: this connection's TLS session, to resume on a later connection
  // (Create's `resume`); null when the server issued no ticket. TLS 1.3
  // tickets arrive after the handshake, with the server's first data: take
  // it once something was read. Thread-safe.
  std::shared_ptr<void> SavedSession() const override;

  // Bytes accepted by Write() but not yet taken by the socket. Cheap (an
  // atomic read), for the owner's backpressure checks.
  size_t queued_bytes() const override { return queued_.load(std::memory_order_acquire); }
  // The ciphertext input buffer the stream holds now (0 when idle).
  size_t input_buffer_bytes() const;
  // Called on the executor each time the queue has drained to nothing after
  // the socket was full. Set before the first Write().
  void SetDrainedCallback(std::function<void()> drained) override {
    drained_ = std::move(drained);
  }

  // Runs `task` on the stream's executor (the I/O thread). Thread-safe.
  void Post(std::function<void()> task) override;

  // Closes the socket at the latest `within` from now, whatever the peer
  // does (a lingering Shutdown() waits for queued data to go out first,
  // which a peer that does not read never lets happen). Thread-safe.
  void CloseWithin(absl::Duration within) override;

 private:
  TlsStream(asio::ip::tcp::socket socket, std::string peer_address);
  // Non-blocking, no Nagle, peer address known: what both factories need.
  static absl::StatusOr<std::shared_ptr<TlsStream>> WrapSocket(asio::ip::tcp::socket socket);
  void HandshakeStep();
  void WaitForHandshakeBytes();
  void DiscardUntilClosed();
  absl::StatusOr<bool> StartServerSessionLocked();
  void FinishHandshake(absl::Status status);
  // Sends bytes[*offset..] as far as the socket takes them, advancing
  // *offset. False on a socket error.
  bool SendFrom(const std::string& bytes, size_t* offset, std::error_code* error);
  // mu_ held: moves the session's ciphertext to the socket, or queues it in
  // order behind unsent_ when the socket is full.
  bool FlushLocked(std::error_code* error);
  absl::Status EncryptAndSendLocked(absl::string_view plaintext);
  void WaitWritable();
  void OnWritable();
  void ReadAvailable(std::string* plaintext, std::function<void(absl::Status)> done);
  void FinishShutdown();
  // mu_ held: publishes how much is queued.
  void UpdateQueuedLocked() {
    queued_.store(unsent_.size() - unsent_offset_ + unencrypted_.size(),
                  std::memory_order_release);
  }
  void CloseOnExecutor();

  asio::ip::tcp::socket socket_;
  asio::steady_timer handshake_timer_;
  asio::steady_timer close_timer_;  // CloseWithin
  std::function<void()> drained_;
  std::atomic<size_t> queued_{0};  // see queued_bytes(); written with mu_ held
  std::string peer_address_;
  std::function<void(absl::Status)> handshake_done_;
  bool handshake_timed_out_ = false;
  absl::Duration handshake_timeout_ = absl::Seconds(10);
  ContextSelector selector_;
  std::string client_hello_;  // server, before the session exists
  // Executor only: the next read must look at the socket before waiting.
  bool read_pending_ = false;
  TlsSessionInfo info_;

  // Guards session_ and the write state below.
  mutable std::mutex mu_;
  // Taken (before releasing mu_) by whoever sends ciphertext, so records
  // reach the socket in the order they were encrypted while a reader may
  // decrypt in parallel.
  std::mutex send_mu_;
  std::unique_ptr<internal::TlsSession> session_;
  std::string unsent_;           // ciphertext waiting for the socket
  size_t unsent_offset_ = 0;     // how much of unsent_ has been sent
  std::string unencrypted_;      // plaintext queued while the socket is full
  bool close_notify_pending_ = false;
  bool waiting_writable_ = false;
  bool shutdown_requested_ = false;
  bool closed_ = false;
  absl::Status write_error_;
};

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_TLS_STREAM_H_
