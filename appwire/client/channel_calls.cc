// Channel::Impl, calls (appwire/client/internal/channel_impl.h): preparing a
// request, starting it on the current connection or queueing it for the
// next, sending it, ending it (reply, cancel, deadline, lost connection)
// and delivering its completion with the channel's mutex released.
#include "appwire/client/internal/channel_impl.h"

#include <utility>

#include <asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "appwire/client/internal/client_stream_state.h"
#include "appwire/rpc/message_limits.h"
#include "appwire/rpc/timeouts.h"
#include "appwire/transport/frames.h"
#include "appwire/transport/metadata_wire.h"

namespace appwire {

absl::StatusCode FailFastCode(const absl::Status& reason) {
  switch (reason.code()) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
      return reason.code();
    default:
      return absl::StatusCode::kUnavailable;
  }
}

absl::Status CancelledByClient(absl::string_view method) {
  return absl::CancelledError(absl::StrCat(method, " was cancelled by the client"));
}

absl::Status Channel::Impl::PrepareCall(absl::string_view method, MethodKind kind,
                                        const CallOptions& options, PendingCall* call,
                                        v1::FrameHeader* header) {
  call->method = std::string(method);
  call->fail_fast = options.fail_fast;
  call->timeout = options.timeout;
  call->token = options.cancellation;
  header->set_call_id(call_ids.Next());
  v1::RequestHeader* request = header->mutable_request();
  request->set_method(std::string(method));
  request->set_kind(static_cast<v1::MethodKind>(kind));
  if (!options.metadata.empty()) {
    absl::Status valid = ValidateMetadata(options.metadata, MaxMetadataBytes(),
                                          absl::StrCat("the request headers of ", method));
    if (!valid.ok()) return valid;
    MetadataToWire(options.metadata, request->mutable_metadata());
  }
  if (options.timeout != absl::InfiniteDuration()) {
    if (options.timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("the timeout of ", method,
                                                     " must be positive, got ",
                                                     absl::FormatDuration(options.timeout)));
    }
    call->deadline = clock.Now() + options.timeout;
    request->set_timeout_micros(TimeoutMicrosOnWire(options.timeout));
  }
  if (options.cancellation != nullptr && options.cancellation->cancelled()) {
    return absl::CancelledError(absl::StrCat(method, " was cancelled before it started"));
  }
  return absl::OkStatus();
}

void Channel::Impl::StartCall(PendingCall call, v1::FrameHeader header, std::string payload) {
  const uint64_t call_id = header.call_id();
  const absl::Time deadline = call.deadline;
  std::shared_ptr<ClientStreamState> stream = call.stream;
  std::shared_ptr<const std::string> request;
  std::shared_ptr<Link> link;
  bool wake_timer = false;
  bool connect = false;
  absl::Status refused;
  {
    std::unique_lock<std::mutex> lock(mu);
    const size_t limit = MaxMessageLocked();
    if (ShutdownLocked()) {
      refused = ClosedError();
    } else if (payload.size() > limit) {
      refused = limit < limits.max_message_bytes
                    ? RequestTooLargeForServer(call.method, payload.size(), limit)
                    : MessageTooLargeForSender(call.method, payload.size(), limit);
    } else if (current == nullptr && StateLocked() == ChannelState::kTransientFailure &&
               call.fail_fast) {
      refused = absl::Status(
          FailFastCode(last_error),
          absl::StrCat(call.method, " failed at once (fail_fast): the server at ", target,
                       " is unreachable: ", last_error.message()));
    }
    if (refused.ok()) {
      request = std::make_shared<const std::string>(std::move(payload));
      // Unary calls keep their request until they end (see PendingCall).
      if (call.stream == nullptr || current == nullptr) {
        call.header = header;
        call.request = request;
      }
      if (current != nullptr) {
        link = current;
        call.link = link->id;
        if (call.stream != nullptr) call.stream->max_message_bytes = limit;
      } else {
        // Idle: connect now. In transient failure the backoff timer will.
        connect = StateLocked() == ChannelState::kIdle;
        if (call.stream != nullptr) call.stream->max_message_bytes = limits.max_message_bytes;
      }
      wake_timer = calls.Add(call_id, std::move(call));
      if (link == nullptr) calls.Wait(call_id);
    }
  }
  if (!refused.ok()) {
    Finish(call, refused, {}, false);
    return;
  }
  if (wake_timer) deadline_timer.WakeBy(deadline);
  if (connect) {
    std::weak_ptr<Impl> weak = weak_from_this();
    asio::post(io, [weak] {
      if (auto self = weak.lock()) self->StartConnect();
    });
    return;
  }
  if (link == nullptr) return;
  if (stream != nullptr) stream->Started(link->connection);  // as in DispatchWaiting
  SendRequest(link, call_id, header, *request);
}

void Channel::Impl::SendRequest(const std::shared_ptr<Link>& link, uint64_t call_id,
                                const v1::FrameHeader& header, const std::string& payload) {
  absl::Status sent = link->connection->Send(header, payload);
  bool abandoned;
  bool failed = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    PendingCall* call = calls.Find(call_id);
    abandoned = call == nullptr;
    // Sent again elsewhere meanwhile (this link went away): not ours.
    if (!abandoned && call->link != link->id) return;
    if (!abandoned && sent.ok()) call->sent = true;
    failed = !abandoned && !sent.ok();
  }
  if (failed) {
    Complete(call_id,
             absl::Status(sent.code(),
                          absl::StrCat(header.request().method(), ": ", sent.message())),
             {}, false);
    return;
  }
  if (!sent.ok()) return;
  // Cancelled (or expired) while the request was on its way: Abandon did
  // not tell the server, as the cancel must not overtake the request. The
  // server ignores a cancel for a call that has already ended.
  if (abandoned) SendCancel(link->connection, call_id);
}

void Channel::Impl::SendCancel(const std::shared_ptr<Connection>& connection, uint64_t call_id) {
  connection->Send(CancelFrame(call_id), "").IgnoreError();
}

void Channel::Impl::StartWithToken(PendingCall call, v1::FrameHeader header,
                                   std::string payload) {
  std::shared_ptr<CancellationToken> token = call.token;
  if (token == nullptr) {
    StartCall(std::move(call), std::move(header), std::move(payload));
    return;
  }
  const uint64_t call_id = header.call_id();
  const absl::Status cancelled = CancelledByClient(call.method);
  std::weak_ptr<Impl> weak = weak_from_this();
  call.token_registration = token->Register([weak, call_id, cancelled] {
    // The completion runs here, on the cancelling thread; ~Channel waits
    // for this reference to go unless that completion destroyed it.
    if (auto self = weak.lock()) {
      internal::HoldOnThisThread hold(self.get());
      self->Abandon(call_id, cancelled);
    }
  });
  StartCall(std::move(call), std::move(header), std::move(payload));
  if (token->cancelled()) Abandon(call_id, cancelled);
}

void Channel::Impl::Complete(uint64_t call_id, absl::StatusOr<std::string> result,
                             Metadata trailers, bool from_server) {
  PendingCall call;
  {
    std::lock_guard<std::mutex> lock(mu);
    // Unknown: it already ended (deadline, cancel) and the late reply is dropped.
    if (!calls.Take(call_id, &call)) return;
  }
  Finish(call, std::move(result), std::move(trailers), from_server);
}

void Channel::Impl::Finish(PendingCall& call, absl::StatusOr<std::string> result,
                           Metadata trailers, bool from_server) {
  if (from_server && result.status().code() == absl::StatusCode::kDeadlineExceeded &&
      call.timeout != absl::InfiniteDuration()) {
    // The server's deadline timer may beat ours by a hair: the same words
    // either way.
    result = absl::DeadlineExceededError(DeadlineExceededMessage(call.method, call.timeout));
  }
  if (call.token != nullptr && call.token_registration != 0) {
    call.token->Unregister(call.token_registration);
  }
  if (call.stream != nullptr) {
    std::string reply = result.ok() ? *std::move(result) : std::string();
    call.stream->End(result.status(), std::move(reply), std::move(trailers), from_server);
    return;
  }
  if (call.trailers != nullptr) *call.trailers = std::move(trailers);
  call.done(std::move(result));
}

void Channel::Impl::Abandon(uint64_t call_id, const absl::Status& status) {
  PendingCall call;
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!calls.Take(call_id, &call)) return;
    auto link = links.find(call.link);
    // Not sent yet: SendRequest sends the cancel after the request.
    if (call.sent && link != links.end()) connection = link->second->connection;
  }
  // The server cancels the handler and sends nothing more.
  if (connection != nullptr) SendCancel(connection, call_id);
  Finish(call, status, {}, false);
}

void Channel::Impl::FailLocked(std::vector<PendingCall> failed, const absl::Status& status) {
  for (PendingCall& call : failed) FailLocked(std::move(call), status);
}

void Channel::Impl::FailLocked(PendingCall call, const absl::Status& status) {
  // A connection lost under a call is kUnavailable; a GoAway keeps its code
  // (e.g. kResourceExhausted).
  absl::Status failed(status.code(), absl::StrCat(call.method, " failed: ", status.message()));
  ended.emplace_back(std::move(call), std::move(failed));
}

void Channel::Impl::RunEnded() {
  for (;;) {
    std::pair<PendingCall, absl::Status> next;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (ended.empty()) return;
      next = std::move(ended.front());
      ended.pop_front();
    }
    Finish(next.first, std::move(next.second), {}, false);
  }
}

void Channel::Impl::OnDeadlineTimer() {
  std::vector<std::pair<uint64_t, absl::Status>> expired;
  absl::Time next;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (uint64_t id : calls.TakeExpired()) {
      expired.emplace_back(id, ExpiredStatusLocked(*calls.Find(id)));
    }
    next = calls.NextDeadline();
  }
  for (auto& [id, status] : expired) Abandon(id, status);
  deadline_timer.ArmFor(next);
}

absl::Status Channel::Impl::ExpiredStatusLocked(const PendingCall& call) const {
  std::string message = DeadlineExceededMessage(call.method, call.timeout);
  if (call.link == 0 && !last_error.ok()) {
    absl::StrAppend(&message, "; it was waiting for a connection to ", target,
                    ", the last attempt failed: ", last_error.message());
  }
  return absl::DeadlineExceededError(message);
}

void Channel::Impl::Expire(uint64_t call_id) {
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(mu);
    const PendingCall* call = calls.Find(call_id);
    if (call == nullptr) return;  // ended already
    status = ExpiredStatusLocked(*call);
  }
  Abandon(call_id, status);
}

}  // namespace appwire
