// AdaptiveSpin: whether a blocking call on one channel spins before it
// sleeps, learnt from the calls before it.
//
//   const absl::Duration spin = channel_spin.NextSpin();
//   AdaptiveSpin::Outcome outcome;
//   absl::StatusOr<std::string> result = waiter.Wait(spin, &outcome);
//   channel_spin.Record(spin > absl::ZeroDuration(), outcome);
//
// On loopback or a fast LAN a reply often comes back within tens of
// microseconds, and spinning for it saves the wake-up of a sleeping thread
// (about as long again). Over a slower network the spin never finds the
// reply and only burns the desktop's CPU. So the spin stays on while it
// catches replies; after kMissesBeforeOff misses in a row it goes off, and
// one call in `probe interval` spins again to notice a network that got
// faster (the interval doubles with each failed probe, up to
// kMaxProbeInterval, and starts over once a spin catches a reply). Off,
// it costs one spin per kMaxProbeInterval calls at most.
//
// Pure logic, no clock: the caller says what each wait found. Thread-safe;
// calls from several threads share what they learn.
#ifndef APPWIRE_CLIENT_ADAPTIVE_SPIN_H_
#define APPWIRE_CLIENT_ADAPTIVE_SPIN_H_

#include <mutex>

#include "absl/time/time.h"

namespace appwire {

class AdaptiveSpin {
 public:
  // How long a wait spins while spinning pays.
  static constexpr absl::Duration kSpin = absl::Microseconds(50);
  static constexpr int kMissesBeforeOff = 4;
  static constexpr int kFirstProbeInterval = 16;
  static constexpr int kMaxProbeInterval = 1024;

  // What one wait found.
  enum class Outcome {
    kReady,            // the reply was there before the wait began: says nothing
    kCaughtSpinning,   // it arrived during the spin
    kSlept,            // the spin ended first (or there was none)
  };

  // The spin the next wait gets: kSpin, or zero while spinning is off (but
  // kSpin for a probe now and then).
  absl::Duration NextSpin();
  // What the wait NextSpin() was asked for found; `spun` is whether that
  // wait had a spin at all (a wait without one teaches nothing).
  void Record(bool spun, Outcome outcome);

  bool spinning() const;

 private:
  mutable std::mutex mu_;
  bool off_ = false;
  int misses_ = 0;                 // spins in a row that ended before the reply
  int probe_interval_ = kFirstProbeInterval;
  int calls_until_probe_ = 0;      // while off
};

}  // namespace appwire

#endif  // APPWIRE_CLIENT_ADAPTIVE_SPIN_H_
