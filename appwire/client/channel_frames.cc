// Channel::Impl, what the server sends (appwire/client/internal/channel_impl.h):
// OnFrame dispatches each frame by kind to its handler; the protocol's
// rules come from appwire/rpc/ (hello check, status decoding, message limits).
#include "appwire/client/internal/channel_impl.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "appwire/client/internal/client_stream_state.h"
#include "appwire/rpc/hello.h"
#include "appwire/rpc/message_limits.h"
#include "appwire/rpc/response_status.h"
#include "appwire/transport/metadata_wire.h"

namespace appwire {

void Channel::Impl::OnFrame(const std::shared_ptr<Link>& link, DecodedFrame& frame) {
  const v1::FrameHeader& header = frame.header;
  switch (header.kind_case()) {
    case v1::FrameHeader::kResponse:
      OnResponse(link, frame);
      return;
    case v1::FrameHeader::kMessage:
    case v1::FrameHeader::kWindowUpdate:
      OnStreamFrame(frame);
      return;
    case v1::FrameHeader::kHello:
      OnHello(link, header.hello());
      return;
    case v1::FrameHeader::kGoAway:
      OnGoAway(link, header.go_away());
      return;
    default:
      link->connection->Close(absl::InvalidArgumentError(absl::StrCat(
          "protocol error: the server sent a frame of an unexpected kind (call id ",
          header.call_id(), ")")));
      return;
  }
}

void Channel::Impl::OnResponse(const std::shared_ptr<Link>& link, DecodedFrame& frame) {
  const uint64_t call_id = frame.header.call_id();
  const v1::ResponseHeader& response = frame.header.response();
  bool requeued = false;
  bool reconnect = false;
  Notes notes;
  {
    std::lock_guard<std::mutex> lock(mu);
    PendingCall* call = calls.Find(call_id);
    // Ended already, or sent again elsewhere (this link went away).
    if (call == nullptr || call->link != link->id) return;
    // Refused unstarted: the server is draining this connection (the
    // refusal may overtake its GoAway). Send the call again elsewhere,
    // once; otherwise it fails below with the server's status.
    if (response.not_processed()) {
      requeued = calls.Requeue(call_id);
      reconnect = LeaveLinkLocked(link, &notes);
    }
  }
  RunNotes(notes);
  if (reconnect) {
    StartConnect();
  } else if (requeued) {
    SendRequeued();
  }
  if (requeued) return;
  Metadata trailers = MetadataFromWire(response.trailers());
  if (frame.oversized_payload_bytes > 0) {
    Complete(call_id,
             ReplyTooLargeForClient(frame.oversized_payload_bytes, limits.max_message_bytes),
             std::move(trailers), true);
  } else if (response.status_code() == 0) {
    Complete(call_id, std::string(frame.payload), std::move(trailers), true);
  } else {
    Complete(call_id, StatusFromResponse(response), std::move(trailers), true);
  }
}

void Channel::Impl::OnStreamFrame(DecodedFrame& frame) {
  const v1::FrameHeader& header = frame.header;
  std::shared_ptr<ClientStreamState> stream;
  {
    std::lock_guard<std::mutex> lock(mu);
    PendingCall* call = calls.Find(header.call_id());
    if (call == nullptr) return;  // the call ended here already
    stream = call->stream;
  }
  if (stream == nullptr) return;
  if (header.has_window_update()) {
    stream->flow->AddCredit(header.window_update().bytes());
    return;
  }
  absl::Status delivered =
      frame.oversized_payload_bytes > 0
          ? StreamMessageTooLargeForClient(stream->method, frame.oversized_payload_bytes,
                                           limits.max_message_bytes)
          : stream->flow->Deliver(std::string(frame.payload));
  if (!delivered.ok()) Abandon(header.call_id(), delivered);
}

void Channel::Impl::OnHello(const std::shared_ptr<Link>& link, const v1::Hello& hello) {
  absl::Status accepted = CheckServerHello(hello);
  if (!accepted.ok()) {
    link->connection->Close(accepted);
    return;
  }
  // TLS 1.3 tickets come right after the handshake, before this frame.
  std::shared_ptr<void> session = link->connection->SavedSession();
  std::lock_guard<std::mutex> lock(mu);
  server_software = absl::StrCat(hello.software_name(), " ", hello.software_version());
  link->server_max_message_bytes = hello.max_message_bytes();
  if (link->stage == Link::Stage::kOpen) link->stage = Link::Stage::kGreeted;
  // Only a server that got as far as its hello resets the backoff: one
  // that closes right after the handshake must not be retried in a loop.
  backoff.Reset();
  if (session != nullptr) saved_session = std::move(session);
}

void Channel::Impl::OnGoAway(const std::shared_ptr<Link>& link, const v1::GoAway& go_away) {
  Notes notes;
  bool refused_before_hello = false;
  bool reconnect = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    // Refused before its hello (a protocol version or an ordering it does
    // not accept): like a failed attempt, it waits for the backoff. Only
    // the connection new calls use can fail the attempt that made it.
    refused_before_hello = current == link && link->stage != Link::Stage::kGreeted;
    link->going_away = true;
    // Calls the server never received are sent again on a new
    // connection (unary ones, once); the others end below.
    std::vector<uint64_t> unprocessed;
    if (go_away.has_last_call_id()) {
      unprocessed = calls.SentOnAfter(link->id, go_away.last_call_id());
    }
    for (uint64_t id : unprocessed) {
      if (calls.Requeue(id)) continue;
      // A stream the server never started: it ends now.
      PendingCall stream;
      if (calls.Take(id, &stream)) {
        FailLocked(std::move(stream), absl::UnavailableError(absl::StrCat(
                                          "the server did not process it (it is going away: ",
                                          go_away.status_message(), ")")));
      }
    }
    reconnect = LeaveLinkLocked(link, &notes) && !refused_before_hello;
  }
  RunEnded();
  RunNotes(notes);
  const absl::Status reason = StatusFromGoAway(go_away);
  if (!go_away.graceful()) {
    // Calls on this connection end now, with the server's reason.
    {
      std::lock_guard<std::mutex> lock(mu);
      FailLocked(calls.TakeSentOn(link->id), reason);
    }
    RunEnded();
  }
  if (refused_before_hello) {
    EnterTransientFailure(reason);
  } else if (reconnect) {
    StartConnect();
  } else {
    SendRequeued();  // calls requeued from an older connection
  }
}

}  // namespace appwire
