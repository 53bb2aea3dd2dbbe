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

absl::StatusOr<std::string> SyncWaiter::Wait(absl::Duration spin,
                                             AdaptiveSpin::Outcome* outcome) {
  if (done_.load(std::memory_order_acquire)) {
    *outcome = AdaptiveSpin::Outcome::kReady;
  } else {
    const auto spin_until = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(spin);
    while (!done_.load(std::memory_order_acquire) &&
           std::chrono::steady_clock::now() < spin_until) {
      CpuRelax();
    }
    *outcome = done_.load(std::memory_order_acquire) ? AdaptiveSpin::Outcome::kCaughtSpinning
                                                     : AdaptiveSpin::Outcome::kSlept;
  }
  std::unique_lock<std::mutex> lock(mu_);
  sleeping_ = true;
  wake_.wait(lock, [this] { return done_.load(std::memory_order_acquire); });
  return std::move(result_);
}

}  // namespace appwire
