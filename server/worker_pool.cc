#include "server/worker_pool.h"

namespace appwire {

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void WorkerPool::Post(std::function<void()> task) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    tasks_.push_back(std::move(task));
    // Only wake a thread when one is asleep and none is already on its way:
    // a burst of calls then costs one wake-up, not one per call.
    wake = idle_ > 0 && tasks_.size() == 1;
  }
  if (wake) wake_.notify_one();
}

void WorkerPool::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    while (tasks_.empty() && !stopping_) {
      ++idle_;
      wake_.wait(lock);
      --idle_;
    }
    if (tasks_.empty()) return;  // stopping, and nothing left
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    // More work waiting and someone asleep: pass the baton.
    if (!tasks_.empty() && idle_ > 0) wake_.notify_one();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace appwire
