#include "appwire/client/backoff.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <utility>

namespace appwire {

Backoff::Backoff(const ReconnectBackoff& policy, RandomSource random)
    : policy_(policy), random_(std::move(random)) {
  if (!random_) {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    random_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  }
}

absl::Duration Backoff::NextDelay() {
  double seconds = absl::ToDoubleSeconds(policy_.initial) *
                   std::pow(std::max(1.0, policy_.multiplier), failed_attempts_);
  seconds = std::min(seconds, absl::ToDoubleSeconds(policy_.max));
  // u in [-jitter, jitter), as std::uniform_real_distribution(-jitter, jitter).
  const double spread = -policy_.jitter + 2 * policy_.jitter * random_();
  seconds *= 1.0 + spread;
  ++failed_attempts_;
  return absl::Seconds(std::max(0.0, seconds));
}

}  // namespace appwire
