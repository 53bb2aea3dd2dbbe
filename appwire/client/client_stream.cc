#include "appwire/client/client_stream.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "appwire/client/internal/channel_impl.h"
#include "appwire/client/internal/client_stream_state.h"
#include "appwire/rpc/message_limits.h"
#include "appwire/transport/frames.h"
#include "appwire/v1/frame.pb.h"

namespace appwire {

void ClientStreamState::End(absl::Status final_status, std::string reply,
                            Metadata final_trailers, bool from_server) {
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

void ClientStreamState::Started(const std::shared_ptr<Connection>& on) {
  std::lock_guard<std::mutex> lock(mu);
  if (!finished) connection = on;
  changed.notify_all();
}

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

// Past the deadline, the call is over whether or not the channel's timer
// has said so yet: end it with the deadline's status (and tell the server)
// rather than write, so that nothing sent now lets the server end it OK.
bool EndIfPastDeadline(ClientStreamState& state) {
  if (!state.flow->DeadlinePassed()) return false;
  if (std::shared_ptr<Channel::Impl> channel = state.channel.lock()) {
    channel->Expire(state.call_id);
  }
  return true;
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
    channel->Abandon(s.call_id,
                     MessageTooLargeForSender(s.method, message.size(), s.max_message_bytes));
    return false;
  }
  const bool credit = s.flow->AcquireCredit(message.size()).ok();
  if (EndIfPastDeadline(s) || !credit) return false;
  return connection->Send(MessageFrame(s.call_id), message).ok();
}

bool ClientStream::WritesDone() {
  ClientStreamState& s = *state_;
  if (s.kind == MethodKind::kServerStreaming || s.writes_done) return false;
  std::shared_ptr<Channel::Impl> channel = s.channel.lock();  // as in Write()
  if (channel == nullptr) return false;
  std::shared_ptr<Connection> connection = StartedConnection(s);
  if (connection == nullptr || EndIfPastDeadline(s) || s.writes_done.exchange(true)) {
    return false;
  }
  return connection->Send(HalfCloseFrame(s.call_id), "").ok();
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
      connection->Send(WindowUpdateFrame(s.call_id, credit), "").IgnoreError();
    }
  }
  if (!read.ok() && read.status().code() == absl::StatusCode::kDeadlineExceeded) {
    EndIfPastDeadline(s);
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
