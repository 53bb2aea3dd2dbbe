#include "appwire/client/adaptive_spin.h"

#include "gtest/gtest.h"

namespace appwire {
namespace {

using Outcome = AdaptiveSpin::Outcome;

// Records `n` waits that asked for a spin and found `outcome`.
void RecordSpins(AdaptiveSpin& spin, int n, Outcome outcome) {
  for (int i = 0; i < n; ++i) {
    const absl::Duration asked = spin.NextSpin();
    spin.Record(asked > absl::ZeroDuration(), outcome);
  }
}

// How many of the next `n` waits get a spin (each recorded as `outcome`).
int SpinsAmong(AdaptiveSpin& spin, int n, Outcome outcome) {
  int spins = 0;
  for (int i = 0; i < n; ++i) {
    const absl::Duration asked = spin.NextSpin();
    if (asked > absl::ZeroDuration()) ++spins;
    spin.Record(asked > absl::ZeroDuration(), outcome);
  }
  return spins;
}

TEST(AdaptiveSpinTest, SpinsWhileSpinningCatchesReplies) {
  AdaptiveSpin spin;
  EXPECT_EQ(spin.NextSpin(), AdaptiveSpin::kSpin);
  EXPECT_EQ(SpinsAmong(spin, 1000, Outcome::kCaughtSpinning), 1000);
  EXPECT_TRUE(spin.spinning());
}

TEST(AdaptiveSpinTest, GoesOffAfterMissesInARowOnly) {
  AdaptiveSpin spin;
  // Misses broken up by a catch do not add up.
  RecordSpins(spin, AdaptiveSpin::kMissesBeforeOff - 1, Outcome::kSlept);
  RecordSpins(spin, 1, Outcome::kCaughtSpinning);
  RecordSpins(spin, AdaptiveSpin::kMissesBeforeOff - 1, Outcome::kSlept);
  EXPECT_TRUE(spin.spinning());
  RecordSpins(spin, 1, Outcome::kSlept);
  EXPECT_FALSE(spin.spinning());
  EXPECT_EQ(spin.NextSpin(), absl::ZeroDuration());
}

TEST(AdaptiveSpinTest, OffItProbesEverLessOftenUpToTheMaximumInterval) {
  AdaptiveSpin spin;
  RecordSpins(spin, AdaptiveSpin::kMissesBeforeOff, Outcome::kSlept);
  // A slow network: every probe misses. Over the first 16 + 32 + ... + 1024
  // calls there is one probe per interval; after that one per 1024 calls.
  for (int interval = AdaptiveSpin::kFirstProbeInterval;
       interval <= AdaptiveSpin::kMaxProbeInterval; interval *= 2) {
    EXPECT_EQ(SpinsAmong(spin, interval, Outcome::kSlept), 1) << "interval " << interval;
  }
  EXPECT_EQ(SpinsAmong(spin, 10 * AdaptiveSpin::kMaxProbeInterval, Outcome::kSlept), 10);
  EXPECT_FALSE(spin.spinning());
}

TEST(AdaptiveSpinTest, AProbeThatCatchesAReplyTurnsSpinningBackOn) {
  AdaptiveSpin spin;
  RecordSpins(spin, AdaptiveSpin::kMissesBeforeOff, Outcome::kSlept);
  // The network got fast again: the next probe catches its reply.
  int until_probe = 0;
  while (spin.NextSpin() == absl::ZeroDuration()) {
    spin.Record(false, Outcome::kSlept);
    ASSERT_LT(++until_probe, AdaptiveSpin::kFirstProbeInterval);
  }
  spin.Record(true, Outcome::kCaughtSpinning);
  EXPECT_TRUE(spin.spinning());
  EXPECT_EQ(SpinsAmong(spin, 100, Outcome::kCaughtSpinning), 100);
}

TEST(AdaptiveSpinTest, RepliesThatWereThereAtOnceTeachNothing) {
  AdaptiveSpin spin;
  RecordSpins(spin, AdaptiveSpin::kMissesBeforeOff - 1, Outcome::kSlept);
  RecordSpins(spin, 50, Outcome::kReady);  // neither a catch nor a miss
  EXPECT_TRUE(spin.spinning());
  RecordSpins(spin, 1, Outcome::kSlept);
  EXPECT_FALSE(spin.spinning());
}

TEST(AdaptiveSpinTest, WaitsWithoutASpinTeachNothing) {
  AdaptiveSpin spin;
  RecordSpins(spin, AdaptiveSpin::kMissesBeforeOff, Outcome::kSlept);
  // Calls between probes slept without spinning: a fast reply there
  // (kSlept is all such a wait can say) must not count as a failed probe.
  for (int i = 0; i < 5; ++i) spin.Record(false, Outcome::kSlept);
  int until_probe = 1;
  while (spin.NextSpin() == absl::ZeroDuration()) ++until_probe;
  EXPECT_EQ(until_probe, AdaptiveSpin::kFirstProbeInterval);
}

}  // namespace
}  // namespace appwire
