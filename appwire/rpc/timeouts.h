// Deadlines on the wire (docs/protocol.md, section 8): a request carries
// the time its caller still waits, in microseconds (0: no deadline); the
// server turns it back into a deadline on its own clock. Both conversions,
// and the words both ends use for an expired call, are here.
#ifndef APPWIRE_RPC_TIMEOUTS_H_
#define APPWIRE_RPC_TIMEOUTS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace appwire {

// The timeout_micros a request carries for `left` (positive): rounded up,
// and at least 1, since 0 means "no deadline".
uint64_t TimeoutMicrosOnWire(absl::Duration left);

// The deadline for a request received at `now` with `timeout_micros`.
// timeout_micros is unsigned and may be anything up to 2^64 - 1: more than
// 100 years is no deadline (section 11); besides meaning nothing, such a
// time point overflows the standard clocks' nanosecond counts when a wait
// converts it (UBSan found that).
absl::Time DeadlineFromWire(uint64_t timeout_micros, absl::Time now);

// The client's words for a call that did not end in time, whichever end
// noticed first: "M did not complete within T (deadline exceeded)".
std::string DeadlineExceededMessage(absl::string_view method, absl::Duration timeout);

}  // namespace appwire

#endif  // APPWIRE_RPC_TIMEOUTS_H_
