#include "appwire/client/sync_waiter.h"

#include <chrono>
#include <utility>

#include "appwire/common/cpu_relax.h"

namespace appwire {

void SyncWaiter::Set(absl::StatusOr<std::string> result) {
  std::lock_guard<std::mutex> lock(mu_);
  result_ = std::move(result);
  done_.store(true, std::memory_order_release);
  if (sleeping_) wake_.notify_one();
}

absl::StatusOr<std::string> SyncWaiter::Wait() {
  const auto spin_until =
      std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
  while (!done_.load(std::memory_order_acquire) &&
         std::chrono::steady_clock::now() < spin_until) {
    CpuRelax();
  }
  std::unique_lock<std::mutex> lock(mu_);
  sleeping_ = true;
  wake_.wait(lock, [this] { return done_.load(std::memory_order_acquire); });
  return std::move(result_);
}

}  // namespace appwire
