// The frames of docs/protocol.md, built in one place for both ends (and for
// Connection, which sends GoAway and ping frames itself), and the names the
// protocol's error messages give them.
//
//   connection->Send(CancelFrame(call_id), "");
//   connection->Send(GoAwayFrame(absl::UnavailableError("the server is shutting down"),
//                                /*graceful=*/true, last_call_id), "");
//
// Only the header is built; payloads are the caller's. Pure functions.
#ifndef APPWIRE_TRANSPORT_FRAMES_H_
#define APPWIRE_TRANSPORT_FRAMES_H_

#include <cstdint>

#include "absl/status/status.h"
#include "appwire/transport/frame_codec.h"
#include "appwire/v1/frame.pb.h"

namespace appwire {

// The longest status message a frame carries (responses and GoAways): a
// runaway message must not break the frame header limit.
inline constexpr size_t kMaxStatusMessageBytes = 4096;

// A GoAway on call id 0 with `status`'s code and message (cut to valid
// UTF-8 of at most kMaxStatusMessageBytes, appwire/common/utf8.h). `last_call_id`:
// the highest request id the sender received; requests above it were not
// processed and may be sent again elsewhere (docs/protocol.md, section 10).
v1::FrameHeader GoAwayFrame(const absl::Status& status, bool graceful, uint64_t last_call_id);

// The per-call control frames a client or server sends for `call_id`.
v1::FrameHeader CancelFrame(uint64_t call_id);
v1::FrameHeader HalfCloseFrame(uint64_t call_id);
v1::FrameHeader MessageFrame(uint64_t call_id);
v1::FrameHeader WindowUpdateFrame(uint64_t call_id, uint64_t bytes);

// Keepalive: a ping carrying `opaque`, and its acknowledgement.
v1::FrameHeader PingFrame(uint64_t opaque);
v1::FrameHeader PingAckFrame(uint64_t opaque);

// The name docs/protocol.md gives each frame kind ("go_away",
// "window_update", ...; "empty" for a header with no kind).
const char* FrameKindName(v1::FrameHeader::KindCase kind);

// The payload's size, read or skipped (over the limit, it is not read).
inline uint64_t PayloadBytes(const DecodedFrame& frame) {
  return frame.payload.size() + frame.oversized_payload_bytes;
}

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_FRAMES_H_
