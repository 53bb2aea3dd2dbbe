// Channel::Impl, the connection's life (appwire/client/internal/channel_impl.h):
// an attempt (resolve, TCP connect, TLS handshake, our hello), its failure
// and the backoff before the next, a connection lost or left by the
// server, and the keepalive watch. Each state change goes through the
// connectivity table (appwire/client/connectivity_state.h).
#include "appwire/client/internal/channel_impl.h"

#include <chrono>
#include <utility>

#include <asio/connect.hpp>
#include <asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "appwire/client/internal/client_stream_state.h"
#include "appwire/rpc/hello.h"
#include "appwire/rpc/keepalive.h"
#include "appwire/transport/socket_errors.h"
#include "appwire/transport/tls_stream.h"

namespace appwire {

void Channel::Impl::StartConnect() {
  Notes notes;
  auto link = std::make_shared<Link>();
  {
    std::lock_guard<std::mutex> lock(mu);
    // One attempt at a time, none while a connection serves.
    const ChannelState state = StateLocked();
    if (state == ChannelState::kShutdown || state == ChannelState::kConnecting ||
        current != nullptr) {
      return;
    }
    link->id = ++next_link_id;
    ApplyLocked(ConnectivityEvent::kAttemptStarted, absl::OkStatus(), &notes);
  }
  RunNotes(notes);
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(io);
  // An address needs no lookup: resolving it here, on this thread, spares
  // the thread asio starts for its first asynchronous lookup (about a fifth
  // of a new channel's cost on loopback, bench W4).
  std::error_code numeric_error;
  asio::ip::tcp::resolver::results_type numeric = resolver->resolve(
      parsed_target.host, parsed_target.port,
      asio::ip::resolver_base::numeric_host | asio::ip::resolver_base::numeric_service,
      numeric_error);
  if (!numeric_error) {
    ConnectTcp(link, std::move(numeric));
    return;
  }
  std::weak_ptr<Impl> weak = weak_from_this();
  resolver->async_resolve(
      parsed_target.host, parsed_target.port,
      [weak, link, resolver](const std::error_code& error,
                             asio::ip::tcp::resolver::results_type endpoints) {
        auto self = weak.lock();
        if (self == nullptr) return;
        if (error) {
          self->AttemptFailed(link, SocketErrorToStatus(error, "resolving", self->target));
          return;
        }
        self->ConnectTcp(link, std::move(endpoints));
      });
}

void Channel::Impl::ConnectTcp(const std::shared_ptr<Link>& link,
                               asio::ip::tcp::resolver::results_type endpoints) {
  std::weak_ptr<Impl> weak = weak_from_this();
  auto socket = std::make_shared<asio::ip::tcp::socket>(io);
  auto timer = std::make_shared<asio::steady_timer>(io);
  auto timed_out = std::make_shared<bool>(false);
  timer->expires_after(
      std::chrono::microseconds(absl::ToInt64Microseconds(options.connect_timeout)));
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
                                        "connecting to ", self->target, " did not complete within ",
                                        absl::FormatDuration(self->options.connect_timeout),
                                        " (connect timeout)")));
        } else if (e) {
          self->AttemptFailed(link, SocketErrorToStatus(e, "connecting", self->target));
        } else {
          self->OnTcpConnected(link, std::move(*socket));
        }
      });
}

void Channel::Impl::OnTcpConnected(const std::shared_ptr<Link>& link,
                                   asio::ip::tcp::socket socket) {
  std::shared_ptr<const TlsContext> tls;
  std::shared_ptr<void> resume;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (ShutdownLocked()) return;  // the socket closes as it goes out of scope
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
  internal::TrackChannelConnection(link->connection);
  link->connection->SetKeepalive(keepalive_interval, keepalive_timeout);
  {
    std::lock_guard<std::mutex> lock(mu);
    // Checked again where the link is registered: Close() may have run
    // since the check above (creating the TlsStream takes a while) and
    // closed the links it found, not this one. Started, its handshake would
    // hold the Connection (the TlsStream keeps the handshake's callback)
    // until the server answered, long after ~Channel returned. Never
    // started, it holds nothing of itself: it goes with the link, and its
    // socket with it.
    if (ShutdownLocked()) return;
    links[link->id] = link;
  }
  // Close() may take the link from here on: a Connection closed before it
  // started still finishes its handshake (on the closed socket) at once.
  link->connection->Start();
}

void Channel::Impl::OnHandshake(const std::shared_ptr<Link>& link, const absl::Status& status) {
  if (!status.ok()) {
    AttemptFailed(link, status);  // the connection closes itself
    return;
  }
  // The hello goes first; calls may follow at once without waiting for the
  // server's hello (docs/protocol.md, "Hello").
  HelloInfo self;
  self.software_name = options.software_name;
  self.software_version = options.software_version;
  self.max_message_bytes = limits.max_message_bytes;
  link->connection->Send(HelloFrame(self), "").IgnoreError();

  Notes notes;
  std::function<void(const absl::Status&)> first;
  {
    std::unique_lock<std::mutex> lock(mu);
    if (ShutdownLocked()) {
      const absl::Status reason = closed_reason;  // Close()'s
      lock.unlock();  // Close() reports through OnLinkClosed, which locks mu
      link->connection->Close(reason);
      return;
    }
    link->stage = Link::Stage::kOpen;
    current = link;
    ++connections_made;
    last_session = link->connection->session_info();
    first.swap(first_attempt);
    ApplyLocked(ConnectivityEvent::kConnected, absl::OkStatus(), &notes);
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
    for (PendingCall* call : calls.TakeWaiting(link->id)) {
      to_send.emplace_back(call->header, call->request);
      if (call->stream != nullptr) {
        // Streams are never sent again: nothing to keep.
        call->request.reset();
        streams_started.push_back(call->stream);
      }
    }
  }
  for (auto& [header, request] : to_send) {
    SendRequest(link, header.call_id(), header, *request);
  }
  for (auto& stream : streams_started) stream->Started(link->connection);
}

bool Channel::Impl::LeaveLinkLocked(const std::shared_ptr<Link>& link, Notes* notes) {
  link->going_away = true;
  if (current != link) return false;
  current = nullptr;
  // New calls need a new connection: open it now if some wait.
  if (calls.has_waiting()) return true;
  ApplyLocked(ConnectivityEvent::kServerLeft, absl::OkStatus(), notes);
  return false;
}

void Channel::Impl::SendRequeued() {
  std::shared_ptr<Link> link;
  bool connect = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!calls.has_waiting() || ShutdownLocked()) return;
    if (current != nullptr && !current->going_away) {
      link = current;
    } else {
      connect = StateLocked() == ChannelState::kIdle;
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
    // Reported already, or the channel was closed meanwhile.
    if (StateLocked() != ChannelState::kConnecting) return;
    last_error = status;
    first.swap(first_attempt);
    // Connect() reports the first attempt's failure itself and hands out no
    // channel: the app hears no state change, and nothing retries.
    if (first) connectivity.Apply(ConnectivityEvent::kAttemptFailed);
  }
  if (first) {
    first(status);
    return;
  }
  EnterTransientFailure(status);
}

void Channel::Impl::EnterTransientFailure(const absl::Status& status) {
  Notes notes;
  const absl::Status unreachable(
      FailFastCode(status),
      absl::StrCat("the server at ", target, " is unreachable: ", status.message()));
  absl::Duration delay;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (ShutdownLocked()) return;
    last_error = status;
    ApplyLocked(ConnectivityEvent::kAttemptFailed, status, &notes);
    // Fail-fast calls stop waiting; the others wait for the next attempt.
    FailLocked(calls.TakeFailFastWaiting(), unreachable);
    delay = backoff.NextDelay();
  }
  RunNotes(notes);
  RunEnded();
  reconnect_timer.expires_after(std::chrono::microseconds(absl::ToInt64Microseconds(delay)));
  std::weak_ptr<Impl> weak = weak_from_this();
  reconnect_timer.async_wait([weak](const std::error_code& error) {
    if (error) return;
    if (auto self = weak.lock()) self->StartConnect();
  });
}

void Channel::Impl::OnLinkClosed(const std::shared_ptr<Link>& link, const absl::Status& reason) {
  Notes notes;
  bool reconnect = false;
  bool failed_before_hello = false;
  const absl::Status status =
      reason.ok() ? absl::UnavailableError("the connection closed") : reason;
  {
    std::lock_guard<std::mutex> lock(mu);
    links.erase(link->id);
    // A failed attempt: AttemptFailed handles it.
    if (link->stage == Link::Stage::kHandshaking) return;
    FailLocked(calls.TakeSentOn(link->id), status);
    const bool shutdown = ShutdownLocked();
    if (current == link) {
      current = nullptr;
      last_error = reason;
      // The server closed on purpose (idle, drain): reconnect when needed.
      // Lost after a working session: reconnect at once, so the next call
      // finds a connection. Lost before the server's hello (it refused us
      // after the handshake): that attempt failed, back off.
      if (link->stage != Link::Stage::kGreeted) {
        failed_before_hello = !shutdown;
      } else if (link->going_away && !calls.has_waiting()) {
        ApplyLocked(ConnectivityEvent::kServerLeft, absl::OkStatus(), &notes);
      } else {
        reconnect = !shutdown;
      }
    } else if (current == nullptr && calls.has_waiting() &&
               StateLocked() != ChannelState::kConnecting) {
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

void Channel::Impl::ScheduleKeepalive() {
  if (keepalive_interval <= absl::ZeroDuration()) return;
  keepalive_timer.expires_after(
      absl::ToChronoNanoseconds(WatchPeriod({keepalive_interval, keepalive_timeout})));
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

}  // namespace appwire
