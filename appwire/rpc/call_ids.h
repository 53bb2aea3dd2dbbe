// Call ids (docs/protocol.md, section 7): a client numbers its calls with
// odd ids, 1, 3, 5, ..., never reusing one on a connection; 0 is the
// connection itself (hello, go_away, ping). The server checks each request's
// id with CheckRequestCallId, then CallIdWindow (appwire/rpc/call_id_window.h)
// tells whether it was used before.
#ifndef APPWIRE_RPC_CALL_IDS_H_
#define APPWIRE_RPC_CALL_IDS_H_

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "appwire/rpc/call_id_window.h"

namespace appwire {

// The ids a client gives its calls. Thread-safe.
class ClientCallIds {
 public:
  uint64_t Next() { return next_.fetch_add(2, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> next_{1};
};

// Server side: InvalidArgument (a protocol error that closes the
// connection) unless `call_id` is a client's, non-zero and odd.
absl::Status CheckRequestCallId(uint64_t call_id);

// Server side: the protocol error for a request whose id the window did not
// take as new. `running`: a call with that id is still in progress.
absl::Status CallIdReusedError(uint64_t call_id, CallIdWindow::Verdict verdict, bool running,
                               uint64_t highest);

}  // namespace appwire

#endif  // APPWIRE_RPC_CALL_IDS_H_
