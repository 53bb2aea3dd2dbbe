#include "appwire/client/backoff.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cmath>
#include <memory>
#include <random>
#include <utility>

namespace appwire {
namespace {

// A different seed for every generator, from one std::random_device read
// per process: reading it costs tens of microseconds under a hypervisor,
// and every channel makes a Backoff (bench W4 showed it per connection).
uint64_t NextSeed() {
  static std::atomic<uint64_t> next{(uint64_t{std::random_device{}()} << 32) ^
                                    std::random_device{}()};
  // SplitMix64 over a counter: distinct seeds, well mixed.
  uint64_t z = next.fetch_add(0x9e3779b97f4a7c15, std::memory_order_relaxed);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

}  // namespace

Backoff::Backoff(const ReconnectBackoff& policy, RandomSource random)
    : policy_(policy), random_(std::move(random)) {
  if (!random_) {
    auto engine = std::make_shared<std::mt19937_64>(NextSeed());
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
