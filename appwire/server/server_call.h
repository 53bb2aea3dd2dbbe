// ServerCall: the server's record of one call in progress (internal).
//
// Shared by the connection's call table (so cancel, message and window
// frames find it), the handler's CallContext and stream objects, and the
// server's deadline timer. Whoever finishes it first (the handler's result,
// a client cancel, the deadline, the drain timeout, the connection closing)
// decides its one status; later outcomes are dropped, so a call never gets
// two answers.
#ifndef APPWIRE_SERVER_SERVER_CALL_H_
#define APPWIRE_SERVER_SERVER_CALL_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "appwire/common/clock.h"
#include "appwire/common/metadata.h"
#include "appwire/common/method_kind.h"
#include "appwire/common/parameters.h"
#include "appwire/rpc/call_stream.h"
#include "appwire/transport/tls_session_info.h"

namespace appwire {

class Connection;

struct ServerCall {
  uint64_t id = 0;
  std::string method;
  MethodKind kind = MethodKind::kUnary;
  std::shared_ptr<const TlsSessionInfo> session;
  absl::Time deadline = absl::InfiniteFuture();
  // When the request came (the dispatcher's clock): calls are timed from it.
  absl::Time received = absl::InfinitePast();
  // Message bytes of the call (request and stream messages in; stream
  // messages and the response out), for the access log.
  std::atomic<uint64_t> bytes_in{0};
  mutable std::atomic<uint64_t> bytes_out{0};  // SendStatus takes a const call
  // What deadline_passed() reads (the dispatcher's clock).
  const Clock* clock = &Clock::Real();
  Metadata metadata;
  std::shared_ptr<Connection> connection;
  // The largest message the client accepts (its hello); 0: unknown.
  size_t peer_max_message_bytes = 0;
  // The parameters in force when the request came (its limits).
  std::shared_ptr<const ParameterSnapshot> parameters;
  // Streaming calls only.
  std::unique_ptr<CallStream> stream;

  mutable std::mutex mu;
  Metadata trailers;  // guarded by mu
  absl::Status cancel_reason;  // guarded by mu; non-OK once cancelled
  std::vector<std::function<void()>> on_cancel;  // guarded by mu
  // Set by the one outcome that answers the call (see Claim()).
  std::atomic<bool> answered{false};
  // Orders a streaming call's messages before its response: a handler's
  // Write sends under it only while the call is unanswered, and Claim()
  // takes it, so no message can follow the response (docs/protocol.md).
  std::mutex send_mu;

  // The largest message the server may send on this call: its own limit,
  // or the client's when that is smaller.
  size_t max_send_bytes() const;

  // Whether the call's deadline has passed, and the one status the server
  // reports for it, wherever it notices: DEADLINE_EXCEEDED "the deadline of
  // M passed on the server".
  bool deadline_passed() const;
  absl::Status DeadlineExceeded() const;

  // True for the first caller only: it sends the call's response.
  bool Claim() {
    std::lock_guard<std::mutex> lock(send_mu);
    return !answered.exchange(true);
  }
  // Marks the call cancelled with `reason`, wakes its stream and runs the
  // handler's cancel callbacks (on this thread). Idempotent.
  void Cancel(const absl::Status& reason);
  bool cancelled() const;
  // Why it was cancelled; OK when it was not.
  absl::Status cancelled_with() const;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_SERVER_CALL_H_
