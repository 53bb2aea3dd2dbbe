#include "appwire/server/server_call.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "appwire/server/call_context.h"
#include "appwire/transport/connection.h"

namespace appwire {

void ServerCall::Cancel(const absl::Status& reason) {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!cancel_reason.ok()) return;
    cancel_reason = reason.ok() ? absl::CancelledError("the call was cancelled") : reason;
    callbacks.swap(on_cancel);
  }
  if (stream != nullptr) stream->End(cancelled_with());
  for (auto& callback : callbacks) callback();
}

absl::Status ServerCall::cancelled_with() const {
  std::lock_guard<std::mutex> lock(mu);
  return cancel_reason;
}

size_t ServerCall::max_send_bytes() const {
  const size_t own = connection->limits().max_message_bytes;
  return peer_max_message_bytes != 0 ? std::min(own, peer_max_message_bytes) : own;
}

bool ServerCall::deadline_passed() const { return clock->Now() >= deadline; }

absl::Status ServerCall::DeadlineExceeded() const {
  return absl::DeadlineExceededError(
      absl::StrCat("the deadline of ", method, " passed on the server"));
}

bool ServerCall::cancelled() const {
  std::lock_guard<std::mutex> lock(mu);
  return !cancel_reason.ok();
}

CallContext::CallContext(std::shared_ptr<ServerCall> call) : call_(std::move(call)) {}

const std::string& CallContext::method() const { return call_->method; }
const TlsSessionInfo& CallContext::session() const { return *call_->session; }
const Metadata& CallContext::metadata() const { return call_->metadata; }
absl::Time CallContext::deadline() const { return call_->deadline; }
bool CallContext::deadline_passed() const { return call_->deadline_passed(); }

void CallContext::AddTrailer(std::string key, std::string value) {
  std::lock_guard<std::mutex> lock(call_->mu);
  call_->trailers.emplace(std::move(key), std::move(value));
}

bool CallContext::cancelled() const { return call_->cancelled() || deadline_passed(); }

absl::Status CallContext::cancel_reason() const {
  {
    std::lock_guard<std::mutex> lock(call_->mu);
    if (!call_->cancel_reason.ok()) return call_->cancel_reason;
  }
  if (deadline_passed()) return call_->DeadlineExceeded();
  return absl::OkStatus();
}

void CallContext::OnCancel(std::function<void()> callback) {
  {
    std::lock_guard<std::mutex> lock(call_->mu);
    if (call_->cancel_reason.ok()) {
      call_->on_cancel.push_back(std::move(callback));
      return;
    }
  }
  callback();
}

}  // namespace appwire
