#include "appwire/client/sync_waiter.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

TEST(SyncWaiterTest, ResultSetBeforeWaitIsReturnedAtOnce) {
  SyncWaiter waiter;
  waiter.Set(std::string("reply"));
  AdaptiveSpin::Outcome outcome;
  absl::StatusOr<std::string> result = waiter.Wait(AdaptiveSpin::kSpin, &outcome);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, "reply");
  EXPECT_EQ(outcome, AdaptiveSpin::Outcome::kReady);
}

TEST(SyncWaiterTest, ErrorFromAnotherThreadWakesTheWaiter) {
  SyncWaiter waiter;
  // Joined before the test ends; whether Set lands during the spin or the
  // sleep, Wait must return it.
  std::thread setter([&waiter] { waiter.Set(absl::UnavailableError("M failed: gone")); });
  AdaptiveSpin::Outcome outcome;
  absl::StatusOr<std::string> result = waiter.Wait(AdaptiveSpin::kSpin, &outcome);
  setter.join();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(result.status().message(), "M failed: gone");
}

TEST(SyncWaiterTest, WithoutASpinAReplyThatComesLaterIsSleptFor) {
  SyncWaiter waiter;
  std::mutex mu;
  std::condition_variable cv;
  bool waiting = false;
  // The setter starts only just before Wait() is called. With no spin,
  // Wait either finds the reply already there (Set won the race) or sleeps
  // for it: never "caught spinning".
  std::thread setter([&] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return waiting; });
    waiter.Set(std::string("late"));
  });
  AdaptiveSpin::Outcome outcome = AdaptiveSpin::Outcome::kReady;
  {
    std::lock_guard<std::mutex> lock(mu);
    waiting = true;
  }
  cv.notify_one();
  absl::StatusOr<std::string> result = waiter.Wait(absl::ZeroDuration(), &outcome);
  setter.join();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, "late");
  // Set may just have beaten the check at Wait's entry; otherwise it slept.
  EXPECT_TRUE(outcome == AdaptiveSpin::Outcome::kSlept ||
              outcome == AdaptiveSpin::Outcome::kReady);
}

}  // namespace
}  // namespace appwire
