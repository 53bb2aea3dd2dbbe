#include "appwire/server/server_stream.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "appwire/server/server_call.h"
#include "appwire/transport/connection.h"
#include "appwire/transport/frames.h"
#include "appwire/v1/frame.pb.h"

namespace appwire {

ServerStream::ServerStream(std::shared_ptr<ServerCall> call) : call_(std::move(call)) {}

bool ServerStream::Read(std::string* message) {
  uint64_t credit = 0;
  absl::StatusOr<bool> read = call_->stream->Read(message, &credit);
  if (credit > 0) {
    call_->connection->Send(WindowUpdateFrame(call_->id, credit), "").IgnoreError();
  }
  return read.ok() && *read;
}

bool ServerStream::Write(absl::string_view message) {
  const size_t limit = call_->max_send_bytes();
  if (message.size() > limit) {
    call_->Cancel(absl::ResourceExhaustedError(absl::StrCat(
        call_->method, ": the server's message of ", message.size(),
        " bytes exceeds the limit of ", limit, " bytes (kMaxMessageSize)")));
    return false;
  }
  // A client that stopped reading its connection holds this writer here,
  // not in an ever-growing send queue (kMaxWriteQueue).
  if (!call_->connection->WaitForRoom(call_->deadline).ok()) return false;
  if (!call_->stream->AcquireCredit(message.size()).ok()) return false;
  // Answered meanwhile (a cancel, the deadline, a refused message from the
  // client, on the I/O thread): the response is out or on its way, and a
  // message must not follow it. Checked and sent under the lock Claim()
  // takes, so the two cannot interleave.
  std::lock_guard<std::mutex> lock(call_->send_mu);
  if (call_->answered.load(std::memory_order_acquire)) return false;
  if (!call_->connection->Send(MessageFrame(call_->id), message).ok()) return false;
  call_->bytes_out.fetch_add(message.size(), std::memory_order_relaxed);
  return true;
}

}  // namespace appwire
