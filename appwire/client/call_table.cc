#include "appwire/client/call_table.h"

#include <utility>

#include "appwire/rpc/timeouts.h"

namespace appwire {

bool CallTable::Add(uint64_t call_id, PendingCall call) {
  const absl::Time deadline = call.deadline;
  pending_.emplace(call_id, std::move(call));
  return deadlines_.Add(deadline, call_id);
}

PendingCall* CallTable::Find(uint64_t call_id) {
  auto it = pending_.find(call_id);
  return it == pending_.end() ? nullptr : &it->second;
}

bool CallTable::Take(uint64_t call_id, PendingCall* call) {
  auto it = pending_.find(call_id);
  if (it == pending_.end()) return false;
  *call = std::move(it->second);
  deadlines_.Remove(call->deadline, call_id);
  pending_.erase(it);
  return true;
}

std::vector<PendingCall> CallTable::TakeSentOn(uint64_t link_id) {
  std::vector<PendingCall> taken;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.link == link_id) {
      deadlines_.Remove(it->second.deadline, it->first);
      taken.push_back(std::move(it->second));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  return taken;
}

std::vector<PendingCall> CallTable::TakeAll() {
  std::vector<PendingCall> taken;
  taken.reserve(pending_.size());
  for (auto& [id, call] : pending_) taken.push_back(std::move(call));
  pending_.clear();
  waiting_.clear();
  deadlines_.Clear();
  return taken;
}

std::vector<uint64_t> CallTable::SentOnAfter(uint64_t link_id, uint64_t last_call_id) const {
  std::vector<uint64_t> ids;
  for (const auto& [id, call] : pending_) {
    if (call.link == link_id && id > last_call_id) ids.push_back(id);
  }
  return ids;
}

std::vector<PendingCall*> CallTable::TakeWaiting(uint64_t link_id) {
  std::vector<PendingCall*> taken;
  const absl::Time now = clock_.Now();
  for (uint64_t id : waiting_) {
    PendingCall* call = Find(id);
    // Ended meanwhile, or listed twice (requeued before it was sent).
    if (call == nullptr || call->link != 0) continue;
    call->link = link_id;
    if (call->deadline != absl::InfiniteFuture()) {
      call->header.mutable_request()->set_timeout_micros(
          TimeoutMicrosOnWire(call->deadline - now));
    }
    taken.push_back(call);
  }
  waiting_.clear();
  return taken;
}

std::vector<PendingCall> CallTable::TakeFailFastWaiting() {
  std::vector<PendingCall> failed;
  std::vector<uint64_t> still_waiting;
  for (uint64_t id : waiting_) {
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    if (it->second.fail_fast) {
      deadlines_.Remove(it->second.deadline, id);
      failed.push_back(std::move(it->second));
      pending_.erase(it);
    } else {
      still_waiting.push_back(id);
    }
  }
  waiting_.swap(still_waiting);
  return failed;
}

bool CallTable::Requeue(uint64_t call_id) {
  PendingCall* call = Find(call_id);
  if (call == nullptr) return false;
  if (call->stream != nullptr || call->retried || call->request == nullptr) return false;
  call->retried = true;
  call->link = 0;
  call->sent = false;
  waiting_.push_back(call_id);
  return true;
}

std::vector<uint64_t> CallTable::TakeExpired() {
  std::vector<uint64_t> expired;
  for (uint64_t id : deadlines_.TakeDue(clock_.Now())) {
    PendingCall* call = Find(id);
    if (call == nullptr) continue;
    call->deadline = absl::InfiniteFuture();  // already out of the queue
    expired.push_back(id);
  }
  return expired;
}

}  // namespace appwire
