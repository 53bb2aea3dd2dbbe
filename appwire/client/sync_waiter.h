// SyncWaiter: where a blocking call (Channel::CallRaw) waits for its reply.
//
//   auto waiter = std::make_shared<SyncWaiter>();
//   StartUnary(..., [waiter](absl::StatusOr<std::string> r) { waiter->Set(std::move(r)); });
//   return waiter->Wait(spin.NextSpin(), &outcome);
//
// Wait() may spin for a while before sleeping (AdaptiveSpin decides how
// long, and learns from the outcome Wait reports). One Set() and one
// Wait(), from any two threads (Set may also come first, or on the waiting
// thread itself).
#ifndef APPWIRE_CLIENT_SYNC_WAITER_H_
#define APPWIRE_CLIENT_SYNC_WAITER_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "appwire/client/adaptive_spin.h"

namespace appwire {

class SyncWaiter {
 public:
  void Set(absl::StatusOr<std::string> result);
  // The result Set() gave, once it did, after spinning up to `spin` for it;
  // `*outcome` says whether it was there at once, came during the spin, or
  // only after.
  absl::StatusOr<std::string> Wait(absl::Duration spin, AdaptiveSpin::Outcome* outcome);

 private:
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> done_{false};
  bool sleeping_ = false;
  absl::StatusOr<std::string> result_;
};

}  // namespace appwire

#endif  // APPWIRE_CLIENT_SYNC_WAITER_H_
