#include "appwire/client/adaptive_spin.h"

#include <algorithm>

namespace appwire {

absl::Duration AdaptiveSpin::NextSpin() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!off_) return kSpin;
  if (--calls_until_probe_ > 0) return absl::ZeroDuration();
  calls_until_probe_ = probe_interval_;  // until this probe is recorded, and after a lost one
  return kSpin;
}

void AdaptiveSpin::Record(bool spun, Outcome outcome) {
  if (!spun || outcome == Outcome::kReady) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (outcome == Outcome::kCaughtSpinning) {
    off_ = false;
    misses_ = 0;
    probe_interval_ = kFirstProbeInterval;
    return;
  }
  if (off_) {
    // A failed probe: wait longer before the next one.
    probe_interval_ = std::min(probe_interval_ * 2, kMaxProbeInterval);
    calls_until_probe_ = probe_interval_;
    return;
  }
  if (++misses_ >= kMissesBeforeOff) {
    off_ = true;
    calls_until_probe_ = probe_interval_;
  }
}

bool AdaptiveSpin::spinning() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !off_;
}

}  // namespace appwire
