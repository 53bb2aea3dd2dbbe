// CancellationToken: cancels calls from another thread, e.g. a UI's Cancel
// button while a worker thread waits in a blocking call.
//
//   auto token = CancellationToken::Create();
//   CallOptions options;
//   options.cancellation = token;
//   std::thread worker([&] { auto reply = stub.List(request, options); ... });
//   ...
//   token->Cancel();  // the call returns kCancelled at once; the server's
//                     // handler sees CallContext::cancelled()
//
// One token may serve many calls; cancelling it cancels all of them, and
// calls started with an already cancelled token fail at once. Thread-safe.
#ifndef APPWIRE_CLIENT_CANCELLATION_H_
#define APPWIRE_CLIENT_CANCELLATION_H_

#include "appwire/common/export.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace appwire {

class APPWIRE_EXPORT CancellationToken {
 public:
  static std::shared_ptr<CancellationToken> Create() {
    return std::shared_ptr<CancellationToken>(new CancellationToken());
  }

  void Cancel() {
    std::map<uint64_t, std::function<void()>> callbacks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cancelled_) return;
      cancelled_ = true;
      callbacks.swap(callbacks_);
    }
    for (auto& [id, callback] : callbacks) callback();
  }

  bool cancelled() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }

  // For the channel: runs `callback` on Cancel(). Returns 0, running
  // nothing, when the token is already cancelled.
  uint64_t Register(std::function<void()> callback) {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return 0;
    callbacks_.emplace(++next_id_, std::move(callback));
    return next_id_;
  }
  void Unregister(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    callbacks_.erase(id);
  }

 private:
  CancellationToken() = default;
  mutable std::mutex mu_;
  bool cancelled_ = false;
  uint64_t next_id_ = 0;
  std::map<uint64_t, std::function<void()>> callbacks_;
};

}  // namespace appwire

#endif  // APPWIRE_CLIENT_CANCELLATION_H_
