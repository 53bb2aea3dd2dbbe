// DeadlineTimer: one timer on an I/O thread that calls its owner back when
// the earliest deadline it was asked for has come. Both ends pair it with a
// DeadlineQueue (appwire/rpc/deadline_queue.h):
//
//   // any thread, under the owner's lock
//   if (deadlines.Add(deadline, id)) timer.WakeBy(deadline);
//   // on_due, on the I/O thread
//   std::vector<uint64_t> due;
//   absl::Time next;
//   { lock; due = deadlines.TakeDue(clock.Now()); next = deadlines.Next(); }
//   ... expire `due` ...
//   timer.ArmFor(next);
//
// The wait itself is real (asio's steady_timer); the time it waits for is
// computed from the injected Clock, so a FakeClock moved past a deadline
// makes the next wake-up immediate.
//
// Threads: WakeBy from any thread; ArmFor and Cancel on the io_context's
// thread. The owner destroys the timer on (or after stopping) that thread.
// on_due runs on that thread and must not destroy the timer.
#ifndef APPWIRE_RPC_DEADLINE_TIMER_H_
#define APPWIRE_RPC_DEADLINE_TIMER_H_

#include <functional>
#include <memory>
#include <mutex>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "absl/time/time.h"
#include "appwire/common/clock.h"

namespace appwire {

class DeadlineTimer {
 public:
  DeadlineTimer(asio::io_context& io, const Clock& clock, std::function<void()> on_due);
  ~DeadlineTimer();
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // Makes sure on_due runs no later than `when`. Cheap when the timer is
  // already armed for `when` or earlier: nothing is posted.
  void WakeBy(absl::Time when);
  // I/O thread: arms the timer for `next` (absl::InfiniteFuture(): for
  // nothing), replacing what it was armed for.
  void ArmFor(absl::Time next);
  // I/O thread: disarms; on_due does not run until the next WakeBy.
  void Cancel();

 private:
  // Shared with the posted re-arms and the timer's handler, which may
  // outlive this object by the time they run: they find it gone.
  struct State {
    std::mutex mu;
    // The earliest time a WakeBy asked for since the timer last fired (or
    // was armed by ArmFor): a later WakeBy posts nothing.
    absl::Time requested = absl::InfiniteFuture();
    bool alive = true;
  };
  // I/O thread: sets the timer for `when`.
  void Arm(absl::Time when);

  asio::io_context& io_;
  const Clock& clock_;
  std::function<void()> on_due_;
  asio::steady_timer timer_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  absl::Time armed_ = absl::InfiniteFuture();  // I/O thread only
};

}  // namespace appwire

#endif  // APPWIRE_RPC_DEADLINE_TIMER_H_
