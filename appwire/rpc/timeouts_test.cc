#include "appwire/rpc/timeouts.h"

#include "appwire/common/clock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

TEST(TimeoutsTest, TheWireTimeoutIsRoundedUpAndNeverZero) {
  EXPECT_EQ(TimeoutMicrosOnWire(absl::Seconds(2)), 2000000u);
  EXPECT_EQ(TimeoutMicrosOnWire(absl::Nanoseconds(1500)), 2u);
  EXPECT_EQ(TimeoutMicrosOnWire(absl::Nanoseconds(1)), 1u);
  // A deadline that passed while the call waited for a connection still
  // says "a deadline", not "none".
  EXPECT_EQ(TimeoutMicrosOnWire(absl::ZeroDuration()), 1u);
  EXPECT_EQ(TimeoutMicrosOnWire(-absl::Seconds(1)), 1u);
}

TEST(TimeoutsTest, TheServerTurnsTheWireTimeoutIntoADeadlineOnItsClock) {
  FakeClock clock;
  EXPECT_EQ(DeadlineFromWire(0, clock.Now()), absl::InfiniteFuture());
  EXPECT_EQ(DeadlineFromWire(1, clock.Now()), clock.Now() + absl::Microseconds(1));
  EXPECT_EQ(DeadlineFromWire(2000000, clock.Now()), clock.Now() + absl::Seconds(2));
}

TEST(TimeoutsTest, MoreThanAHundredYearsIsNoDeadlineUpToTheLargestInteger) {
  FakeClock clock;
  const uint64_t hundred_years = uint64_t{100} * 366 * 24 * 3600 * 1000000;
  EXPECT_EQ(DeadlineFromWire(hundred_years, clock.Now()),
            clock.Now() + absl::Microseconds(static_cast<int64_t>(hundred_years)));
  EXPECT_EQ(DeadlineFromWire(hundred_years + 1, clock.Now()), absl::InfiniteFuture());
  EXPECT_EQ(DeadlineFromWire(UINT64_MAX, clock.Now()), absl::InfiniteFuture());
}

TEST(TimeoutsTest, DeadlineExceededMessageNamesTheMethodAndTheTimeout) {
  EXPECT_EQ(DeadlineExceededMessage("/notes.Notes/List", absl::Milliseconds(250)),
            "/notes.Notes/List did not complete within 250ms (deadline exceeded)");
}

}  // namespace
}  // namespace appwire
