#include "appwire/rpc/keepalive.h"

#include <algorithm>

namespace appwire {

absl::Duration WatchPeriod(std::initializer_list<absl::Duration> watched) {
  absl::Duration shortest = absl::InfiniteDuration();
  for (absl::Duration duration : watched) {
    if (duration > absl::ZeroDuration()) shortest = std::min(shortest, duration);
  }
  if (shortest == absl::InfiniteDuration()) return kMaxWatchPeriod;
  // Whole milliseconds, as the timers have always been set.
  const absl::Duration quarter = absl::Milliseconds(absl::ToInt64Milliseconds(shortest) / 4);
  return std::clamp(quarter, kMinWatchPeriod, kMaxWatchPeriod);
}

}  // namespace appwire
