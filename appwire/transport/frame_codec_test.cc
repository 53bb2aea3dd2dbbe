#include "appwire/transport/frame_codec.h"

#include <string>

#include "gtest/gtest.h"

namespace appwire {
namespace {

v1::FrameHeader RequestHeader(uint64_t call_id, const std::string& method) {
  v1::FrameHeader header;
  header.set_call_id(call_id);
  header.mutable_request()->set_method(method);
  return header;
}

std::string U32(uint32_t v) {
  std::string out(4, '\0');
  out[0] = static_cast<char>(v >> 24);
  out[1] = static_cast<char>(v >> 16);
  out[2] = static_cast<char>(v >> 8);
  out[3] = static_cast<char>(v);
  return out;
}

TEST(FrameCodecTest, RoundTripsHeaderAndPayload) {
  std::string wire;
  AppendFrame(RequestHeader(7, "appwire.v1.Echo/Echo"), "payload bytes", &wire);
  DecodedFrame frame;
  size_t consumed = 0;
  ASSERT_TRUE(DecodeFrame(wire, FrameLimits(), &frame, &consumed).ok());
  EXPECT_EQ(consumed, wire.size());
  EXPECT_EQ(frame.header.call_id(), 7u);
  EXPECT_EQ(frame.header.request().method(), "appwire.v1.Echo/Echo");
  EXPECT_EQ(frame.payload, "payload bytes");
}

TEST(FrameCodecTest, WireLayoutIsLengthHeaderLengthHeaderPayload) {
  v1::FrameHeader header;
  header.set_call_id(1);  // serializes as 08 01
  std::string wire;
  AppendFrame(header, "xy", &wire);
  // frame_length = 4 (header_length field) + 2 (header) + 2 (payload) = 8
  EXPECT_EQ(wire, U32(8) + U32(2) + std::string("\x08\x01", 2) + "xy");
}

TEST(FrameCodecTest, PatchedPrefixPlusSeparatePayloadEqualsTheWholeFrame) {
  v1::FrameHeader header = RequestHeader(9, "a.B/C");
  std::string whole;
  AppendFrame(header, "the payload", &whole);
  std::string prefix;
  AppendFrame(header, "", &prefix);
  PatchFrameLength(std::string("the payload").size(), &prefix);
  EXPECT_EQ(prefix + "the payload", whole);
}

TEST(FrameCodecTest, DecodesSeveralFramesFromOneBuffer) {
  std::string wire;
  AppendFrame(RequestHeader(1, "a.B/C"), "one", &wire);
  AppendFrame(RequestHeader(3, "a.B/C"), "two", &wire);
  absl::string_view input(wire);
  DecodedFrame frame;
  size_t consumed = 0;
  ASSERT_TRUE(DecodeFrame(input, FrameLimits(), &frame, &consumed).ok());
  EXPECT_EQ(frame.payload, "one");
  input.remove_prefix(consumed);
  ASSERT_TRUE(DecodeFrame(input, FrameLimits(), &frame, &consumed).ok());
  EXPECT_EQ(frame.header.call_id(), 3u);
  EXPECT_EQ(frame.payload, "two");
  EXPECT_EQ(consumed, input.size());
}

TEST(FrameCodecTest, TruncatedInputAsksForMoreAtEveryLength) {
  std::string wire;
  AppendFrame(RequestHeader(5, "a.B/C"), "some payload", &wire);
  for (size_t length = 0; length < wire.size(); ++length) {
    DecodedFrame frame;
    size_t consumed = 99;
    absl::Status status = DecodeFrame(absl::string_view(wire).substr(0, length),
                                      FrameLimits(), &frame, &consumed);
    ASSERT_TRUE(status.ok()) << "length " << length << ": " << status;
    EXPECT_EQ(consumed, 0u) << "length " << length;
  }
}

TEST(FrameCodecTest, OversizedMessageYieldsItsHeaderAndTheBytesToSkip) {
  FrameLimits limits;
  limits.max_message_bytes = 1024;
  std::string header_only;
  AppendFrame(RequestHeader(7, "a.B/C"), "", &header_only);
  // The prefix announces a 1 GiB payload; only the header has arrived.
  const size_t header_size = header_only.size() - kFramePrefixBytes;
  std::string wire = U32(static_cast<uint32_t>(4 + header_size + (1u << 30))) +
                     U32(static_cast<uint32_t>(header_size)) +
                     header_only.substr(kFramePrefixBytes) + "payload bytes";
  DecodedFrame frame;
  size_t consumed = 0;
  ASSERT_TRUE(DecodeFrame(wire.substr(0, 10), limits, &frame, &consumed).ok());
  EXPECT_EQ(consumed, 0u);  // the header is not complete yet
  ASSERT_TRUE(DecodeFrame(wire, limits, &frame, &consumed).ok());
  EXPECT_EQ(consumed, kFramePrefixBytes + header_size);
  EXPECT_EQ(frame.oversized_payload_bytes, 1u << 30);
  EXPECT_TRUE(frame.payload.empty());
  EXPECT_EQ(frame.header.call_id(), 7u);
  EXPECT_EQ(frame.header.request().method(), "a.B/C");
}

TEST(FrameCodecTest, MessageExactlyAtTheLimitIsAccepted) {
  FrameLimits limits;
  limits.max_message_bytes = 16;
  std::string wire;
  AppendFrame(RequestHeader(1, "a.B/C"), std::string(16, 'x'), &wire);
  DecodedFrame frame;
  size_t consumed = 0;
  ASSERT_TRUE(DecodeFrame(wire, limits, &frame, &consumed).ok());
  EXPECT_EQ(frame.payload.size(), 16u);
}

TEST(FrameCodecTest, OversizedHeaderIsRefused) {
  FrameLimits limits;
  limits.max_header_bytes = 8;
  std::string wire = U32(4 + 100) + U32(100) + std::string(100, '\0');
  DecodedFrame frame;
  size_t consumed = 0;
  absl::Status status = DecodeFrame(wire, limits, &frame, &consumed);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "frame header of 100 bytes exceeds the limit of 8 bytes");
}

TEST(FrameCodecTest, HeaderLongerThanFrameIsMalformed) {
  std::string wire = U32(6) + U32(10) + "ab";
  DecodedFrame frame;
  size_t consumed = 0;
  absl::Status status = DecodeFrame(wire, FrameLimits(), &frame, &consumed);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "malformed frame: frame_length 6 cannot hold a 10-byte header");
}

TEST(FrameCodecTest, FrameLengthBelowFourIsMalformed) {
  std::string wire = U32(3) + U32(0);
  DecodedFrame frame;
  size_t consumed = 0;
  EXPECT_EQ(DecodeFrame(wire, FrameLimits(), &frame, &consumed).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FrameCodecTest, HeaderThatIsNotProtobufIsMalformed) {
  // 0xff is an invalid tag/wire type.
  std::string garbage = "\xff\xff\xff\xff";
  std::string wire = U32(4 + 4) + U32(4) + garbage;
  DecodedFrame frame;
  size_t consumed = 0;
  absl::Status status = DecodeFrame(wire, FrameLimits(), &frame, &consumed);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "malformed frame: its 4-byte header is not an appwire.v1.FrameHeader");
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

// docs/protocol.md section 14 shows these bytes: keep them true.
TEST(FrameCodecTest, HelloBytesMatchTheProtocolDocument) {
  v1::FrameHeader header;
  header.mutable_hello()->set_protocol_version(1);
  header.mutable_hello()->set_software_name("appwire-client");
  header.mutable_hello()->set_software_version("0.1.0");
  header.mutable_hello()->set_max_message_bytes(16u << 20);
  std::string wire;
  AppendFrame(header, "", &wire);
  std::string hex;
  for (unsigned char c : wire) {
    static const char* digits = "0123456789abcdef";
    if (!hex.empty()) hex += ' ';
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  EXPECT_EQ(hex,
            "00 00 00 24 00 00 00 20 12 1e 08 01 12 0e 61 70 70 77 69 72 65 2d 63 6c "
            "69 65 6e 74 1a 05 30 2e 31 2e 30 20 80 80 80 08");
}

}  // namespace
}  // namespace appwire
