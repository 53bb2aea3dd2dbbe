#include "appwire/transport/connection.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "appwire/common/log.h"
#include "appwire/transport/byte_stream.h"
#include "appwire/transport/frames.h"
#include "appwire/transport/internal/buffers.h"
#include "appwire/transport/protobuf_log.h"
#include "appwire/transport/receive_budget.h"

namespace appwire {
namespace {

// Above this, a message is not copied into the coalescing buffer.
constexpr size_t kLargePayloadBytes = 64 * 1024;
// A frame up to this size is received without asking the receive budget:
// one read's worth per connection is part of what a connection costs.
constexpr size_t kUnbudgetedFrameBytes = 64 * 1024;
// A connection closed on purpose lingers for the peer to read our GoAway
// and close_notify (TlsStream::Shutdown), but never longer than this, even
// when the peer does not read at all.
constexpr absl::Duration kMaxClosingTime = absl::Seconds(10);

// The bytes a frame will occupy in the read buffer, from its 8-byte prefix
// (at least 8 bytes at `input`): an over-limit payload is skipped, not kept.
size_t BufferedFrameBytes(absl::string_view input, const FrameLimits& limits) {
  auto u32 = [&input](size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(input[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(input[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(input[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(input[at + 3]));
  };
  const uint64_t frame_length = u32(0);
  const uint64_t header_length = u32(4);
  // Malformed or over the header limit: DecodeFrame refuses it before any
  // of it is buffered.
  if (frame_length < 4 || header_length > frame_length - 4 ||
      header_length > limits.max_header_bytes) {
    return 0;
  }
  const uint64_t payload = frame_length - 4 - header_length;
  return static_cast<size_t>(kFramePrefixBytes + header_length +
                             (payload > limits.max_message_bytes ? 0 : payload));
}

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

Connection::Connection(std::shared_ptr<ByteStream> stream, FrameLimits limits,
                       Callbacks callbacks)
    : stream_(std::move(stream)), limits_(limits), callbacks_(std::move(callbacks)) {}

Connection::~Connection() = default;

std::shared_ptr<Connection> Connection::Create(std::shared_ptr<ByteStream> stream,
                                               FrameLimits limits, Callbacks callbacks) {
  RouteProtobufLogs();  // a peer's bad frame header makes protobuf talk
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
  Send(PingFrame(static_cast<uint64_t>(now)), "").IgnoreError();
}

void Connection::HandlePing(const v1::Ping& ping) {
  if (ping.ack()) return;  // last_received_ns_ already says the peer lives
  Send(PingAckFrame(ping.opaque()), "").IgnoreError();
}

const TlsSessionInfo& Connection::session_info() const { return stream_->info(); }
const std::string& Connection::peer_address() const { return stream_->peer_address(); }
std::shared_ptr<void> Connection::SavedSession() const { return stream_->SavedSession(); }

bool Connection::Transition(State from, State to) {
  return state_.compare_exchange_strong(from, to, std::memory_order_acq_rel);
}

void Connection::Start() {
  auto self = shared_from_this();
  if (write_soft_limit_ > 0) {
    std::weak_ptr<Connection> weak = self;
    stream_->SetDrainedCallback([weak] {
      if (auto connection = weak.lock()) connection->OnDrained();
    });
  }
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
  if (state() == State::kOpen && MustPauseReading()) {
    read_paused_ = true;  // ResumeReading() goes on
    return;
  }
  auto self = shared_from_this();
  stream_->AsyncRead(&read_buffer_, [self](absl::Status status) { self->OnData(status); });
}

bool Connection::MustPauseReading() {
  if (blocked_since_ns_.load(std::memory_order_acquire) != 0) return true;
  // (While an over-limit payload is skipped, the buffer holds no frame.)
  if (budget_ == nullptr || front_charge_ != nullptr || skip_bytes_ > 0 ||
      read_buffer_.size() < kFramePrefixBytes) {
    return false;
  }
  const size_t needed = BufferedFrameBytes(read_buffer_, limits_);
  if (needed <= kUnbudgetedFrameBytes) return false;
  std::weak_ptr<Connection> weak = shared_from_this();
  front_charge_ = budget_->TryCharge(needed, [weak] {
    if (auto self = weak.lock()) self->stream_->Post([self] { self->ResumeReading(); });
  });
  return front_charge_ == nullptr;
}

void Connection::ResumeReading() {
  if (!read_paused_ || state() != State::kOpen) return;
  read_paused_ = false;
  ReadLoop();
}

void Connection::NoteQueued() {
  if (write_soft_limit_ == 0 || stream_->queued_bytes() <= write_soft_limit_) return;
  std::lock_guard<std::mutex> lock(room_mu_);
  // Checked again under the lock OnDrained takes: a queue that drained
  // meanwhile must not leave the connection blocked with nobody to unblock it.
  if (stream_->queued_bytes() > write_soft_limit_ &&
      blocked_since_ns_.load(std::memory_order_relaxed) == 0) {
    blocked_since_ns_.store(absl::GetCurrentTimeNanos(), std::memory_order_release);
  }
}

void Connection::OnDrained() {
  {
    std::lock_guard<std::mutex> lock(room_mu_);
    if (blocked_since_ns_.load(std::memory_order_relaxed) == 0) return;
    blocked_since_ns_.store(0, std::memory_order_release);
  }
  room_.notify_all();
  ResumeReading();  // the drained callback runs on the I/O thread
}

void Connection::WakeWaitersForRoom() {
  { std::lock_guard<std::mutex> lock(room_mu_); }
  room_.notify_all();
}

absl::Duration Connection::write_stalled_for() const {
  const int64_t since = blocked_since_ns_.load(std::memory_order_acquire);
  if (since == 0) return absl::ZeroDuration();
  return absl::Nanoseconds(absl::GetCurrentTimeNanos() - since);
}

absl::Status Connection::WaitForRoom(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(room_mu_);
  auto ready = [this] {
    return blocked_since_ns_.load(std::memory_order_relaxed) == 0 || state() != State::kOpen;
  };
  if (deadline == absl::InfiniteFuture()) {
    room_.wait(lock, ready);
  } else if (!room_.wait_until(lock, absl::ToChronoTime(deadline), ready)) {
    return absl::DeadlineExceededError(absl::StrCat(
        "the connection with ", peer_address(), " had no room for more before the deadline"));
  }
  if (state() != State::kOpen) {
    return absl::UnavailableError(
        absl::StrCat("the connection with ", peer_address(), " is ", ConnectionStateName(state())));
  }
  return absl::OkStatus();
}

void Connection::CloseNow(const absl::Status& reason, absl::Duration linger) {
  Close(reason);
  stream_->CloseWithin(linger);
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
    payload_bytes_received_.fetch_add(frame.payload.size() + frame.oversized_payload_bytes,
                                      std::memory_order_relaxed);
    if (frame.header.has_ping() && !hello_gate_) {
      // Pings are answered here, for both ends; the rule that they carry
      // nothing (docs/protocol.md, section 5) is checked here too.
      const uint64_t payload = frame.payload.size() + frame.oversized_payload_bytes;
      if (payload > 0) {
        Close(absl::InvalidArgumentError(absl::StrCat(
            "protocol error: a ping frame carries no payload; this one has ", payload,
            " bytes (call id ", frame.header.call_id(), ")")));
        return false;
      }
      HandlePing(frame.header.ping());
      continue;
    }
    // The frame the budget was charged for is the one at the front.
    if (front_charge_ != nullptr) frame.memory_charge = std::move(front_charge_);
    if (frame.header.has_request() &&
        frame.header.call_id() > highest_request_id_.load(std::memory_order_relaxed)) {
      highest_request_id_.store(frame.header.call_id(), std::memory_order_release);
    }
    Touch();
    frame.buffer = read_offset_ == read_buffer_.size() && skip_bytes_ == 0 ? &read_buffer_ : nullptr;
    if (callbacks_.on_frame) callbacks_.on_frame(self, frame);
    frame.memory_charge = nullptr;  // released unless the receiver kept a copy
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
  if (write_hard_limit_ > 0 && !header.has_go_away() &&
      stream_->queued_bytes() + payload.size() > write_hard_limit_) {
    // The peer has stopped reading and we keep producing: bound the memory
    // it costs us. It can no longer be told why in time; the GoAway goes
    // out behind what is queued, for the record.
    absl::Status full = absl::ResourceExhaustedError(absl::StrCat(
        "the peer at ", peer_address(), " is not reading: ", stream_->queued_bytes(),
        " bytes are queued for it and a frame of ", payload.size(),
        " more would pass the limit of ", write_hard_limit_,
        " bytes (kMaxWriteQueue + kMaxMessageSize); closing the connection"));
    CloseNow(full, absl::Seconds(2));
    return full;
  }
  if (!header.has_ping()) Touch();
  std::unique_lock<std::mutex> lock(send_mu_);
  // The state was checked before the lock: a frame that raced Close()
  // must not go out after the final GoAway.
  if (go_away_queued_) {
    return absl::UnavailableError(
        absl::StrCat("the connection with ", peer_address(), " is closing"));
  }
  if (header.has_go_away() && !header.go_away().graceful()) go_away_queued_ = true;
  payload_bytes_sent_.fetch_add(payload.size(), std::memory_order_relaxed);
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
    if (flushing_) return absl::OkStatus();  // the writing thread takes it along (and notes the queue)
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
  const bool shutdown = std::exchange(shutdown_after_flush_, false);
  lock.unlock();
  if (shutdown) stream_->Shutdown();
  NoteQueued();
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
    // Best effort: the peer may be gone.
    Send(GoAwayFrame(reason, /*graceful=*/false, highest_request_id()), "").IgnoreError();
  }
  bool deferred;
  {
    // Another thread may be writing, with our GoAway queued behind its
    // frames: close_notify must follow the GoAway, so that thread sends it.
    std::lock_guard<std::mutex> lock(send_mu_);
    deferred = flushing_;
    if (deferred) shutdown_after_flush_ = true;
  }
  if (!deferred) stream_->Shutdown();
  stream_->CloseWithin(kMaxClosingTime);
  if (first) close_reason_ = reason;  // published by the store below
  state_.store(State::kClosed, std::memory_order_release);
  WakeWaitersForRoom();
  if (first) ReportClosed(reason);
}

void Connection::Finish(const absl::Status& reason) {
  if (finished_.exchange(true)) return;
  close_reason_ = reason;  // published by the store below
  state_.store(State::kClosed, std::memory_order_release);
  WakeWaitersForRoom();
  ReportClosed(reason);
}

void Connection::ReportClosed(const absl::Status& reason) {
  if (!callbacks_.on_closed) return;
  // Close() may be called from any thread (an app's, a handler's); the
  // owner's on_closed runs on the I/O thread like every callback, never
  // inside the caller's locks. Posted even from the I/O thread: the caller
  // may be inside on_frame, holding state on_closed tears down.
  stream_->Post([self = shared_from_this(), reason] { self->callbacks_.on_closed(self, reason); });
}

}  // namespace appwire
