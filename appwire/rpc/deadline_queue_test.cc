#include "appwire/rpc/deadline_queue.h"

#include <memory>

#include "appwire/common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(DeadlineQueueTest, AddSaysWhenTheEarliestDeadlineChanged) {
  FakeClock clock;
  const absl::Time now = clock.Now();
  DeadlineQueue<uint64_t> queue;
  EXPECT_TRUE(queue.Add(now + absl::Seconds(5), 1));
  EXPECT_FALSE(queue.Add(now + absl::Seconds(7), 3));   // later: the timer stays
  EXPECT_FALSE(queue.Add(now + absl::Seconds(5), 5));   // the same time: too
  EXPECT_TRUE(queue.Add(now + absl::Seconds(2), 7));    // earlier: re-arm
  EXPECT_EQ(queue.Next(), now + absl::Seconds(2));
  EXPECT_EQ(queue.size(), 4u);
}

TEST(DeadlineQueueTest, NoDeadlineIsNeverQueued) {
  DeadlineQueue<uint64_t> queue;
  EXPECT_FALSE(queue.Add(absl::InfiniteFuture(), 1));
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.Next(), absl::InfiniteFuture());
}

TEST(DeadlineQueueTest, TakeDueReturnsWhatIsDueEarliestFirstAndKeepsTheRest) {
  FakeClock clock;
  const absl::Time start = clock.Now();
  DeadlineQueue<uint64_t> queue;
  queue.Add(start + absl::Seconds(3), 3);
  queue.Add(start + absl::Seconds(1), 1);
  queue.Add(start + absl::Seconds(2), 2);
  EXPECT_THAT(queue.TakeDue(clock.Now()), IsEmpty());
  clock.Advance(absl::Seconds(2));  // exactly at 2 s: due
  EXPECT_THAT(queue.TakeDue(clock.Now()), ElementsAre(1, 2));
  EXPECT_EQ(queue.Next(), start + absl::Seconds(3));
  clock.Advance(absl::Hours(1));
  EXPECT_THAT(queue.TakeDue(clock.Now()), ElementsAre(3));
  EXPECT_TRUE(queue.empty());
}

TEST(DeadlineQueueTest, RemoveTakesOnlyThatKeyAtThatTime) {
  FakeClock clock;
  const absl::Time at = clock.Now() + absl::Seconds(1);
  DeadlineQueue<uint64_t> queue;
  queue.Add(at, 1);
  queue.Add(at, 3);
  queue.Remove(at, 3);
  queue.Remove(at + absl::Seconds(1), 1);  // another time: not that entry
  queue.Remove(at, 99);                    // unknown: ignored
  queue.Remove(absl::InfiniteFuture(), 1);
  clock.Advance(absl::Seconds(1));
  EXPECT_THAT(queue.TakeDue(clock.Now()), ElementsAre(1));
}

TEST(DeadlineQueueTest, WeakKeysAreRemovedByOwnerEvenAfterTheyExpired) {
  FakeClock clock;
  const absl::Time at = clock.Now() + absl::Seconds(1);
  auto first = std::make_shared<int>(1);
  auto second = std::make_shared<int>(2);
  DeadlineQueue<std::weak_ptr<int>> queue;
  queue.Add(at, first);
  queue.Add(at, second);
  std::weak_ptr<int> gone = first;
  first.reset();
  queue.Remove(at, gone);
  std::vector<std::weak_ptr<int>> due = queue.TakeDue(at);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].lock(), second);
}

TEST(DeadlineQueueTest, ClearForgetsEverything) {
  FakeClock clock;
  DeadlineQueue<uint64_t> queue;
  queue.Add(clock.Now(), 1);
  queue.Clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_THAT(queue.TakeDue(absl::InfiniteFuture()), IsEmpty());
}

}  // namespace
}  // namespace appwire
