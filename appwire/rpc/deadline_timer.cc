#include "appwire/rpc/deadline_timer.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

#include <asio/post.hpp>

namespace appwire {

DeadlineTimer::DeadlineTimer(asio::io_context& io, const Clock& clock,
                             std::function<void()> on_due)
    : io_(io), clock_(clock), on_due_(std::move(on_due)), timer_(io) {}

DeadlineTimer::~DeadlineTimer() {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->alive = false;
}

void DeadlineTimer::WakeBy(absl::Time when) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (!state_->alive || when >= state_->requested) return;
    state_->requested = when;
  }
  // The timer itself is only touched on the I/O thread. A re-arm posted
  // here may find the timer armed earlier meanwhile (then it does nothing)
  // or later, by an on_due that read its queue before this deadline was
  // added (then it brings the timer forward).
  asio::post(io_, [this, state = state_, when] {
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (!state->alive) return;
    }
    if (when < armed_) Arm(when);
  });
}

void DeadlineTimer::ArmFor(absl::Time next) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->requested = next;
  }
  Arm(next);
}

void DeadlineTimer::Arm(absl::Time when) {
  armed_ = when;
  if (when == absl::InfiniteFuture()) {
    timer_.cancel();
    return;
  }
  // Saturating: a deadline years away must not overflow the chrono count.
  const int64_t micros = std::clamp<int64_t>(absl::ToInt64Microseconds(when - clock_.Now()), 0,
                                             int64_t{365} * 24 * 3600 * 1000000);
  timer_.expires_after(std::chrono::microseconds(micros));
  timer_.async_wait([this, state = state_](const std::error_code& error) {
    if (error) return;  // cancelled, re-armed, or the timer is gone
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (!state->alive) return;
      state->requested = absl::InfiniteFuture();  // on_due re-arms
    }
    armed_ = absl::InfiniteFuture();
    on_due_();
  });
}

void DeadlineTimer::Cancel() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->requested = absl::InfiniteFuture();
  }
  armed_ = absl::InfiniteFuture();
  timer_.cancel();
}

}  // namespace appwire
