#include "appwire/transport/receive_budget.h"

#include <utility>

namespace appwire {

ReceiveBudget::Charge::~Charge() {
  if (budget_ != nullptr && bytes_ > 0) budget_->Release(bytes_);
}

std::shared_ptr<ReceiveBudget::Charge> ReceiveBudget::TryCharge(size_t bytes,
                                                                std::function<void()> retry) {
  std::lock_guard<std::mutex> lock(mu_);
  // One frame larger than the whole budget still goes, alone: otherwise a
  // limit below the maximum message size would stall such a frame forever.
  if (used_ + bytes <= limit_ || used_ == 0) {
    used_ += bytes;
    return std::shared_ptr<Charge>(new Charge(shared_from_this(), bytes));
  }
  waiters_.push_back(std::move(retry));
  return nullptr;
}

void ReceiveBudget::Release(size_t bytes) {
  std::unique_lock<std::mutex> lock(mu_);
  used_ -= bytes;
  WakeWaiters(lock);
}

void ReceiveBudget::SetLimit(size_t limit) {
  std::unique_lock<std::mutex> lock(mu_);
  limit_ = limit;
  WakeWaiters(lock);
}

void ReceiveBudget::WakeWaiters(std::unique_lock<std::mutex>& lock) {
  if (waiters_.empty()) return;
  std::list<std::function<void()>> waiters;
  waiters.swap(waiters_);
  lock.unlock();
  for (auto& waiter : waiters) waiter();
}

size_t ReceiveBudget::limit() const {
  std::lock_guard<std::mutex> lock(mu_);
  return limit_;
}

size_t ReceiveBudget::used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return used_;
}

}  // namespace appwire
