#include "appwire/rpc/keepalive.h"

#include "gtest/gtest.h"

namespace appwire {
namespace {

TEST(WatchPeriodTest, AQuarterOfTheShortestWatchedDuration) {
  EXPECT_EQ(WatchPeriod({absl::Seconds(1), absl::Milliseconds(400), absl::Seconds(30)}),
            absl::Milliseconds(100));
  // Whole milliseconds, rounded down.
  EXPECT_EQ(WatchPeriod({absl::Milliseconds(203)}), absl::Milliseconds(50));
}

TEST(WatchPeriodTest, ClampedBetweenFiveMillisecondsAndOneSecond) {
  EXPECT_EQ(WatchPeriod({absl::Milliseconds(1)}), absl::Milliseconds(5));
  EXPECT_EQ(WatchPeriod({absl::Hours(1), absl::Seconds(30)}), absl::Seconds(1));
}

TEST(WatchPeriodTest, DurationsTurnedOffAreIgnored) {
  EXPECT_EQ(WatchPeriod({absl::ZeroDuration(), absl::Milliseconds(40)}), absl::Milliseconds(10));
  EXPECT_EQ(WatchPeriod({absl::ZeroDuration()}), absl::Seconds(1));
  EXPECT_EQ(WatchPeriod({}), absl::Seconds(1));
}

}  // namespace
}  // namespace appwire
