#include "transport/connection.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "transport/internal/buffers.h"
#include "transport/tls_stream.h"

namespace appwire {
namespace {

// Above this, a message is not copied into the coalescing buffer.
constexpr size_t kLargePayloadBytes = 64 * 1024;

}  // namespace

absl::string_view ConnectionStateName(Connection::State state) {
  switch (state) {
    case Connection::State::kHandshaking: return "handshaking";
    case Connection::State::kOpen: return "open";
    case Connection::State::kDraining: return "draining";
    case Connection::State::kClosed: return "closed";
  }
  return "unknown";
}

Connection::Connection(std::shared_ptr<TlsStream> stream, FrameLimits limits,
                       Callbacks callbacks)
    : stream_(std::move(stream)), limits_(limits), callbacks_(std::move(callbacks)) {}

Connection::~Connection() = default;

std::shared_ptr<Connection> Connection::Create(std::shared_ptr<TlsStream> stream,
                                               FrameLimits limits, Callbacks callbacks) {
  return std::shared_ptr<Connection>(
      new Connection(std::move(stream), limits, std::move(callbacks)));
}

void Connection::Touch() {
  last_activity_ns_.store(absl::GetCurrentTimeNanos(), std::memory_order_relaxed);
}

absl::Duration Connection::idle_for() const {
  return absl::Nanoseconds(absl::GetCurrentTimeNanos() -
                           last_activity_ns_.load(std::memory_order_relaxed));
}

void Connection::SetKeepalive(absl::Duration interval, absl::Duration timeout) {
  keepalive_interval_ = interval;
  keepalive_timeout_ = timeout;
}

void Connection::CheckKeepalive() {
  if (keepalive_interval_ <= absl::ZeroDuration() || state() != State::kOpen) return;
  const int64_t now = absl::GetCurrentTimeNanos();
  const int64_t sent = ping_sent_ns_.load(std::memory_order_relaxed);
  const int64_t received = last_received_ns_.load(std::memory_order_relaxed);
  if (sent != 0 && received < sent) {
    if (absl::Nanoseconds(now - sent) >= keepalive_timeout_) {
      // No GoAway: the peer is unreachable, and close_notify would linger.
      stream_->Close();
      Finish(absl::UnavailableError(absl::StrCat(
          "no reply from ", peer_address(), " to a keepalive ping within ",
          absl::FormatDuration(keepalive_timeout_),
          " (kKeepaliveTimeout); the peer or the network is gone")));
    }
    return;
  }
  if (absl::Nanoseconds(now - received) < keepalive_interval_) return;
  ping_sent_ns_.store(now, std::memory_order_relaxed);
  v1::FrameHeader header;
  header.set_call_id(0);
  header.mutable_ping()->set_opaque(static_cast<uint64_t>(now));
  Send(header, "").IgnoreError();
}

void Connection::HandlePing(const v1::Ping& ping) {
  if (ping.ack()) return;  // last_received_ns_ already says the peer lives
  v1::FrameHeader header;
  header.set_call_id(0);
  header.mutable_ping()->set_opaque(ping.opaque());
  header.mutable_ping()->set_ack(true);
  Send(header, "").IgnoreError();
}

const TlsSessionInfo& Connection::session_info() const { return stream_->info(); }
const std::string& Connection::peer_address() const { return stream_->peer_address(); }
std::shared_ptr<void> Connection::SavedSession() const { return stream_->SavedSession(); }

bool Connection::Transition(State from, State to) {
  return state_.compare_exchange_strong(from, to, std::memory_order_acq_rel);
}

void Connection::Start() {
  auto self = shared_from_this();
  stream_->AsyncHandshake([self](absl::Status status) {
    self->Touch();
    self->last_received_ns_.store(absl::GetCurrentTimeNanos(), std::memory_order_relaxed);
    if (status.ok() && !self->Transition(State::kHandshaking, State::kOpen)) {
      status = absl::CancelledError("connection closed during the TLS handshake");
    }
    if (self->callbacks_.on_handshake) self->callbacks_.on_handshake(self, status);
    if (!status.ok()) {
      self->Finish(status);
      return;
    }
    self->ReadLoop();
  });
}

void Connection::ReadLoop() {
  auto self = shared_from_this();
  stream_->AsyncRead(&read_buffer_, [self](absl::Status status) { self->OnData(status); });
}

void Connection::OnData(const absl::Status& status) {
  if (!status.ok()) {
    // A peer that closes on purpose often has its last frames (a GoAway)
    // arrive in the same read as its close_notify: they still count.
    if (state() == State::kOpen && read_offset_ < read_buffer_.size()) DeliverFrames();
    Finish(status);
    stream_->Close();
    return;
  }
  if (state() != State::kOpen) {
    // Closing: what the peer still sends is read and dropped until it
    // closes too (see TlsStream::Shutdown).
    read_buffer_.clear();
    read_offset_ = 0;
    ReadLoop();
    return;
  }
  if (DeliverFrames()) ReadLoop();
}

bool Connection::DeliverFrames() {
  last_received_ns_.store(absl::GetCurrentTimeNanos(), std::memory_order_relaxed);
  auto self = shared_from_this();
  DecodedFrame frame;
  for (;;) {
    if (state() != State::kOpen) break;
    if (skip_bytes_ > 0) {
      const uint64_t skipped =
          std::min<uint64_t>(skip_bytes_, read_buffer_.size() - read_offset_);
      skip_bytes_ -= skipped;
      read_offset_ += skipped;
      if (skip_bytes_ > 0) break;
    }
    size_t consumed = 0;
    absl::string_view input(read_buffer_);
    input.remove_prefix(read_offset_);
    absl::Status decoded = DecodeFrame(input, limits_, &frame, &consumed);
    if (!decoded.ok()) {
      Close(absl::Status(decoded.code(),
                         absl::StrCat("frame from ", peer_address(), " refused: ",
                                      decoded.message())));
      return false;
    }
    if (consumed == 0) break;
    read_offset_ += consumed;
    skip_bytes_ = frame.oversized_payload_bytes;
    if (frame.header.has_ping()) {
      HandlePing(frame.header.ping());
      continue;
    }
    if (frame.header.has_request() &&
        frame.header.call_id() > highest_request_id_.load(std::memory_order_relaxed)) {
      highest_request_id_.store(frame.header.call_id(), std::memory_order_release);
    }
    Touch();
    frame.buffer = read_offset_ == read_buffer_.size() && skip_bytes_ == 0 ? &read_buffer_ : nullptr;
    if (callbacks_.on_frame) callbacks_.on_frame(self, frame);
    if (read_buffer_.size() < read_offset_) {
      // The receiver took the buffer (see DecodedFrame::buffer).
      read_buffer_.clear();
      read_offset_ = 0;
      break;
    }
  }
  if (read_offset_ == read_buffer_.size()) {
    internal::ClearBuffer(&read_buffer_);
    read_offset_ = 0;
  } else if (read_offset_ > 0) {
    read_buffer_.erase(0, read_offset_);
    read_offset_ = 0;
  }
  return true;
}

absl::Status Connection::Send(const v1::FrameHeader& header, absl::string_view payload) {
  if (payload.size() > limits_.max_message_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "message of ", payload.size(), " bytes exceeds the limit of ",
        limits_.max_message_bytes, " bytes (max message size)"));
  }
  if (header.ByteSizeLong() > limits_.max_header_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "frame header of ", header.ByteSizeLong(), " bytes exceeds the limit of ",
        limits_.max_header_bytes, " bytes (method name or status message too long)"));
  }
  State current = state();
  if (current == State::kClosed && !close_reason_.ok()) {
    return close_reason_;  // why it closed says more than "closed"
  }
  if (current != State::kOpen && !(current == State::kDraining && header.has_go_away())) {
    return absl::UnavailableError(absl::StrCat(
        "the connection with ", peer_address(), " is ", ConnectionStateName(current)));
  }
  if (!header.has_ping()) Touch();
  std::unique_lock<std::mutex> lock(send_mu_);
  absl::Status status;
  if (!flushing_ && pending_.empty() && payload.size() >= kLargePayloadBytes) {
    // A large message with nobody else writing: encrypt it from the
    // caller's buffer instead of copying it behind the frame prefix. Frames
    // other threads queue meanwhile go out after it.
    flushing_ = true;
    std::string prefix;
    AppendFrame(header, "", &prefix);
    PatchFrameLength(payload.size(), &prefix);
    lock.unlock();
    status = stream_->Write(prefix);
    if (status.ok()) status = stream_->Write(payload);
    lock.lock();
  } else {
    AppendFrame(header, payload, &pending_);
    if (flushing_) return absl::OkStatus();  // the writing thread takes it along
    flushing_ = true;
  }
  while (status.ok() && !pending_.empty()) {
    batch_.swap(pending_);
    lock.unlock();
    status = stream_->Write(batch_);
    lock.lock();
    internal::ClearBuffer(&batch_);
    if (!status.ok()) {
      pending_.clear();
      break;
    }
  }
  flushing_ = false;
  return status;
}

void Connection::Close(const absl::Status& reason, bool send_go_away) {
  if (!Transition(State::kOpen, State::kDraining)) {
    // Still handshaking: no frames can be sent; just stop.
    if (state() == State::kHandshaking) {
      stream_->Close();
      Finish(reason);
    }
    return;
  }
  // Claim the close before anything goes out: the peer may answer our
  // GoAway so fast that the read side sees its close first, and the reason
  // reported must still be ours.
  const bool first = !finished_.exchange(true);
  if (send_go_away && !reason.ok()) {
    v1::FrameHeader header;
    header.set_call_id(0);
    header.mutable_go_away()->set_status_code(static_cast<int>(reason.code()));
    header.mutable_go_away()->set_status_message(std::string(reason.message()));
    header.mutable_go_away()->set_last_call_id(highest_request_id());
    Send(header, "").IgnoreError();  // best effort: the peer may be gone
  }
  stream_->Shutdown();
  if (first) close_reason_ = reason;  // published by the store below
  state_.store(State::kClosed, std::memory_order_release);
  if (first && callbacks_.on_closed) callbacks_.on_closed(shared_from_this(), reason);
}

void Connection::Finish(const absl::Status& reason) {
  if (finished_.exchange(true)) return;
  close_reason_ = reason;  // published by the store below
  state_.store(State::kClosed, std::memory_order_release);
  if (callbacks_.on_closed) callbacks_.on_closed(shared_from_this(), reason);
}

}  // namespace appwire
