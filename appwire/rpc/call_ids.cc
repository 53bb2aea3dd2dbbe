#include "appwire/rpc/call_ids.h"

#include "absl/strings/str_cat.h"

namespace appwire {

absl::Status CheckRequestCallId(uint64_t call_id) {
  if (call_id != 0 && call_id % 2 == 1) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("protocol error: request with call id ", call_id,
                                                 "; clients use odd call ids (docs/protocol.md)"));
}

absl::Status CallIdReusedError(uint64_t call_id, CallIdWindow::Verdict verdict, bool running,
                               uint64_t highest) {
  if (verdict == CallIdWindow::Verdict::kUsed && running) {
    return absl::InvalidArgumentError(
        absl::StrCat("protocol error: request with call id ", call_id,
                     ", which is already in use on this connection (docs/protocol.md)"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "protocol error: request with call id ", call_id,
      ", which was already used on this connection (or is more than ", CallIdWindow::kSpan,
      " below the highest call id received, ", highest, ") (docs/protocol.md)"));
}

}  // namespace appwire
