#include "appwire/rpc/call_id_window.h"

namespace appwire {

CallIdWindow::Verdict CallIdWindow::Use(uint64_t id) {
  if (id > highest_) {
    // The window slides up: older bits move towards "too old". Computed on
    // the difference, so ids near 2^64 - 1 cannot overflow anything.
    const uint64_t shift = highest_ == 0 ? used_.size() : (id - highest_) / 2;
    if (shift >= used_.size()) {
      used_.reset();
    } else {
      used_ <<= static_cast<size_t>(shift);
    }
    used_.set(0);
    highest_ = id;
    return Verdict::kNew;
  }
  const uint64_t below = highest_ - id;
  if (below >= kSpan) return Verdict::kTooOld;
  const size_t bit = static_cast<size_t>(below / 2);
  if (used_.test(bit)) return Verdict::kUsed;
  used_.set(bit);
  return Verdict::kNew;
}

}  // namespace appwire
