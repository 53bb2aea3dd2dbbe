#include "appwire/transport/frames.h"

#include <string>

#include "appwire/common/utf8.h"

namespace appwire {

v1::FrameHeader GoAwayFrame(const absl::Status& status, bool graceful, uint64_t last_call_id) {
  v1::FrameHeader header;
  header.set_call_id(0);
  v1::GoAway* go_away = header.mutable_go_away();
  go_away->set_status_code(static_cast<int>(status.code()));
  // Valid UTF-8, or the peer cannot parse the header at all.
  go_away->set_status_message(ValidUtf8(status.message(), kMaxStatusMessageBytes));
  go_away->set_graceful(graceful);
  go_away->set_last_call_id(last_call_id);
  return header;
}

v1::FrameHeader CancelFrame(uint64_t call_id) {
  v1::FrameHeader header;
  header.set_call_id(call_id);
  header.mutable_cancel();
  return header;
}

v1::FrameHeader HalfCloseFrame(uint64_t call_id) {
  v1::FrameHeader header;
  header.set_call_id(call_id);
  header.mutable_half_close();
  return header;
}

v1::FrameHeader MessageFrame(uint64_t call_id) {
  v1::FrameHeader header;
  header.set_call_id(call_id);
  header.mutable_message();
  return header;
}

v1::FrameHeader WindowUpdateFrame(uint64_t call_id, uint64_t bytes) {
  v1::FrameHeader header;
  header.set_call_id(call_id);
  header.mutable_window_update()->set_bytes(bytes);
  return header;
}

v1::FrameHeader PingFrame(uint64_t opaque) {
  v1::FrameHeader header;
  header.set_call_id(0);
  header.mutable_ping()->set_opaque(opaque);
  return header;
}

v1::FrameHeader PingAckFrame(uint64_t opaque) {
  v1::FrameHeader header = PingFrame(opaque);
  header.mutable_ping()->set_ack(true);
  return header;
}

const char* FrameKindName(v1::FrameHeader::KindCase kind) {
  switch (kind) {
    case v1::FrameHeader::kHello: return "hello";
    case v1::FrameHeader::kRequest: return "request";
    case v1::FrameHeader::kResponse: return "response";
    case v1::FrameHeader::kGoAway: return "go_away";
    case v1::FrameHeader::kMessage: return "message";
    case v1::FrameHeader::kHalfClose: return "half_close";
    case v1::FrameHeader::kCancel: return "cancel";
    case v1::FrameHeader::kWindowUpdate: return "window_update";
    case v1::FrameHeader::kPing: return "ping";
    case v1::FrameHeader::KIND_NOT_SET: break;
  }
  return "empty";
}

}  // namespace appwire
