// Clock: where the protocol's timing logic (deadlines, keepalive, backoff,
// hello and idle timeouts) reads the time, so that unit tests can drive it
// with a FakeClock instead of sleeping.
//
//   const Clock& clock = Clock::Real();
//   absl::Time deadline = clock.Now() + absl::Seconds(5);
//
//   FakeClock fake;                      // tests
//   fake.Advance(absl::Seconds(6));      // the deadline has passed
//
// Timers that actually wait (asio's steady_timer) still wait in real time;
// what a FakeClock changes is what the logic decides when it looks.
// Thread-safe: Now() may be called from any thread, on both kinds.
#ifndef APPWIRE_COMMON_CLOCK_H_
#define APPWIRE_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace appwire {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // The system's clock (absl::Now()). Never destroyed.
  static const Clock& Real();
};

// A clock that moves only when told. Starts at a fixed, arbitrary time far
// from the epoch, so that "now minus a timeout" never underflows.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1800000000))
      : nanos_(absl::ToUnixNanos(start)) {}
  absl::Time Now() const override {
    return absl::FromUnixNanos(nanos_.load(std::memory_order_acquire));
  }
  void Advance(absl::Duration by) {
    nanos_.fetch_add(absl::ToInt64Nanoseconds(by), std::memory_order_acq_rel);
  }
  void Set(absl::Time now) { nanos_.store(absl::ToUnixNanos(now), std::memory_order_release); }

 private:
  std::atomic<int64_t> nanos_;
};

}  // namespace appwire

#endif  // APPWIRE_COMMON_CLOCK_H_
