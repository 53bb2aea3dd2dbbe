#include "appwire/client/call_table.h"

#include <memory>
#include <string>

#include "appwire/client/internal/client_stream_state.h"
#include "appwire/common/clock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

PendingCall Unary(const std::string& method, absl::Time deadline = absl::InfiniteFuture()) {
  PendingCall call;
  call.method = method;
  call.deadline = deadline;
  call.request = std::make_shared<const std::string>("request");
  call.header.mutable_request()->set_method(method);
  return call;
}

TEST(CallTableTest, AddTellsWhenTheDeadlineIsTheEarliest) {
  FakeClock clock;
  CallTable calls(clock);
  const absl::Time now = clock.Now();
  EXPECT_FALSE(calls.Add(1, Unary("A")));  // no deadline
  EXPECT_TRUE(calls.Add(3, Unary("B", now + absl::Seconds(5))));
  EXPECT_FALSE(calls.Add(5, Unary("C", now + absl::Seconds(9))));
  EXPECT_TRUE(calls.Add(7, Unary("D", now + absl::Seconds(2))));
  EXPECT_EQ(calls.NextDeadline(), now + absl::Seconds(2));
  EXPECT_EQ(calls.size(), 4u);
}

TEST(CallTableTest, DeadlinesExpireAsTheFakeClockPassesThem) {
  FakeClock clock;
  CallTable calls(clock);
  const absl::Time now = clock.Now();
  calls.Add(1, Unary("A", now + absl::Seconds(1)));
  calls.Add(3, Unary("B", now + absl::Seconds(3)));
  calls.Add(5, Unary("C", now + absl::Seconds(2)));
  EXPECT_TRUE(calls.TakeExpired().empty());
  clock.Advance(absl::Seconds(2));
  EXPECT_EQ(calls.TakeExpired(), (std::vector<uint64_t>{1, 5}));
  // Still pending (the channel abandons them), out of the queue.
  ASSERT_NE(calls.Find(1), nullptr);
  EXPECT_EQ(calls.Find(1)->deadline, absl::InfiniteFuture());
  EXPECT_EQ(calls.NextDeadline(), now + absl::Seconds(3));
  EXPECT_TRUE(calls.TakeExpired().empty());
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(calls.TakeExpired(), (std::vector<uint64_t>{3}));
  EXPECT_EQ(calls.NextDeadline(), absl::InfiniteFuture());
}

TEST(CallTableTest, ACallTakenOutNeverExpires) {
  FakeClock clock;
  CallTable calls(clock);
  calls.Add(1, Unary("A", clock.Now() + absl::Seconds(1)));
  PendingCall call;
  ASSERT_TRUE(calls.Take(1, &call));
  EXPECT_EQ(call.method, "A");
  EXPECT_FALSE(calls.Take(1, &call));
  EXPECT_EQ(calls.Find(1), nullptr);
  clock.Advance(absl::Seconds(5));
  EXPECT_TRUE(calls.TakeExpired().empty());
}

TEST(CallTableTest, WaitingCallsGoToTheLinkWithTheTimeLeft) {
  FakeClock clock;
  CallTable calls(clock);
  calls.Add(1, Unary("A", clock.Now() + absl::Seconds(10)));
  calls.Add(3, Unary("B"));
  calls.Add(5, Unary("C"));
  calls.Wait(1);
  calls.Wait(3);
  calls.Wait(5);
  PendingCall gone;
  ASSERT_TRUE(calls.Take(5, &gone));  // ended while waiting
  clock.Advance(absl::Seconds(4));
  std::vector<PendingCall*> taken = calls.TakeWaiting(/*link_id=*/7);
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0]->method, "A");
  EXPECT_EQ(taken[0]->link, 7u);
  EXPECT_EQ(taken[0]->header.request().timeout_micros(), 6'000'000u);
  EXPECT_EQ(taken[1]->method, "B");
  EXPECT_EQ(taken[1]->header.request().timeout_micros(), 0u);  // no deadline
  EXPECT_FALSE(calls.has_waiting());
}

TEST(CallTableTest, FailFastCallsLeaveTheWaitingListOthersStay) {
  FakeClock clock;
  CallTable calls(clock);
  PendingCall fast = Unary("Fast", clock.Now() + absl::Seconds(1));
  fast.fail_fast = true;
  calls.Add(1, std::move(fast));
  calls.Add(3, Unary("Patient"));
  calls.Wait(1);
  calls.Wait(3);
  std::vector<PendingCall> failed = calls.TakeFailFastWaiting();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].method, "Fast");
  EXPECT_EQ(calls.Find(1), nullptr);
  EXPECT_EQ(calls.NextDeadline(), absl::InfiniteFuture());
  ASSERT_TRUE(calls.has_waiting());
  std::vector<PendingCall*> taken = calls.TakeWaiting(1);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0]->method, "Patient");
}

TEST(CallTableTest, UnaryCallIsRequeuedOnceStreamsNever) {
  FakeClock clock;
  CallTable calls(clock);
  calls.Add(1, Unary("A"));
  calls.TakeWaiting(0);
  calls.Find(1)->link = 2;
  calls.Find(1)->sent = true;
  ASSERT_TRUE(calls.Requeue(1));
  EXPECT_EQ(calls.Find(1)->link, 0u);
  EXPECT_FALSE(calls.Find(1)->sent);
  EXPECT_TRUE(calls.has_waiting());
  EXPECT_FALSE(calls.Requeue(1));  // once only

  PendingCall stream = Unary("S");
  stream.stream = std::make_shared<ClientStreamState>();
  calls.Add(3, std::move(stream));
  EXPECT_FALSE(calls.Requeue(3));  // a stream may have sent messages: never again
  PendingCall no_request = Unary("N");
  no_request.request.reset();
  calls.Add(5, std::move(no_request));
  EXPECT_FALSE(calls.Requeue(5));
  EXPECT_FALSE(calls.Requeue(99));
}

TEST(CallTableTest, CallsOfALinkAreTakenTogether) {
  FakeClock clock;
  CallTable calls(clock);
  for (uint64_t id : {1, 3, 5, 7}) {
    PendingCall call = Unary("M" + std::to_string(id), clock.Now() + absl::Seconds(id));
    call.link = id < 5 ? 1 : 2;
    calls.Add(id, std::move(call));
  }
  std::vector<uint64_t> after = calls.SentOnAfter(2, 5);
  EXPECT_EQ(after, (std::vector<uint64_t>{7}));
  std::vector<PendingCall> first = calls.TakeSentOn(1);
  EXPECT_EQ(first.size(), 2u);
  EXPECT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls.NextDeadline(), clock.Now() + absl::Seconds(5));
  std::vector<PendingCall> all = calls.TakeAll();
  EXPECT_EQ(all.size(), 2u);
  EXPECT_EQ(calls.size(), 0u);
  EXPECT_EQ(calls.NextDeadline(), absl::InfiniteFuture());
}

}  // namespace
}  // namespace appwire
