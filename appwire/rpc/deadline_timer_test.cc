#include "appwire/rpc/deadline_timer.h"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include "appwire/common/clock.h"
#include "appwire/rpc/deadline_queue.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

// A DeadlineQueue and its timer on an I/O thread, as each end keeps them.
class TimedQueue {
 public:
  explicit TimedQueue(const Clock& clock)
      : clock_(clock), timer_(io_, clock, [this] { OnDue(); }), thread_([this] { io_.run(); }) {}
  ~TimedQueue() {
    // The timer belongs to the I/O thread: cancelled there, then stopped.
    asio::post(io_, [this] { timer_.Cancel(); });
    work_.reset();
    thread_.join();
  }
  void Add(absl::Time deadline, uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.Add(deadline, id)) timer_.WakeBy(deadline);
  }
  std::vector<uint64_t> expired() {
    std::lock_guard<std::mutex> lock(mu_);
    return expired_;
  }
  int wakeups() const { return wakeups_.load(); }

 private:
  void OnDue() {
    ++wakeups_;
    absl::Time next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (uint64_t id : queue_.TakeDue(clock_.Now())) expired_.push_back(id);
      next = queue_.Next();
    }
    timer_.ArmFor(next);
  }

  const Clock& clock_;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::mutex mu_;
  DeadlineQueue<uint64_t> queue_;
  std::vector<uint64_t> expired_;
  std::atomic<int> wakeups_{0};
  DeadlineTimer timer_;
  std::thread thread_;
};

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 2000 && !done(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

TEST(DeadlineTimerTest, AnEarlierDeadlineBringsTheTimerForwardAndFindsAllThatAreDue) {
  FakeClock clock;
  const absl::Time start = clock.Now();
  TimedQueue timed(clock);
  timed.Add(start + absl::Hours(1), 1);
  timed.Add(start + absl::Hours(2), 3);
  // Nothing is due on the fake clock: the timer waits (an hour, really).
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(timed.expired().empty());
  // An earlier deadline re-arms the timer, computed from the clock: it is
  // due at once, and so is the one at 1 h the clock has passed meanwhile.
  clock.Advance(absl::Minutes(90));
  timed.Add(start + absl::Minutes(30), 5);
  ASSERT_TRUE(WaitFor([&] { return timed.expired().size() == 2; }));
  EXPECT_EQ(timed.expired(), (std::vector<uint64_t>{5, 1}));
  clock.Advance(absl::Hours(1));
  timed.Add(start + absl::Minutes(100), 7);
  ASSERT_TRUE(WaitFor([&] { return timed.expired().size() == 4; }));
  EXPECT_EQ(timed.expired(), (std::vector<uint64_t>{5, 1, 7, 3}));
}

TEST(DeadlineTimerTest, LaterDeadlinesDoNotWakeTheTimer) {
  FakeClock clock;
  TimedQueue timed(clock);
  timed.Add(clock.Now() + absl::Hours(1), 1);
  for (uint64_t id = 3; id < 200; id += 2) timed.Add(clock.Now() + absl::Hours(2), id);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(timed.wakeups(), 0);
  EXPECT_TRUE(timed.expired().empty());
}

TEST(DeadlineTimerTest, RealClockDeadlinesFireInOrder) {
  TimedQueue timed(Clock::Real());
  const absl::Time now = absl::Now();
  timed.Add(now + absl::Milliseconds(30), 3);
  timed.Add(now + absl::Milliseconds(10), 1);
  ASSERT_TRUE(WaitFor([&] { return timed.expired().size() == 2; }));
  EXPECT_EQ(timed.expired(), (std::vector<uint64_t>{1, 3}));
}

TEST(DeadlineTimerTest, WakeByFromManyThreadsLosesNoDeadline) {
  FakeClock clock;
  TimedQueue timed(clock);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        timed.Add(clock.Now() - absl::Seconds(i), static_cast<uint64_t>(t * 1000 + i));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(WaitFor([&] { return timed.expired().size() == 200; }));
}

}  // namespace
}  // namespace appwire
