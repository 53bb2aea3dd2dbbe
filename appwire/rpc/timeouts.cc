#include "appwire/rpc/timeouts.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace appwire {

uint64_t TimeoutMicrosOnWire(absl::Duration left) {
  return static_cast<uint64_t>(
      std::max<int64_t>(1, absl::ToInt64Microseconds(absl::Ceil(left, absl::Microseconds(1)))));
}

absl::Time DeadlineFromWire(uint64_t timeout_micros, absl::Time now) {
  constexpr uint64_t kNoDeadlineAbove = uint64_t{100} * 366 * 24 * 3600 * 1000000;
  if (timeout_micros == 0 || timeout_micros > kNoDeadlineAbove) return absl::InfiniteFuture();
  return now + absl::Microseconds(static_cast<int64_t>(timeout_micros));
}

std::string DeadlineExceededMessage(absl::string_view method, absl::Duration timeout) {
  return absl::StrCat(method, " did not complete within ", absl::FormatDuration(timeout),
                      " (deadline exceeded)");
}

}  // namespace appwire
