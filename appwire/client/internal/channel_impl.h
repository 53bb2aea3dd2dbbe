// Channel::Impl: the state behind a Channel (appwire/client/channel.h), shared by
// the façade, the I/O thread's handlers and the app's streams. Internal to
// appwire/client/. Its parts live in their own units; Impl wires them together:
//   - connectivity (appwire/client/connectivity_state.h) and backoff
//     (appwire/client/backoff.h): where the connection stands, when to retry;
//   - calls (appwire/client/call_table.h): pending calls, the waiting list and the
//     deadline queue;
//   - links: the connections (or attempts) made, `current` the one new
//     calls use.
// Its methods are defined by concern: appwire/client/channel_connect.cc (attempts,
// lost connections, keepalive), appwire/client/channel_frames.cc (one handler per
// frame kind from the server), appwire/client/channel_calls.cc (starting, sending
// and ending calls, deadlines), appwire/client/channel.cc (the façade, Connect).
//
// Threads: the I/O thread runs the transport's callbacks and the timers;
// app threads start and cancel calls, Close() and read the state. `mu`
// guards everything marked so; it is never held while the app's callbacks
// run (they go into `notes` or `ended`, run once it is released) or while a
// frame is sent.
#ifndef APPWIRE_CLIENT_INTERNAL_CHANNEL_IMPL_H_
#define APPWIRE_CLIENT_INTERNAL_CHANNEL_IMPL_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "absl/status/status.h"
#include "appwire/client/adaptive_spin.h"
#include "appwire/client/backoff.h"
#include "appwire/client/call_table.h"
#include "appwire/client/channel.h"
#include "appwire/client/connectivity_state.h"
#include "appwire/client/internal/callback_gates.h"
#include "appwire/client/internal/live_objects.h"
#include "appwire/client/target.h"
#include "appwire/common/clock.h"
#include "appwire/common/parameters.h"
#include "appwire/rpc/call_ids.h"
#include "appwire/rpc/deadline_timer.h"
#include "appwire/transport/connection.h"
#include "appwire/transport/frame_codec.h"
#include "appwire/transport/tls_context.h"
#include "appwire/transport/tls_session_info.h"
#include "appwire/v1/frame.pb.h"

namespace appwire {

// One connection (or attempt) of a channel.
struct Link {
  internal::LiveCounted counted{internal::LiveCounted::Kind::kLink};
  uint64_t id = 0;
  std::shared_ptr<Connection> connection;
  // How far the connection got; only forward. Guarded by Channel::Impl::mu.
  enum class Stage {
    kHandshaking,  // TCP connected, TLS handshake under way (an attempt)
    kOpen,         // handshake done, our hello sent: the channel is ready
    kGreeted,      // the server's hello came: the attempt succeeded
  };
  Stage stage = Stage::kHandshaking;
  // The server sent a go-away: no new calls here. Independent of the stage:
  // a server may refuse us before its hello. Guarded by mu.
  bool going_away = false;
  size_t server_max_message_bytes = 0;  // from the server's hello; guarded by mu
};

// The code of a call that fails because no connection can be made: a
// certificate or configuration problem keeps its own code (the user must fix
// something); anything else is UNAVAILABLE (retrying later may work).
absl::StatusCode FailFastCode(const absl::Status& reason);

struct Channel::Impl : std::enable_shared_from_this<Channel::Impl> {
  // The app's callbacks collected under mu, run once it is released.
  using Notes = std::vector<std::function<void()>>;

  // First, so destroyed last, when the connections and the I/O context are
  // gone too: counts the Impl, and tells ~Channel it is gone.
  struct Lifetime {
    // Uncounted before ~Channel hears it is gone: tests count right after.
    ~Lifetime() {
      counted.reset();
      released->Set();
    }
    std::optional<internal::LiveCounted> counted{std::in_place,
                                                 internal::LiveCounted::Kind::kImpl};
    std::shared_ptr<internal::Released> released = std::make_shared<internal::Released>();
  } lifetime;

  // Set by Connect before the I/O thread starts; read-only afterwards.
  ChannelOptions options;
  std::string target;
  Target parsed_target;
  std::string server_name;
  FrameLimits limits;
  absl::Duration keepalive_interval;
  absl::Duration keepalive_timeout;
  const Clock& clock = Clock::Real();
  // Whether CallRaw spins for its reply (its own lock).
  AdaptiveSpin spin;

  asio::io_context io{1};
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread io_thread;
  // Its handler runs on the I/O thread, which ~Impl may still poll: it
  // finds the Impl gone (weak_from_this) and does nothing then.
  DeadlineTimer deadline_timer{io, clock, [this] {
                                 if (auto self = weak_from_this().lock()) self->OnDeadlineTimer();
                               }};
  asio::steady_timer reconnect_timer{io};
  asio::steady_timer keepalive_timer{io};
  ClientCallIds call_ids;

  mutable std::mutex mu;
  // Guarded by mu.
  std::condition_variable state_changed;  // notified on each state change
  std::shared_ptr<const TlsContext> context;
  std::shared_ptr<const ParameterSnapshot> parameters;  // see Parameters()
  ConnectivityStateMachine connectivity;
  Backoff backoff{ReconnectBackoff()};
  absl::Status last_error;
  std::shared_ptr<Link> current;  // the ready link new calls use
  std::map<uint64_t, std::shared_ptr<Link>> links;  // every live one
  uint64_t next_link_id = 0;
  absl::Status closed_reason;
  CallTable calls{clock};
  std::shared_ptr<void> saved_session;
  TlsSessionInfo last_session;
  std::string server_software;
  int connections_made = 0;
  // Connect() waits for the first attempt through this.
  std::function<void(const absl::Status&)> first_attempt;
  std::shared_ptr<internal::StateCallbackGate> state_gate =
      std::make_shared<internal::StateCallbackGate>();
  // Calls that ended, with their status, whose callbacks are still to run.
  // Whoever queues calls here runs the queue once mu is released
  // (RunEnded), and so does ~Channel: a callback that destroys the channel
  // cannot leave the others for after the destructor returned.
  std::deque<std::pair<PendingCall, absl::Status>> ended;

  // appwire/client/channel.cc: a channel's state for `options`, not yet running.
  static std::shared_ptr<Impl> Create(const ChannelOptions& options, const Target& target,
                                      std::shared_ptr<const ParameterSnapshot> parameters,
                                      std::shared_ptr<const TlsContext> context);
  // Starts the I/O thread and the first attempt; returns its outcome (the
  // caller stops the thread again when that is an error).
  absl::Status StartAndWaitForFirstAttempt();
  ~Impl();

  // Runs `f` under mu and returns what it returns.
  template <typename F>
  auto Locked(F f) const -> decltype(f()) {
    std::lock_guard<std::mutex> lock(mu);
    return f();
  }
  // Stops the I/O thread, and waits for it unless this is that thread.
  void StopIo();

  // Runs a callback where the app wants it.
  void Deliver(std::function<void()> callback);
  // mu held. Applies `event` to the state machine; on a change, the app's
  // callback goes into `notes`, to be run once mu is released.
  void ApplyLocked(ConnectivityEvent event, const absl::Status& reason, Notes* notes);
  void RunNotes(Notes& notes);
  ChannelState StateLocked() const { return connectivity.state(); }
  bool ShutdownLocked() const { return StateLocked() == ChannelState::kShutdown; }

  // appwire/client/channel_connect.cc: attempts and the connection's life.
  void StartConnect();
  // The TCP connection of `link`'s attempt, to the first of `endpoints`
  // that answers within connect_timeout.
  void ConnectTcp(const std::shared_ptr<Link>& link,
                  asio::ip::tcp::resolver::results_type endpoints);
  void OnTcpConnected(const std::shared_ptr<Link>& link, asio::ip::tcp::socket socket);
  void OnHandshake(const std::shared_ptr<Link>& link, const absl::Status& status);
  void AttemptFailed(const std::shared_ptr<Link>& link, const absl::Status& status);
  // I/O thread: reports `status`, fails fail-fast calls and schedules the
  // next attempt after the backoff.
  void EnterTransientFailure(const absl::Status& status);
  void OnLinkClosed(const std::shared_ptr<Link>& link, const absl::Status& reason);
  void ScheduleKeepalive();
  // Sends the waiting calls on `link`.
  void DispatchWaiting(const std::shared_ptr<Link>& link);
  // mu held: the server is done with `link` (a GoAway, or a call refused as
  // not processed): no new calls go there. True when a new connection
  // should be opened now (calls are waiting).
  bool LeaveLinkLocked(const std::shared_ptr<Link>& link, Notes* notes);
  // Sends requeued calls on the current connection, or opens one.
  void SendRequeued();

  // appwire/client/channel_frames.cc: what the server sends, one handler per kind.
  void OnFrame(const std::shared_ptr<Link>& link, DecodedFrame& frame);
  void OnResponse(const std::shared_ptr<Link>& link, DecodedFrame& frame);
  void OnStreamFrame(DecodedFrame& frame);  // message, window_update
  void OnHello(const std::shared_ptr<Link>& link, const v1::Hello& hello);
  void OnGoAway(const std::shared_ptr<Link>& link, const v1::GoAway& go_away);

  // appwire/client/channel_calls.cc: calls.
  // Fills what unary and streaming calls share: the request header, the
  // deadline, metadata and cancellation. Not OK: the call fails at once.
  absl::Status PrepareCall(absl::string_view method, MethodKind kind, const CallOptions& options,
                           PendingCall* call, v1::FrameHeader* header);
  // StartCall for a call with a cancellation token: registers it with the
  // token, and closes the race with a Cancel() that came in between.
  void StartWithToken(PendingCall call, v1::FrameHeader header, std::string payload);
  // Registers a call and sends it, or queues it until a connection is ready.
  void StartCall(PendingCall call, v1::FrameHeader header, std::string payload);
  // Sends a call's request on `link`, and its cancel right after when the
  // call was abandoned meanwhile.
  void SendRequest(const std::shared_ptr<Link>& link, uint64_t call_id,
                   const v1::FrameHeader& header, const std::string& payload);
  static void SendCancel(const std::shared_ptr<Connection>& connection, uint64_t call_id);
  // Ends a call: its result goes to the caller. Unknown ids are ignored
  // (the call already ended).
  void Complete(uint64_t call_id, absl::StatusOr<std::string> result, Metadata trailers,
                bool from_server);
  void Finish(PendingCall& call, absl::StatusOr<std::string> result, Metadata trailers,
              bool from_server);
  // Ends a call locally (deadline, cancel) and tells the server.
  void Abandon(uint64_t call_id, const absl::Status& status);
  // mu held: queues `calls` to end with `status`, each with its method in
  // front; RunEnded() then delivers them.
  void FailLocked(std::vector<PendingCall> calls, const absl::Status& status);
  void FailLocked(PendingCall call, const absl::Status& status);
  // Delivers the queued ends, mu not held.
  void RunEnded();
  // I/O thread, from deadline_timer: abandons the calls whose deadline passed.
  void OnDeadlineTimer();
  // Ends `call_id` with its deadline's status now, whether or not the
  // deadline timer has run yet: a stream that saw its deadline pass must not
  // half-close and let the server's reply end it OK (a race the timer on
  // a busy I/O thread loses).
  void Expire(uint64_t call_id);
  // mu held: the status of `call` past its deadline.
  absl::Status ExpiredStatusLocked(const PendingCall& call) const;

  absl::Status ClosedError() const;
  // The parameters in force: options.parameters on the process-wide
  // values, as they are now. The snapshot Connect took, or a new one when a
  // process-wide value changed since (DatabaseParametersGeneration): the
  // global lock only then, never on a call's path otherwise.
  std::shared_ptr<const ParameterSnapshot> Parameters();
  // The largest request headers this channel sends (kMaxMetadataSize), as
  // of now.
  size_t MaxMetadataBytes() {
    return static_cast<size_t>(Parameters()->Int(Parameter::kMaxMetadataSize));
  }
  // mu held: the most the server and we accept in one message.
  size_t MaxMessageLocked() const {
    size_t limit = limits.max_message_bytes;
    if (current != nullptr && current->server_max_message_bytes != 0) {
      limit = std::min(limit, current->server_max_message_bytes);
    }
    return limit;
  }
};

// "M was cancelled by the client": a cancellation token's or a stream's Cancel().
absl::Status CancelledByClient(absl::string_view method);

}  // namespace appwire

#endif  // APPWIRE_CLIENT_INTERNAL_CHANNEL_IMPL_H_
