#include "appwire/client/backoff.h"

#include <vector>

#include "gtest/gtest.h"

namespace appwire {
namespace {

// Always the same draw: 0 gives -jitter, 0.5 none, just under 1 +jitter.
Backoff::RandomSource Fixed(double u) {
  return [u] { return u; };
}

// Delays are computed in double seconds: equal to within a nanosecond.
#define EXPECT_DELAY(delay, expected) \
  EXPECT_LE(absl::AbsDuration((delay) - (expected)), absl::Nanoseconds(1))

ReconnectBackoff Policy(absl::Duration initial, double multiplier, double jitter,
                        absl::Duration max) {
  ReconnectBackoff policy;
  policy.initial = initial;
  policy.multiplier = multiplier;
  policy.jitter = jitter;
  policy.max = max;
  return policy;
}

TEST(BackoffTest, DelaysGrowByTheMultiplierUpToTheMax) {
  Backoff backoff(Policy(absl::Seconds(1), 2.0, 0.2, absl::Seconds(5)), Fixed(0.5));
  EXPECT_DELAY(backoff.NextDelay(), absl::Seconds(1));
  EXPECT_DELAY(backoff.NextDelay(), absl::Seconds(2));
  EXPECT_DELAY(backoff.NextDelay(), absl::Seconds(4));
  EXPECT_DELAY(backoff.NextDelay(), absl::Seconds(5));
  EXPECT_DELAY(backoff.NextDelay(), absl::Seconds(5));
  EXPECT_EQ(backoff.failed_attempts(), 5);
}

TEST(BackoffTest, JitterSpreadsEachDelayByTheFraction) {
  Backoff low(Policy(absl::Seconds(10), 1.6, 0.2, absl::Seconds(120)), Fixed(0.0));
  EXPECT_DELAY(low.NextDelay(), absl::Seconds(8));
  Backoff high(Policy(absl::Seconds(10), 1.6, 0.2, absl::Seconds(120)), Fixed(0.75));
  EXPECT_DELAY(high.NextDelay(), absl::Seconds(11));
  EXPECT_DELAY(high.NextDelay(), absl::Seconds(17.6));
}

TEST(BackoffTest, JitterAppliesToTheCappedDelay) {
  Backoff backoff(Policy(absl::Seconds(100), 10.0, 0.5, absl::Seconds(120)), Fixed(1.0));
  EXPECT_DELAY(backoff.NextDelay(), absl::Seconds(150));
  EXPECT_DELAY(backoff.NextDelay(), absl::Seconds(180));  // 120 * 1.5, not 1000 * 1.5
}

TEST(BackoffTest, ResetStartsOverAtInitial) {
  Backoff backoff(Policy(absl::Milliseconds(100), 3.0, 0.0, absl::Seconds(10)), Fixed(0.9));
  EXPECT_DELAY(backoff.NextDelay(), absl::Milliseconds(100));
  EXPECT_DELAY(backoff.NextDelay(), absl::Milliseconds(300));
  backoff.Reset();
  EXPECT_EQ(backoff.failed_attempts(), 0);
  EXPECT_DELAY(backoff.NextDelay(), absl::Milliseconds(100));
}

TEST(BackoffTest, MultiplierBelowOneKeepsTheDelay) {
  Backoff backoff(Policy(absl::Seconds(2), 0.5, 0.0, absl::Seconds(10)), Fixed(0.5));
  EXPECT_DELAY(backoff.NextDelay(), absl::Seconds(2));
  EXPECT_DELAY(backoff.NextDelay(), absl::Seconds(2));
}

TEST(BackoffTest, JitterAboveOneNeverGivesANegativeDelay) {
  Backoff backoff(Policy(absl::Seconds(1), 1.0, 2.0, absl::Seconds(10)), Fixed(0.0));
  EXPECT_DELAY(backoff.NextDelay(), absl::ZeroDuration());
}

TEST(BackoffTest, DefaultSourceStaysWithinTheJitter) {
  Backoff backoff(Policy(absl::Seconds(1), 1.0, 0.2, absl::Seconds(10)));
  for (int i = 0; i < 100; ++i) {
    absl::Duration delay = backoff.NextDelay();
    EXPECT_GE(delay, absl::Milliseconds(800));
    EXPECT_LE(delay, absl::Milliseconds(1200));
  }
}

}  // namespace
}  // namespace appwire
