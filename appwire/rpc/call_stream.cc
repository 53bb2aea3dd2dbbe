#include "appwire/rpc/call_stream.h"

#include <chrono>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace appwire {

absl::Status CallStream::Deliver(std::string message, std::shared_ptr<const void> charge) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ended_.ok()) return absl::OkStatus();  // late: dropped
  if (inbound_ended_) {
    return absl::InvalidArgumentError(
        absl::StrCat("protocol error: ", description_, ": a message after half_close"));
  }
  if (receive_window_ <= 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        description_, ": the peer sent a message of ", message.size(),
        " bytes with its flow-control window used up (protocol error)"));
  }
  receive_window_ -= static_cast<int64_t>(message.size());
  inbound_bytes_ += static_cast<int64_t>(message.size());
  inbound_.push_back(Inbound{std::move(message), std::move(charge)});
  changed_.notify_all();
  return absl::OkStatus();
}

void CallStream::DeliverUncounted(std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  inbound_.push_back(Inbound{std::move(message), nullptr});
  changed_.notify_all();
}

void CallStream::DeliverEnd() {
  std::lock_guard<std::mutex> lock(mu_);
  inbound_ended_ = true;
  changed_.notify_all();
}

absl::Status CallStream::StoppedLocked() const {
  if (!ended_.ok()) return ended_;
  if (absl::Now() >= deadline_) {
    return absl::DeadlineExceededError(absl::StrCat(description_, ": deadline exceeded"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> CallStream::Read(std::string* message, uint64_t* credit) {
  *credit = 0;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!inbound_.empty()) {
      *message = std::move(inbound_.front().message);
      inbound_.pop_front();
      // Uncounted messages (see DeliverUncounted) may make this negative
      // for a moment; they are never returned as credit.
      const int64_t size = static_cast<int64_t>(message->size());
      if (inbound_bytes_ >= size) {
        inbound_bytes_ -= size;
        consumed_unreturned_ += static_cast<uint64_t>(size);
      }
      // Credit goes back in batches of half a window: fewer frames.
      if (consumed_unreturned_ >= static_cast<uint64_t>(kStreamWindowBytes / 2)) {
        *credit = consumed_unreturned_;
        receive_window_ += static_cast<int64_t>(consumed_unreturned_);
        consumed_unreturned_ = 0;
      }
      return true;
    }
    if (inbound_ended_) return false;
    absl::Status stopped = StoppedLocked();
    if (!stopped.ok()) return stopped;
    if (deadline_ == absl::InfiniteFuture()) {
      changed_.wait(lock);
    } else {
      changed_.wait_until(lock, absl::ToChronoTime(deadline_));
    }
  }
}

absl::Status CallStream::AcquireCredit(size_t bytes) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!send_closed_.ok()) return send_closed_;
    absl::Status stopped = StoppedLocked();
    if (!stopped.ok()) return stopped;
    // One message may overdraw the window: a message larger than the
    // window must still be able to go.
    if (send_window_ > 0) {
      send_window_ -= static_cast<int64_t>(bytes);
      return absl::OkStatus();
    }
    if (deadline_ == absl::InfiniteFuture()) {
      changed_.wait(lock);
    } else {
      changed_.wait_until(lock, absl::ToChronoTime(deadline_));
    }
  }
}

void CallStream::CloseSend(const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!send_closed_.ok()) return;
  send_closed_ = status.ok() ? absl::FailedPreconditionError(
                                   absl::StrCat(description_, ": the peer ended the call"))
                             : status;
  changed_.notify_all();
}

void CallStream::AddCredit(uint64_t bytes) {
  if (bytes == 0) return;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::lock_guard<std::mutex> lock(mu_);
  // send_window_ may be negative (one message may overdraw it); the sum is
  // computed so that it cannot overflow.
  if (bytes >= static_cast<uint64_t>(kMax) ||
      send_window_ > kMax - static_cast<int64_t>(bytes)) {
    send_window_ = kMax;
  } else {
    send_window_ += static_cast<int64_t>(bytes);
  }
  changed_.notify_all();
}

bool CallStream::End(const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ended_.ok()) return false;
  ended_ = status.ok() ? absl::CancelledError(absl::StrCat(description_, ": the call ended"))
                       : status;
  inbound_.clear();
  inbound_bytes_ = 0;
  changed_.notify_all();
  return true;
}

}  // namespace appwire
