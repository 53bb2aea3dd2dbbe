// Backoff: the wait between a channel's failed connection attempts
// (gRPC's BackOff is the model).
//
//   Backoff backoff(options.reconnect_backoff);
//   absl::Duration wait = backoff.NextDelay();   // after a failed attempt
//   backoff.Reset();                             // the server said hello
//
// The n-th delay since the last Reset() (n from 0) is
//   min(initial * max(1, multiplier)^n, max) * (1 + u),
// u uniform in [-jitter, +jitter], and never negative. The random source
// is injectable so that tests check exact delays. Not thread-safe: the
// channel uses it under its mutex.
#ifndef APPWIRE_CLIENT_BACKOFF_H_
#define APPWIRE_CLIENT_BACKOFF_H_

#include <functional>

#include "absl/time/time.h"
#include "appwire/common/export.h"

namespace appwire {

// The wait between failed connection attempts: initial, then multiplied
// after each failure up to `max`, each randomised by +-jitter (a fraction)
// so that many clients of a restarted server do not all come back at once.
// The defaults are gRPC's.
struct APPWIRE_EXPORT ReconnectBackoff {
  absl::Duration initial = absl::Seconds(1);
  double multiplier = 1.6;
  double jitter = 0.2;
  absl::Duration max = absl::Seconds(120);
};

class APPWIRE_EXPORT Backoff {
 public:
  // Returns a number uniform in [0, 1).
  using RandomSource = std::function<double()>;

  // `random` empty: a generator of its own, with a seed from one
  // std::random_device read per process (distinct for every Backoff).
  explicit Backoff(const ReconnectBackoff& policy, RandomSource random = {});

  // The wait before the next attempt, after one more failure.
  absl::Duration NextDelay();
  // The next delay is `initial` again (with jitter).
  void Reset() { failed_attempts_ = 0; }
  // Failures counted since the last Reset().
  int failed_attempts() const { return failed_attempts_; }

 private:
  ReconnectBackoff policy_;
  RandomSource random_;
  int failed_attempts_ = 0;
};

}  // namespace appwire

#endif  // APPWIRE_CLIENT_BACKOFF_H_
