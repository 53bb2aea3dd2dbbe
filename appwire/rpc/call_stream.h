// CallStream: one streaming call's messages as one end sees them, with the
// per-call flow control of docs/protocol.md ("Flow control").
//
// Receiving: the I/O thread Deliver()s each message frame; the application
// Read()s them. Credit goes back to the peer only as the application reads,
// so a fast sender facing a slow reader stops after one window: memory per
// call stays under kStreamWindowBytes plus one message.
//
// Sending: AcquireCredit() blocks while the peer's window is used up;
// AddCredit() (a WindowUpdate from the peer) reopens it.
//
// Every wait ends at the call's deadline (kDeadlineExceeded) or when the
// call ends (End(), with its status). Thread-safe.
#ifndef APPWIRE_RPC_CALL_STREAM_H_
#define APPWIRE_RPC_CALL_STREAM_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace appwire {

// The window each end grants per call and direction when the call starts.
inline constexpr int64_t kStreamWindowBytes = 1 << 20;

class CallStream {
 public:
  CallStream(absl::Time deadline, std::string description)
      : deadline_(deadline), description_(std::move(description)) {}

  // I/O thread: a message arrived. ResourceExhausted (nothing queued) when
  // the peer sent past the window it was granted; InvalidArgument when it
  // had already said it would send no more (DeliverEnd). `charge`: the
  // receive memory the message holds (see DecodedFrame::memory_charge),
  // kept until the application reads it.
  absl::Status Deliver(std::string message, std::shared_ptr<const void> charge = nullptr);
  // Queues a message without counting it against the window (the request
  // of a server-streaming call, which travels in the request frame).
  void DeliverUncounted(std::string message);
  // The peer will send no more messages.
  void DeliverEnd();

  // Application: the next message. True with `*message`; false when the
  // peer finished sending (OK). A non-OK status when the call ended
  // otherwise or the deadline passed. `*credit` is set to the bytes to
  // grant the peer now in a WindowUpdate (0: none yet).
  absl::StatusOr<bool> Read(std::string* message, uint64_t* credit);

  // Application: waits until the peer's window lets `bytes` more go out,
  // then takes them from it.
  absl::Status AcquireCredit(size_t bytes);
  // I/O thread: the peer granted more. The window saturates at 2^63 - 1
  // (docs/protocol.md, section 11): a grant never wraps it negative.
  void AddCredit(uint64_t bytes);

  // The peer ended the call (its final status came): sending fails with
  // `status` from now on, while messages already received stay readable.
  void CloseSend(const absl::Status& status);
  // Ends the call for both directions: waits return `status` (not OK) from
  // now on, and unread messages are dropped. Only the first call counts. Returns whether this one did.
  bool End(const absl::Status& status);
  // The call's deadline has passed (whether or not anything ended it yet).
  bool DeadlinePassed() const { return absl::Now() >= deadline_; }

 private:
  // mu_ held: the status to give a waiter now, or OK to go on waiting.
  absl::Status StoppedLocked() const;

  const absl::Time deadline_;
  const std::string description_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  struct Inbound {
    std::string message;
    std::shared_ptr<const void> charge;
  };
  std::deque<Inbound> inbound_;
  int64_t inbound_bytes_ = 0;
  bool inbound_ended_ = false;
  int64_t receive_window_ = kStreamWindowBytes;  // what the peer may still send
  uint64_t consumed_unreturned_ = 0;
  int64_t send_window_ = kStreamWindowBytes;  // what we may still send
  absl::Status send_closed_;                   // see CloseSend
  absl::Status ended_;
};

}  // namespace appwire

#endif  // APPWIRE_RPC_CALL_STREAM_H_
