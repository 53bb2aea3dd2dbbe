#include "appwire/transport/frame_codec.h"

#include "absl/strings/str_cat.h"

namespace appwire {
namespace {

void PutU32(uint32_t v, char* p) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

uint32_t GetU32(const char* p) {
  auto b = [p](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(p[i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

}  // namespace

void AppendFrame(const v1::FrameHeader& header, absl::string_view payload,
                 std::string* out) {
  const size_t header_size = header.ByteSizeLong();
  const size_t start = out->size();
  out->resize(start + kFramePrefixBytes + header_size);
  char* p = &(*out)[start];
  PutU32(static_cast<uint32_t>(4 + header_size + payload.size()), p);
  PutU32(static_cast<uint32_t>(header_size), p + 4);
  header.SerializeWithCachedSizesToArray(
      reinterpret_cast<uint8_t*>(p + kFramePrefixBytes));
  out->append(payload.data(), payload.size());
}

bool CarriesNoPayload(v1::FrameHeader::KindCase kind) {
  switch (kind) {
    case v1::FrameHeader::kHello:
    case v1::FrameHeader::kGoAway:
    case v1::FrameHeader::kPing:
    case v1::FrameHeader::kHalfClose:
    case v1::FrameHeader::kCancel:
    case v1::FrameHeader::kWindowUpdate:
      return true;
    default:
      return false;
  }
}

void PatchFrameLength(size_t payload_size, std::string* frame) {
  PutU32(static_cast<uint32_t>(frame->size() - 4 + payload_size), &(*frame)[0]);
}

absl::Status DecodeFrame(absl::string_view input, const FrameLimits& limits,
                         DecodedFrame* frame, size_t* consumed) {
  *consumed = 0;
  if (input.size() < kFramePrefixBytes) return absl::OkStatus();
  const uint64_t frame_length = GetU32(input.data());
  const uint64_t header_length = GetU32(input.data() + 4);
  if (frame_length < 4 || header_length > frame_length - 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed frame: frame_length ", frame_length, " cannot hold a ",
        header_length, "-byte header"));
  }
  if (header_length > limits.max_header_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "frame header of ", header_length, " bytes exceeds the limit of ",
        limits.max_header_bytes, " bytes"));
  }
  const uint64_t payload_length = frame_length - 4 - header_length;
  const bool oversized = payload_length > limits.max_message_bytes;
  frame->oversized_payload_bytes = 0;
  if (oversized) {
    if (input.size() < kFramePrefixBytes + header_length) return absl::OkStatus();
  } else if (input.size() - 4 < frame_length) {
    return absl::OkStatus();
  }
  if (!frame->header.ParseFromArray(input.data() + kFramePrefixBytes,
                                    static_cast<int>(header_length))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed frame: its ", header_length,
        "-byte header is not an appwire.v1.FrameHeader"));
  }
  if (oversized) {
    frame->payload = absl::string_view();
    frame->oversized_payload_bytes = payload_length;
    *consumed = kFramePrefixBytes + header_length;
    return absl::OkStatus();
  }
  frame->payload = input.substr(kFramePrefixBytes + header_length, payload_length);
  *consumed = 4 + frame_length;
  return absl::OkStatus();
}

}  // namespace appwire
