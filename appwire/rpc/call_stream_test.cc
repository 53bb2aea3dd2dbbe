#include "appwire/rpc/call_stream.h"

#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

constexpr size_t kQuarterWindow = kStreamWindowBytes / 4;

TEST(CallStreamTest, MessagesAreReadInOrderAndCreditReturnsInHalfWindowBatches) {
  CallStream stream(absl::InfiniteFuture(), "/s.S/M");
  for (char c : {'a', 'b', 'c'}) {
    ASSERT_TRUE(stream.Deliver(std::string(kQuarterWindow, c)).ok());
  }
  std::string message;
  uint64_t credit = 99;
  ASSERT_TRUE(*stream.Read(&message, &credit));
  EXPECT_EQ(message, std::string(kQuarterWindow, 'a'));
  EXPECT_EQ(credit, 0u);  // a quarter read: not worth a frame yet
  ASSERT_TRUE(*stream.Read(&message, &credit));
  EXPECT_EQ(message[0], 'b');
  EXPECT_EQ(credit, 2 * kQuarterWindow);  // half a window: returned at once
  ASSERT_TRUE(*stream.Read(&message, &credit));
  EXPECT_EQ(message[0], 'c');
  EXPECT_EQ(credit, 0u);
}

TEST(CallStreamTest, ThePeerMayOverdrawItsWindowByOneMessageAndNoMore) {
  CallStream stream(absl::InfiniteFuture(), "/s.S/M");
  ASSERT_TRUE(stream.Deliver(std::string(kStreamWindowBytes + 1, 'x')).ok());
  absl::Status refused = stream.Deliver("y");
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(),
            "/s.S/M: the peer sent a message of 1 bytes with its flow-control window used up "
            "(protocol error)");
}

TEST(CallStreamTest, AMessageAfterHalfCloseIsAProtocolError) {
  CallStream stream(absl::InfiniteFuture(), "/s.S/M");
  ASSERT_TRUE(stream.Deliver("last").ok());
  stream.DeliverEnd();
  absl::Status refused = stream.Deliver("late");
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.message(), "protocol error: /s.S/M: a message after half_close");
  std::string message;
  uint64_t credit = 0;
  EXPECT_TRUE(*stream.Read(&message, &credit));
  EXPECT_EQ(message, "last");
  EXPECT_FALSE(*stream.Read(&message, &credit));  // the end, not an error
}

TEST(CallStreamTest, AnUncountedRequestIsNeverReturnedAsCredit) {
  CallStream stream(absl::InfiniteFuture(), "/s.S/M");
  stream.DeliverUncounted(std::string(kStreamWindowBytes, 'r'));
  std::string message;
  uint64_t credit = 0;
  ASSERT_TRUE(*stream.Read(&message, &credit));
  EXPECT_EQ(credit, 0u);
  // The whole window is still the peer's.
  EXPECT_TRUE(stream.Deliver(std::string(kStreamWindowBytes, 'm')).ok());
}

TEST(CallStreamTest, SendingWaitsForAWindowUpdate) {
  CallStream stream(absl::InfiniteFuture(), "/s.S/M");
  ASSERT_TRUE(stream.AcquireCredit(kStreamWindowBytes).ok());  // the window is used up
  std::future<absl::Status> blocked =
      std::async(std::launch::async, [&stream] { return stream.AcquireCredit(1); });
  EXPECT_EQ(blocked.wait_for(std::chrono::milliseconds(20)), std::future_status::timeout);
  stream.AddCredit(1);
  ASSERT_EQ(blocked.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(blocked.get().ok());
}

TEST(CallStreamTest, GrantsAtTheLargestIntegerSaturateInsteadOfWrapping) {
  CallStream stream(absl::InfiniteFuture(), "/s.S/M");
  stream.AddCredit(UINT64_MAX);
  stream.AddCredit(UINT64_MAX);
  stream.AddCredit(uint64_t{1} << 63);
  stream.AddCredit(0);
  // Still open: a wrapped (negative) window would block here forever.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(stream.AcquireCredit(SIZE_MAX / 4).ok());
}

TEST(CallStreamTest, EndingTheCallWakesAReaderWithTheStatusAndDropsWhatIsUnread) {
  CallStream stream(absl::InfiniteFuture(), "/s.S/M");
  std::future<absl::StatusOr<bool>> reader = std::async(std::launch::async, [&stream] {
    std::string message;
    uint64_t credit = 0;
    return stream.Read(&message, &credit);
  });
  EXPECT_EQ(reader.wait_for(std::chrono::milliseconds(20)), std::future_status::timeout);
  EXPECT_TRUE(stream.End(absl::UnavailableError("the connection closed")));
  EXPECT_FALSE(stream.End(absl::CancelledError("only the first end counts")));
  ASSERT_EQ(reader.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  absl::StatusOr<bool> read = reader.get();
  EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(read.status().message(), "the connection closed");
  EXPECT_TRUE(stream.Deliver("late").ok());  // dropped, not an error
  EXPECT_EQ(stream.AcquireCredit(1).message(), "the connection closed");
}

TEST(CallStreamTest, AnOkEndSaysTheCallEnded) {
  CallStream stream(absl::InfiniteFuture(), "/s.S/M");
  stream.End(absl::OkStatus());
  EXPECT_EQ(stream.AcquireCredit(1).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(stream.AcquireCredit(1).message(), "/s.S/M: the call ended");
}

TEST(CallStreamTest, ThePeersFinalStatusStopsSendingButNotReading) {
  CallStream stream(absl::InfiniteFuture(), "/s.S/M");
  ASSERT_TRUE(stream.Deliver("reply").ok());
  stream.CloseSend(absl::OkStatus());
  absl::Status sending = stream.AcquireCredit(1);
  EXPECT_EQ(sending.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sending.message(), "/s.S/M: the peer ended the call");
  std::string message;
  uint64_t credit = 0;
  ASSERT_TRUE(*stream.Read(&message, &credit));
  EXPECT_EQ(message, "reply");
}

TEST(CallStreamTest, APassedDeadlineEndsEveryWait) {
  CallStream stream(absl::Now() - absl::Seconds(1), "/s.S/M");
  std::string message;
  uint64_t credit = 0;
  absl::StatusOr<bool> read = stream.Read(&message, &credit);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(read.status().message(), "/s.S/M: deadline exceeded");
  ASSERT_TRUE(stream.AcquireCredit(kStreamWindowBytes).code() ==
              absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace appwire
