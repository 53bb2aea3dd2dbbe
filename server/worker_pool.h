// A fixed set of threads running queued tasks in FIFO order: where handlers
// run, so that I/O threads only move bytes.
#ifndef APPWIRE_SERVER_WORKER_POOL_H_
#define APPWIRE_SERVER_WORKER_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace appwire {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  // Runs what is queued, then joins.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Thread-safe. Tasks posted after shutdown began are dropped.
  void Post(std::function<void()> task);
  // For a task that may wait on a peer for a long time (a streaming call):
  // it gets a thread of its own, so any number of open streams never starve
  // the pool's short tasks or each other. The destructor waits for these
  // too.
  void PostLongRunning(std::function<void()> task);

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  int idle_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  // Long-running tasks still running; shared with their (detached) threads.
  struct LongRunning {
    std::mutex mu;
    std::condition_variable done;
    int running = 0;
  };
  std::shared_ptr<LongRunning> long_running_ = std::make_shared<LongRunning>();
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_WORKER_POOL_H_
