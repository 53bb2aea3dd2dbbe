// Where handlers run, so that I/O threads only move bytes.
//
// WorkerPool: a fixed set of threads running short tasks (unary handlers)
// in FIFO order.
// StreamExecutor: a thread per running task (a streaming handler may wait
// on its client for as long as the call lives), at most `limit` at once,
// threads kept for reuse. A task beyond the limit is refused, never queued
// without bound and never given a thread of its own.
//
// Both stop with a deadline: Shutdown(grace) runs what is queued, waits up
// to `grace` for running tasks, and abandons (detaches) threads whose task
// still has not returned. Such a thread touches only state it shares with
// the pool's threads, so it may outlive the pool object; what its task
// captured is the task's own business. A failed thread start is a Status,
// never an exception or an abort.
//
// Threads: every method is thread-safe; Shutdown may be called from one of
// the pool's own threads (it then detaches instead of joining itself).
#ifndef APPWIRE_SERVER_WORKER_POOL_H_
#define APPWIRE_SERVER_WORKER_POOL_H_

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace appwire {

namespace internal {
struct PoolState;
}

class WorkerPool {
 public:
  // ResourceExhausted when the threads cannot be started.
  static absl::StatusOr<std::unique_ptr<WorkerPool>> Create(int threads);
  // Shutdown(absl::InfiniteDuration()).
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues a task. Tasks posted after shutdown began are dropped.
  void Post(std::function<void()> task);

  // Stops taking tasks, lets the threads run what is queued and waits up to
  // `grace` for them to finish. Returns how many threads were abandoned
  // (still inside a task at the deadline). Idempotent.
  int Shutdown(absl::Duration grace);

 private:
  WorkerPool();
  std::shared_ptr<internal::PoolState> state_;
  std::vector<std::thread> threads_;
  bool shut_down_ = false;
};

class StreamExecutor {
 public:
  StreamExecutor();
  // Shutdown(absl::InfiniteDuration()).
  ~StreamExecutor();
  StreamExecutor(const StreamExecutor&) = delete;
  StreamExecutor& operator=(const StreamExecutor&) = delete;

  // A place for one task, taken before the task is known (so a caller can
  // refuse a call before publishing it). Released when destroyed unused,
  // or when the task it ran returns.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    ~Slot();
    explicit operator bool() const { return state_ != nullptr; }

   private:
    friend class StreamExecutor;
    std::shared_ptr<internal::PoolState> state_;
  };

  // A slot when fewer than `limit` tasks hold one; otherwise (or after
  // shutdown) an empty Slot. `*running` is set to the number held now.
  Slot TryReserve(int limit, int* running);
  // Runs `task` on an idle thread, or on a new one. ResourceExhausted when
  // no thread could be started (the task is then dropped unrun), or when
  // the executor is shutting down.
  absl::Status Run(Slot slot, std::function<void()> task);
  // Tasks holding a slot now.
  int running() const;
  // As WorkerPool::Shutdown.
  int Shutdown(absl::Duration grace);

 private:
  std::shared_ptr<internal::PoolState> state_;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_WORKER_POOL_H_
