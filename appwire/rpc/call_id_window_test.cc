#include "appwire/rpc/call_id_window.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace appwire {
namespace {

using Verdict = CallIdWindow::Verdict;

TEST(CallIdWindowTest, IncreasingIdsAreNewAndRepeatsAreUsed) {
  CallIdWindow window;
  EXPECT_EQ(window.Use(1), Verdict::kNew);
  EXPECT_EQ(window.Use(3), Verdict::kNew);
  EXPECT_EQ(window.Use(1), Verdict::kUsed);
  EXPECT_EQ(window.Use(3), Verdict::kUsed);
  EXPECT_EQ(window.highest(), 3u);
}

TEST(CallIdWindowTest, IdsOutOfOrderAreNewOnceEach) {
  CallIdWindow window;
  EXPECT_EQ(window.Use(9), Verdict::kNew);
  EXPECT_EQ(window.Use(5), Verdict::kNew);
  EXPECT_EQ(window.Use(7), Verdict::kNew);
  EXPECT_EQ(window.Use(5), Verdict::kUsed);
  EXPECT_EQ(window.Use(1), Verdict::kNew);
  EXPECT_EQ(window.Use(11), Verdict::kNew);
  EXPECT_EQ(window.Use(1), Verdict::kUsed);
  EXPECT_EQ(window.Use(3), Verdict::kNew);
}

TEST(CallIdWindowTest, IdsMoreThanTheSpanBelowTheHighestCountAsUsed) {
  CallIdWindow window;
  const uint64_t high = 2 * CallIdWindow::kSpan + 1;
  EXPECT_EQ(window.Use(high), Verdict::kNew);
  // Exactly at the edge: kSpan - 2 below is the last remembered odd id.
  EXPECT_EQ(window.Use(high - (CallIdWindow::kSpan - 2)), Verdict::kNew);
  EXPECT_EQ(window.Use(high - CallIdWindow::kSpan), Verdict::kTooOld);
  EXPECT_EQ(window.Use(1), Verdict::kTooOld);
}

TEST(CallIdWindowTest, SlidingForgetsOnlyWhatFallsOutOfTheSpan) {
  CallIdWindow window;
  EXPECT_EQ(window.Use(101), Verdict::kNew);
  EXPECT_EQ(window.Use(99), Verdict::kNew);
  EXPECT_EQ(window.Use(101 + 2 * 100), Verdict::kNew);  // slides by 100 bits
  EXPECT_EQ(window.Use(99), Verdict::kUsed);
  EXPECT_EQ(window.Use(101), Verdict::kUsed);
  EXPECT_EQ(window.Use(97), Verdict::kNew);
  // A jump beyond the span forgets everything below: all too old or new.
  EXPECT_EQ(window.Use(1000001), Verdict::kNew);
  EXPECT_EQ(window.Use(99), Verdict::kTooOld);
}

TEST(CallIdWindowTest, TheLargestIdsDoNotOverflow) {
  CallIdWindow window;
  const uint64_t max = std::numeric_limits<uint64_t>::max();  // odd
  EXPECT_EQ(window.Use(1), Verdict::kNew);
  EXPECT_EQ(window.Use(max), Verdict::kNew);
  EXPECT_EQ(window.Use(max), Verdict::kUsed);
  EXPECT_EQ(window.Use(max - 2), Verdict::kNew);
  EXPECT_EQ(window.Use(1), Verdict::kTooOld);
}

}  // namespace
}  // namespace appwire
