// DeadlineQueue: calls ordered by deadline, earliest first, as both ends
// keep them (the client to end calls that took too long, the server to
// cancel their handlers). The queue only orders; DeadlineTimer
// (appwire/rpc/deadline_timer.h) wakes its owner when the earliest is due.
//
//   DeadlineQueue<uint64_t> deadlines;            // keyed by call id
//   if (deadlines.Add(deadline, call_id)) timer.WakeBy(deadline);
//   ...
//   for (uint64_t id : deadlines.TakeDue(clock.Now())) Expire(id);
//
// A key may be any copyable type with ==; a std::weak_ptr key is compared
// by owner (SameKey below), so an expired one can still be removed.
// Not thread-safe: the owner's lock guards it.
#ifndef APPWIRE_RPC_DEADLINE_QUEUE_H_
#define APPWIRE_RPC_DEADLINE_QUEUE_H_

#include <cstddef>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace appwire {

template <typename Key>
bool SameKey(const Key& a, const Key& b) {
  return a == b;
}
template <typename T>
bool SameKey(const std::weak_ptr<T>& a, const std::weak_ptr<T>& b) {
  return !a.owner_before(b) && !b.owner_before(a);
}

template <typename Key>
class DeadlineQueue {
 public:
  // Records `key` as due at `deadline`. True when it is now the earliest
  // deadline: a timer armed for a later one must be brought forward. An
  // infinite deadline is not recorded (false).
  bool Add(absl::Time deadline, Key key) {
    if (deadline == absl::InfiniteFuture()) return false;
    const bool earliest = entries_.empty() || deadline < entries_.begin()->first;
    entries_.emplace(deadline, std::move(key));
    return earliest;
  }

  // Forgets `key` recorded at `deadline` (the call ended first). Unknown
  // keys are ignored.
  void Remove(absl::Time deadline, const Key& key) {
    if (deadline == absl::InfiniteFuture()) return;
    auto range = entries_.equal_range(deadline);
    for (auto it = range.first; it != range.second; ++it) {
      if (SameKey(it->second, key)) {
        entries_.erase(it);
        return;
      }
    }
  }

  // Removes and returns every key due at or before `now`, earliest first.
  std::vector<Key> TakeDue(absl::Time now) {
    std::vector<Key> due;
    while (!entries_.empty() && entries_.begin()->first <= now) {
      due.push_back(std::move(entries_.begin()->second));
      entries_.erase(entries_.begin());
    }
    return due;
  }

  // The earliest deadline; absl::InfiniteFuture() when empty.
  absl::Time Next() const {
    return entries_.empty() ? absl::InfiniteFuture() : entries_.begin()->first;
  }

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  void Clear() { entries_.clear(); }

 private:
  std::multimap<absl::Time, Key> entries_;
};

}  // namespace appwire

#endif  // APPWIRE_RPC_DEADLINE_QUEUE_H_
