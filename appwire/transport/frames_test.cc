#include "appwire/transport/frames.h"

#include <string>

#include "gtest/gtest.h"

namespace appwire {
namespace {

TEST(FramesTest, GoAwayCarriesTheStatusTheLastCallAndWhetherItIsGraceful) {
  const v1::FrameHeader frame =
      GoAwayFrame(absl::UnavailableError("the server is shutting down"), true, 41);
  EXPECT_EQ(frame.call_id(), 0u);
  ASSERT_TRUE(frame.has_go_away());
  EXPECT_EQ(frame.go_away().status_code(), static_cast<int>(absl::StatusCode::kUnavailable));
  EXPECT_EQ(frame.go_away().status_message(), "the server is shutting down");
  EXPECT_TRUE(frame.go_away().graceful());
  EXPECT_TRUE(frame.go_away().has_last_call_id());
  EXPECT_EQ(frame.go_away().last_call_id(), 41u);
  EXPECT_FALSE(GoAwayFrame(absl::InternalError("x"), false, 0).go_away().graceful());
}

TEST(FramesTest, AGoAwayMessageIsValidUtf8OfAtMost4096Bytes) {
  const v1::FrameHeader frame =
      GoAwayFrame(absl::InternalError(std::string(5000, 'x') + "\xff"), false, 0);
  EXPECT_EQ(frame.go_away().status_message(), std::string(kMaxStatusMessageBytes, 'x'));
  EXPECT_EQ(GoAwayFrame(absl::InternalError("a\xff"), false, 0).go_away().status_message(), "a?");
}

TEST(FramesTest, CallFramesNameTheirCall) {
  EXPECT_TRUE(CancelFrame(7).has_cancel());
  EXPECT_EQ(CancelFrame(7).call_id(), 7u);
  EXPECT_TRUE(HalfCloseFrame(9).has_half_close());
  EXPECT_EQ(HalfCloseFrame(9).call_id(), 9u);
  EXPECT_TRUE(MessageFrame(11).has_message());
  EXPECT_EQ(WindowUpdateFrame(13, UINT64_MAX).window_update().bytes(), UINT64_MAX);
  EXPECT_EQ(WindowUpdateFrame(13, 1).call_id(), 13u);
}

TEST(FramesTest, PingsAndTheirAcknowledgementsEchoTheOpaqueValue) {
  EXPECT_EQ(PingFrame(99).ping().opaque(), 99u);
  EXPECT_FALSE(PingFrame(99).ping().ack());
  EXPECT_TRUE(PingAckFrame(99).ping().ack());
  EXPECT_EQ(PingAckFrame(99).ping().opaque(), 99u);
  EXPECT_EQ(PingAckFrame(99).call_id(), 0u);
}

TEST(FramesTest, FrameKindNamesAreTheProtocolDocumentsNames) {
  EXPECT_STREQ(FrameKindName(v1::FrameHeader::kGoAway), "go_away");
  EXPECT_STREQ(FrameKindName(v1::FrameHeader::kWindowUpdate), "window_update");
  EXPECT_STREQ(FrameKindName(v1::FrameHeader::kHalfClose), "half_close");
  EXPECT_STREQ(FrameKindName(v1::FrameHeader::KIND_NOT_SET), "empty");
}

}  // namespace
}  // namespace appwire
