// CallTable: a channel's calls in flight. Each pending call is here from
// StartCall until it ends; the table also keeps the order of those waiting
// for a connection (the waiting list) and of their deadlines (the deadline
// queue, appwire/rpc/deadline_queue.h), reading the time from an injected Clock.
//
//   CallTable calls(Clock::Real());
//   if (calls.Add(id, std::move(call))) timer.WakeBy(deadline);   // earliest now
//   calls.Wait(id);                           // no connection yet
//   for (PendingCall* call : calls.TakeWaiting(now_ready_link)) Send(*call);
//   for (uint64_t id : calls.TakeExpired()) Abandon(id, ...);
//
// Not thread-safe: the channel's mutex guards it. The table owns the calls
// (and their completions); ending one is the channel's work: it takes the
// call out (Take, TakeSentOn, TakeAll) and runs its completion once the
// mutex is released.
#ifndef APPWIRE_CLIENT_CALL_TABLE_H_
#define APPWIRE_CLIENT_CALL_TABLE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "appwire/client/cancellation.h"
#include "appwire/common/clock.h"
#include "appwire/common/metadata.h"
#include "appwire/rpc/deadline_queue.h"
#include "appwire/v1/frame.pb.h"

namespace appwire {

struct ClientStreamState;

// One call, unary or streaming, from its start until it ends.
struct PendingCall {
  std::function<void(absl::StatusOr<std::string>)> done;  // unary
  std::shared_ptr<ClientStreamState> stream;              // streaming
  std::string method;
  absl::Time deadline = absl::InfiniteFuture();
  absl::Duration timeout = absl::InfiniteDuration();
  Metadata* trailers = nullptr;
  bool fail_fast = false;
  std::shared_ptr<CancellationToken> token;
  uint64_t token_registration = 0;
  uint64_t link = 0;  // 0: waiting for a connection
  bool sent = false;  // the request frame went out on `link`
  // The request frame: kept while waiting for a connection, and for unary
  // calls until they end, to send again when the server did not process
  // it (docs/protocol.md, section 10.6).
  v1::FrameHeader header;
  std::shared_ptr<const std::string> request;
  bool retried = false;  // sent again once already
};

class CallTable {
 public:
  // `clock` outlives the table.
  explicit CallTable(const Clock& clock) : clock_(clock) {}

  const Clock& clock() const { return clock_; }

  // Adds `call` under `call_id` (a new id), its deadline to the queue. True
  // when that deadline is now the earliest: the caller's timer must wake
  // by then.
  bool Add(uint64_t call_id, PendingCall call);
  // The call, or null when it ended (or never was).
  PendingCall* Find(uint64_t call_id);
  // Removes the call into *call (deadline included); false when it ended.
  bool Take(uint64_t call_id, PendingCall* call);
  // Removes and returns the calls sent on link `link_id` (not 0).
  std::vector<PendingCall> TakeSentOn(uint64_t link_id);
  // Removes and returns every call; the waiting list and deadlines empty.
  std::vector<PendingCall> TakeAll();
  // The calls sent on `link_id` with an id above `last_call_id`: those a
  // GoAway says the server never received.
  std::vector<uint64_t> SentOnAfter(uint64_t link_id, uint64_t last_call_id) const;

  // The waiting list: calls with no connection yet, in the order they came.
  // Puts `call_id` (pending, link 0) at its end.
  void Wait(uint64_t call_id) { waiting_.push_back(call_id); }
  bool has_waiting() const { return !waiting_.empty(); }
  // Empties the list and hands out its calls, assigned to `link_id`: the
  // caller sends them. The server gets the time left before the deadline,
  // not the original timeout, as the request's timeout.
  std::vector<PendingCall*> TakeWaiting(uint64_t link_id);
  // Removes and returns the fail-fast calls among the waiting ones; the
  // others keep waiting.
  std::vector<PendingCall> TakeFailFastWaiting();
  // A unary call the server did not process goes back on the waiting list,
  // once. False when it cannot be sent again (a stream, already retried,
  // ended).
  bool Requeue(uint64_t call_id);

  // The deadline queue. Removes the calls whose deadline has passed from
  // it (they stay in the table with an infinite deadline, for the caller
  // to abandon) and returns their ids, earliest first.
  std::vector<uint64_t> TakeExpired();
  // The earliest deadline left; InfiniteFuture when none.
  absl::Time NextDeadline() const { return deadlines_.Next(); }

  size_t size() const { return pending_.size(); }

 private:
  const Clock& clock_;
  std::unordered_map<uint64_t, PendingCall> pending_;
  std::vector<uint64_t> waiting_;
  DeadlineQueue<uint64_t> deadlines_;
};

}  // namespace appwire

#endif  // APPWIRE_CLIENT_CALL_TABLE_H_
