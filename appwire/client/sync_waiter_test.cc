#include "appwire/client/sync_waiter.h"

#include <thread>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

TEST(SyncWaiterTest, ResultSetBeforeWaitIsReturnedAtOnce) {
  SyncWaiter waiter;
  waiter.Set(std::string("reply"));
  absl::StatusOr<std::string> result = waiter.Wait();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, "reply");
}

TEST(SyncWaiterTest, ErrorFromAnotherThreadWakesTheWaiter) {
  SyncWaiter waiter;
  // Joined before the test ends; whether Set lands during the spin or the
  // sleep, Wait must return it.
  std::thread setter([&waiter] { waiter.Set(absl::UnavailableError("M failed: gone")); });
  absl::StatusOr<std::string> result = waiter.Wait();
  setter.join();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(result.status().message(), "M failed: gone");
}

}  // namespace
}  // namespace appwire
