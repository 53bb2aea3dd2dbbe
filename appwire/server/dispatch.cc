// About 500 lines, on purpose: the hello, the request checks, the runs, the
// call frames and each call's one answer are the steps of one call's life
// and share the dispatcher's state (registry, executors, counters,
// deadlines); the rules themselves live in appwire/rpc/.
#include "appwire/server/dispatch.h"

#include <exception>
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "appwire/common/log.h"
#include "appwire/rpc/call_ids.h"
#include "appwire/rpc/deadline_timer.h"
#include "appwire/rpc/hello.h"
#include "appwire/rpc/message_limits.h"
#include "appwire/rpc/response_status.h"
#include "appwire/rpc/timeouts.h"
#include "appwire/server/call_context.h"
#include "appwire/server/server_stream.h"
#include "appwire/transport/frames.h"
#include "appwire/transport/metadata_wire.h"
#include "appwire/v1/frame.pb.h"

namespace appwire {

namespace {

// Runs a handler unless the call was cancelled (or expired) while it
// waited; a thrown exception becomes INTERNAL with its text.
absl::StatusOr<std::string> InvokeHandler(
    const ServerCall& call, CallContext& context,
    const std::function<absl::StatusOr<std::string>()>& handler) {
  // Nobody waits for a call whose deadline passed while it waited for a
  // worker: it is not run (docs/protocol.md, section 8).
  if (call.deadline_passed()) return call.DeadlineExceeded();
  if (context.cancelled()) return context.cancel_reason();
  try {
    return handler();
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("the handler of ", context.method(), " threw: ", e.what()));
  } catch (...) {
    return absl::InternalError(
        absl::StrCat("the handler of ", context.method(), " threw a non-standard exception"));
  }
}

}  // namespace

Dispatcher::Dispatcher(asio::io_context& io, const Clock& clock, std::string software_name,
                       std::string software_version, std::shared_ptr<ServiceRegistry> registry,
                       std::shared_ptr<ServerParameters> parameters)
    : clock_(clock),
      software_name_(std::move(software_name)),
      software_version_(std::move(software_version)),
      registry_(std::move(registry)),
      parameters_(std::move(parameters)),
      deadline_timer_(std::make_unique<DeadlineTimer>(io, clock, [this] { OnDeadlinesDue(); })) {}

Dispatcher::~Dispatcher() = default;

absl::Status Dispatcher::StartWorkers(int threads) {
  absl::StatusOr<std::unique_ptr<WorkerPool>> workers = WorkerPool::Create(threads);
  if (!workers.ok()) return workers.status();
  workers_ = *std::move(workers);
  return absl::OkStatus();
}

void Dispatcher::OnFrame(const std::shared_ptr<Connection>& connection,
                         const std::shared_ptr<ConnectionState>& state, DecodedFrame& frame) {
  const v1::FrameHeader& header = frame.header;
  if (CarriesNoPayload(header.kind_case()) && PayloadBytes(frame) > 0) {
    connection->Close(absl::InvalidArgumentError(absl::StrCat(
        "protocol error: a ", FrameKindName(header.kind_case()),
        " frame carries no payload; this one has ", PayloadBytes(frame), " bytes (call id ",
        header.call_id(), ")")));
    return;
  }
  if (!state->hello_received.load(std::memory_order_relaxed)) {
    OnHello(connection, *state, header);
    return;
  }
  switch (header.kind_case()) {
    case v1::FrameHeader::kRequest:
      HandleRequest(connection, state, frame);
      return;
    case v1::FrameHeader::kMessage:
    case v1::FrameHeader::kHalfClose:
    case v1::FrameHeader::kCancel:
    case v1::FrameHeader::kWindowUpdate:
      HandleCallFrame(connection, *state, frame);
      return;
    case v1::FrameHeader::kGoAway:
      // A graceful GoAway from a client means nothing in version 1: the
      // server starts no calls (docs/protocol.md, section 10.2).
      if (header.go_away().graceful()) return;
      // The client is leaving; nothing more will come.
      connection->Close(absl::OkStatus(), /*send_go_away=*/false);
      return;
    default:
      connection->Close(absl::InvalidArgumentError(absl::StrCat(
          "protocol error: a client may not send a ",
          header.has_hello() ? "second hello" : "response or empty frame",
          " (call id ", header.call_id(), ")")));
      return;
  }
}

void Dispatcher::OnHello(const std::shared_ptr<Connection>& connection, ConnectionState& state,
                         const v1::FrameHeader& header) {
  HelloInfo self;
  self.software_name = software_name_;
  self.software_version = software_version_;
  self.max_message_bytes = connection->limits().max_message_bytes;
  absl::Status hello = CheckClientHello(header, self);
  if (!hello.ok()) {
    connection->Close(hello);
    return;
  }
  state.hello_received.store(true, std::memory_order_relaxed);
  connection->PeerHelloReceived();  // pings are answered from now on
  state.peer_max_message_bytes = header.hello().max_message_bytes();
  connection->Send(HelloFrame(self), "").IgnoreError();
}

void Dispatcher::Refuse(const std::shared_ptr<Connection>& connection, uint64_t call_id,
                        const absl::Status& status, bool not_processed) {
  ServerCall call;
  call.id = call_id;
  call.connection = connection;
  const absl::StatusCode sent = SendStatus(call, status, not_processed);
  if (metrics_ != nullptr) metrics_->RecordRefusedCall(sent);
}

void Dispatcher::HandleRequest(const std::shared_ptr<Connection>& connection,
                               const std::shared_ptr<ConnectionState>& state,
                               DecodedFrame& frame) {
  const uint64_t call_id = frame.header.call_id();
  absl::Status id_allowed = CheckCallId(*state, call_id);
  if (!id_allowed.ok()) {
    connection->Close(id_allowed);
    return;
  }
  const RegisteredMethod* registered = nullptr;
  absl::Status valid = CheckRequest(*connection, frame, &registered);
  if (!valid.ok()) {
    Refuse(connection, call_id, valid);
    return;
  }
  const v1::RequestHeader& request = frame.header.request();
  auto call = std::make_shared<ServerCall>();
  call->id = call_id;
  call->method = request.method();
  call->kind = registered->kind;
  call->session = state->session;
  call->connection = connection;
  call->peer_max_message_bytes = state->peer_max_message_bytes;
  parameters_->Refresh(&state->parameters);
  call->parameters = state->parameters.snapshot;
  if (request.metadata_size() > 0) call->metadata = MetadataFromWire(request.metadata());
  call->clock = &clock_;
  call->received = clock_.Now();
  call->deadline = DeadlineFromWire(request.timeout_micros(), call->received);
  call->bytes_in = frame.payload.size();
  StreamExecutor::Slot stream_slot;
  absl::Status admitted = Admit(*connection, *state, *call, &stream_slot);
  if (!admitted.ok()) {
    Refuse(connection, call_id, admitted);
    return;
  }
  Run(connection, state, call, *registered, std::move(stream_slot), frame);
}

absl::Status Dispatcher::CheckCallId(ConnectionState& state, uint64_t call_id) {
  absl::Status valid = CheckRequestCallId(call_id);
  if (!valid.ok()) return valid;
  const CallIdWindow::Verdict verdict = state.call_ids.Use(call_id);
  if (verdict == CallIdWindow::Verdict::kNew) return absl::OkStatus();
  bool running = false;
  if (verdict == CallIdWindow::Verdict::kUsed) {
    std::lock_guard<std::mutex> lock(state.mu);
    running = state.calls.count(call_id) > 0;
  }
  return CallIdReusedError(call_id, verdict, running, state.call_ids.highest());
}

absl::Status Dispatcher::CheckRequest(const Connection& connection, const DecodedFrame& frame,
                                      const RegisteredMethod** registered) const {
  const v1::RequestHeader& request = frame.header.request();
  const std::string& method = request.method();
  const RegisteredMethod* found = registry_->Find(method);
  if (found == nullptr) {
    return absl::UnimplementedError(
        absl::StrCat("method \"", method, "\" is not registered on this server (",
                     software_name_, "); check the service and method name"));
  }
  const auto kind = static_cast<MethodKind>(request.kind());
  if (kind != found->kind) {
    return absl::InvalidArgumentError(absl::StrCat(
        method, " is a ", MethodKindName(found->kind), " method; the client called it as ",
        MethodKindName(kind), "; regenerate the client's stubs from the same .proto file"));
  }
  if ((kind == MethodKind::kClientStreaming || kind == MethodKind::kBidiStreaming) &&
      PayloadBytes(frame) > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "protocol error: ", method, " is a ", MethodKindName(kind),
        " method; its request frame carries no payload, this one has ", PayloadBytes(frame),
        " bytes"));
  }
  if (frame.oversized_payload_bytes > 0) {
    return RequestTooLargeForServer(method, frame.oversized_payload_bytes,
                                    connection.limits().max_message_bytes);
  }
  *registered = found;
  return absl::OkStatus();
}

absl::Status Dispatcher::Admit(const Connection& connection, const ConnectionState& state,
                               const ServerCall& call, StreamExecutor::Slot* stream_slot) {
  const std::string& method = call.method;
  const ParameterSnapshot& parameters = *call.parameters;
  const int64_t max_metadata = parameters.Int(Parameter::kMaxMetadataSize);
  if (!call.metadata.empty()) {
    absl::Status valid = ValidateMetadata(call.metadata, static_cast<size_t>(max_metadata),
                                          absl::StrCat("the request headers of ", method));
    if (!valid.ok()) return valid;
  }
  const int64_t max_calls = parameters.Int(Parameter::kMaxConcurrentCalls);
  const int running = state.active_calls.load(std::memory_order_relaxed);
  if (running >= max_calls) {
    return absl::ResourceExhaustedError(absl::StrCat(
        method, " refused: ", running, " calls are already running on this connection, "
        "the limit is ", max_calls, " (kMaxConcurrentCalls); retry when some finish"));
  }
  // Authorisation before the handler: refused calls get a status, the
  // connection stays.
  absl::Status allowed = registry_->Authorize(
      method, state.session->peer_certificate ? &*state.session->peer_certificate : nullptr);
  if (!allowed.ok()) {
    LogWarning(absl::StrCat("refused ", method, " from ", connection.peer_address(), ": ",
                            allowed.message()));
    return allowed;
  }
  // A streaming handler holds a thread for as long as its call lives: the
  // server-wide limit is taken before the call is published, so a refusal
  // leaves nothing behind.
  if (call.kind != MethodKind::kUnary) {
    const int64_t max_streams = parameters.Int(Parameter::kMaxConcurrentStreams);
    int streams_running = 0;
    *stream_slot = streams_.TryReserve(static_cast<int>(max_streams), &streams_running);
    if (!*stream_slot) {
      return absl::ResourceExhaustedError(absl::StrCat(
          method, " refused: ", streams_running,
          " streaming calls are already running on this server, the limit is ", max_streams,
          " (kMaxConcurrentStreams); retry when some finish"));
    }
  }
  return absl::OkStatus();
}

void Dispatcher::Run(const std::shared_ptr<Connection>& connection,
                     const std::shared_ptr<ConnectionState>& state,
                     const std::shared_ptr<ServerCall>& call, const RegisteredMethod& registered,
                     StreamExecutor::Slot stream_slot, DecodedFrame& frame) {
  const MethodKind kind = call->kind;
  const std::string& method = call->method;
  const bool inline_call =
      kind == MethodKind::kUnary && registered.thread == HandlerThread::kIoThread;
  // Before the call is published: a cancel may reach it at once.
  if (kind != MethodKind::kUnary) {
    call->stream = std::make_unique<CallStream>(call->deadline, method);
    if (kind == MethodKind::kServerStreaming) {
      call->stream->DeliverUncounted(std::string(frame.payload));
      call->stream->DeliverEnd();
    }
  }
  {
    std::lock_guard<std::mutex> lock(state->mu);
    if (state->draining) {
      Refuse(connection, call->id,
             absl::UnavailableError(absl::StrCat(
                 method, " was not processed: the server is shutting down; retry on a new "
                 "connection")),
             /*not_processed=*/true);
      return;
    }
    if (!inline_call) state->calls.emplace(call->id, call);
  }
  calls_in_flight_.fetch_add(1, std::memory_order_relaxed);
  state->active_calls.fetch_add(1, std::memory_order_relaxed);
  if (call->deadline != absl::InfiniteFuture() && !inline_call) TrackDeadline(call);
  if (inline_call) {
    RunUnary(call, state, registered.handler, frame.payload);
    return;
  }
  std::shared_ptr<const void> owner = owner_.lock();
  if (kind != MethodKind::kUnary) {
    const RawStreamHandler* handler = &registered.stream_handler;
    // A stream may wait on its client for as long as it lives: a thread of
    // its own (within the limit), so open streams never starve unary calls
    // or each other.
    absl::Status started =
        streams_.Run(std::move(stream_slot), [this, owner, call, state, handler] {
          RunStream(call, state, *handler);
        });
    if (!started.ok()) {
      LogWarning(absl::StrCat("streaming call ", method, " from ", connection->peer_address(),
                              " refused: ", started.message()));
      FinishCall(call, *state,
                 absl::ResourceExhaustedError(absl::StrCat(
                     method, " refused: the server ", started.message(), "; retry later")));
    }
    return;
  }
  // The payload points into the read buffer: the worker needs its own
  // bytes. A large payload that ends the buffer takes the buffer itself.
  std::shared_ptr<std::string> storage;
  size_t offset = 0;
  const size_t length = frame.payload.size();
  if (frame.buffer != nullptr && length >= 64 * 1024) {
    offset = static_cast<size_t>(frame.payload.data() - frame.buffer->data());
    storage = std::make_shared<std::string>(std::move(*frame.buffer));
  } else {
    storage = std::make_shared<std::string>(frame.payload);
  }
  const RawHandler* handler = &registered.handler;
  // A large request keeps its share of the receive budget until its
  // handler is done with it (kMaxReceiveMemory).
  std::shared_ptr<const void> charge = std::move(frame.memory_charge);
  workers_->Post([this, owner, call, state, handler, storage, offset, length, charge] {
    RunUnary(call, state, *handler, absl::string_view(*storage).substr(offset, length));
  });
}

void Dispatcher::HandleCallFrame(const std::shared_ptr<Connection>& connection,
                                 ConnectionState& state, DecodedFrame& frame) {
  const v1::FrameHeader& header = frame.header;
  std::shared_ptr<ServerCall> call;
  {
    std::lock_guard<std::mutex> lock(state.mu);
    auto it = state.calls.find(header.call_id());
    // Unknown: the call already ended (its status is on the way); what the
    // client sent meanwhile is dropped.
    if (it == state.calls.end()) return;
    call = it->second;
  }
  switch (header.kind_case()) {
    case v1::FrameHeader::kCancel:
      // The client stopped waiting: no reply, and a late one is dropped.
      call->Claim();
      call->Cancel(absl::CancelledError(
          absl::StrCat(call->method, " was cancelled by the client")));
      return;
    case v1::FrameHeader::kWindowUpdate:
      if (call->stream != nullptr) call->stream->AddCredit(header.window_update().bytes());
      return;
    case v1::FrameHeader::kHalfClose:
      if (call->stream != nullptr) call->stream->DeliverEnd();
      return;
    case v1::FrameHeader::kMessage: {
      absl::Status delivered;
      if (call->stream == nullptr || call->kind == MethodKind::kServerStreaming) {
        delivered = absl::InvalidArgumentError(absl::StrCat(
            "protocol error: ", call->method, " takes no stream of requests"));
      } else if (frame.oversized_payload_bytes > 0) {
        delivered = StreamMessageTooLargeForServer(call->method, frame.oversized_payload_bytes,
                                                   connection->limits().max_message_bytes);
      } else {
        call->bytes_in.fetch_add(frame.payload.size(), std::memory_order_relaxed);
        delivered = call->stream->Deliver(std::string(frame.payload), frame.memory_charge);
      }
      if (!delivered.ok()) CancelAndAnswer(call, delivered);
      return;
    }
    default:
      return;
  }
}

void Dispatcher::RunUnary(const std::shared_ptr<ServerCall>& call,
                          const std::shared_ptr<ConnectionState>& state,
                          const RawHandler& handler, absl::string_view request) {
  CallContext context(call);
  FinishCall(call, *state,
             InvokeHandler(*call, context, [&] { return handler(context, request); }));
}

void Dispatcher::RunStream(const std::shared_ptr<ServerCall>& call,
                           const std::shared_ptr<ConnectionState>& state,
                           const RawStreamHandler& handler) {
  CallContext context(call);
  ServerStream stream(call);
  FinishCall(call, *state, InvokeHandler(*call, context, [&] { return handler(context, stream); }));
}

void Dispatcher::FinishCall(const std::shared_ptr<ServerCall>& call, ConnectionState& state,
                            absl::StatusOr<std::string> result) {
  if (call->Claim()) {
    // A stream that ended early (an oversized message) says why.
    absl::Status cancelled;
    {
      std::lock_guard<std::mutex> lock(call->mu);
      cancelled = call->cancel_reason;
    }
    if (!cancelled.ok()) result = cancelled;
    // Once the deadline has passed, the answer is DEADLINE_EXCEEDED, even
    // when the handler returned at the same moment (the client has given
    // up, and it must not see a success it already reported as a failure).
    if (call->deadline_passed()) result = call->DeadlineExceeded();
    Answered(*call, SendStatus(*call, result));
  }
  {
    std::lock_guard<std::mutex> lock(state.mu);
    auto it = state.calls.find(call->id);
    if (it != state.calls.end() && it->second == call) state.calls.erase(it);
  }
  if (call->deadline != absl::InfiniteFuture()) ForgetDeadline(call);
  state.active_calls.fetch_sub(1, std::memory_order_relaxed);
  calls_completed_.fetch_add(1, std::memory_order_relaxed);
  if (calls_in_flight_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    // Under the waiter's mutex: a WaitForCalls that saw a call in flight is
    // either asleep already (and woken) or has not looked yet (and sees 0).
    std::lock_guard<std::mutex> lock(calls_mu_);
    calls_done_.notify_all();
  }
}

bool Dispatcher::WaitForCalls(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(calls_mu_);
  return calls_done_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [this] {
    return calls_in_flight_.load(std::memory_order_acquire) == 0;
  });
}

int Dispatcher::ShutdownHandlers(absl::Duration grace) {
  int abandoned = workers_ != nullptr ? workers_->Shutdown(grace) : 0;
  return abandoned + streams_.Shutdown(grace);
}

absl::StatusCode Dispatcher::SendStatus(const ServerCall& call,
                                        const absl::StatusOr<std::string>& result,
                                        bool not_processed) {
  v1::FrameHeader header;
  header.set_call_id(call.id);
  v1::ResponseHeader* response = header.mutable_response();
  response->set_not_processed(not_processed);
  Metadata trailers;
  {
    std::lock_guard<std::mutex> lock(call.mu);
    trailers = call.trailers;
  }
  absl::Status status = result.status();
  if (!trailers.empty()) {
    // A refusal (no handler, so no trailers) carries no snapshot.
    const std::shared_ptr<const ParameterSnapshot> parameters =
        call.parameters != nullptr ? call.parameters : parameters_->Snapshot();
    const int64_t max_metadata = parameters->Int(Parameter::kMaxMetadataSize);
    absl::Status valid = ValidateMetadata(trailers, static_cast<size_t>(max_metadata),
                                          absl::StrCat("the response trailers of ", call.method));
    if (valid.ok()) {
      MetadataToWire(trailers, response->mutable_trailers());
      if (header.ByteSizeLong() > call.connection->limits().max_header_bytes) {
        valid = absl::ResourceExhaustedError(absl::StrCat(
            "the response trailers of ", call.method, " make a frame header of ",
            header.ByteSizeLong(), " bytes, over the limit of ",
            call.connection->limits().max_header_bytes, " bytes"));
        response->clear_trailers();
      }
    }
    if (!valid.ok()) {
      LogWarning(valid.message());
      status = valid;
    }
  }
  if (status.ok()) {
    const size_t limit = call.max_send_bytes();
    if (result->size() > limit) {
      status = ReplyTooLargeForServer(result->size(), limit);
    } else {
      absl::Status sent = call.connection->Send(header, *result);
      if (sent.ok()) call.bytes_out.fetch_add(result->size(), std::memory_order_relaxed);
      if (sent.code() != absl::StatusCode::kResourceExhausted) return absl::StatusCode::kOk;
      status = absl::ResourceExhaustedError(
          absl::StrCat("the server's reply was refused: ", sent.message()));
    }
    response->clear_trailers();
  }
  SetResponseStatus(status, response);
  call.connection->Send(header, "").IgnoreError();
  return status.code();
}

void Dispatcher::Answered(const ServerCall& call, absl::StatusCode code) {
  const absl::Duration took = clock_.Now() - call.received;
  if (metrics_ != nullptr) metrics_->RecordCall(call.method, code, took);
  if (!access_log_) return;
  std::string identity = "-";
  if (call.session != nullptr && call.session->peer_certificate.has_value()) {
    identity = call.session->peer_certificate->subject;
  }
  LogEvent(LogLevel::kInfo, "call",
           {{"peer", call.connection->peer_address()},
            {"identity", identity},
            {"method", call.method},
            {"status", absl::StatusCodeToString(code)},
            {"duration_us", absl::ToInt64Microseconds(took)},
            {"bytes_in", static_cast<int64_t>(call.bytes_in.load(std::memory_order_relaxed))},
            {"bytes_out", static_cast<int64_t>(call.bytes_out.load(std::memory_order_relaxed))}});
}

void Dispatcher::CancelAndAnswer(const std::shared_ptr<ServerCall>& call,
                                 const absl::Status& reason) {
  call->Cancel(reason);
  if (call->Claim()) Answered(*call, SendStatus(*call, reason));
}

void Dispatcher::TrackDeadline(const std::shared_ptr<ServerCall>& call) {
  bool earliest;
  {
    std::lock_guard<std::mutex> lock(deadlines_mu_);
    earliest = deadlines_.Add(call->deadline, call);
  }
  if (earliest) deadline_timer_->WakeBy(call->deadline);
}

void Dispatcher::ForgetDeadline(const std::shared_ptr<ServerCall>& call) {
  std::lock_guard<std::mutex> lock(deadlines_mu_);
  deadlines_.Remove(call->deadline, call);
}

void Dispatcher::OnDeadlinesDue() {
  std::vector<std::weak_ptr<ServerCall>> due;
  absl::Time next;
  {
    std::lock_guard<std::mutex> lock(deadlines_mu_);
    due = deadlines_.TakeDue(clock_.Now());
    next = deadlines_.Next();
  }
  for (auto& weak : due) {
    // The client gives up at the same moment; the status is for the record.
    if (auto call = weak.lock()) CancelAndAnswer(call, call->DeadlineExceeded());
  }
  deadline_timer_->ArmFor(next);
}

}  // namespace appwire
