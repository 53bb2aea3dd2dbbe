// Connection: one TLS connection carrying appwire frames, shared by the
// server and the client.
//
// It owns a ByteStream (a TlsStream; a MemoryStream in tests and fuzzing),
// runs one read loop that decodes frames and hands each to `on_frame`, and
// sends frames from any thread. Frames queued while another thread is
// writing are coalesced into one TLS write, so many small replies cost one
// record and one system call.
//
// States: kHandshaking -> kOpen -> kClosed, or kOpen -> kDraining -> kClosed
// when we close on purpose (a GoAway frame goes out first). Transitions are
// checked; `on_closed` runs exactly once with the reason.
//
// Threads: callbacks run on the stream's executor (the I/O thread), also
// on_closed when another thread called Close(): it is posted there, so it
// runs after Close() returned (and not at all once that executor stopped).
// Send(), Close() and the accessors are thread-safe.
#ifndef APPWIRE_TRANSPORT_CONNECTION_H_
#define APPWIRE_TRANSPORT_CONNECTION_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "appwire/transport/frame_codec.h"
#include "appwire/transport/tls_session_info.h"

namespace appwire {

class ByteStream;
class ReceiveBudget;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class State { kHandshaking, kOpen, kDraining, kClosed };

  struct Callbacks {
    // A complete frame arrived. `frame.payload` is valid only during the call.
    std::function<void(const std::shared_ptr<Connection>&, DecodedFrame& frame)> on_frame;
    // The handshake finished (OK) or failed (the reason). Before any frame.
    std::function<void(const std::shared_ptr<Connection>&, const absl::Status&)> on_handshake;
    // The connection is closed; `reason` says why (OK for a clean close).
    std::function<void(const std::shared_ptr<Connection>&, const absl::Status&)> on_closed;
  };

  static std::shared_ptr<Connection> Create(std::shared_ptr<ByteStream> stream,
                                            FrameLimits limits, Callbacks callbacks);
  ~Connection();

  // Starts the handshake, then the read loop.
  void Start();

  // Encodes and sends one frame. Thread-safe. Fails with Unavailable once
  // the connection is closing, and with ResourceExhausted (connection left
  // open) when the payload is over this end's limit.
  absl::Status Send(const v1::FrameHeader& header, absl::string_view payload);

  // Sends GoAway{reason} when `send_go_away` is true and reason is not OK,
  // closes TLS cleanly and reports `reason` through on_closed.
  void Close(const absl::Status& reason, bool send_go_away = true);

  // Keepalive: when nothing came in for `interval`, CheckKeepalive() sends
  // a ping; when nothing came in for `timeout` after that, it closes the
  // connection with kUnavailable (the peer or the network is gone). Zero
  // interval: off. Call before Start().
  void SetKeepalive(absl::Duration interval, absl::Duration timeout);
  // Called by the owner's timer, from any thread, a few times per interval.
  void CheckKeepalive();

  // The Hello rule (docs/protocol.md, section 6): until PeerHelloReceived()
  // every frame, pings included, goes to on_frame, so that the owner can
  // refuse anything before the peer's hello; pings are answered only from
  // then on. Call RequireHelloFirst() before Start().
  void RequireHelloFirst() { hello_gate_ = true; }
  // I/O thread (from on_frame).
  void PeerHelloReceived() { hello_gate_ = false; }

  // Backpressure on what this end sends (docs/protocol.md, section 11):
  // when more than `soft_limit` bytes are queued for a peer that does not
  // read, this connection stops reading from it until the queue has
  // drained; a frame that would take the queue over `hard_limit` is not
  // sent and the connection is closed (ResourceExhausted). 0: no limit.
  // Call before Start().
  void SetWriteQueueLimits(size_t soft_limit, size_t hard_limit) {
    write_soft_limit_ = soft_limit;
    write_hard_limit_ = hard_limit;
  }
  // How long the queue has been over the soft limit (zero when it is not).
  absl::Duration write_stalled_for() const;
  // Blocks (a streaming handler's thread) while the queue is over the soft
  // limit: OK once there is room, DeadlineExceeded at `deadline`,
  // Unavailable when the connection closes meanwhile.
  absl::Status WaitForRoom(absl::Time deadline);
  // Closes with a final GoAway{reason}, and the socket at most `linger`
  // later even if the peer never reads what is queued.
  void CloseNow(const absl::Status& reason, absl::Duration linger);

  // Frames larger than 64 KiB take their memory from `budget` while they
  // are received (and their receiver keeps the charge, see
  // DecodedFrame::memory_charge); when it is used up, this connection stops
  // reading until some is released. Call before Start().
  void SetReceiveBudget(std::shared_ptr<ReceiveBudget> budget) { budget_ = std::move(budget); }

  // The highest call id of a request frame received so far; Close() puts
  // it in its GoAway (calls above it were not processed).
  // Payload bytes of the frames received (skipped oversized ones included)
  // and of those accepted by Send, since the connection opened. Any thread.
  uint64_t payload_bytes_received() const {
    return payload_bytes_received_.load(std::memory_order_relaxed);
  }
  uint64_t payload_bytes_sent() const { return payload_bytes_sent_.load(std::memory_order_relaxed); }
  uint64_t highest_request_id() const {
    return highest_request_id_.load(std::memory_order_acquire);
  }

  State state() const { return state_.load(std::memory_order_acquire); }
  // Time since a frame other than a ping last came in or went out (or since
  // the handshake): pings keep a connection alive, they do not make it busy.
  absl::Duration idle_for() const;
  // Valid once the handshake succeeded.
  const TlsSessionInfo& session_info() const;
  const std::string& peer_address() const;
  const FrameLimits& limits() const { return limits_; }
  // Client: the TLS session to resume on the next connection (see
  // TlsStream::SavedSession); null when the server issued no ticket.
  std::shared_ptr<void> SavedSession() const;

 private:
  Connection(std::shared_ptr<ByteStream> stream, FrameLimits limits, Callbacks callbacks);
  // Runs on_closed with `reason` on the stream's executor.
  void ReportClosed(const absl::Status& reason);
  void ReadLoop();
  // I/O thread: whether reading must wait (queue over the limit, or no
  // receive budget for the frame being received); arranges to be resumed.
  bool MustPauseReading();
  void ResumeReading();
  // After a write: notes a queue over the soft limit.
  void NoteQueued();
  void OnDrained();
  void WakeWaitersForRoom();
  void OnData(const absl::Status& status);
  // Decodes and hands on the complete frames in read_buffer_. False when a
  // bad frame made it close the connection.
  bool DeliverFrames();
  void Finish(const absl::Status& reason);
  bool Transition(State from, State to);

  std::shared_ptr<ByteStream> stream_;
  const FrameLimits limits_;
  Callbacks callbacks_;
  std::atomic<State> state_{State::kHandshaking};
  std::atomic<bool> finished_{false};
  // Why the connection closed; written once, before state_ becomes kClosed.
  absl::Status close_reason_;
  // absl::Now() in nanoseconds at the last frame either way.
  std::atomic<int64_t> last_activity_ns_{0};
  void Touch();
  void HandlePing(const v1::Ping& ping);

  // Keepalive (see SetKeepalive). Times in absl::Now() nanoseconds.
  absl::Duration keepalive_interval_ = absl::ZeroDuration();
  absl::Duration keepalive_timeout_ = absl::ZeroDuration();
  std::atomic<int64_t> last_received_ns_{0};
  std::atomic<int64_t> ping_sent_ns_{0};  // 0: no ping outstanding

  // Read side (I/O thread only).
  std::string read_buffer_;
  size_t read_offset_ = 0;
  std::atomic<uint64_t> highest_request_id_{0};
  // Payload bytes of frames received and accepted for sending (metrics).
  std::atomic<uint64_t> payload_bytes_received_{0};
  std::atomic<uint64_t> payload_bytes_sent_{0};
  // Bytes of an oversized frame's payload still to discard.
  uint64_t skip_bytes_ = 0;
  bool hello_gate_ = false;
  bool read_paused_ = false;
  std::shared_ptr<ReceiveBudget> budget_;
  // The budget held by the frame at the front of read_buffer_, and whether
  // reading waits for it.
  std::shared_ptr<const void> front_charge_;
  bool waiting_for_budget_ = false;

  // Write-queue backpressure (see SetWriteQueueLimits).
  size_t write_soft_limit_ = 0;
  size_t write_hard_limit_ = 0;
  std::mutex room_mu_;
  std::condition_variable room_;
  // absl::Now() nanoseconds when the queue went over the soft limit; 0: it is not.
  std::atomic<int64_t> blocked_since_ns_{0};

  // Write side: frames waiting for the thread that is currently writing.
  std::mutex send_mu_;
  std::string pending_;
  std::string batch_;
  bool flushing_ = false;
  // Close() queued the final GoAway behind another thread's write: that
  // thread sends close_notify once the GoAway is written (guarded by
  // send_mu_). After a GoAway is queued, no other frame is.
  bool shutdown_after_flush_ = false;
  bool go_away_queued_ = false;
};

absl::string_view ConnectionStateName(Connection::State state);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_CONNECTION_H_
