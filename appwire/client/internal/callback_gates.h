// The three small synchronisers behind ~Channel's promises (appwire/client/channel.h,
// "Destroying the channel"): no on_state_change after the destructor
// returned (StateCallbackGate), nothing of the channel left when it returns
// (Released), and no self-wait when a callback on this thread destroys the
// channel (HoldOnThisThread). Internal to appwire/client/.
#ifndef APPWIRE_CLIENT_INTERNAL_CALLBACK_GATES_H_
#define APPWIRE_CLIENT_INTERNAL_CALLBACK_GATES_H_

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace appwire::internal {

// on_state_change runs through this gate, which ~Channel closes: callbacks
// not started by then never run (nor those still queued in the app's
// callback_executor), and closing waits for those running on other threads,
// so that none runs once the destructor returned. Thread-safe.
class StateCallbackGate {
 public:
  void Run(const std::function<void()>& callback) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      running_.push_back(std::this_thread::get_id());
    }
    callback();
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(std::find(running_.begin(), running_.end(), std::this_thread::get_id()));
    idle_.notify_all();
  }
  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  // A callback running on this thread is the one destroying the channel:
  // it is not waited for (it would wait for itself).
  void Close() {
    std::unique_lock<std::mutex> lock(mu_);
    closed_ = true;
    const std::thread::id self = std::this_thread::get_id();
    idle_.wait(lock, [&] {
      return std::all_of(running_.begin(), running_.end(),
                         [&](std::thread::id id) { return id == self; });
    });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable idle_;
  bool closed_ = false;
  std::vector<std::thread::id> running_;  // one entry per callback running
};

// Set once a channel's Impl is entirely gone; ~Channel waits for it.
// Thread-safe.
class Released {
 public:
  void Set() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    changed_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return released_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool released_ = false;
};

// Marks the channels whose Impl this thread holds (a strong reference on its
// stack) while it may run the app's callbacks inline. A ~Channel run by such
// a callback must not wait for that reference to go: it goes, and the Impl
// with it, when the callback has returned. Per thread; a stack object.
class HoldOnThisThread {
 public:
  explicit HoldOnThisThread(const void* impl) { Held().push_back(impl); }
  ~HoldOnThisThread() { Held().pop_back(); }
  HoldOnThisThread(const HoldOnThisThread&) = delete;
  HoldOnThisThread& operator=(const HoldOnThisThread&) = delete;
  static bool Holds(const void* impl) {
    const std::vector<const void*>& held = Held();
    return std::find(held.begin(), held.end(), impl) != held.end();
  }

 private:
  static std::vector<const void*>& Held() {
    thread_local std::vector<const void*> held;
    return held;
  }
};

}  // namespace appwire::internal

#endif  // APPWIRE_CLIENT_INTERNAL_CALLBACK_GATES_H_
