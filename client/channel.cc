#include "client/channel.h"

#include "client/client_folder.h"
#include "common/log.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <optional>
#include <tuple>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <asio/connect.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "appwire/v1/frame.pb.h"
#include "common/files.h"
#include "common/pem.h"
#include "transport/connection.h"
#include "transport/internal/errors.h"
#include "transport/certificate_store.h"
#include "transport/private_key.h"
#include "transport/tls_context.h"
#include "transport/tls_stream.h"

namespace appwire {
namespace {

struct Target {
  std::string host;
  std::string port;
};

absl::StatusOr<Target> ParseTarget(const std::string& target) {
  Target parsed;
  if (target.empty()) {
    return absl::InvalidArgumentError("target is empty; use \"host:port\", e.g. \"localhost:19813\"");
  }
  if (target.front() == '[') {
    size_t close = target.find(']');
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("target \"", target, "\" lacks a ']'"));
    }
    parsed.host = target.substr(1, close - 1);
    parsed.port = close + 1 < target.size() && target[close + 1] == ':'
                      ? target.substr(close + 2)
                      : std::to_string(kDefaultPort);
  } else {
    size_t colon = target.rfind(':');
    if (colon != std::string::npos && target.find(':') != colon) {
      return absl::InvalidArgumentError(absl::StrCat(
          "target \"", target, "\": put IPv6 addresses in brackets, \"[::1]:19813\""));
    }
    parsed.host = target.substr(0, colon);
    parsed.port = colon == std::string::npos ? std::to_string(kDefaultPort)
                                              : target.substr(colon + 1);
  }
  int port = 0;
  if (parsed.host.empty() || !absl::SimpleAtoi(parsed.port, &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target \"", target, "\" is not \"host:port\" with a port from 1 to 65535"));
  }
  return parsed;
}

}  // namespace

struct Channel::Impl : std::enable_shared_from_this<Channel::Impl> {
  struct PendingCall {
    std::function<void(absl::StatusOr<std::string>)> done;
    std::string method;
    absl::Time deadline = absl::InfiniteFuture();
    absl::Duration timeout = absl::InfiniteDuration();
  };

  ChannelOptions options;
  std::string target;
  asio::io_context io{1};
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread io_thread;
  asio::steady_timer deadline_timer{io};
  std::shared_ptr<Connection> connection;
  std::atomic<uint64_t> next_call_id{1};

  mutable std::mutex mu;
  std::unordered_map<uint64_t, PendingCall> pending;
  std::multimap<absl::Time, uint64_t> deadlines;
  absl::Time timer_armed_for = absl::InfiniteFuture();
  bool closed = false;
  absl::Status closed_reason;
  std::string server_software;

  ~Impl() { StopIo(); }

  void StopIo() {
    work.reset();
    io.stop();
    if (io_thread.joinable() && io_thread.get_id() != std::this_thread::get_id()) {
      io_thread.join();
    }
  }

  void OnFrame(DecodedFrame& frame);
  void Complete(uint64_t call_id, absl::StatusOr<std::string> result);
  void FailAll(const absl::Status& reason);
  void ArmDeadlineTimer();
  void OnDeadlineTimer();
  void EraseDeadline(absl::Time deadline, uint64_t call_id);
  absl::Status ClosedError() const;
};

absl::Status Channel::Impl::ClosedError() const {
  return absl::FailedPreconditionError(absl::StrCat(
      "the channel to ", target, " is closed (", closed_reason.message(),
      "); create a new Channel to reconnect"));
}

void Channel::Impl::EraseDeadline(absl::Time deadline, uint64_t call_id) {
  if (deadline == absl::InfiniteFuture()) return;
  auto range = deadlines.equal_range(deadline);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second == call_id) {
      deadlines.erase(it);
      return;
    }
  }
}

void Channel::Impl::Complete(uint64_t call_id, absl::StatusOr<std::string> result) {
  std::function<void(absl::StatusOr<std::string>)> done;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = pending.find(call_id);
    // Unknown: it already failed (deadline) and the late reply is dropped.
    if (it == pending.end()) return;
    done = std::move(it->second.done);
    EraseDeadline(it->second.deadline, call_id);
    pending.erase(it);
  }
  done(std::move(result));
}

void Channel::Impl::OnFrame(DecodedFrame& frame) {
  const v1::FrameHeader& header = frame.header;
  switch (header.kind_case()) {
    case v1::FrameHeader::kResponse: {
      const v1::ResponseHeader& response = header.response();
      if (response.status_code() == 0) {
        Complete(header.call_id(), std::string(frame.payload));
      } else {
        Complete(header.call_id(),
                 absl::Status(static_cast<absl::StatusCode>(response.status_code()),
                              response.status_message()));
      }
      return;
    }
    case v1::FrameHeader::kHello: {
      if (header.hello().protocol_version() != kProtocolVersion) {
        connection->Close(absl::FailedPreconditionError(absl::StrCat(
            "the server speaks appwire protocol version ", header.hello().protocol_version(),
            "; this client speaks version ", kProtocolVersion,
            "; use a client and server of the same protocol version")));
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      server_software = absl::StrCat(header.hello().software_name(), " ",
                                     header.hello().software_version());
      return;
    }
    case v1::FrameHeader::kGoAway: {
      const v1::GoAway& go_away = header.go_away();
      FailAll(absl::Status(static_cast<absl::StatusCode>(go_away.status_code()),
                           absl::StrCat("the server closed the connection: ",
                                        go_away.status_message())));
      return;
    }
    default:
      connection->Close(absl::InvalidArgumentError(absl::StrCat(
          "protocol error: the server sent a frame of an unexpected kind (call id ",
          header.call_id(), ")")));
      return;
  }
}

void Channel::Impl::FailAll(const absl::Status& reason) {
  std::unordered_map<uint64_t, PendingCall> failed;
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!closed) {
      closed = true;
      closed_reason = reason.ok() ? absl::UnavailableError("connection closed") : reason;
    }
    status = closed_reason;
    failed.swap(pending);
    deadlines.clear();
  }
  // A connection lost under a call is kUnavailable; a GoAway keeps its code
  // (e.g. kResourceExhausted for an oversized request).
  for (auto& [id, call] : failed) {
    call.done(absl::Status(status.code(),
                           absl::StrCat(call.method, " failed: ", status.message())));
  }
}

void Channel::Impl::ArmDeadlineTimer() {
  absl::Time next;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (deadlines.empty()) {
      timer_armed_for = absl::InfiniteFuture();
      return;
    }
    next = deadlines.begin()->first;
    timer_armed_for = next;
  }
  deadline_timer.expires_after(
      std::chrono::microseconds(std::max<int64_t>(0, absl::ToInt64Microseconds(next - absl::Now()))));
  std::weak_ptr<Impl> weak = weak_from_this();
  deadline_timer.async_wait([weak](const std::error_code& error) {
    if (error) return;
    if (auto self = weak.lock()) self->OnDeadlineTimer();
  });
}

void Channel::Impl::OnDeadlineTimer() {
  std::vector<PendingCall> expired;
  const absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(mu);
    while (!deadlines.empty() && deadlines.begin()->first <= now) {
      uint64_t id = deadlines.begin()->second;
      deadlines.erase(deadlines.begin());
      auto it = pending.find(id);
      if (it == pending.end()) continue;
      expired.push_back(std::move(it->second));
      pending.erase(it);
    }
  }
  for (PendingCall& call : expired) {
    call.done(absl::DeadlineExceededError(absl::StrCat(
        call.method, " did not complete within ", absl::FormatDuration(call.timeout),
        " (deadline exceeded)")));
  }
  ArmDeadlineTimer();
}

Channel::Channel(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Channel::~Channel() {
  Close();
  impl_->StopIo();
}

absl::StatusOr<std::unique_ptr<Channel>> Channel::Connect(const ChannelOptions& requested) {
  absl::StatusOr<Target> target = ParseTarget(requested.target);
  if (!target.ok()) return target.status();
  // The client folder fills what the options leave empty.
  ChannelOptions options = requested;
  const std::string server_key = absl::StrCat(target->host, ":", target->port);
  std::string known_servers_file;
  std::optional<KnownServer> known;
  bool first_use = false;
  if (!options.client_folder.empty()) {
    ClientFolderFiles files = ResolveClientFolder(
        options.client_folder, options.server_name.empty() ? target->host : options.server_name);
    if (options.ca_file.empty()) options.ca_file = files.ca_file;
    if (options.certificate_file.empty() && options.private_key_file.empty()) {
      options.certificate_file = files.certificate_file;
      options.private_key_file = files.private_key_file;
    }
    known_servers_file = files.known_servers_file;
    absl::StatusOr<std::optional<KnownServer>> found =
        FindKnownServer(known_servers_file, server_key);
    if (!found.ok()) return found.status();
    known = *found;
    const bool other_trust =
        !options.ca_file.empty() || options.use_system_trust_store || !options.pinned_sha256.empty();
    if (known.has_value() && !other_trust) {
      options.pinned_sha256 = known->fingerprint;
    } else if (!known.has_value() && options.trust_on_first_use && options.ca_file.empty() &&
               !options.use_system_trust_store && options.pinned_sha256.empty()) {
      first_use = true;
    }
  } else if (options.trust_on_first_use) {
    return absl::InvalidArgumentError(
        "trust_on_first_use needs a client_folder: its known_servers file remembers servers");
  }
  if (options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("connect_timeout must be positive");
  }

  TlsOptions tls;
  tls.role = TlsRole::kClient;
  ApplyParameters(options.parameters, &tls);
  tls.use_system_trust_store = options.use_system_trust_store;
  tls.pinned_sha256 = options.pinned_sha256;
  tls.trust_on_first_use = first_use;
  if (!options.ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadFile(options.ca_file);
    if (!ca.ok()) {
      return absl::Status(ca.status().code(),
                          absl::StrCat("cannot load the CA file: ", ca.status().message(),
                                       "; put the server's CA (for a self-signed server, "
                                       "its cert.pem) there"));
    }
    absl::StatusOr<std::string> pem = NormalizePem(*ca, options.ca_file, PemKind::kCertificate);
    if (!pem.ok()) return pem.status();
    tls.trusted_ca_pem = *std::move(pem);
    tls.trusted_ca_source = options.ca_file;
  }
  if (options.certificate_file.empty() != options.private_key_file.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs both certificate_file and private_key_file");
  }
  if (!options.certificate_file.empty()) {
    for (const auto& [path, kind, target, source] :
         {std::make_tuple(options.certificate_file, PemKind::kCertificate,
                          &tls.certificate_chain_pem, &tls.certificate_source),
          std::make_tuple(options.private_key_file, PemKind::kPrivateKey, &tls.private_key_pem,
                          &tls.private_key_source)}) {
      absl::StatusOr<std::string> pem = ReadPemFile(path, kind);
      if (!pem.ok()) return pem.status();
      *target = *std::move(pem);
      *source = path;
    }
    if (IsEncryptedPrivateKeyPem(tls.private_key_pem)) {
      IdentityLoadOptions load;
      load.passphrase_file = options.key_passphrase_file;
      load.passphrase_env = options.key_passphrase_env;
      absl::StatusOr<std::string> passphrase = ReadPassphrase(load, options.private_key_file);
      if (!passphrase.ok()) return passphrase.status();
      absl::StatusOr<std::string> plain =
          DecryptPrivateKeyPem(tls.private_key_pem, *passphrase, options.private_key_file);
      if (!plain.ok()) return plain.status();
      tls.private_key_pem = *std::move(plain);
    }
  }
  absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::Create(tls);
  if (!context.ok()) return context.status();

  auto impl = std::make_shared<Impl>();
  impl->options = options;
  impl->target = options.target;
  const std::string server_name =
      options.server_name.empty() ? target->host : options.server_name;

  // Resolve and connect on the caller's thread, bounded by connect_timeout.
  asio::ip::tcp::resolver resolver(impl->io);
  std::error_code error;
  auto endpoints = resolver.resolve(target->host, target->port, error);
  if (error) return internal::AsioErrorToStatus(error, "resolving", options.target);
  asio::ip::tcp::socket socket(impl->io);
  {
    asio::steady_timer timer(impl->io);
    timer.expires_after(std::chrono::microseconds(
        absl::ToInt64Microseconds(options.connect_timeout)));
    bool timed_out = false;
    std::error_code connect_error = asio::error::would_block;
    asio::async_connect(socket, endpoints,
                        [&](const std::error_code& e, const asio::ip::tcp::endpoint&) {
                          connect_error = e;
                          timer.cancel();
                        });
    timer.async_wait([&](const std::error_code& e) {
      if (!e) {
        timed_out = true;
        socket.cancel();
      }
    });
    impl->io.run();
    impl->io.restart();
    if (timed_out) {
      return absl::DeadlineExceededError(absl::StrCat(
          "connecting to ", options.target, " did not complete within ",
          absl::FormatDuration(options.connect_timeout), " (connect timeout)"));
    }
    if (connect_error) return internal::AsioErrorToStatus(connect_error, "connecting", options.target);
  }

  absl::StatusOr<std::shared_ptr<TlsStream>> stream =
      TlsStream::Create(std::move(socket), *std::move(context), server_name);
  if (!stream.ok()) return stream.status();

  FrameLimits limits;
  limits.max_message_bytes =
      static_cast<size_t>(options.parameters.Get(Parameter::kMaxMessageSize).AsInt());
  auto handshake = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> handshake_done = handshake->get_future();
  std::weak_ptr<Impl> weak = impl;
  Connection::Callbacks callbacks;
  callbacks.on_handshake = [handshake](const std::shared_ptr<Connection>&,
                                       const absl::Status& status) {
    handshake->set_value(status);
  };
  callbacks.on_frame = [weak](const std::shared_ptr<Connection>&, DecodedFrame& frame) {
    if (auto self = weak.lock()) self->OnFrame(frame);
  };
  callbacks.on_closed = [weak](const std::shared_ptr<Connection>&, const absl::Status& reason) {
    if (auto self = weak.lock()) self->FailAll(reason);
  };
  impl->connection = Connection::Create(*std::move(stream), limits, std::move(callbacks));
  impl->work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      impl->io.get_executor());
  impl->io_thread = std::thread([io = &impl->io] { io->run(); });
  impl->connection->Start();
  absl::Status handshake_status = handshake_done.get();
  if (!handshake_status.ok() && known.has_value() &&
      options.pinned_sha256 == known->fingerprint &&
      absl::StrContains(handshake_status.message(), "does not match the pinned fingerprint")) {
    // Pinned by known_servers: say it as SSH does, with the line to edit.
    std::string presented = "another certificate";
    const std::string marker = "the server presented ";
    const std::string message(handshake_status.message());
    size_t at = message.find(marker);
    if (at != std::string::npos) {
      presented = message.substr(at + marker.size(), message.find(' ', at + marker.size()) -
                                                          (at + marker.size()));
    }
    return absl::UnauthenticatedError(absl::StrCat(
        "the certificate of ", server_key, " has CHANGED since it was recorded in \"",
        known_servers_file, "\" line ", known->line, ": recorded ", known->fingerprint,
        ", presented ", presented,
        ". Someone may be impersonating the server, or its certificate was replaced; if you "
        "know it was replaced, delete line ", known->line, " of \"", known_servers_file,
        "\" and connect again"));
  }
  if (!handshake_status.ok()) return handshake_status;
  if (first_use) {
    const TlsSessionInfo& info = impl->connection->session_info();
    const std::string fingerprint =
        info.peer_certificate ? info.peer_certificate->sha256_fingerprint : std::string();
    absl::Status remembered = RememberServer(known_servers_file, server_key, fingerprint);
    if (!remembered.ok()) return remembered;
    LogInfo(absl::StrCat("first connection to ", server_key, ": trusted its certificate ",
                         fingerprint, " and recorded it in ", known_servers_file));
  }

  // The hello goes first; calls may follow at once without waiting for the
  // server's hello (docs/protocol.md, "Hello").
  v1::FrameHeader hello_frame;
  hello_frame.set_call_id(0);
  v1::Hello* hello = hello_frame.mutable_hello();
  hello->set_protocol_version(kProtocolVersion);
  hello->set_software_name(options.software_name);
  hello->set_software_version(options.software_version);
  absl::Status sent = impl->connection->Send(hello_frame, "");
  if (!sent.ok()) return sent;
  return std::unique_ptr<Channel>(new Channel(std::move(impl)));
}

void Channel::CallRawAsync(absl::string_view method, std::string request,
                           const CallOptions& options,
                           std::function<void(absl::StatusOr<std::string>)> done) {
  Impl& s = *impl_;
  const uint64_t call_id = s.next_call_id.fetch_add(2, std::memory_order_relaxed);
  v1::FrameHeader header;
  header.set_call_id(call_id);
  v1::RequestHeader* request_header = header.mutable_request();
  request_header->set_method(std::string(method));
  Impl::PendingCall call;
  call.done = std::move(done);
  call.method = std::string(method);
  if (options.timeout != absl::InfiniteDuration()) {
    if (options.timeout <= absl::ZeroDuration()) {
      call.done(absl::InvalidArgumentError(absl::StrCat(
          "the timeout of ", method, " must be positive, got ",
          absl::FormatDuration(options.timeout))));
      return;
    }
    call.timeout = options.timeout;
    call.deadline = absl::Now() + options.timeout;
    // At least 1: 0 on the wire means "no deadline".
    request_header->set_timeout_micros(static_cast<uint64_t>(
        std::max<int64_t>(1, absl::ToInt64Microseconds(absl::Ceil(options.timeout, absl::Microseconds(1))))));
  }
  bool arm = false;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    if (s.closed) {
      absl::Status closed = s.ClosedError();
      lock.unlock();  // the callback may call back into the channel
      call.done(closed);
      return;
    }
    if (call.deadline != absl::InfiniteFuture()) {
      s.deadlines.emplace(call.deadline, call_id);
      arm = call.deadline < s.timer_armed_for;
      if (arm) s.timer_armed_for = call.deadline;
    }
    s.pending.emplace(call_id, std::move(call));
  }
  if (arm) {
    std::weak_ptr<Impl> weak = impl_;
    asio::post(s.io, [weak] {
      if (auto self = weak.lock()) self->ArmDeadlineTimer();
    });
  }
  absl::Status sent = s.connection->Send(header, request);
  if (!sent.ok()) {
    if (sent.code() == absl::StatusCode::kUnavailable) {
      std::lock_guard<std::mutex> lock(s.mu);
      if (s.closed) sent = s.ClosedError();
    }
    s.Complete(call_id, absl::Status(sent.code(), absl::StrCat(method, ": ", sent.message())));
  }
}

namespace {

// Where a blocking call waits for its reply. It spins briefly before
// sleeping: a reply on loopback or a LAN often comes back within tens of
// microseconds, and waking a sleeping thread costs about as much again.
class SyncWaiter {
 public:
  void Set(absl::StatusOr<std::string> result) {
    std::lock_guard<std::mutex> lock(mu_);
    result_ = std::move(result);
    done_.store(true, std::memory_order_release);
    if (sleeping_) wake_.notify_one();
  }

  absl::StatusOr<std::string> Wait() {
    const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    while (!done_.load(std::memory_order_acquire) &&
           std::chrono::steady_clock::now() < spin_until) {
      __builtin_ia32_pause();
    }
    std::unique_lock<std::mutex> lock(mu_);
    sleeping_ = true;
    wake_.wait(lock, [this] { return done_.load(std::memory_order_acquire); });
    return std::move(result_);
  }

 private:
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> done_{false};
  bool sleeping_ = false;
  absl::StatusOr<std::string> result_;
};

}  // namespace

absl::StatusOr<std::string> Channel::CallRaw(absl::string_view method, std::string request,
                                             const CallOptions& options) {
  auto waiter = std::make_shared<SyncWaiter>();
  CallRawAsync(method, std::move(request), options,
               [waiter](absl::StatusOr<std::string> result) { waiter->Set(std::move(result)); });
  return waiter->Wait();
}

void Channel::Close() {
  if (impl_->connection != nullptr) {
    impl_->connection->Close(absl::CancelledError("the client closed the channel"));
  }
  impl_->FailAll(absl::CancelledError("the client closed the channel"));
}

bool Channel::is_open() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return !impl_->closed;
}

const TlsSessionInfo& Channel::session_info() const { return impl_->connection->session_info(); }

std::string Channel::server_software() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->server_software;
}

}  // namespace appwire
