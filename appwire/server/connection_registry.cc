#include "appwire/server/connection_registry.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "absl/strings/str_cat.h"
#include "appwire/common/log.h"
#include "appwire/transport/tls_options.h"
#include "appwire/rpc/keepalive.h"
#include "appwire/transport/tls_failure.h"

namespace appwire {

struct ConnectionRegistry::Timer {
  explicit Timer(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
};

ConnectionRegistry::ConnectionRegistry(asio::io_context& io, const Clock& clock,
                                       std::shared_ptr<ServerParameters> parameters,
                                       FrameHandler on_frame)
    : io_(io), clock_(clock), parameters_(std::move(parameters)), on_frame_(std::move(on_frame)) {}

ConnectionRegistry::~ConnectionRegistry() = default;

void ConnectionRegistry::Serve(std::shared_ptr<ByteStream> stream, const FrameLimits& limits) {
  auto state = std::make_shared<ConnectionState>();
  Connection::Callbacks callbacks;
  callbacks.on_handshake = [this, state](const std::shared_ptr<Connection>& connection,
                                         const absl::Status& status) {
    if (!status.ok()) {
      // A load balancer checking the port (TCP connect and close, or a TLS
      // handshake without appwire's ALPN) every few seconds must not fill
      // the log: the first is logged, the others counted.
      const std::optional<TlsFailure> failure = GetTlsFailure(status);
      const bool probe = failure.has_value() &&
                         (failure->kind == TlsFailure::Kind::kClosedBeforeHello ||
                          failure->kind == TlsFailure::Kind::kNoApplicationProtocol);
      bool first_probe = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (probe) {
          // The first of each kind: a TCP check does not hide a client
          // that lacks the ALPN.
          bool& logged = failure->kind == TlsFailure::Kind::kClosedBeforeHello
                             ? logged_closed_before_hello_
                             : logged_no_application_protocol_;
          first_probe = !logged;
          logged = true;
          ++probes_;
        } else {
          ++handshakes_failed_;
        }
      }
      if (!probe) {
        if (metrics_ != nullptr) metrics_->RecordHandshakeFailure(ClassifyHandshakeFailure(status));
        LogWarning(status.message());
      } else if (first_probe) {
        LogInfo(absl::StrCat(status.message(),
                             "; connections like this one (health checks, scanners) are counted "
                             "in the server's stats from now on, not logged"));
      }
      return;
    }
    const TlsSessionInfo& session = connection->session_info();
    if (session.alpn == kAcmeTlsAlpnProtocol) {
      // An ACME CA checked the challenge certificate (acme_manager.h): that
      // was all this connection was for (RFC 8737 section 3).
      LogInfo(absl::StrCat("acme: answered the CA's TLS-ALPN-01 validation for ",
                           session.server_name, " from ", session.peer_address));
      connection->Close(absl::CancelledError("ACME TLS-ALPN-01 validation answered"),
                        /*send_go_away=*/false);
      return;
    }
    state->session = std::make_shared<const TlsSessionInfo>(session);
    state->handshake_done = clock_.Now();
  };
  callbacks.on_frame = [this, state](const std::shared_ptr<Connection>& connection,
                                     DecodedFrame& frame) { on_frame_(connection, state, frame); };
  callbacks.on_closed = [this, state](const std::shared_ptr<Connection>& connection,
                                      const absl::Status& reason) {
    // Handlers still running on this connection see it as a cancellation.
    std::unordered_map<uint64_t, std::shared_ptr<ServerCall>> calls;
    {
      std::lock_guard<std::mutex> lock(state->mu);
      calls.swap(state->calls);
    }
    for (auto& [id, call] : calls) {
      call->Cancel(absl::UnavailableError(absl::StrCat(
          "the connection with ", connection->peer_address(), " closed: ", reason.message())));
    }
    std::lock_guard<std::mutex> lock(mu_);
    connections_.erase(connection.get());
    closed_bytes_.received += connection->payload_bytes_received();
    closed_bytes_.sent += connection->payload_bytes_sent();
    if (!reason.ok() && reason.code() != absl::StatusCode::kUnavailable &&
        connection->session_info().version.size() > 0) {
      LogWarning(absl::StrCat("closed connection with ", connection->peer_address(), ": ",
                              reason.message()));
    }
  };
  std::shared_ptr<Connection> connection =
      Connection::Create(std::move(stream), limits, std::move(callbacks));
  const ParameterSnapshot& parameters = parameters_->Refresh(&state->parameters);
  connection->SetKeepalive(absl::Milliseconds(parameters.Int(Parameter::kKeepaliveInterval)),
                           absl::Milliseconds(parameters.Int(Parameter::kKeepaliveTimeout)));
  const size_t write_queue = static_cast<size_t>(parameters.Int(Parameter::kMaxWriteQueue));
  connection->SetWriteQueueLimits(write_queue, write_queue + limits.max_message_bytes);
  receive_budget_->SetLimit(static_cast<size_t>(parameters.Int(Parameter::kMaxReceiveMemory)));
  connection->SetReceiveBudget(receive_budget_);
  connection->RequireHelloFirst();
  {
    std::lock_guard<std::mutex> lock(mu_);
    connections_.emplace(connection.get(), Entry{connection, state});
    ++connections_accepted_;
    // Accepted while Drain closes the acceptor: it serves no call.
    state->draining = draining_;
  }
  connection->Start();
}

void ConnectionRegistry::StartTicks() {
  asio::post(io_, [this] { Tick(); });
}

void ConnectionRegistry::Tick() {
  // Read at every tick: kIdleConnectionsTimeout (4D's selector 54) and the
  // others may change while the server runs, and apply to open connections.
  const ParameterSnapshot& parameters = parameters_->Refresh(&tick_parameters_);
  const int64_t idle_timeout_s = parameters.Int(Parameter::kIdleConnectionsTimeout);
  const int64_t keepalive_interval_ms = parameters.Int(Parameter::kKeepaliveInterval);
  const int64_t keepalive_timeout_ms = parameters.Int(Parameter::kKeepaliveTimeout);
  const int64_t hello_timeout_ms = parameters.Int(Parameter::kHelloTimeout);
  const int64_t stall_timeout_ms = parameters.Int(Parameter::kWriteStallTimeout);
  const absl::Duration hello_timeout = absl::Milliseconds(hello_timeout_ms);
  const absl::Duration stall_timeout = absl::Milliseconds(stall_timeout_ms);
  const absl::Time now = clock_.Now();
  std::vector<std::shared_ptr<Connection>> open;
  std::vector<std::shared_ptr<Connection>> idle;
  std::vector<std::shared_ptr<Connection>> silent;
  std::vector<std::shared_ptr<Connection>> stalled;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [key, entry] : connections_) {
      const Connection& connection = *entry.connection;
      if (connection.state() != Connection::State::kOpen) continue;
      open.push_back(entry.connection);
      if (!entry.state->hello_received.load(std::memory_order_relaxed) &&
          now - entry.state->handshake_done >= hello_timeout) {
        silent.push_back(entry.connection);
      } else if (connection.write_stalled_for() >= stall_timeout) {
        stalled.push_back(entry.connection);
      } else if (idle_timeout_s > 0 &&
                 entry.state->active_calls.load(std::memory_order_relaxed) == 0 &&
                 connection.idle_for() >= absl::Seconds(idle_timeout_s)) {
        idle.push_back(entry.connection);
      }
    }
  }
  for (auto& connection : silent) {
    connection->Close(absl::FailedPreconditionError(absl::StrCat(
        "protocol error: no hello from ", connection->peer_address(), " within ",
        absl::FormatDuration(hello_timeout),
        " after the TLS handshake (kHelloTimeout); the first frame on a connection must be a "
        "hello (docs/protocol.md)")));
  }
  for (auto& connection : stalled) {
    connection->CloseNow(absl::ResourceExhaustedError(absl::StrCat(
                             "the client at ", connection->peer_address(),
                             " did not read its replies for ", absl::FormatDuration(stall_timeout),
                             " (kWriteStallTimeout); closing the connection")),
                         absl::Seconds(2));
  }
  for (auto& connection : idle) {
    connection->Close(absl::UnavailableError(absl::StrCat(
        "the server closed the connection after ", idle_timeout_s,
        " s without activity (kIdleConnectionsTimeout)")));
  }
  for (auto& connection : open) connection->CheckKeepalive();
  // The idle timeout is in whole seconds, so 1 s stands for it (on or off,
  // as the tick always ran); keepalive's durations count only while
  // keepalive is on.
  const absl::Duration keepalive_interval = absl::Milliseconds(keepalive_interval_ms);
  const absl::Duration keepalive_timeout = keepalive_interval_ms > 0
                                               ? absl::Milliseconds(keepalive_timeout_ms)
                                               : absl::ZeroDuration();
  const absl::Duration period =
      WatchPeriod({absl::Seconds(1), hello_timeout, stall_timeout, keepalive_interval,
                   keepalive_timeout});
  if (timer_ == nullptr) timer_ = std::make_unique<Timer>(io_);
  timer_->timer.expires_after(std::chrono::milliseconds(absl::ToInt64Milliseconds(period)));
  timer_->timer.async_wait([this](const std::error_code& error) {
    if (!error) Tick();
  });
}

bool ConnectionRegistry::BeginDrain() {
  std::lock_guard<std::mutex> lock(mu_);
  if (draining_) return false;
  draining_ = true;
  return true;
}

bool ConnectionRegistry::draining() const {
  std::lock_guard<std::mutex> lock(mu_);
  return draining_;
}

std::vector<ConnectionRegistry::Entry> ConnectionRegistry::Open() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Entry> open;
  open.reserve(connections_.size());
  for (const auto& entry : connections_) open.push_back(entry.second);
  return open;
}

void ConnectionRegistry::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  connections_.clear();
}

bool ConnectionRegistry::AddMemoryStream(const std::shared_ptr<MemoryStream>& stream) {
  std::lock_guard<std::mutex> lock(mu_);
  if (draining_) return false;
  // Bounded by the connections open: ended ones are forgotten.
  memory_streams_.erase(std::remove_if(memory_streams_.begin(), memory_streams_.end(),
                                       [](const std::weak_ptr<MemoryStream>& weak) {
                                         return weak.expired();
                                       }),
                        memory_streams_.end());
  memory_streams_.push_back(stream);
  return true;
}

std::vector<std::weak_ptr<MemoryStream>> ConnectionRegistry::TakeMemoryStreams() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::weak_ptr<MemoryStream>> streams;
  streams.swap(memory_streams_);
  return streams;
}

uint64_t ConnectionRegistry::connections_accepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_accepted_;
}

uint64_t ConnectionRegistry::handshakes_failed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return handshakes_failed_;
}

ConnectionRegistry::MessageBytes ConnectionRegistry::message_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  MessageBytes bytes = closed_bytes_;
  for (const auto& [raw, entry] : connections_) {
    bytes.received += entry.connection->payload_bytes_received();
    bytes.sent += entry.connection->payload_bytes_sent();
  }
  return bytes;
}

uint64_t ConnectionRegistry::probes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return probes_;
}

int ConnectionRegistry::open_connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(connections_.size());
}

}  // namespace appwire
