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
  std::unique_lock<std::mutex> lock(long_running_->mu);
  long_running_->done.wait(lock, [this] { return long_running_->running == 0; });
}

void WorkerPool::PostLongRunning(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
  }
  {
    std::lock_guard<std::mutex> lock(long_running_->mu);
    ++long_running_->running;
  }
  std::thread([state = long_running_, task = std::move(task)] {
    task();
    std::lock_guard<std::mutex> lock(state->mu);
    if (--state->running == 0) state->done.notify_all();
  }).detach();
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
