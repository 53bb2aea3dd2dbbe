// Dispatcher: what the server does with the frames of a connection once its
// TLS handshake is done. The first frame must be the client's hello (the
// server answers with its own); then each request is checked (call id,
// method, kind, size, metadata, limits, authorisation), refused with a
// status or run: unary handlers on the worker pool (or inline on the I/O
// thread for HandlerThread::kIoThread), streaming handlers on the bounded
// StreamExecutor (kMaxConcurrentStreams across the server). Cancel,
// message, half-close and window frames go to the call they name. Every
// call gets exactly one response (ServerCall::Claim), and calls with a
// deadline are cancelled and answered DEADLINE_EXCEEDED when it passes.
//
// Owned by Server::Impl. Tasks it posts keep the owner given to
// SetKeepAlive alive (a handler abandoned by Drain keeps what it touches).
// Threads: OnFrame on the I/O thread; the rest is thread-safe.
#ifndef APPWIRE_SERVER_DISPATCH_H_
#define APPWIRE_SERVER_DISPATCH_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "appwire/common/clock.h"
#include "appwire/rpc/deadline_queue.h"
#include "appwire/server/server_metrics.h"
#include "appwire/server/connection_state.h"
#include "appwire/server/server_call.h"
#include "appwire/server/server_parameters.h"
#include "appwire/server/service_registry.h"
#include "appwire/server/worker_pool.h"
#include "appwire/transport/connection.h"
#include "appwire/transport/frame_codec.h"

namespace asio {
class io_context;
}

namespace appwire {

class DeadlineTimer;  // appwire/rpc/deadline_timer.h

class Dispatcher {
 public:
  // `software_name` and `software_version` go into the hello and messages.
  // Deadlines are read on `clock` (Clock::Real() but in tests), and the
  // deadline timer runs on `io`; both outlive the dispatcher.
  Dispatcher(asio::io_context& io, const Clock& clock, std::string software_name,
             std::string software_version,
             std::shared_ptr<ServiceRegistry> registry,
             std::shared_ptr<ServerParameters> parameters);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // What every task posted to a handler thread holds while it runs.
  void SetKeepAlive(std::weak_ptr<const void> owner) { owner_ = std::move(owner); }
  // Where calls are counted and timed (the server's metrics). Before the
  // first frame; nullptr: nowhere.
  void SetMetrics(std::shared_ptr<ServerMetrics> metrics) { metrics_ = std::move(metrics); }
  // One "call" log event per answered call (ServerOptions::access_log).
  // Before the first frame.
  void SetAccessLog(bool on) { access_log_ = on; }
  // Starts the worker pool (`threads` threads). Before the first frame.
  absl::Status StartWorkers(int threads);

  // One frame from the client of `connection`. I/O thread.
  void OnFrame(const std::shared_ptr<Connection>& connection,
               const std::shared_ptr<ConnectionState>& state, DecodedFrame& frame);

  // Cancels `call` with `reason` and answers it with that status, unless it
  // was answered already.
  void CancelAndAnswer(const std::shared_ptr<ServerCall>& call, const absl::Status& reason);

  // Waits up to `timeout` until no call is in flight; true when none is.
  bool WaitForCalls(absl::Duration timeout);
  // Stops the worker pool and the stream executor (WorkerPool::Shutdown).
  // Returns how many handler threads were abandoned.
  int ShutdownHandlers(absl::Duration grace);

  uint64_t calls_completed() const { return calls_completed_.load(std::memory_order_relaxed); }

 private:
  // The hello exchange: the first frame of every connection.
  void OnHello(const std::shared_ptr<Connection>& connection, ConnectionState& state,
               const v1::FrameHeader& header);
  // A request: checked, then refused or run.
  void HandleRequest(const std::shared_ptr<Connection>& connection,
                     const std::shared_ptr<ConnectionState>& state, DecodedFrame& frame);
  // The call id rules; a breach closes the connection with the status.
  absl::Status CheckCallId(ConnectionState& state, uint64_t call_id);
  // What a request frame says by itself: a registered method of its kind,
  // a payload within the limit. `*registered` is set when OK.
  absl::Status CheckRequest(const Connection& connection, const DecodedFrame& frame,
                            const RegisteredMethod** registered) const;
  // What the server and the connection allow now: metadata size, calls on
  // the connection, authorisation, and (streaming) a place on the stream
  // executor, taken before the call is published.
  absl::Status Admit(const Connection& connection, const ConnectionState& state,
                     const ServerCall& call, StreamExecutor::Slot* stream_slot);
  // Publishes an admitted call and starts its handler.
  void Run(const std::shared_ptr<Connection>& connection,
           const std::shared_ptr<ConnectionState>& state, const std::shared_ptr<ServerCall>& call,
           const RegisteredMethod& registered, StreamExecutor::Slot stream_slot,
           DecodedFrame& frame);
  void HandleCallFrame(const std::shared_ptr<Connection>& connection, ConnectionState& state,
                       DecodedFrame& frame);
  // Answers a call that never reached a handler.
  // `not_processed`: the client may send the call again elsewhere.
  void Refuse(const std::shared_ptr<Connection>& connection, uint64_t call_id,
              const absl::Status& status, bool not_processed = false);
  void RunUnary(const std::shared_ptr<ServerCall>& call,
                const std::shared_ptr<ConnectionState>& state, const RawHandler& handler,
                absl::string_view request);
  void RunStream(const std::shared_ptr<ServerCall>& call,
                 const std::shared_ptr<ConnectionState>& state, const RawStreamHandler& handler);
  // The handler returned: answers the call unless something else did, and
  // forgets it.
  void FinishCall(const std::shared_ptr<ServerCall>& call, ConnectionState& state,
                  absl::StatusOr<std::string> result);
  // A call was answered with `code`: counted, timed, and written to the
  // access log when it is on.
  void Answered(const ServerCall& call, absl::StatusCode code);
  // Sends the call's response; returns the code it carried (a reply too
  // large to send goes out as RESOURCE_EXHAUSTED).
  absl::StatusCode SendStatus(const ServerCall& call, const absl::StatusOr<std::string>& result,
                              bool not_processed = false);
  void TrackDeadline(const std::shared_ptr<ServerCall>& call);
  void ForgetDeadline(const std::shared_ptr<ServerCall>& call);
  // The deadline timer fired (I/O thread): cancels and answers the calls
  // whose deadline passed.
  void OnDeadlinesDue();

  const Clock& clock_;
  const std::string software_name_;
  const std::string software_version_;
  const std::shared_ptr<ServiceRegistry> registry_;
  const std::shared_ptr<ServerParameters> parameters_;
  std::weak_ptr<const void> owner_;
  std::shared_ptr<ServerMetrics> metrics_;
  bool access_log_ = false;

  std::unique_ptr<WorkerPool> workers_;
  // Streaming handlers: a thread each while they run, kMaxConcurrentStreams
  // at most across all connections.
  StreamExecutor streams_;

  // Calls accepted whose handler has not returned, all connections: Drain
  // waits for none. Counted without a lock; the last one out takes
  // calls_mu_ to wake the waiter, so the wake-up cannot be missed.
  std::atomic<int> calls_in_flight_{0};
  std::atomic<uint64_t> calls_completed_{0};
  std::mutex calls_mu_;
  std::condition_variable calls_done_;

  // Calls with a deadline, earliest first; the timer cancels them on time.
  std::mutex deadlines_mu_;
  DeadlineQueue<std::weak_ptr<ServerCall>> deadlines_;  // guarded by deadlines_mu_
  std::unique_ptr<DeadlineTimer> deadline_timer_;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_DISPATCH_H_
