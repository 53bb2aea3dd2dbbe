// Longer than our ~500-line norm on purpose: one class whose handshake,
// read and write paths share one mutex, one output queue and one engine;
// splitting it would put that shared state behind an interface only this
// file uses.
#include "appwire/transport/tls_stream.h"

#include <chrono>

#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "appwire/transport/internal/buffers.h"
#include "appwire/transport/internal/client_hello.h"
#include "appwire/transport/internal/errors.h"
#include "appwire/transport/tls_failure.h"
#include "appwire/transport/internal/tls_session.h"
#include "appwire/transport/internal/wolfssl.h"

namespace appwire {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// Upper bound of bytes taken from the socket per wake-up, so one busy
// connection cannot starve the others sharing the I/O thread.
constexpr int kMaxReadsPerWake = 16;

// The socket is non-blocking (WrapSocket sets it once, for its lifetime), so
// read_some and write_some with an error_code are one recv(2)/send(2) each
// (WSARecv/WSASend on Windows): no poll, no extra system call, no
// allocation, and no exception. They fail with would_block (EAGAIN,
// WSAEWOULDBLOCK) when the socket is empty or full, instead of waiting:
// Asio's sync_recv1/sync_send1 return at once when the user set the socket
// non-blocking. A socket whose peer has gone never raises SIGPIPE: Asio
// adds MSG_NOSIGNAL to every send on Linux (socket_ops::send1) and sets
// SO_NOSIGPIPE on every socket it opens or accepts on macOS and FreeBSD
// (socket_ops::socket and accept, asio/detail/impl/socket_ops.ipp);
// Windows has no SIGPIPE.

// Nothing to read, or no room to write, right now.
bool WouldBlock(const std::error_code& error) {
  return error == asio::error::would_block || error == asio::error::try_again;
}

// A signal came before the system call did anything: try again.
bool Interrupted(const std::error_code& error) { return error == asio::error::interrupted; }

std::string DescribeEndpoint(const asio::ip::tcp::socket& socket) {
  std::error_code error;
  asio::ip::tcp::endpoint endpoint = socket.remote_endpoint(error);
  if (error) return "unknown peer";
  if (endpoint.address().is_v6()) {
    return absl::StrCat("[", endpoint.address().to_string(), "]:", endpoint.port());
  }
  return absl::StrCat(endpoint.address().to_string(), ":", endpoint.port());
}

}  // namespace

TlsStream::TlsStream(asio::ip::tcp::socket socket, std::string peer_address)
    : socket_(std::move(socket)),
      handshake_timer_(socket_.get_executor()),
      close_timer_(socket_.get_executor()),
      peer_address_(std::move(peer_address)) {}

TlsStream::~TlsStream() = default;

absl::StatusOr<std::shared_ptr<TlsStream>> TlsStream::WrapSocket(asio::ip::tcp::socket socket) {
  std::error_code error;
  socket.non_blocking(true, error);
  if (!error) socket.set_option(asio::ip::tcp::no_delay(true), error);
  std::string peer = DescribeEndpoint(socket);
  if (error) return internal::AsioErrorToStatus(error, "socket setup", peer);
  return std::shared_ptr<TlsStream>(new TlsStream(std::move(socket), peer));
}

absl::StatusOr<std::shared_ptr<TlsStream>> TlsStream::Create(
    asio::ip::tcp::socket socket, std::shared_ptr<const TlsContext> context,
    std::string server_name, std::shared_ptr<void> resume) {
  absl::StatusOr<std::shared_ptr<TlsStream>> wrapped = WrapSocket(std::move(socket));
  if (!wrapped.ok()) return wrapped.status();
  std::shared_ptr<TlsStream> stream = *std::move(wrapped);
  absl::StatusOr<std::unique_ptr<internal::TlsSession>> session = internal::TlsSession::Create(
      std::move(context), stream->peer_address_, std::move(server_name));
  if (!session.ok()) return session.status();
  // A session the server no longer accepts just means a full handshake.
  if (resume != nullptr) (*session)->Resume(static_cast<WOLFSSL_SESSION*>(resume.get()));
  stream->handshake_timeout_ = session.value()->context().options().handshake_timeout;
  stream->session_ = *std::move(session);
  return stream;
}

std::shared_ptr<void> TlsStream::SavedSession() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (session_ == nullptr) return nullptr;
  WOLFSSL_SESSION* saved = session_->SavedSession();
  if (saved == nullptr) return nullptr;
  return std::shared_ptr<void>(
      saved, [](void* s) { wolfSSL_SESSION_free(static_cast<WOLFSSL_SESSION*>(s)); });
}

absl::StatusOr<std::shared_ptr<TlsStream>> TlsStream::CreateServer(
    asio::ip::tcp::socket socket, ContextSelector selector, absl::Duration handshake_timeout) {
  absl::StatusOr<std::shared_ptr<TlsStream>> wrapped = WrapSocket(std::move(socket));
  if (!wrapped.ok()) return wrapped.status();
  std::shared_ptr<TlsStream> stream = *std::move(wrapped);
  stream->selector_ = std::move(selector);
  stream->handshake_timeout_ = handshake_timeout;
  return stream;
}

// mu_ held. Server streams choose their TlsContext by the name the client
// asks for (SNI), which only the ClientHello says: until it is complete the
// bytes wait in client_hello_. Returns false when more bytes are needed.
absl::StatusOr<bool> TlsStream::StartServerSessionLocked() {
  // A ClientHello fits in one 16 KiB record (plus its 5-byte header).
  constexpr size_t kMaxClientHello = 16 * 1024 + 5;
  if (client_hello_.empty()) return false;
  // Not a TLS handshake record at all (a plaintext client): no use waiting
  // for a ClientHello; the handshake below reports what came instead.
  const bool handshake_record = static_cast<unsigned char>(client_hello_[0]) == 0x16;
  unsigned char name[256];
  unsigned int name_length = sizeof(name) - 1;
  int found = wolfSSL_SNI_GetFromBuffer(
      reinterpret_cast<const unsigned char*>(client_hello_.data()),
      static_cast<unsigned int>(client_hello_.size()), WOLFSSL_SNI_HOST_NAME, name,
      &name_length);
  if (handshake_record && found == INCOMPLETE_DATA && client_hello_.size() < kMaxClientHello) {
    return false;
  }
  // No name, an unknown one, or bytes that are not a ClientHello at all:
  // the default context, whose handshake then reports what is wrong.
  ClientHello hello;
  if (found == WOLFSSL_SUCCESS) hello.server_name.assign(reinterpret_cast<char*>(name), name_length);
  hello.alpn_protocols = internal::ClientHelloAlpnProtocols(client_hello_);
  absl::StatusOr<std::unique_ptr<internal::TlsSession>> session =
      internal::TlsSession::Create(selector_(hello), peer_address_, "");
  if (!session.ok()) return session.status();
  session_ = *std::move(session);
  session_->set_requested_server_name(hello.server_name);
  session_->Feed(client_hello_.data(), client_hello_.size());
  std::string().swap(client_hello_);
  return true;
}

// ---- Handshake (executor only) ----

void TlsStream::AsyncHandshake(std::function<void(absl::Status)> done) {
  handshake_done_ = std::move(done);
  handshake_timer_.expires_after(
      std::chrono::microseconds(absl::ToInt64Microseconds(handshake_timeout_)));
  auto self = shared_from_this();
  handshake_timer_.async_wait([self](const std::error_code& error) {
    if (error || !self->handshake_done_) return;
    self->handshake_timed_out_ = true;
    std::error_code ignored;
    self->socket_.cancel(ignored);
  });
  asio::post(socket_.get_executor(), [self] { self->HandshakeStep(); });
}

void TlsStream::HandshakeStep() {
  absl::StatusOr<bool> finished;
  std::error_code error;
  bool sent = true;
  bool need_hello = false;
  absl::Status start_error;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (session_ == nullptr) {
      absl::StatusOr<bool> started = StartServerSessionLocked();
      start_error = started.status();
      need_hello = started.ok() && !*started;
    }
  }
  if (!start_error.ok()) {
    FinishHandshake(start_error);
    return;
  }
  if (need_hello) {
    WaitForHandshakeBytes();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished = session_->Handshake();
    session_->TrimInput();
    // Alerts go out too, so the peer learns why.
    std::string& output = session_->output();
    size_t offset = 0;
    sent = SendFrom(output, &offset, &error);
    if (sent && offset < output.size()) {
      // The socket is full during a handshake: rare; finish the write first.
      auto self = shared_from_this();
      auto bytes = std::make_shared<std::string>(output.substr(offset));
      output.clear();
      asio::async_write(socket_, asio::buffer(*bytes),
                        [self, bytes, finished](const std::error_code& e, size_t) {
                          if (e) {
                            self->FinishHandshake(internal::AsioErrorToStatus(
                                e, "TLS handshake", self->peer_address_));
                          } else if (!finished.ok() || *finished) {
                            self->FinishHandshake(finished.status());
                          } else {
                            self->HandshakeStep();
                          }
                        });
      return;
    }
    output.clear();
  }
  if (!sent) {
    FinishHandshake(internal::AsioErrorToStatus(error, "TLS handshake", peer_address_));
    return;
  }
  if (!finished.ok()) {
    FinishHandshake(finished.status());
    return;
  }
  if (*finished) {
    FinishHandshake(absl::OkStatus());
    return;
  }
  WaitForHandshakeBytes();
}

void TlsStream::WaitForHandshakeBytes() {
  auto self = shared_from_this();
  socket_.async_wait(asio::ip::tcp::socket::wait_read, [self](const std::error_code& e) {
    if (e) {
      self->FinishHandshake(internal::AsioErrorToStatus(e, "TLS handshake", self->peer_address_));
      return;
    }
    bool eof = false;
    std::error_code read_error;
    for (;;) {
      // Until the session exists (a server still collecting the
      // ClientHello, see StartServerSessionLocked) bytes go to client_hello_.
      thread_local char hello_scratch[kReadChunk];
      char* room;
      {
        std::lock_guard<std::mutex> lock(self->mu_);
        room = self->session_ == nullptr ? hello_scratch
                                         : self->session_->PrepareInput(kReadChunk);
      }
      std::error_code error;
      const size_t n = self->socket_.read_some(asio::buffer(room, kReadChunk), error);
      if (n > 0) {
        std::lock_guard<std::mutex> lock(self->mu_);
        if (room == hello_scratch) {
          self->client_hello_.append(hello_scratch, n);
        } else {
          self->session_->CommitInput(n);
        }
      }
      if (n > 0) {
        if (n < kReadChunk) break;
        continue;
      }
      if (error == asio::error::eof) eof = true;
      else if (!WouldBlock(error) && !Interrupted(error)) read_error = error;
      break;
    }
    if (read_error) {
      self->FinishHandshake(
          internal::AsioErrorToStatus(read_error, "TLS handshake", self->peer_address_));
      return;
    }
    bool nothing_received = false;
    if (eof) {
      std::lock_guard<std::mutex> lock(self->mu_);
      nothing_received = self->session_ == nullptr && self->client_hello_.empty();
    }
    self->HandshakeStep();
    if (eof && self->handshake_done_) {
      self->FinishHandshake(
          nothing_received
              ? WithTlsFailure(absl::UnavailableError(absl::StrCat(
                                   "TLS handshake with ", self->peer_address_,
                                   " did not begin: the peer closed the connection without "
                                   "sending anything (a TCP health check or a port scan)")),
                               TlsFailure{TlsFailure::Kind::kClosedBeforeHello, "", -1})
              : absl::UnavailableError(absl::StrCat(
                    "TLS handshake with ", self->peer_address_,
                    " failed: the connection was closed by the peer before the handshake "
                    "finished")));
    }
  });
}

void TlsStream::FinishHandshake(absl::Status status) {
  if (!handshake_done_) return;
  handshake_timer_.cancel();
  if (handshake_timed_out_) {
    status = absl::DeadlineExceededError(absl::StrCat(
        "TLS handshake with ", peer_address_, " did not complete within ",
        absl::FormatDuration(handshake_timeout_),
        " (handshake timeout); the peer may not be speaking TLS, or the "
        "network is too slow"));
  }
  if (status.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    info_ = session_->Info();
    read_pending_ = true;
  } else if (handshake_timed_out_ || selector_ == nullptr) {
    Close();
  } else {
    // A server refusing a client (say, for its certificate) has just sent
    // an alert saying why. A TLS 1.3 client may already be sending its
    // first call: closing now would answer that with a reset, which can
    // destroy the alert before the client reads it. Read and drop what
    // comes for a moment instead.
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    auto self = shared_from_this();
    handshake_timer_.expires_after(std::chrono::seconds(2));
    handshake_timer_.async_wait([self](const std::error_code& error) {
      if (!error) self->CloseOnExecutor();
    });
    DiscardUntilClosed();
  }
  auto done = std::move(handshake_done_);
  handshake_done_ = nullptr;
  done(status);
}

void TlsStream::DiscardUntilClosed() {
  auto self = shared_from_this();
  socket_.async_wait(asio::ip::tcp::socket::wait_read, [self](const std::error_code& e) {
    if (e) {
      self->CloseOnExecutor();
      return;
    }
    thread_local char sink[16 * 1024];
    for (int i = 0; i < 64; ++i) {
      std::error_code error;
      const size_t n = self->socket_.read_some(asio::buffer(sink), error);
      if (n > 0) continue;
      if (WouldBlock(error) || Interrupted(error)) break;
      self->CloseOnExecutor();  // the peer closed, or the socket failed
      return;
    }
    self->DiscardUntilClosed();
  });
}

// ---- Reads (executor only) ----

void TlsStream::AsyncRead(std::string* plaintext, std::function<void(absl::Status)> done) {
  auto self = shared_from_this();
  absl::Status ended;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended = session_->end_reason();
    if (!ended.ok() && write_error_.ok()) write_error_ = ended;
  }
  if (!ended.ok()) {
    // Nothing more will come; report why without waiting for the socket.
    asio::post(socket_.get_executor(), [ended, done = std::move(done)] { done(ended); });
    return;
  }
  if (read_pending_) {
    // Bytes may already be waiting (records that arrived with the end of the
    // handshake, or a socket we stopped draining). Asio's reactor is
    // edge-triggered: waiting for readability now could wait forever.
    read_pending_ = false;
    asio::post(socket_.get_executor(), [self, plaintext, done = std::move(done)]() mutable {
      self->ReadAvailable(plaintext, std::move(done));
    });
    return;
  }
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self, plaintext, done = std::move(done)](const std::error_code& e) mutable {
                       if (e) {
                         done(internal::AsioErrorToStatus(e, "read", self->peer_address_));
                         return;
                       }
                       self->ReadAvailable(plaintext, std::move(done));
                     });
}

size_t TlsStream::input_buffer_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return session_ == nullptr ? 0 : session_->input_capacity();
}

void TlsStream::ReadAvailable(std::string* plaintext, std::function<void(absl::Status)> done) {
  bool eof = false;
  std::error_code read_error;
  const size_t plaintext_before = plaintext->size();
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) {
      done(absl::UnavailableError(absl::StrCat("connection with ", peer_address_, " is closed")));
      return;
    }
    read_pending_ = true;  // unless the loop below drains the socket
    for (int i = 0; i < kMaxReadsPerWake; ++i) {
      char* room = session_->PrepareInput(kReadChunk);
      std::error_code error;
      const size_t n = socket_.read_some(asio::buffer(room, kReadChunk), error);
      if (n > 0) {
        session_->CommitInput(n);
        // Decrypt as we go, so the ciphertext buffer stays one chunk long.
        status = session_->Read(plaintext);
        if (!status.ok()) break;
        if (n < kReadChunk) {
          read_pending_ = false;
          break;
        }
        continue;
      }
      read_pending_ = false;
      if (error == asio::error::eof) {
        eof = true;
      } else if (Interrupted(error)) {
        read_pending_ = true;
      } else if (!WouldBlock(error)) {
        read_error = error;
      }
      break;
    }
    // Records may be waiting from before this wake-up (the end of the
    // handshake); a session that has ended reports it on the next read.
    if (status.ok() && !session_->peer_closed()) status = session_->Read(plaintext);
    session_->TrimInput();
    // Reading can produce output (e.g. a KeyUpdate answer).
    if (status.ok()) {
      std::error_code error;
      if (!FlushLocked(&error)) {
        write_error_ = internal::AsioErrorToStatus(error, "write", peer_address_);
      }
    }
  }
  if (!status.ok()) {
    {
      // Writes from now on fail with the real reason (say, the peer's alert
      // refusing our certificate), not a bare "closed".
      std::lock_guard<std::mutex> lock(mu_);
      if (write_error_.ok()) write_error_ = status;
    }
    done(status);
    return;
  }
  if (plaintext->size() > plaintext_before) {
    done(absl::OkStatus());
    return;
  }
  if (read_error) {
    done(internal::AsioErrorToStatus(read_error, "read", peer_address_));
    return;
  }
  if (eof) {
    done(absl::UnavailableError(
        absl::StrCat("the connection with ", peer_address_, " was closed by the peer")));
    return;
  }
  // Only part of a record so far: read the rest.
  AsyncRead(plaintext, std::move(done));
}

// ---- Writes (any thread) ----

bool TlsStream::SendFrom(const std::string& bytes, size_t* offset, std::error_code* error) {
  while (*offset < bytes.size()) {
    std::error_code e;
    const size_t n =
        socket_.write_some(asio::buffer(bytes.data() + *offset, bytes.size() - *offset), e);
    if (n > 0) {
      *offset += n;
      continue;
    }
    if (Interrupted(e)) continue;
    if (WouldBlock(e)) return true;
    // Nothing sent and no error: a stream socket does not do that, but if
    // it did, retrying would spin.
    *error = e ? e : std::error_code(asio::error::broken_pipe);
    return false;
  }
  return true;
}

bool TlsStream::FlushLocked(std::error_code* error) {
  std::string& output = session_->output();
  if (output.empty()) return true;
  if (waiting_writable_) {
    unsent_.append(output);
    internal::ClearBuffer(&output);
    return true;
  }
  size_t offset = 0;
  if (!SendFrom(output, &offset, error)) return false;
  if (offset < output.size()) {
    // The socket is full: the rest waits, without being copied, until it
    // is writable again.
    unsent_.swap(output);
    unsent_offset_ = offset;
    waiting_writable_ = true;
    WaitWritable();
  }
  internal::ClearBuffer(&output);
  return true;
}

absl::Status TlsStream::Write(absl::string_view plaintext) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!write_error_.ok()) return write_error_;
  if (closed_ || shutdown_requested_) {
    return absl::UnavailableError(
        absl::StrCat("the connection with ", peer_address_, " is closed"));
  }
  if (!unencrypted_.empty()) {
    unencrypted_.append(plaintext.data(), plaintext.size());  // keeps the order
    UpdateQueuedLocked();
    return absl::OkStatus();
  }
  absl::Status status = EncryptAndSendLocked(plaintext);
  UpdateQueuedLocked();
  return status;
}

absl::Status TlsStream::EncryptAndSendLocked(absl::string_view plaintext) {
  // Slice by slice, so that the peer decrypts the first slices while we
  // encrypt the next: a large message keeps both ends' cores busy.
  constexpr size_t kSlice = 256 * 1024;
  while (!plaintext.empty()) {
    if (waiting_writable_) {
      // The socket is full: encrypt the rest when it drains (OnWritable).
      unencrypted_.append(plaintext.data(), plaintext.size());
      return absl::OkStatus();
    }
    absl::string_view slice = plaintext.substr(0, kSlice);
    plaintext.remove_prefix(slice.size());
    absl::Status status = session_->Write(slice);
    if (!status.ok()) {
      write_error_ = status;
      return status;
    }
    std::error_code error;
    if (!FlushLocked(&error)) {
      write_error_ = internal::AsioErrorToStatus(error, "write", peer_address_);
      return write_error_;
    }
  }
  return absl::OkStatus();
}

void TlsStream::WaitWritable() {
  auto self = shared_from_this();
  asio::post(socket_.get_executor(), [self] {
    self->socket_.async_wait(asio::ip::tcp::socket::wait_write,
                             [self](const std::error_code& e) {
                               if (e) {
                                 std::lock_guard<std::mutex> lock(self->mu_);
                                 self->write_error_ =
                                     internal::AsioErrorToStatus(e, "write", self->peer_address_);
                                 self->waiting_writable_ = false;
                                 return;
                               }
                               self->OnWritable();
                             });
  });
}

void TlsStream::OnWritable() {
  bool close_now = false;
  bool linger = false;
  bool drained = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    std::error_code error;
    if (!SendFrom(unsent_, &unsent_offset_, &error)) {
      write_error_ = internal::AsioErrorToStatus(error, "write", peer_address_);
      waiting_writable_ = false;
      close_now = true;
    } else if (unsent_offset_ < unsent_.size()) {
      UpdateQueuedLocked();
      WaitWritable();
      return;
    } else {
      internal::ClearBuffer(&unsent_);
      unsent_offset_ = 0;
      waiting_writable_ = false;
      if (!unencrypted_.empty()) {
        std::string pending;
        pending.swap(unencrypted_);
        if (!EncryptAndSendLocked(pending).ok()) {
          close_now = true;
        } else if (waiting_writable_) {
          UpdateQueuedLocked();
          return;  // WaitWritable() was called again
        }
      }
      if (!close_now && close_notify_pending_) {
        // Shutdown() came while plaintext still waited: close_notify goes
        // after it.
        close_notify_pending_ = false;
        session_->Shutdown();
        std::error_code ignored;
        FlushLocked(&ignored);
        if (waiting_writable_) return;
      }
      linger = !close_now && shutdown_requested_;
    }
    UpdateQueuedLocked();
    drained = !close_now && queued_.load(std::memory_order_relaxed) == 0;
  }
  if (close_now) CloseOnExecutor();
  if (drained && drained_) drained_();
  if (linger) FinishShutdown();
}

void TlsStream::Post(std::function<void()> task) {
  asio::post(socket_.get_executor(), std::move(task));
}

void TlsStream::CloseWithin(absl::Duration within) {
  auto self = shared_from_this();
  asio::post(socket_.get_executor(), [self, within] {
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      if (self->closed_) return;
    }
    self->close_timer_.expires_after(
        std::chrono::microseconds(absl::ToInt64Microseconds(within)));
    self->close_timer_.async_wait([self](const std::error_code& error) {
      if (!error) self->CloseOnExecutor();
    });
  });
}

// ---- Closing (any thread) ----

void TlsStream::Shutdown() {
  bool finish_now = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || shutdown_requested_) return;
    shutdown_requested_ = true;
    if (session_ == nullptr) {
      // Closed before the ClientHello came: nothing to say in TLS.
      finish_now = true;
    } else if (!unencrypted_.empty()) {
      close_notify_pending_ = true;  // OnWritable sends it after the data
      return;
    } else {
      session_->Shutdown();
      std::error_code ignored;
      FlushLocked(&ignored);
      finish_now = !waiting_writable_;
    }
  }
  if (finish_now) {
    auto self = shared_from_this();
    asio::post(socket_.get_executor(), [self] { self->FinishShutdown(); });
  }
}

void TlsStream::FinishShutdown() {
  // A lingering close: stop sending, but keep reading (the owner discards)
  // until the peer closes or kLingerTime passes. Closing at once while the
  // peer is still sending would make the kernel answer with a reset, and the
  // peer would lose the GoAway we just sent.
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  handshake_timer_.expires_after(std::chrono::seconds(2));
  auto self = shared_from_this();
  handshake_timer_.async_wait([self](const std::error_code& error) {
    if (!error) self->CloseOnExecutor();
  });
}

void TlsStream::Close() {
  auto self = shared_from_this();
  asio::post(socket_.get_executor(), [self] { self->CloseOnExecutor(); });
}

void TlsStream::CloseOnExecutor() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  closed_ = true;
  std::error_code ignored;
  handshake_timer_.cancel();
  close_timer_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace appwire
