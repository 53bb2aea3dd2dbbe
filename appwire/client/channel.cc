// Channel, the façade (appwire/client/channel.h): Connect, the call entry points,
// Close and the state accessors. The work is Channel::Impl's
// (appwire/client/internal/channel_impl.h), in channel_connect.cc, channel_frames.cc
// and channel_calls.cc; trust and identity in appwire/client/credentials.h.
#include "appwire/client/channel.h"

#include <future>
#include <utility>

#include <asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "appwire/client/credentials.h"
#include "appwire/client/internal/channel_impl.h"
#include "appwire/client/internal/client_stream_state.h"
#include "appwire/client/sync_waiter.h"
#include "appwire/client/target.h"

namespace appwire {

Channel::Impl::~Impl() {
  StopIo();
  // The I/O thread holds the last reference when the app let go of the
  // channel from a callback: run() has returned, the thread just ends.
  if (io_thread.joinable()) io_thread.detach();
  // Run what the stopped loop left, Close()'s socket closes among them: a
  // connection still in its TLS handshake holds itself (the TlsStream
  // keeps the handshake's callback, which holds the Connection), and only
  // ending the handshake frees it and its socket. The channel's own
  // handlers find it gone (weak references) and do nothing. Bounded, as a
  // peer that keeps sending keeps reads ready.
  io.restart();
  for (int round = 0; round < 100 && io.poll() > 0; ++round) {
  }
}

void Channel::Impl::StopIo() {
  work.reset();
  io.stop();
  if (io_thread.joinable() && io_thread.get_id() != std::this_thread::get_id()) {
    io_thread.join();
  }
}

void Channel::Impl::Deliver(std::function<void()> callback) {
  if (options.callback_executor) {
    options.callback_executor(std::move(callback));
  } else {
    callback();
  }
}

void Channel::Impl::ApplyLocked(ConnectivityEvent event, const absl::Status& reason,
                                Notes* notes) {
  if (connectivity.Apply(event) != ConnectivityStateMachine::Outcome::kChanged) return;
  const ChannelState next = connectivity.state();
  state_changed.notify_all();
  if (options.on_state_change) {
    // Only what it needs: it may run from the app's executor after the
    // channel is gone (then the gate drops it).
    notes->push_back([gate = state_gate, callback = options.on_state_change, next, reason] {
      gate->Run([&] { callback(next, reason); });
    });
  }
}

void Channel::Impl::RunNotes(Notes& notes) {
  for (auto& note : notes) {
    // The channel was destroyed by a callback on this thread: the app's
    // executor may be gone too.
    if (state_gate->closed()) break;
    Deliver(std::move(note));
  }
  notes.clear();
}

absl::Status Channel::Impl::ClosedError() const {
  return absl::FailedPreconditionError(absl::StrCat(
      "the channel to ", target, " is closed (", closed_reason.message(),
      "); create a new Channel to reconnect"));
}

Channel::Channel(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Channel::~Channel() {
  Impl& s = *impl_;
  const bool on_io_thread = s.io_thread.get_id() == std::this_thread::get_id();
  // Calls in flight end now, with their callbacks (handed to
  // callback_executor when there is one), and so do those another callback
  // on this thread had still to deliver.
  Close();
  // No state change reaches the app from now on.
  s.state_gate->Close();
  s.StopIo();
  // A callback on this thread destroyed the channel: what holds the Impl
  // here ends it when that callback returns, and nothing of the app's runs
  // meanwhile.
  if (on_io_thread || internal::HoldOnThisThread::Holds(&s)) return;
  // Another thread may hold the Impl for a moment: a cancellation token
  // delivering a completion, a stream's Write(). Wait for it, so that
  // nothing of the channel outlives it.
  std::shared_ptr<internal::Released> released = s.lifetime.released;
  impl_.reset();
  released->Wait();
}

std::shared_ptr<Channel::Impl> Channel::Impl::Create(
    const ChannelOptions& options, const Target& target,
    std::shared_ptr<const ParameterSnapshot> parameters,
    std::shared_ptr<const TlsContext> context) {
  auto impl = std::make_shared<Impl>();
  impl->options = options;
  impl->target = options.target;
  impl->parsed_target = target;
  impl->server_name = options.server_name.empty() ? target.host : options.server_name;
  impl->context = std::move(context);
  impl->backoff = Backoff(options.reconnect_backoff);
  impl->limits.max_message_bytes =
      static_cast<size_t>(parameters->Int(Parameter::kMaxMessageSize));
  impl->keepalive_interval = absl::Milliseconds(parameters->Int(Parameter::kKeepaliveInterval));
  impl->keepalive_timeout = absl::Milliseconds(parameters->Int(Parameter::kKeepaliveTimeout));
  impl->parameters = std::move(parameters);
  return impl;
}

std::shared_ptr<const ParameterSnapshot> Channel::Impl::Parameters() {
  std::lock_guard<std::mutex> lock(mu);
  if (parameters->generation() != DatabaseParametersGeneration()) {
    parameters = ParameterSnapshot::Take(options.parameters);
  }
  return parameters;
}

absl::Status Channel::Impl::StartAndWaitForFirstAttempt() {
  auto first = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> first_done = first->get_future();
  first_attempt = [first](const absl::Status& status) { first->set_value(status); };
  work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      io.get_executor());
  // The thread holds the channel's state until it ends: a callback may drop
  // the app's last reference while the thread is still inside it.
  io_thread = std::thread([self = shared_from_this()] { self->io.run(); });
  asio::post(io, [weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      self->StartConnect();
      self->ScheduleKeepalive();
    }
  });
  return first_done.get();
}

absl::StatusOr<std::shared_ptr<Channel>> Channel::Connect(const ChannelOptions& options) {
  absl::StatusOr<Target> target = ParseTarget(options.target);
  if (!target.ok()) return target.status();
  if (options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("connect_timeout must be positive");
  }
  // Every parameter this channel uses, read at once (see Impl::Parameters).
  std::shared_ptr<const ParameterSnapshot> parameters =
      ParameterSnapshot::Take(options.parameters);
  absl::StatusOr<ClientCredentials> credentials =
      LoadClientCredentials(options, *target, *parameters);
  if (!credentials.ok()) return credentials.status();
  absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::Create(credentials->tls);
  if (!context.ok()) return context.status();

  std::shared_ptr<Impl> impl =
      Impl::Create(options, *target, std::move(parameters), *std::move(context));
  // Every error return below stops the I/O thread again.
  struct StopOnError {
    Impl* impl;
    bool armed = true;
    ~StopOnError() {
      if (armed) impl->StopIo();
    }
  } stop_on_error{impl.get()};
  absl::Status handshake =
      ExplainFirstHandshake(*credentials, impl->StartAndWaitForFirstAttempt());
  if (!handshake.ok()) return handshake;
  absl::StatusOr<std::shared_ptr<TlsContext>> pinned =
      RecordFirstUse(&*credentials, impl->Locked([&] { return impl->last_session; }));
  if (!pinned.ok()) return pinned.status();
  if (*pinned != nullptr) impl->Locked([&] { impl->context = *std::move(pinned); });
  stop_on_error.armed = false;
  return std::shared_ptr<Channel>(new Channel(std::move(impl)));
}

void Channel::StartUnary(absl::string_view method, std::string request,
                         const CallOptions& options,
                         std::function<void(absl::StatusOr<std::string>)> done) {
  PendingCall call;
  call.done = std::move(done);
  call.trailers = options.trailers;
  v1::FrameHeader header;
  absl::Status prepared =
      impl_->PrepareCall(method, MethodKind::kUnary, options, &call, &header);
  if (!prepared.ok()) {
    call.done(prepared);
    return;
  }
  // A completion run here, inline (a call refused at once), may destroy
  // this Channel; StartWithToken goes on after it.
  std::shared_ptr<Impl> impl = impl_;
  internal::HoldOnThisThread hold(impl.get());
  impl->StartWithToken(std::move(call), std::move(header), std::move(request));
}

void Channel::CallRawAsync(absl::string_view method, std::string request,
                           const CallOptions& options,
                           std::function<void(absl::StatusOr<std::string>)> done) {
  if (impl_->options.callback_executor) {
    done = [executor = impl_->options.callback_executor,
            done = std::move(done)](absl::StatusOr<std::string> result) {
      executor([done, result = std::move(result)]() mutable { done(std::move(result)); });
    };
  }
  StartUnary(method, std::move(request), options, std::move(done));
}

std::unique_ptr<ClientStream> Channel::OpenStream(absl::string_view method, MethodKind kind,
                                                  std::string request,
                                                  const CallOptions& options) {
  auto state = std::make_shared<ClientStreamState>();
  state->channel = impl_;
  state->method = std::string(method);
  state->kind = kind;
  PendingCall call;
  call.stream = state;
  v1::FrameHeader header;
  absl::Status prepared = impl_->PrepareCall(method, kind, options, &call, &header);
  state->call_id = header.call_id();
  state->flow = std::make_unique<CallStream>(call.deadline, state->method);
  auto stream = std::make_unique<ClientStream>(state);
  if (kind == MethodKind::kUnary) {
    prepared = absl::InvalidArgumentError(
        absl::StrCat(method, ": OpenStream is for streaming methods; use Call"));
  }
  if (!prepared.ok()) {
    state->End(prepared, "", {}, false);
    return stream;
  }
  if (kind != MethodKind::kServerStreaming) request.clear();
  impl_->StartWithToken(std::move(call), std::move(header), std::move(request));
  return stream;
}

absl::StatusOr<std::string> Channel::CallRaw(absl::string_view method, std::string request,
                                             const CallOptions& options) {
  // Never through callback_executor: the caller may be the thread that
  // executor posts to.
  auto waiter = std::make_shared<SyncWaiter>();
  StartUnary(method, std::move(request), options,
             [waiter](absl::StatusOr<std::string> result) { waiter->Set(std::move(result)); });
  const absl::Duration spin = impl_->spin.NextSpin();
  AdaptiveSpin::Outcome outcome;
  absl::StatusOr<std::string> result = waiter->Wait(spin, &outcome);
  impl_->spin.Record(spin > absl::ZeroDuration(), outcome);
  return result;
}

void Channel::Close() {
  // The callbacks below may destroy this Channel.
  std::shared_ptr<Impl> impl = impl_;
  internal::HoldOnThisThread hold(impl.get());
  Impl& s = *impl;
  const absl::Status reason = absl::CancelledError("the client closed the channel");
  std::vector<std::shared_ptr<Link>> open;
  Impl::Notes notes;
  bool closed_before;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    closed_before = s.ShutdownLocked();
    if (!closed_before) {
      s.ApplyLocked(ConnectivityEvent::kShutdown, absl::OkStatus(), &notes);
      s.closed_reason = reason;
      s.FailLocked(s.calls.TakeAll(), reason);
      for (auto& [id, link] : s.links) open.push_back(link);
      s.current = nullptr;
    }
  }
  s.RunNotes(notes);
  for (auto& link : open) {
    if (link->connection != nullptr) link->connection->Close(reason);
  }
  // Closed before, this may be ~Channel run by a completion of that Close():
  // the completions it had still queued are delivered before this returns.
  s.RunEnded();
  if (closed_before) return;
  asio::post(s.io, [weak = std::weak_ptr<Impl>(impl)] {
    if (auto self = weak.lock()) {
      self->reconnect_timer.cancel();
      self->keepalive_timer.cancel();
      self->deadline_timer.Cancel();
    }
  });
}

bool Channel::is_open() const { return state() == ChannelState::kReady; }

ChannelState Channel::state() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->StateLocked();
}

absl::Status Channel::WaitForReady(absl::Duration timeout) {
  Impl& s = *impl_;
  std::unique_lock<std::mutex> lock(s.mu);
  if (s.StateLocked() == ChannelState::kIdle) {
    std::weak_ptr<Impl> weak = impl_;
    asio::post(s.io, [weak] {
      if (auto self = weak.lock()) self->StartConnect();
    });
  }
  s.state_changed.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&s] {
    return s.StateLocked() == ChannelState::kReady ||
           s.StateLocked() == ChannelState::kShutdown;
  });
  if (s.StateLocked() == ChannelState::kReady) return absl::OkStatus();
  if (s.StateLocked() == ChannelState::kShutdown) return s.ClosedError();
  return absl::DeadlineExceededError(absl::StrCat(
      "the channel to ", s.target, " is not ready after ", absl::FormatDuration(timeout), " (",
      ChannelStateName(s.StateLocked()), s.last_error.ok() ? "" : ": ", s.last_error.message(),
      ")"));
}

TlsSessionInfo Channel::session_info() const {
  return impl_->Locked([this] { return impl_->last_session; });
}

std::string Channel::server_software() const {
  return impl_->Locked([this] { return impl_->server_software; });
}

int Channel::connections_made() const {
  return impl_->Locked([this] { return impl_->connections_made; });
}

}  // namespace appwire
