// The appwire frame format, encoded and decoded without any I/O.
//
// Every frame on a connection (after the TLS handshake) is:
//
//   +----------------+----------------+----------------+------------------+
//   | frame_length   | header_length  | header         | payload          |
//   | u32 big-endian | u32 big-endian | header_length  | frame_length - 4 |
//   |                |                | bytes          | - header_length  |
//   +----------------+----------------+----------------+------------------+
//
// `frame_length` counts every byte after itself. `header` is a serialized
// appwire.v1.FrameHeader; `payload` is the serialized request or response
// message, passed through untouched. docs/protocol.md is the full
// specification.
//
// Limits are checked from the two length fields alone, before anything is
// allocated for the frame, so a peer cannot make us reserve memory by
// announcing a huge frame.
#ifndef APPWIRE_TRANSPORT_FRAME_CODEC_H_
#define APPWIRE_TRANSPORT_FRAME_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "appwire/v1/frame.pb.h"

namespace appwire {

struct FrameLimits {
  // Largest payload (one request or response message). Default 16 MiB.
  size_t max_message_bytes = 16u << 20;
  // Largest header. Headers carry a method name and a status message.
  size_t max_header_bytes = 64u << 10;
};

// The two length fields.
inline constexpr size_t kFramePrefixBytes = 8;

// Appends one encoded frame to `out`.
void AppendFrame(const v1::FrameHeader& header, absl::string_view payload,
                 std::string* out);

// For a frame encoded with an empty payload in `frame` (which must hold only
// that frame): sets its frame_length as if `payload_size` payload bytes
// followed, so the payload can be sent separately without being copied.
void PatchFrameLength(size_t payload_size, std::string* frame);

// True for the kinds whose meaning is all in their header (hello, go_away,
// ping, half_close, cancel, window_update): such a frame with a payload is
// a protocol error (docs/protocol.md, section 5).
bool CarriesNoPayload(v1::FrameHeader::KindCase kind);

// One decoded frame. `payload` points into the decoder's input.
struct DecodedFrame {
  v1::FrameHeader header;
  absl::string_view payload;
  // Set by Connection when the frame is the last one in its read buffer: a
  // receiver may take that buffer with std::move instead of copying a large
  // payload out of it (`payload` then points into the taken string).
  std::string* buffer = nullptr;
  // Nonzero when the payload is larger than the limit: it was not read,
  // `payload` is empty, and the caller must discard this many bytes that
  // follow the header (the rest of the frame). The header is valid, so the
  // receiver can refuse that one call and keep the connection.
  uint64_t oversized_payload_bytes = 0;
  // Set by Connection for a large frame: the share of the receive budget
  // (appwire/transport/receive_budget.h) its bytes hold. A receiver that keeps the
  // bytes beyond the callback (takes `buffer`, or copies `payload`) keeps
  // this too; it is released when the last copy of it goes.
  std::shared_ptr<const void> memory_charge;
};

// Decodes the frame at the start of `input`.
// - complete frame: fills `frame`, sets `*consumed` to its size, returns OK;
// - incomplete input: sets `*consumed` to 0 and returns OK (read more);
// - a payload over limits.max_message_bytes: once the header is in, fills
//   `frame` with `oversized_payload_bytes` set and consumes only the prefix
//   and header; nothing is allocated for the payload;
// - a header over limits.max_header_bytes: ResourceExhausted with both
//   numbers, as soon as the 8-byte prefix is in;
// - malformed (inconsistent lengths, header that does not parse): InvalidArgument.
absl::Status DecodeFrame(absl::string_view input, const FrameLimits& limits,
                         DecodedFrame* frame, size_t* consumed);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_FRAME_CODEC_H_
