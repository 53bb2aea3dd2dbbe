// SyncWaiter: where a blocking call (Channel::CallRaw) waits for its reply.
//
//   auto waiter = std::make_shared<SyncWaiter>();
//   StartUnary(..., [waiter](absl::StatusOr<std::string> r) { waiter->Set(std::move(r)); });
//   return waiter->Wait();
//
// Wait() spins briefly before sleeping: a reply on loopback or a LAN often
// comes back within tens of microseconds, and waking a sleeping thread
// costs about as much again. One Set() and one Wait(), from any two
// threads (Set may also come first, or on the waiting thread itself).
#ifndef APPWIRE_CLIENT_SYNC_WAITER_H_
#define APPWIRE_CLIENT_SYNC_WAITER_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"

namespace appwire {

class SyncWaiter {
 public:
  // How long Wait() spins before it sleeps.
  static constexpr int kSpinMicros = 50;

  void Set(absl::StatusOr<std::string> result);
  // The result Set() gave, once it did.
  absl::StatusOr<std::string> Wait();

 private:
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> done_{false};
  bool sleeping_ = false;
  absl::StatusOr<std::string> result_;
};

}  // namespace appwire

#endif  // APPWIRE_CLIENT_SYNC_WAITER_H_
