// How often each end looks at its connections (keepalive pings and their
// timeout; on the server also the hello timeout, write stalls and idle
// connections): a quarter of the shortest duration being watched, so that
// a limit is noticed within a quarter of itself late, clamped to between
// 5 ms (no busy timer for tiny test settings) and 1 s.
#ifndef APPWIRE_RPC_KEEPALIVE_H_
#define APPWIRE_RPC_KEEPALIVE_H_

#include <initializer_list>

#include "absl/time/time.h"

namespace appwire {

inline constexpr absl::Duration kMinWatchPeriod = absl::Milliseconds(5);
inline constexpr absl::Duration kMaxWatchPeriod = absl::Seconds(1);

// Entries that are not positive (a feature turned off) are ignored; none
// left: kMaxWatchPeriod.
absl::Duration WatchPeriod(std::initializer_list<absl::Duration> watched);

}  // namespace appwire

#endif  // APPWIRE_RPC_KEEPALIVE_H_
