#include "appwire/server/worker_pool.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace appwire {
namespace internal {

// Shared by a pool and its threads; outlives both as long as either holds
// it. Abandoned threads touch nothing else of the pool.
struct PoolState {
  std::mutex mu;
  std::condition_variable wake;      // a task was queued, or stopping
  std::condition_variable finished;  // a thread left its loop
  std::deque<std::function<void()>> tasks;
  int idle = 0;      // threads waiting for a task
  int alive = 0;     // threads not yet out of their loop
  int reserved = 0;  // StreamExecutor: slots held
  bool stopping = false;
};

namespace {

// Waits (mu held) up to `grace` for every thread to leave its loop.
bool WaitForThreads(PoolState& state, std::unique_lock<std::mutex>& lock,
                    absl::Duration grace) {
  auto all_out = [&state] { return state.alive == 0; };
  if (grace == absl::InfiniteDuration()) {
    state.finished.wait(lock, all_out);
    return true;
  }
  return state.finished.wait_for(lock, absl::ToChronoNanoseconds(grace), all_out);
}

// Takes and runs tasks until stopping with nothing left; then, for a
// StreamExecutor thread, also after `idle_limit` without work.
// The pool whose thread this is, so that a pool being shut down from one
// of its own threads does not wait for itself.
thread_local const PoolState* current_pool = nullptr;

void RunTasks(const std::shared_ptr<PoolState>& state, absl::Duration idle_limit) {
  current_pool = state.get();
  std::unique_lock<std::mutex> lock(state->mu);
  for (;;) {
    while (state->tasks.empty() && !state->stopping) {
      ++state->idle;
      bool woken = true;
      if (idle_limit == absl::InfiniteDuration()) {
        state->wake.wait(lock);
      } else {
        woken = state->wake.wait_for(lock, absl::ToChronoNanoseconds(idle_limit)) ==
                std::cv_status::no_timeout;
      }
      --state->idle;
      if (!woken && state->tasks.empty()) break;  // idle too long: give the thread back
    }
    if (state->tasks.empty()) break;  // stopping (or idle), and nothing left
    std::function<void()> task = std::move(state->tasks.front());
    state->tasks.pop_front();
    // More work waiting and someone asleep: pass the baton.
    if (!state->tasks.empty() && state->idle > 0) state->wake.notify_one();
    lock.unlock();
    task();
    task = nullptr;  // what it captured goes before the thread looks for more
    lock.lock();
  }
  if (--state->alive == 0) state->finished.notify_all();
}

// Starts a thread running RunTasks, or says why it could not.
absl::StatusOr<std::thread> StartThread(const std::shared_ptr<PoolState>& state,
                                        absl::Duration idle_limit) {
  try {
    return std::thread([state, idle_limit] { RunTasks(state, idle_limit); });
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(absl::StrCat("could not start a thread: ", e.what()));
  }
}

}  // namespace
}  // namespace internal

using internal::PoolState;

// ---- WorkerPool ----

WorkerPool::WorkerPool() : state_(std::make_shared<PoolState>()) {}

absl::StatusOr<std::unique_ptr<WorkerPool>> WorkerPool::Create(int threads) {
  std::unique_ptr<WorkerPool> pool(new WorkerPool());
  for (int i = 0; i < threads; ++i) {
    {
      std::lock_guard<std::mutex> lock(pool->state_->mu);
      ++pool->state_->alive;
    }
    absl::StatusOr<std::thread> thread =
        internal::StartThread(pool->state_, absl::InfiniteDuration());
    if (!thread.ok()) {
      {
        std::lock_guard<std::mutex> lock(pool->state_->mu);
        --pool->state_->alive;
      }
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot start ", threads, " handler threads (", i, " started): ",
          thread.status().message(), "; lower worker_threads or raise the process limits"));
    }
    pool->threads_.push_back(*std::move(thread));
  }
  return pool;
}

WorkerPool::~WorkerPool() { Shutdown(absl::InfiniteDuration()); }

void WorkerPool::Post(std::function<void()> task) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopping) return;
    state_->tasks.push_back(std::move(task));
    // Only wake a thread when one is asleep and none is already on its way:
    // a burst of calls then costs one wake-up, not one per call.
    wake = state_->idle > 0 && state_->tasks.size() == 1;
  }
  if (wake) state_->wake.notify_one();
}

int WorkerPool::Shutdown(absl::Duration grace) {
  if (shut_down_) return 0;
  shut_down_ = true;
  bool all_out;
  bool on_own_thread;
  int still_running = 0;
  {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->stopping = true;
    state_->wake.notify_all();
    on_own_thread = internal::current_pool == state_.get();
    // A pool thread cannot wait for itself.
    all_out = !on_own_thread && internal::WaitForThreads(*state_, lock, grace);
    still_running = state_->alive;
  }
  for (std::thread& thread : threads_) {
    if (all_out) {
      thread.join();
    } else {
      thread.detach();  // holds state_; ends whenever its task returns
    }
  }
  threads_.clear();
  return all_out ? 0 : still_running - (on_own_thread ? 1 : 0);
}

// ---- StreamExecutor ----

namespace {
// An idle stream thread waits this long for another stream before it ends.
constexpr absl::Duration kStreamThreadIdleLimit = absl::Seconds(30);
}  // namespace

StreamExecutor::Slot::Slot(Slot&& other) noexcept : state_(std::move(other.state_)) {}

StreamExecutor::Slot& StreamExecutor::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    Slot old(std::move(*this));
    state_ = std::move(other.state_);
  }
  return *this;
}

StreamExecutor::Slot::~Slot() {
  if (state_ == nullptr) return;
  std::lock_guard<std::mutex> lock(state_->mu);
  --state_->reserved;
}

StreamExecutor::StreamExecutor() : state_(std::make_shared<PoolState>()) {}

StreamExecutor::~StreamExecutor() { Shutdown(absl::InfiniteDuration()); }

StreamExecutor::Slot StreamExecutor::TryReserve(int limit, int* running) {
  Slot slot;
  std::lock_guard<std::mutex> lock(state_->mu);
  *running = state_->reserved;
  if (state_->stopping || state_->reserved >= limit) return slot;
  ++state_->reserved;
  slot.state_ = state_;
  return slot;
}

absl::Status StreamExecutor::Run(Slot slot, std::function<void()> task) {
  // Whoever claims it first either runs the task (a pool thread) or drops
  // it (this function, when no thread could be started); the slot is
  // released by the same party.
  struct Pending {
    std::atomic<bool> claimed{false};
    Slot slot;
    std::function<void()> task;
  };
  auto pending = std::make_shared<Pending>();
  pending->slot = std::move(slot);
  pending->task = std::move(task);
  std::function<void()> wrapped = [pending] {
    if (pending->claimed.exchange(true)) return;
    pending->task();
    pending->task = nullptr;
    pending->slot = Slot();
  };
  bool start_thread;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopping) {
      return absl::ResourceExhaustedError("the server is shutting down; no new streams start");
    }
    // Each queued task has a thread of its own: an idle one that will take
    // it, or a new one.
    start_thread = state_->idle <= static_cast<int>(state_->tasks.size());
    state_->tasks.push_back(std::move(wrapped));
    if (start_thread) ++state_->alive;
  }
  if (!start_thread) {
    state_->wake.notify_one();
    return absl::OkStatus();
  }
  absl::StatusOr<std::thread> thread = internal::StartThread(state_, kStreamThreadIdleLimit);
  if (!thread.ok()) {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      --state_->alive;
    }
    // A thread that came free meanwhile may have taken it after all.
    if (pending->claimed.exchange(true)) return absl::OkStatus();
    pending->task = nullptr;
    pending->slot = Slot();
    return thread.status();
  }
  thread->detach();  // counted in alive; Shutdown waits through the state
  return absl::OkStatus();
}

int StreamExecutor::running() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->reserved;
}

int StreamExecutor::Shutdown(absl::Duration grace) {
  std::unique_lock<std::mutex> lock(state_->mu);
  if (state_->stopping && state_->alive == 0) return 0;
  state_->stopping = true;
  state_->wake.notify_all();
  // A stream thread cannot wait for itself (the last owner of the server
  // may be a stream's handler): the others are waited for no longer.
  const bool on_own_thread = internal::current_pool == state_.get();
  if (!on_own_thread && internal::WaitForThreads(*state_, lock, grace)) return 0;
  return state_->alive - (on_own_thread ? 1 : 0);
}

}  // namespace appwire
