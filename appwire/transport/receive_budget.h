// ReceiveBudget: the memory all of a server's connections together may hold
// for frames they are still receiving, and for large requests waiting for
// (or running in) their handler (kMaxReceiveMemory).
//
// Without it, every connection may hold one partial frame of up to the
// maximum message size: 30 connections announcing 16 MiB frames and sending
// half of each cost 500 MB. With it, a connection that needs more than the
// budget has left stops reading (backpressure) until enough is released;
// nothing is refused and nothing is lost.
//
// A Charge is the memory one frame holds; it is released when the Charge
// is destroyed, on whichever thread holds it last. Waiters are told on the
// releasing thread, and must only post work to their own executor.
// Thread-safe.
#ifndef APPWIRE_TRANSPORT_RECEIVE_BUDGET_H_
#define APPWIRE_TRANSPORT_RECEIVE_BUDGET_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>

namespace appwire {

class ReceiveBudget : public std::enable_shared_from_this<ReceiveBudget> {
 public:
  explicit ReceiveBudget(size_t limit) : limit_(limit) {}

  class Charge {
   public:
    Charge() = default;
    Charge(const Charge&) = delete;
    Charge& operator=(const Charge&) = delete;
    ~Charge();
    size_t bytes() const { return bytes_; }

   private:
    friend class ReceiveBudget;
    Charge(std::shared_ptr<ReceiveBudget> budget, size_t bytes)
        : budget_(std::move(budget)), bytes_(bytes) {}
    std::shared_ptr<ReceiveBudget> budget_;
    size_t bytes_ = 0;
  };

  // `bytes` when the budget has them (an empty pointer otherwise). On
  // failure, `retry` is kept and called once, later, when memory was
  // released; the caller then asks again.
  std::shared_ptr<Charge> TryCharge(size_t bytes, std::function<void()> retry);

  // Changes the limit (kMaxReceiveMemory changed); waiters are told.
  void SetLimit(size_t limit);
  size_t limit() const;
  size_t used() const;

 private:
  void Release(size_t bytes);
  // Calls and forgets every waiter (outside the lock).
  void WakeWaiters(std::unique_lock<std::mutex>& lock);

  mutable std::mutex mu_;
  size_t limit_;
  size_t used_ = 0;
  std::list<std::function<void()>> waiters_;
};

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_RECEIVE_BUDGET_H_
