#include "client/channel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <asio/connect.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "appwire/v1/frame.pb.h"
#include "client/client_folder.h"
#include "client/target.h"
#include "client/internal/live_objects.h"
#include "common/files.h"
#include "common/log.h"
#include "common/pem.h"
#include "transport/call_stream.h"
#include "transport/connection.h"
#include "transport/metadata_wire.h"
#include "transport/internal/errors.h"
#include "transport/certificate_store.h"
#include "transport/private_key.h"
#include "transport/tls_context.h"
#include "transport/tls_failure.h"
#include "transport/tls_stream.h"

namespace appwire {
namespace {

// Live counts for internal::LiveChannelObjectsForTesting().
std::atomic<int> live_impls{0};
std::atomic<int> live_links{0};

// Counts its owner from construction to destruction.
class Counted {
 public:
  explicit Counted(std::atomic<int>& count) : count_(count) { count_.fetch_add(1); }
  ~Counted() { count_.fetch_sub(1); }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;

 private:
  std::atomic<int>& count_;
};

// The connections channels made, to count those still alive: a Connection
// is shared with the transport's handlers, so only a weak reference tells.
struct ConnectionRegistry {
  std::mutex mu;
  std::vector<std::weak_ptr<Connection>> connections;

  static ConnectionRegistry& Get() {
    static ConnectionRegistry* registry = new ConnectionRegistry();
    return *registry;
  }
  void Add(const std::shared_ptr<Connection>& connection) {
    std::lock_guard<std::mutex> lock(mu);
    connections.erase(std::remove_if(connections.begin(), connections.end(),
                                     [](const auto& weak) { return weak.expired(); }),
                      connections.end());
    connections.push_back(connection);
  }
  int Live() {
    std::lock_guard<std::mutex> lock(mu);
    return static_cast<int>(std::count_if(connections.begin(), connections.end(),
                                          [](const auto& weak) { return !weak.expired(); }));
  }
};

}  // namespace

namespace internal {

LiveChannelObjects LiveChannelObjectsForTesting() {
  LiveChannelObjects live;
  live.impls = live_impls.load();
  live.links = live_links.load();
  live.connections = ConnectionRegistry::Get().Live();
  return live;
}

}  // namespace internal

// One connection (or attempt) of a channel.
struct Link {
  Counted counted{live_links};
  uint64_t id = 0;
  std::shared_ptr<Connection> connection;
  // Guarded by Channel::Impl::mu.
  bool ready = false;       // handshake done, hello sent
  bool going_away = false;  // the server sent a go-away: no new calls here
  bool hello_received = false;  // the server's hello came: the attempt succeeded
  size_t server_max_message_bytes = 0;  // from the server's hello
};

struct ClientStreamState {
  // Weak: a stream the app keeps must not keep the channel. Gone, the
  // channel ended the call first (~Channel closes every call).
  std::weak_ptr<Channel::Impl> channel;
  uint64_t call_id = 0;
  std::string method;
  MethodKind kind = MethodKind::kUnary;
  std::unique_ptr<CallStream> flow;
  size_t max_message_bytes = 0;

  std::mutex mu;
  std::condition_variable changed;
  // Once the request went out, until the call ends: a connection must not
  // outlive its channel's I/O context, so whoever uses it holds `channel`.
  std::shared_ptr<Connection> connection;
  std::atomic<bool> writes_done{false};
  bool finished = false;  // the call's status is known
  absl::Status status;
  std::string response;
  Metadata trailers;

  // The call ended: with the server's status (messages already queued can
  // still be read) or locally (deadline, cancel, lost connection).
  void End(absl::Status final_status, std::string reply, Metadata final_trailers,
           bool from_server) {
    std::shared_ptr<Connection> done_with;  // released once mu is
    {
      std::lock_guard<std::mutex> lock(mu);
      if (finished) return;
      finished = true;
      status = std::move(final_status);
      response = std::move(reply);
      trailers = std::move(final_trailers);
      done_with = std::move(connection);
      connection = nullptr;
      changed.notify_all();
    }
    if (from_server) {
      // Messages that came before the status stay readable; writing is over.
      flow->DeliverEnd();
      flow->CloseSend(status);
    } else {
      flow->End(status);
    }
  }
};

// The code of a call that fails because no connection can be made: a
// certificate or configuration problem keeps its own code (the user must fix
// something); anything else is UNAVAILABLE (retrying later may work).
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

namespace {

// on_state_change runs through this gate, which ~Channel closes: callbacks
// not started by then never run (nor those still queued in the app's
// callback_executor), and closing waits for those running on other threads,
// so that none runs once the destructor returned.
class StateCallbackGate {
 public:
  void Run(const std::function<void()>& callback) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      running_.push_back(std::this_thread::get_id());
    }
    callback();
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(std::find(running_.begin(), running_.end(), std::this_thread::get_id()));
    idle_.notify_all();
  }
  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  // A callback running on this thread is the one destroying the channel:
  // it is not waited for (it would wait for itself).
  void Close() {
    std::unique_lock<std::mutex> lock(mu_);
    closed_ = true;
    const std::thread::id self = std::this_thread::get_id();
    idle_.wait(lock, [&] {
      return std::all_of(running_.begin(), running_.end(),
                         [&](std::thread::id id) { return id == self; });
    });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable idle_;
  bool closed_ = false;
  std::vector<std::thread::id> running_;  // one entry per callback running
};

// Set once a channel's Impl is entirely gone; ~Channel waits for it.
class Released {
 public:
  void Set() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    changed_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return released_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool released_ = false;
};

// Marks the channels whose Impl this thread holds (a strong reference on its
// stack) while it may run the app's callbacks inline. A ~Channel run by such
// a callback must not wait for that reference to go: it goes, and the Impl
// with it, when the callback has returned.
class HoldOnThisThread {
 public:
  explicit HoldOnThisThread(const void* impl) { Held().push_back(impl); }
  ~HoldOnThisThread() { Held().pop_back(); }
  HoldOnThisThread(const HoldOnThisThread&) = delete;
  HoldOnThisThread& operator=(const HoldOnThisThread&) = delete;
  static bool Holds(const void* impl) {
    const std::vector<const void*>& held = Held();
    return std::find(held.begin(), held.end(), impl) != held.end();
  }

 private:
  static std::vector<const void*>& Held() {
    thread_local std::vector<const void*> held;
    return held;
  }
};

}  // namespace

struct Channel::Impl : std::enable_shared_from_this<Channel::Impl> {
  struct PendingCall {
    std::function<void(absl::StatusOr<std::string>)> done;  // unary
    std::shared_ptr<ClientStreamState> stream;              // streaming
    std::string method;
    absl::Time deadline = absl::InfiniteFuture();
    absl::Duration timeout = absl::InfiniteDuration();
    Metadata* trailers = nullptr;
    bool fail_fast = false;
    std::shared_ptr<CancellationToken> token;
    uint64_t token_registration = 0;
    uint64_t link = 0;  // 0: waiting for a connection
    bool sent = false;  // the request frame went out on `link`
    // The request frame: kept while waiting for a connection, and for unary
    // calls until they end, to send again when the server did not process
    // it (docs/protocol.md, section 10.6).
    v1::FrameHeader header;
    std::shared_ptr<const std::string> request;
    bool retried = false;  // sent again once already

    // "M did not complete within T (deadline exceeded)": the words of every
    // expired call, whichever end noticed first.
    std::string DeadlineMessage() const {
      return absl::StrCat(method, " did not complete within ", absl::FormatDuration(timeout),
                          " (deadline exceeded)");
    }
  };

  // First, so destroyed last, when the connections and the I/O context are
  // gone too: counts the Impl, and tells ~Channel it is gone.
  struct Lifetime {
    Lifetime() { live_impls.fetch_add(1); }
    ~Lifetime() {
      live_impls.fetch_sub(1);
      released->Set();
    }
    std::shared_ptr<Released> released = std::make_shared<Released>();
  } lifetime;
  ChannelOptions options;
  std::string target;
  Target parsed_target;
  std::string server_name;
  FrameLimits limits;
  absl::Duration keepalive_interval;
  absl::Duration keepalive_timeout;
  asio::io_context io{1};
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread io_thread;
  asio::steady_timer deadline_timer{io};
  asio::steady_timer reconnect_timer{io};
  asio::steady_timer keepalive_timer{io};
  std::atomic<uint64_t> next_call_id{1};

  mutable std::mutex mu;
  std::condition_variable state_changed;
  std::shared_ptr<const TlsContext> context;
  ChannelState state = ChannelState::kIdle;
  absl::Status last_error;
  std::shared_ptr<Link> current;  // the ready link new calls use
  std::map<uint64_t, std::shared_ptr<Link>> links;  // every live one
  uint64_t next_link_id = 0;
  bool connecting = false;
  bool shutdown = false;
  absl::Status closed_reason;
  std::unordered_map<uint64_t, PendingCall> pending;
  std::vector<uint64_t> waiting;
  std::multimap<absl::Time, uint64_t> deadlines;
  absl::Time timer_armed_for = absl::InfiniteFuture();
  int failed_attempts = 0;
  std::shared_ptr<void> saved_session;
  TlsSessionInfo last_session;
  std::string server_software;
  int connections_made = 0;
  // Connect() waits for the first attempt through this.
  std::function<void(const absl::Status&)> first_attempt;
  std::mt19937_64 random{std::random_device{}()};
  std::shared_ptr<StateCallbackGate> state_gate = std::make_shared<StateCallbackGate>();
  // Calls that ended, with their status, whose callbacks are still to run.
  // Whoever queues calls here runs the queue once mu is released
  // (RunEnded), and so does ~Channel: a callback that destroys the channel
  // cannot leave the others for after the destructor returned.
  std::deque<std::pair<PendingCall, absl::Status>> ended;

  ~Impl() {
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

  // Stops the I/O thread, and waits for it unless this is that thread.
  void StopIo() {
    work.reset();
    io.stop();
    if (io_thread.joinable() && io_thread.get_id() != std::this_thread::get_id()) {
      io_thread.join();
    }
  }

  // Runs a callback where the app wants it.
  void Deliver(std::function<void()> callback) {
    if (options.callback_executor) {
      options.callback_executor(std::move(callback));
    } else {
      callback();
    }
  }
  // mu held. Records the state; the app's callback goes into `notes`, to
  // be run once mu is released.
  void SetStateLocked(ChannelState next, const absl::Status& reason,
                      std::vector<std::function<void()>>* notes) {
    if (state == next || state == ChannelState::kShutdown) return;
    state = next;
    state_changed.notify_all();
    if (options.on_state_change) {
      // Only what it needs: it may run from the app's executor after the
      // channel is gone (then the gate drops it).
      notes->push_back([gate = state_gate, callback = options.on_state_change, next, reason] {
        gate->Run([&] { callback(next, reason); });
      });
    }
  }
  void RunNotes(std::vector<std::function<void()>>& notes) {
    for (auto& note : notes) {
      // The channel was destroyed by a callback on this thread: the app's
      // executor may be gone too.
      if (state_gate->closed()) break;
      Deliver(std::move(note));
    }
    notes.clear();
  }

  void StartConnect();
  void OnTcpConnected(const std::shared_ptr<Link>& link, asio::ip::tcp::socket socket);
  void OnHandshake(const std::shared_ptr<Link>& link, const absl::Status& status);
  void AttemptFailed(const std::shared_ptr<Link>& link, const absl::Status& status);
  // I/O thread: reports `status`, fails fail-fast calls and schedules the
  // next attempt after the backoff.
  void EnterTransientFailure(const absl::Status& status);
  void OnLinkClosed(const std::shared_ptr<Link>& link, const absl::Status& reason);
  void OnFrame(const std::shared_ptr<Link>& link, DecodedFrame& frame);
  void ScheduleKeepalive();

  // StartCall for a call with a cancellation token: registers it with the
  // token, and closes the race with a Cancel() that came in between.
  void StartWithToken(PendingCall call, v1::FrameHeader header, std::string payload);
  // Registers a call and sends it, or queues it until a connection is ready.
  void StartCall(PendingCall call, v1::FrameHeader header, std::string payload);
  // Ends a call: its result goes to the caller. Unknown ids are ignored
  // (the call already ended).
  void Complete(uint64_t call_id, absl::StatusOr<std::string> result, Metadata trailers,
                bool from_server);
  void Finish(PendingCall& call, absl::StatusOr<std::string> result, Metadata trailers,
              bool from_server);
  // Ends a call locally (deadline, cancel) and tells the server.
  void Abandon(uint64_t call_id, const absl::Status& status);
  // Sends the waiting calls on `link`.
  void DispatchWaiting(const std::shared_ptr<Link>& link);
  // mu held: puts a unary call the server did not process back among the
  // waiting ones, once. False when it cannot be sent again.
  bool RequeueLocked(uint64_t call_id);
  // mu held: the server is done with `link` (a GoAway, or a call refused as
  // not processed): no new calls go there. True when a new connection
  // should be opened now (calls are waiting).
  bool LeaveLinkLocked(const std::shared_ptr<Link>& link,
                       std::vector<std::function<void()>>* notes);
  // Sends requeued calls on the current connection, or opens one.
  void SendRequeued();
  // Sends a call's request on `link`, and its cancel right after when the
  // call was abandoned meanwhile.
  void SendRequest(const std::shared_ptr<Link>& link, uint64_t call_id,
                   const v1::FrameHeader& header, const std::string& payload);
  static void SendCancel(const std::shared_ptr<Connection>& connection, uint64_t call_id) {
    v1::FrameHeader header;
    header.set_call_id(call_id);
    header.mutable_cancel();
    connection->Send(header, "").IgnoreError();
  }
  // mu held: queues `calls` to end with `status`, each with its method in
  // front; RunEnded() then delivers them.
  void FailLocked(std::vector<PendingCall> calls, const absl::Status& status);
  void FailLocked(PendingCall call, const absl::Status& status);
  // Delivers the queued ends, mu not held.
  void RunEnded();
  // mu held: removes call `call_id` into *call; false when it already ended.
  bool TakeCallLocked(uint64_t call_id, PendingCall* call) {
    auto it = pending.find(call_id);
    if (it == pending.end()) return false;
    *call = std::move(it->second);
    EraseDeadline(call->deadline, call_id);
    pending.erase(it);
    return true;
  }
  // mu held: removes and returns the calls sent on link `link_id`.
  std::vector<PendingCall> TakeCallsOfLocked(uint64_t link_id) {
    std::vector<PendingCall> taken;
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->second.link == link_id) {
        EraseDeadline(it->second.deadline, it->first);
        taken.push_back(std::move(it->second));
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    return taken;
  }
  void ArmDeadlineTimer();
  void OnDeadlineTimer();
  void EraseDeadline(absl::Time deadline, uint64_t call_id);
  absl::Status ClosedError() const;
  // mu held: the most the server and we accept in one message.
  size_t MaxMessageLocked() const {
    size_t limit = limits.max_message_bytes;
    if (current != nullptr && current->server_max_message_bytes != 0) {
      limit = std::min(limit, current->server_max_message_bytes);
    }
    return limit;
  }
};

absl::Status Channel::Impl::ClosedError() const {
  return absl::FailedPreconditionError(absl::StrCat(
      "the channel to ", target, " is closed (", closed_reason.message(),
      "); create a new Channel to reconnect"));
}

void Channel::Impl::StartConnect() {
  std::vector<std::function<void()>> notes;
  auto link = std::make_shared<Link>();
  {
    std::lock_guard<std::mutex> lock(mu);
    if (shutdown || connecting || current != nullptr) return;
    connecting = true;
    link->id = ++next_link_id;
    SetStateLocked(ChannelState::kConnecting, absl::OkStatus(), &notes);
  }
  RunNotes(notes);
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(io);
  std::weak_ptr<Impl> weak = weak_from_this();
  resolver->async_resolve(
      parsed_target.host, parsed_target.port,
      [weak, link, resolver](const std::error_code& error,
                             asio::ip::tcp::resolver::results_type endpoints) {
        auto self = weak.lock();
        if (self == nullptr) return;
        if (error) {
          self->AttemptFailed(link, internal::AsioErrorToStatus(error, "resolving", self->target));
          return;
        }
        auto socket = std::make_shared<asio::ip::tcp::socket>(self->io);
        auto timer = std::make_shared<asio::steady_timer>(self->io);
        auto timed_out = std::make_shared<bool>(false);
        timer->expires_after(std::chrono::microseconds(
            absl::ToInt64Microseconds(self->options.connect_timeout)));
        timer->async_wait([socket, timed_out](const std::error_code& e) {
          if (!e) {
            *timed_out = true;
            std::error_code ignored;
            socket->cancel(ignored);
          }
        });
        asio::async_connect(
            *socket, endpoints,
            [weak, link, socket, timer, timed_out](const std::error_code& e,
                                                   const asio::ip::tcp::endpoint&) {
              timer->cancel();
              auto self = weak.lock();
              if (self == nullptr) return;
              if (*timed_out) {
                self->AttemptFailed(link, absl::DeadlineExceededError(absl::StrCat(
                                              "connecting to ", self->target,
                                              " did not complete within ",
                                              absl::FormatDuration(self->options.connect_timeout),
                                              " (connect timeout)")));
              } else if (e) {
                self->AttemptFailed(link,
                                    internal::AsioErrorToStatus(e, "connecting", self->target));
              } else {
                self->OnTcpConnected(link, std::move(*socket));
              }
            });
      });
}

void Channel::Impl::OnTcpConnected(const std::shared_ptr<Link>& link,
                                   asio::ip::tcp::socket socket) {
  std::shared_ptr<const TlsContext> tls;
  std::shared_ptr<void> resume;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (shutdown) return;  // the socket closes as it goes out of scope
    tls = context;
    resume = saved_session;
  }
  absl::StatusOr<std::shared_ptr<TlsStream>> stream =
      TlsStream::Create(std::move(socket), tls, server_name, resume);
  if (!stream.ok()) {
    AttemptFailed(link, stream.status());
    return;
  }
  std::weak_ptr<Impl> weak = weak_from_this();
  std::weak_ptr<Link> weak_link = link;
  Connection::Callbacks callbacks;
  callbacks.on_handshake = [weak, weak_link](const std::shared_ptr<Connection>&,
                                             const absl::Status& status) {
    auto self = weak.lock();
    auto link = weak_link.lock();
    if (self != nullptr && link != nullptr) self->OnHandshake(link, status);
  };
  callbacks.on_frame = [weak, weak_link](const std::shared_ptr<Connection>&,
                                         DecodedFrame& frame) {
    auto self = weak.lock();
    auto link = weak_link.lock();
    if (self != nullptr && link != nullptr) self->OnFrame(link, frame);
  };
  callbacks.on_closed = [weak, weak_link](const std::shared_ptr<Connection>&,
                                          const absl::Status& reason) {
    auto self = weak.lock();
    auto link = weak_link.lock();
    if (self != nullptr && link != nullptr) self->OnLinkClosed(link, reason);
  };
  link->connection = Connection::Create(*std::move(stream), limits, std::move(callbacks));
  ConnectionRegistry::Get().Add(link->connection);
  link->connection->SetKeepalive(keepalive_interval, keepalive_timeout);
  {
    std::lock_guard<std::mutex> lock(mu);
    links[link->id] = link;
  }
  link->connection->Start();
}

void Channel::Impl::OnHandshake(const std::shared_ptr<Link>& link, const absl::Status& status) {
  if (!status.ok()) {
    AttemptFailed(link, status);  // the connection closes itself
    return;
  }
  // The hello goes first; calls may follow at once without waiting for the
  // server's hello (docs/protocol.md, "Hello").
  v1::FrameHeader hello_frame;
  hello_frame.set_call_id(0);
  v1::Hello* hello = hello_frame.mutable_hello();
  hello->set_protocol_version(kProtocolVersion);
  hello->set_software_name(options.software_name);
  hello->set_software_version(options.software_version);
  hello->set_max_message_bytes(limits.max_message_bytes);
  link->connection->Send(hello_frame, "").IgnoreError();

  std::vector<std::function<void()>> notes;
  std::function<void(const absl::Status&)> first;
  {
    std::unique_lock<std::mutex> lock(mu);
    connecting = false;
    if (shutdown) {
      lock.unlock();  // Close() reports through OnLinkClosed, which locks mu
      link->connection->Close(absl::CancelledError("the client closed the channel"));
      return;
    }
    link->ready = true;
    current = link;
    ++connections_made;
    last_session = link->connection->session_info();
    first.swap(first_attempt);
    SetStateLocked(ChannelState::kReady, absl::OkStatus(), &notes);
  }
  // The app hears "ready" before Connect() returns.
  RunNotes(notes);
  if (first) first(absl::OkStatus());
  DispatchWaiting(link);
}

void Channel::Impl::DispatchWaiting(const std::shared_ptr<Link>& link) {
  std::vector<std::pair<v1::FrameHeader, std::shared_ptr<const std::string>>> to_send;
  std::vector<std::shared_ptr<ClientStreamState>> streams_started;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (uint64_t id : waiting) {
      auto it = pending.find(id);
      if (it == pending.end() || it->second.link != 0) continue;
      PendingCall& call = it->second;
      call.link = link->id;
      if (call.deadline != absl::InfiniteFuture()) {
        // The server gets the time that is left, not the original timeout.
        call.header.mutable_request()->set_timeout_micros(static_cast<uint64_t>(
            std::max<int64_t>(1, absl::ToInt64Microseconds(call.deadline - absl::Now()))));
      }
      to_send.emplace_back(call.header, call.request);
      if (call.stream != nullptr) {
        // Streams are never sent again: nothing to keep.
        call.request.reset();
        streams_started.push_back(call.stream);
      }
    }
    waiting.clear();
  }
  for (auto& [header, request] : to_send) {
    SendRequest(link, header.call_id(), header, *request);
  }
  for (auto& stream : streams_started) {
    std::lock_guard<std::mutex> lock(stream->mu);
    // Ended meanwhile: the stream must not keep the connection.
    if (!stream->finished) stream->connection = link->connection;
    stream->changed.notify_all();
  }
}

bool Channel::Impl::LeaveLinkLocked(const std::shared_ptr<Link>& link,
                                    std::vector<std::function<void()>>* notes) {
  link->going_away = true;
  if (current != link) return false;
  current = nullptr;
  // New calls need a new connection: open it now if some wait.
  if (!waiting.empty()) return true;
  SetStateLocked(ChannelState::kIdle, absl::OkStatus(), notes);
  return false;
}

bool Channel::Impl::RequeueLocked(uint64_t call_id) {
  auto it = pending.find(call_id);
  if (it == pending.end()) return false;
  PendingCall& call = it->second;
  if (call.stream != nullptr || call.retried || call.request == nullptr) return false;
  call.retried = true;
  call.link = 0;
  call.sent = false;
  waiting.push_back(call_id);
  return true;
}

void Channel::Impl::SendRequeued() {
  std::shared_ptr<Link> link;
  bool connect = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (waiting.empty() || shutdown) return;
    if (current != nullptr && !current->going_away) {
      link = current;
    } else {
      connect = !connecting && state == ChannelState::kIdle;
    }
  }
  if (link != nullptr) {
    DispatchWaiting(link);
  } else if (connect) {
    StartConnect();
  }
}

void Channel::Impl::AttemptFailed(const std::shared_ptr<Link>& link, const absl::Status& status) {
  std::function<void(const absl::Status&)> first;
  {
    std::lock_guard<std::mutex> lock(mu);
    links.erase(link->id);
    if (!connecting) return;
    connecting = false;
    last_error = status;
    first.swap(first_attempt);
    if (shutdown) return;
  }
  if (first) {
    first(status);  // Connect() reports it; no retry for a channel never made
    return;
  }
  EnterTransientFailure(status);
}

void Channel::Impl::EnterTransientFailure(const absl::Status& status) {
  std::vector<std::function<void()>> notes;
  const absl::Status unreachable(
      FailFastCode(status),
      absl::StrCat("the server at ", target, " is unreachable: ", status.message()));
  absl::Duration delay;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (shutdown) return;
    last_error = status;
    SetStateLocked(ChannelState::kTransientFailure, status, &notes);
    // Fail-fast calls stop waiting; the others wait for the next attempt.
    std::vector<uint64_t> still_waiting;
    for (uint64_t id : waiting) {
      auto it = pending.find(id);
      if (it == pending.end()) continue;
      if (it->second.fail_fast) {
        EraseDeadline(it->second.deadline, id);
        FailLocked(std::move(it->second), unreachable);
        pending.erase(it);
      } else {
        still_waiting.push_back(id);
      }
    }
    waiting.swap(still_waiting);
    // Exponential backoff with jitter.
    const ReconnectBackoff& backoff = options.reconnect_backoff;
    double seconds = absl::ToDoubleSeconds(backoff.initial) *
                     std::pow(std::max(1.0, backoff.multiplier), failed_attempts);
    seconds = std::min(seconds, absl::ToDoubleSeconds(backoff.max));
    std::uniform_real_distribution<double> spread(-backoff.jitter, backoff.jitter);
    seconds *= 1.0 + spread(random);
    delay = absl::Seconds(std::max(0.0, seconds));
    ++failed_attempts;
  }
  RunNotes(notes);
  RunEnded();
  reconnect_timer.expires_after(
      std::chrono::microseconds(absl::ToInt64Microseconds(delay)));
  std::weak_ptr<Impl> weak = weak_from_this();
  reconnect_timer.async_wait([weak](const std::error_code& error) {
    if (error) return;
    if (auto self = weak.lock()) self->StartConnect();
  });
}

void Channel::Impl::OnLinkClosed(const std::shared_ptr<Link>& link, const absl::Status& reason) {
  std::vector<std::function<void()>> notes;
  bool reconnect = false;
  bool failed_before_hello = false;
  const absl::Status status =
      reason.ok() ? absl::UnavailableError("the connection closed") : reason;
  {
    std::lock_guard<std::mutex> lock(mu);
    links.erase(link->id);
    if (!link->ready) return;  // a failed attempt: AttemptFailed handles it
    FailLocked(TakeCallsOfLocked(link->id), status);
    if (current == link) {
      current = nullptr;
      last_error = reason;
      // The server closed on purpose (idle, drain): reconnect when needed.
      // Lost after a working session: reconnect at once, so the next call
      // finds a connection. Lost before the server's hello (it refused us
      // after the handshake): that attempt failed, back off.
      if (!link->hello_received) {
        failed_before_hello = !shutdown;
      } else if (link->going_away && waiting.empty()) {
        SetStateLocked(ChannelState::kIdle, absl::OkStatus(), &notes);
      } else {
        reconnect = !shutdown;
      }
    } else if (current == nullptr && !waiting.empty() && !connecting) {
      reconnect = !shutdown;
    }
  }
  RunNotes(notes);
  RunEnded();
  if (failed_before_hello) {
    EnterTransientFailure(status);
  } else if (reconnect) {
    StartConnect();
  }
}

void Channel::Impl::FailLocked(std::vector<PendingCall> calls, const absl::Status& status) {
  for (PendingCall& call : calls) FailLocked(std::move(call), status);
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

void Channel::Impl::OnFrame(const std::shared_ptr<Link>& link, DecodedFrame& frame) {
  const v1::FrameHeader& header = frame.header;
  bool requeued = false;
  switch (header.kind_case()) {
    case v1::FrameHeader::kResponse: {
      const v1::ResponseHeader& response = header.response();
      bool reconnect = false;
      std::vector<std::function<void()>> notes;
      {
        std::lock_guard<std::mutex> lock(mu);
        auto it = pending.find(header.call_id());
        // Ended already, or sent again elsewhere (this link went away).
        if (it == pending.end() || it->second.link != link->id) return;
        // Refused unstarted: the server is draining this connection (the
        // refusal may overtake its GoAway). Send the call again elsewhere,
        // once; otherwise it fails below with the server's status.
        if (response.not_processed()) {
          requeued = RequeueLocked(header.call_id());
          reconnect = LeaveLinkLocked(link, &notes);
        }
      }
      RunNotes(notes);
      if (reconnect) {
        StartConnect();
      } else if (requeued) {
        SendRequeued();
      }
      if (requeued) return;
      Metadata trailers = MetadataFromWire(response.trailers());
      if (frame.oversized_payload_bytes > 0) {
        Complete(header.call_id(),
                 absl::ResourceExhaustedError(absl::StrCat(
                     "the server's reply of ", frame.oversized_payload_bytes,
                     " bytes exceeds this client's limit of ", limits.max_message_bytes,
                     " bytes (kMaxMessageSize)")),
                 std::move(trailers), true);
      } else if (response.status_code() == 0) {
        Complete(header.call_id(), std::string(frame.payload), std::move(trailers), true);
      } else {
        Complete(header.call_id(),
                 absl::Status(static_cast<absl::StatusCode>(response.status_code()),
                              response.status_message()),
                 std::move(trailers), true);
      }
      return;
    }
    case v1::FrameHeader::kMessage:
    case v1::FrameHeader::kWindowUpdate: {
      std::shared_ptr<ClientStreamState> stream;
      {
        std::lock_guard<std::mutex> lock(mu);
        auto it = pending.find(header.call_id());
        if (it == pending.end()) return;  // the call ended here already
        stream = it->second.stream;
      }
      if (stream == nullptr) return;
      if (header.has_window_update()) {
        stream->flow->AddCredit(header.window_update().bytes());
        return;
      }
      absl::Status delivered =
          frame.oversized_payload_bytes > 0
              ? absl::ResourceExhaustedError(absl::StrCat(
                    stream->method, ": a message of ", frame.oversized_payload_bytes,
                    " bytes from the server exceeds this client's limit of ",
                    limits.max_message_bytes, " bytes (kMaxMessageSize)"))
              : stream->flow->Deliver(std::string(frame.payload));
      if (!delivered.ok()) Abandon(header.call_id(), delivered);
      return;
    }
    case v1::FrameHeader::kHello: {
      if (header.hello().protocol_version() != kProtocolVersion) {
        link->connection->Close(absl::FailedPreconditionError(absl::StrCat(
            "the server speaks appwire protocol version ", header.hello().protocol_version(),
            "; this client speaks version ", kProtocolVersion,
            "; use a client and server of the same protocol version")));
        return;
      }
      // TLS 1.3 tickets come right after the handshake, before this frame.
      std::shared_ptr<void> session = link->connection->SavedSession();
      std::lock_guard<std::mutex> lock(mu);
      server_software = absl::StrCat(header.hello().software_name(), " ",
                                     header.hello().software_version());
      link->server_max_message_bytes = header.hello().max_message_bytes();
      link->hello_received = true;
      // Only a server that got as far as its hello resets the backoff: one
      // that closes right after the handshake must not be retried in a loop.
      failed_attempts = 0;
      if (session != nullptr) saved_session = std::move(session);
      return;
    }
    case v1::FrameHeader::kGoAway: {
      const v1::GoAway& go_away = header.go_away();
      std::vector<std::function<void()>> notes;
      bool refused_before_hello = false;
      bool reconnect = false;
      {
        std::lock_guard<std::mutex> lock(mu);
        link->going_away = true;
        // Calls the server never received are sent again on a new
        // connection (unary ones, once); the others end below.
        std::vector<uint64_t> unprocessed;
        if (go_away.has_last_call_id()) {
          for (auto& [id, call] : pending) {
            if (call.link == link->id && id > go_away.last_call_id()) unprocessed.push_back(id);
          }
        }
        for (uint64_t id : unprocessed) {
          if (RequeueLocked(id)) continue;
          // A stream the server never started: it ends now.
          PendingCall stream;
          if (TakeCallLocked(id, &stream)) {
            FailLocked(std::move(stream),
                       absl::UnavailableError(absl::StrCat(
                           "the server did not process it (it is going away: ",
                           go_away.status_message(), ")")));
          }
        }
        reconnect = LeaveLinkLocked(link, &notes);
        // Refused before its hello (a protocol version or an ordering it
        // does not accept): like a failed attempt, it waits for the backoff.
        refused_before_hello = !link->hello_received;
        if (refused_before_hello) reconnect = false;
      }
      RunEnded();
      RunNotes(notes);
      if (!go_away.graceful()) {
        // Calls on this connection end now, with the server's reason.
        absl::Status reason(static_cast<absl::StatusCode>(go_away.status_code()),
                            absl::StrCat("the server closed the connection: ",
                                         go_away.status_message()));
        {
          std::lock_guard<std::mutex> lock(mu);
          FailLocked(TakeCallsOfLocked(link->id), reason);
        }
        RunEnded();
      }
      if (refused_before_hello) {
        EnterTransientFailure(absl::Status(
            static_cast<absl::StatusCode>(go_away.status_code()),
            absl::StrCat("the server closed the connection: ", go_away.status_message())));
      } else if (reconnect) {
        StartConnect();
      } else {
        SendRequeued();  // calls requeued from an older connection
      }
      return;
    }
    default:
      link->connection->Close(absl::InvalidArgumentError(absl::StrCat(
          "protocol error: the server sent a frame of an unexpected kind (call id ",
          header.call_id(), ")")));
      return;
  }
}

void Channel::Impl::ScheduleKeepalive() {
  if (keepalive_interval <= absl::ZeroDuration()) return;
  const int64_t period_ms = std::clamp<int64_t>(
      absl::ToInt64Milliseconds(std::min(keepalive_interval, keepalive_timeout)) / 4, 5, 1000);
  keepalive_timer.expires_after(std::chrono::milliseconds(period_ms));
  std::weak_ptr<Impl> weak = weak_from_this();
  keepalive_timer.async_wait([weak](const std::error_code& error) {
    if (error) return;
    auto self = weak.lock();
    if (self == nullptr) return;
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard<std::mutex> lock(self->mu);
      for (auto& [id, link] : self->links) {
        if (link->connection != nullptr) open.push_back(link->connection);
      }
    }
    for (auto& connection : open) connection->CheckKeepalive();
    self->ScheduleKeepalive();
  });
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

void Channel::Impl::StartCall(PendingCall call, v1::FrameHeader header, std::string payload) {
  const uint64_t call_id = header.call_id();
  std::shared_ptr<ClientStreamState> stream = call.stream;
  std::shared_ptr<const std::string> request;
  std::shared_ptr<Link> link;
  bool arm = false;
  bool connect = false;
  absl::Status refused;
  {
    std::unique_lock<std::mutex> lock(mu);
    const size_t limit = MaxMessageLocked();
    if (shutdown) {
      refused = ClosedError();
    } else if (payload.size() > limit) {
      refused = absl::ResourceExhaustedError(
          limit < limits.max_message_bytes
              ? absl::StrCat(call.method, ": message of ", payload.size(),
                             " bytes exceeds the server's limit of ", limit,
                             " bytes (kMaxMessageSize)")
              : absl::StrCat(call.method, ": message of ", payload.size(),
                             " bytes exceeds the limit of ", limit, " bytes (max message size)"));
    } else if (current == nullptr && state == ChannelState::kTransientFailure &&
               call.fail_fast) {
      refused = absl::Status(
          FailFastCode(last_error),
          absl::StrCat(call.method, " failed at once (fail_fast): the server at ", target,
                       " is unreachable: ", last_error.message()));
    }
    if (refused.ok() && call.deadline != absl::InfiniteFuture()) {
      deadlines.emplace(call.deadline, call_id);
      arm = call.deadline < timer_armed_for;
      if (arm) timer_armed_for = call.deadline;
    }
    if (refused.ok()) {
      request = std::make_shared<const std::string>(std::move(payload));
      // Unary calls keep their request until they end (see PendingCall).
      if (call.stream == nullptr || current == nullptr) {
        call.header = header;
        call.request = request;
      }
    }
    if (refused.ok() && current != nullptr) {
      link = current;
      call.link = link->id;
      if (call.stream != nullptr) call.stream->max_message_bytes = limit;
    } else if (refused.ok()) {
      waiting.push_back(call_id);
      // Idle: connect now. In transient failure the backoff timer will.
      connect = !connecting && state == ChannelState::kIdle;
      if (call.stream != nullptr) call.stream->max_message_bytes = limits.max_message_bytes;
    }
    if (refused.ok()) pending.emplace(call_id, std::move(call));
  }
  if (!refused.ok()) {
    Finish(call, refused, {}, false);
    return;
  }
  if (arm) {
    std::weak_ptr<Impl> weak = weak_from_this();
    asio::post(io, [weak] {
      if (auto self = weak.lock()) self->ArmDeadlineTimer();
    });
  }
  if (connect) {
    std::weak_ptr<Impl> weak = weak_from_this();
    asio::post(io, [weak] {
      if (auto self = weak.lock()) self->StartConnect();
    });
    return;
  }
  if (link == nullptr) return;
  if (stream != nullptr) {
    std::lock_guard<std::mutex> lock(stream->mu);
    if (!stream->finished) stream->connection = link->connection;  // as in DispatchWaiting
    stream->changed.notify_all();
  }
  SendRequest(link, call_id, header, *request);
}

void Channel::Impl::SendRequest(const std::shared_ptr<Link>& link, uint64_t call_id,
                                const v1::FrameHeader& header, const std::string& payload) {
  absl::Status sent = link->connection->Send(header, payload);
  bool abandoned;
  bool failed = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = pending.find(call_id);
    abandoned = it == pending.end();
    // Sent again elsewhere meanwhile (this link went away): not ours.
    if (!abandoned && it->second.link != link->id) return;
    if (!abandoned && sent.ok()) it->second.sent = true;
    failed = !abandoned && !sent.ok();
  }
  if (failed) {
    Complete(call_id,
             absl::Status(sent.code(), absl::StrCat(header.request().method(), ": ", sent.message())),
             {}, false);
    return;
  }
  if (!sent.ok()) return;
  // Cancelled (or expired) while the request was on its way: Abandon did
  // not tell the server, as the cancel must not overtake the request. The
  // server ignores a cancel for a call that has already ended.
  if (abandoned) SendCancel(link->connection, call_id);
}

void Channel::Impl::StartWithToken(PendingCall call, v1::FrameHeader header,
                                   std::string payload) {
  std::shared_ptr<CancellationToken> token = call.token;
  if (token == nullptr) {
    StartCall(std::move(call), std::move(header), std::move(payload));
    return;
  }
  const uint64_t call_id = header.call_id();
  const absl::Status cancelled =
      absl::CancelledError(absl::StrCat(call.method, " was cancelled by the client"));
  std::weak_ptr<Impl> weak = weak_from_this();
  call.token_registration = token->Register([weak, call_id, cancelled] {
    // The completion runs here, on the cancelling thread; ~Channel waits
    // for this reference to go unless that completion destroyed it.
    if (auto self = weak.lock()) {
      HoldOnThisThread hold(self.get());
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
    if (!TakeCallLocked(call_id, &call)) return;
  }
  Finish(call, std::move(result), std::move(trailers), from_server);
}

void Channel::Impl::Finish(PendingCall& call, absl::StatusOr<std::string> result,
                           Metadata trailers, bool from_server) {
  if (from_server && result.status().code() == absl::StatusCode::kDeadlineExceeded &&
      call.timeout != absl::InfiniteDuration()) {
    // The server's deadline timer may beat ours by a hair: the same words
    // either way.
    result = absl::DeadlineExceededError(call.DeadlineMessage());
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
    if (!TakeCallLocked(call_id, &call)) return;
    auto link = links.find(call.link);
    // Not sent yet: SendRequest sends the cancel after the request.
    if (call.sent && link != links.end()) connection = link->second->connection;
  }
  // The server cancels the handler and sends nothing more.
  if (connection != nullptr) SendCancel(connection, call_id);
  Finish(call, status, {}, false);
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
  deadline_timer.expires_after(std::chrono::microseconds(
      std::max<int64_t>(0, absl::ToInt64Microseconds(next - absl::Now()))));
  std::weak_ptr<Impl> weak = weak_from_this();
  deadline_timer.async_wait([weak](const std::error_code& error) {
    if (error) return;
    if (auto self = weak.lock()) self->OnDeadlineTimer();
  });
}

void Channel::Impl::OnDeadlineTimer() {
  std::vector<std::pair<uint64_t, absl::Status>> expired;
  const absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(mu);
    while (!deadlines.empty() && deadlines.begin()->first <= now) {
      uint64_t id = deadlines.begin()->second;
      deadlines.erase(deadlines.begin());
      auto it = pending.find(id);
      if (it == pending.end()) continue;
      std::string message = it->second.DeadlineMessage();
      if (it->second.link == 0 && !last_error.ok()) {
        absl::StrAppend(&message, "; it was waiting for a connection to ", target,
                        ", the last attempt failed: ", last_error.message());
      }
      it->second.deadline = absl::InfiniteFuture();  // already out of `deadlines`
      expired.emplace_back(id, absl::DeadlineExceededError(message));
    }
  }
  for (auto& [id, status] : expired) Abandon(id, status);
  ArmDeadlineTimer();
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
  if (on_io_thread || HoldOnThisThread::Holds(&s)) return;
  // Another thread may hold the Impl for a moment: a cancellation token
  // delivering a completion, a stream's Write(). Wait for it, so that
  // nothing of the channel outlives it.
  std::shared_ptr<Released> released = s.lifetime.released;
  impl_.reset();
  released->Wait();
}

absl::StatusOr<std::shared_ptr<Channel>> Channel::Connect(const ChannelOptions& requested) {
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
  impl->parsed_target = *target;
  impl->server_name = options.server_name.empty() ? target->host : options.server_name;
  impl->context = *context;
  impl->limits.max_message_bytes =
      static_cast<size_t>(options.parameters.Get(Parameter::kMaxMessageSize).AsInt());
  impl->keepalive_interval =
      absl::Milliseconds(options.parameters.Get(Parameter::kKeepaliveInterval).AsInt());
  impl->keepalive_timeout =
      absl::Milliseconds(options.parameters.Get(Parameter::kKeepaliveTimeout).AsInt());
  auto first = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> first_done = first->get_future();
  impl->first_attempt = [first](const absl::Status& status) { first->set_value(status); };
  impl->work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      impl->io.get_executor());
  // The thread holds the channel's state until it ends: a callback may drop
  // the app's last reference while the thread is still inside it.
  impl->io_thread = std::thread([self = impl] { self->io.run(); });
  // Every error return below stops the thread again.
  struct StopOnError {
    Impl* impl;
    bool armed = true;
    ~StopOnError() {
      if (armed) impl->StopIo();
    }
  } stop_on_error{impl.get()};
  std::weak_ptr<Impl> weak = impl;
  asio::post(impl->io, [weak] {
    if (auto self = weak.lock()) {
      self->StartConnect();
      self->ScheduleKeepalive();
    }
  });
  absl::Status handshake_status = first_done.get();
  const std::optional<TlsFailure> failure = GetTlsFailure(handshake_status);
  if (failure.has_value() && failure->kind == TlsFailure::Kind::kPinMismatch &&
      known.has_value() && options.pinned_sha256 == known->fingerprint) {
    // Pinned by known_servers: say it as SSH does, with the line to edit.
    const std::string presented = failure->presented_fingerprint.empty()
                                      ? "no certificate"
                                      : failure->presented_fingerprint;
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
    const TlsSessionInfo info = [&] {
      std::lock_guard<std::mutex> lock(impl->mu);
      return impl->last_session;
    }();
    const std::string fingerprint =
        info.peer_certificate ? info.peer_certificate->sha256_fingerprint : std::string();
    absl::Status remembered = RememberServer(known_servers_file, server_key, fingerprint);
    if (!remembered.ok()) return remembered;
    LogInfo(absl::StrCat("first connection to ", server_key, ": trusted its certificate ",
                         fingerprint, " and recorded it in ", known_servers_file));
    // Reconnections accept only the certificate just recorded.
    tls.trust_on_first_use = false;
    tls.pinned_sha256 = fingerprint;
    absl::StatusOr<std::shared_ptr<TlsContext>> pinned = TlsContext::Create(tls);
    if (!pinned.ok()) return pinned.status();
    std::lock_guard<std::mutex> lock(impl->mu);
    impl->context = *std::move(pinned);
  }
  stop_on_error.armed = false;
  return std::shared_ptr<Channel>(new Channel(std::move(impl)));
}

namespace {

// Fills what unary and streaming calls share: the request header, the
// deadline, metadata and cancellation. Not OK: the call fails at once.
absl::Status PrepareCall(absl::string_view method, MethodKind kind, const CallOptions& options,
                         size_t max_metadata, uint64_t call_id, v1::FrameHeader* header,
                         std::string* method_out, absl::Time* deadline) {
  header->set_call_id(call_id);
  v1::RequestHeader* request = header->mutable_request();
  request->set_method(std::string(method));
  request->set_kind(static_cast<v1::MethodKind>(kind));
  *method_out = std::string(method);
  if (!options.metadata.empty()) {
    absl::Status valid = ValidateMetadata(options.metadata, max_metadata,
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
    *deadline = absl::Now() + options.timeout;
    // At least 1: 0 on the wire means "no deadline".
    request->set_timeout_micros(static_cast<uint64_t>(std::max<int64_t>(
        1, absl::ToInt64Microseconds(absl::Ceil(options.timeout, absl::Microseconds(1))))));
  }
  if (options.cancellation != nullptr && options.cancellation->cancelled()) {
    return absl::CancelledError(absl::StrCat(method, " was cancelled before it started"));
  }
  return absl::OkStatus();
}

}  // namespace

void Channel::StartUnary(absl::string_view method, std::string request,
                         const CallOptions& options,
                         std::function<void(absl::StatusOr<std::string>)> done) {
  Impl::PendingCall call;
  call.done = std::move(done);
  call.fail_fast = options.fail_fast;
  call.trailers = options.trailers;
  call.timeout = options.timeout;
  call.token = options.cancellation;
  v1::FrameHeader header;
  absl::Status prepared = PrepareCall(
      method, MethodKind::kUnary, options,
      static_cast<size_t>(impl_->options.parameters.Get(Parameter::kMaxMetadataSize).AsInt()),
      impl_->next_call_id.fetch_add(2, std::memory_order_relaxed), &header, &call.method,
      &call.deadline);
  if (!prepared.ok()) {
    call.done(prepared);
    return;
  }
  // A completion run here, inline (a call refused at once), may destroy
  // this Channel; StartWithToken goes on after it.
  std::shared_ptr<Impl> impl = impl_;
  HoldOnThisThread hold(impl.get());
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
  Impl::PendingCall call;
  call.stream = state;
  call.fail_fast = options.fail_fast;
  call.timeout = options.timeout;
  call.token = options.cancellation;
  v1::FrameHeader header;
  absl::Status prepared = PrepareCall(
      method, kind, options,
      static_cast<size_t>(impl_->options.parameters.Get(Parameter::kMaxMetadataSize).AsInt()),
      impl_->next_call_id.fetch_add(2, std::memory_order_relaxed), &header, &call.method,
      &call.deadline);
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
  // Never through callback_executor: the caller may be the thread that
  // executor posts to.
  auto waiter = std::make_shared<SyncWaiter>();
  StartUnary(method, std::move(request), options,
             [waiter](absl::StatusOr<std::string> result) { waiter->Set(std::move(result)); });
  return waiter->Wait();
}

void Channel::Close() {
  // The callbacks below may destroy this Channel.
  std::shared_ptr<Impl> impl = impl_;
  HoldOnThisThread hold(impl.get());
  Impl& s = *impl;
  const absl::Status reason = absl::CancelledError("the client closed the channel");
  std::vector<std::shared_ptr<Link>> open;
  std::vector<std::function<void()>> notes;
  bool closed_before;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    closed_before = s.shutdown;
    if (!closed_before) {
      s.SetStateLocked(ChannelState::kShutdown, absl::OkStatus(), &notes);
      s.shutdown = true;
      s.closed_reason = reason;
      for (auto& [id, call] : s.pending) s.FailLocked(std::move(call), reason);
      s.pending.clear();
      s.waiting.clear();
      s.deadlines.clear();
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
      self->deadline_timer.cancel();
    }
  });
}

bool Channel::is_open() const { return state() == ChannelState::kReady; }

ChannelState Channel::state() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->state;
}

absl::Status Channel::WaitForReady(absl::Duration timeout) {
  Impl& s = *impl_;
  std::unique_lock<std::mutex> lock(s.mu);
  if (s.state == ChannelState::kIdle && !s.connecting) {
    std::weak_ptr<Impl> weak = impl_;
    asio::post(s.io, [weak] {
      if (auto self = weak.lock()) self->StartConnect();
    });
  }
  s.state_changed.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&s] {
    return s.state == ChannelState::kReady || s.state == ChannelState::kShutdown;
  });
  if (s.state == ChannelState::kReady) return absl::OkStatus();
  if (s.state == ChannelState::kShutdown) return s.ClosedError();
  return absl::DeadlineExceededError(absl::StrCat(
      "the channel to ", s.target, " is not ready after ", absl::FormatDuration(timeout),
      " (", ChannelStateName(s.state), s.last_error.ok() ? "" : ": ", s.last_error.message(),
      ")"));
}

TlsSessionInfo Channel::session_info() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->last_session;
}

std::string Channel::server_software() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->server_software;
}

int Channel::connections_made() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->connections_made;
}

// ClientStream

ClientStream::ClientStream(std::shared_ptr<ClientStreamState> state) : state_(std::move(state)) {}

ClientStream::~ClientStream() {
  bool finished;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    finished = state_->finished;
  }
  if (!finished) Cancel();
}

namespace {

// Waits until the call went out on a connection (or ended); returns the
// connection, or null when the call is over.
std::shared_ptr<Connection> StartedConnection(ClientStreamState& state) {
  std::unique_lock<std::mutex> lock(state.mu);
  state.changed.wait(lock, [&state] { return state.connection != nullptr || state.finished; });
  return state.finished ? nullptr : state.connection;
}

}  // namespace

bool ClientStream::Write(absl::string_view message) {
  ClientStreamState& s = *state_;
  if (s.kind == MethodKind::kServerStreaming || s.writes_done) return false;
  // Held while `connection` is (see ClientStreamState::connection). Waits
  // below end when the call ends, which ~Channel makes happen first.
  std::shared_ptr<Channel::Impl> channel = s.channel.lock();
  if (channel == nullptr) return false;
  std::shared_ptr<Connection> connection = StartedConnection(s);
  if (connection == nullptr) return false;
  if (message.size() > s.max_message_bytes) {
    channel->Abandon(s.call_id, absl::ResourceExhaustedError(absl::StrCat(
                                    s.method, ": message of ", message.size(),
                                    " bytes exceeds the limit of ", s.max_message_bytes,
                                    " bytes (max message size)")));
    return false;
  }
  if (!s.flow->AcquireCredit(message.size()).ok()) return false;
  v1::FrameHeader header;
  header.set_call_id(s.call_id);
  header.mutable_message();
  return connection->Send(header, message).ok();
}

bool ClientStream::WritesDone() {
  ClientStreamState& s = *state_;
  if (s.kind == MethodKind::kServerStreaming || s.writes_done) return false;
  std::shared_ptr<Channel::Impl> channel = s.channel.lock();  // as in Write()
  if (channel == nullptr) return false;
  std::shared_ptr<Connection> connection = StartedConnection(s);
  if (connection == nullptr || s.writes_done.exchange(true)) return false;
  v1::FrameHeader header;
  header.set_call_id(s.call_id);
  header.mutable_half_close();
  return connection->Send(header, "").ok();
}

bool ClientStream::Read(std::string* message) {
  ClientStreamState& s = *state_;
  uint64_t credit = 0;
  absl::StatusOr<bool> read = s.flow->Read(message, &credit);
  if (credit > 0) {
    std::shared_ptr<Channel::Impl> channel = s.channel.lock();  // as in Write()
    std::shared_ptr<Connection> connection;
    if (channel != nullptr) {
      std::lock_guard<std::mutex> lock(s.mu);
      connection = s.finished ? nullptr : s.connection;
    }
    if (connection != nullptr) {
      v1::FrameHeader header;
      header.set_call_id(s.call_id);
      header.mutable_window_update()->set_bytes(credit);
      connection->Send(header, "").IgnoreError();
    }
  }
  return read.ok() && *read;
}

absl::Status ClientStream::Finish() {
  ClientStreamState& s = *state_;
  if (!s.writes_done && (s.kind == MethodKind::kClientStreaming ||
                         s.kind == MethodKind::kBidiStreaming)) {
    WritesDone();
  }
  std::unique_lock<std::mutex> lock(s.mu);
  s.changed.wait(lock, [&s] { return s.finished; });
  return s.status;
}

const std::string& ClientStream::response() const { return state_->response; }
const Metadata& ClientStream::trailers() const { return state_->trailers; }

void ClientStream::Cancel() {
  // No channel: it ended the call already.
  if (std::shared_ptr<Channel::Impl> channel = state_->channel.lock()) {
    channel->Abandon(state_->call_id, absl::CancelledError(absl::StrCat(
                                          state_->method, " was cancelled by the client")));
  }
}

}  // namespace appwire
