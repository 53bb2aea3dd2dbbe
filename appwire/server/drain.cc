// Server::Drain: graceful shutdown, in the order docs/protocol.md (10.1, 12)
// gives: stop accepting; a graceful GoAway with last_call_id on every
// connection (requests after it are refused as not processed); wait until
// no call runs, at most the timeout; cancel and answer the calls still
// running; a final GoAway with the same last_call_id, close_notify, close;
// abandon handlers that ignore their cancellation for 2 s.
#include "appwire/server/server.h"  // Server::Drain is declared there

#include <algorithm>
#include <chrono>
#include <future>
#include <string>
#include <vector>

#include <asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "appwire/common/log.h"
#include "appwire/server/internal/server_impl.h"
#include "appwire/transport/frames.h"

namespace appwire {

namespace {

constexpr char kShuttingDown[] = "the server is shutting down";

// Runs on the I/O thread everything posted before it, waiting up to `limit`.
void LetPostedWorkRun(asio::io_context& io, std::chrono::seconds limit) {
  std::promise<void> reached;
  std::future<void> done = reached.get_future();
  asio::post(io, [&reached] { reached.set_value(); });
  done.wait_for(limit);
}

}  // namespace

void Server::Drain(absl::Duration timeout) {
  Impl& s = *impl_;
  if (!s.started || !s.connections->BeginDrain()) return;
  s.tls->CancelDhGeneration();  // joined below; stops within milliseconds
  // AutoSSL first, while its challenge can still be answered: an issuance
  // under way is abandoned (within a tenth of a second) rather than failed
  // by the CA's validation against a closed port, which CAs count.
  if (s.acme != nullptr) s.acme->Stop();
  {
    // Closed on the I/O thread, and waited for: no connection accepted
    // after the snapshot below escapes the drain.
    std::promise<void> closed;
    asio::post(s.io, [&s, &closed] {
      std::error_code ignored;
      s.acceptor->close(ignored);
      if (s.metrics_endpoint != nullptr) s.metrics_endpoint->Close();
      if (s.acme_http_endpoint != nullptr) s.acme_http_endpoint->Close();
      closed.set_value();
    });
    closed.get_future().wait_for(std::chrono::seconds(5));
  }
  std::vector<ConnectionRegistry::Entry> open = s.connections->Open();
  // First the go-away: clients start no new calls here, and reconnect
  // (elsewhere, or here later) for their next ones.
  for (auto& entry : open) {
    uint64_t last_call_id;
    {
      // Together with the flag: a request received after this read sees the
      // flag and is refused as not processed, so ids above last_call_id
      // were never started.
      std::lock_guard<std::mutex> lock(entry.state->mu);
      entry.state->draining = true;
      last_call_id = entry.connection->highest_request_id();
      entry.state->drain_last_call_id = last_call_id;
    }
    entry.connection
        ->Send(GoAwayFrame(absl::UnavailableError(kShuttingDown), /*graceful=*/true, last_call_id),
               "")
        .IgnoreError();
  }
  const bool all_done = s.dispatcher->WaitForCalls(timeout);
  open = s.connections->Open();
  std::vector<std::string> stuck;  // methods whose handlers ignore their cancellation
  if (!all_done) {
    // Calls still running get their status now; what their handlers
    // return later is dropped.
    for (auto& entry : open) {
      std::vector<std::shared_ptr<ServerCall>> calls;
      {
        std::lock_guard<std::mutex> lock(entry.state->mu);
        for (auto& [id, call] : entry.state->calls) calls.push_back(call);
      }
      for (auto& call : calls) {
        s.dispatcher->CancelAndAnswer(
            call, absl::UnavailableError(absl::StrCat(
                      call->method, " was cancelled: the server shut down and the call was "
                      "still running after the drain timeout of ", absl::FormatDuration(timeout))));
      }
    }
    // Handlers that honour cancellation return now. One that does not
    // cannot hold the shutdown: after a short grace it is abandoned.
    if (!s.dispatcher->WaitForCalls(absl::Seconds(2))) {
      for (auto& entry : open) {
        std::lock_guard<std::mutex> calls_lock(entry.state->mu);
        for (auto& [id, call] : entry.state->calls) stuck.push_back(call->method);
      }
    }
  }
  for (auto& entry : open) {
    // The final GoAway names the same last call as the graceful one: calls
    // refused since then were not processed either, even if their refusal
    // never got out.
    uint64_t last_call_id;
    {
      std::lock_guard<std::mutex> lock(entry.state->mu);
      last_call_id = entry.state->drain_last_call_id;
    }
    entry.connection
        ->Send(GoAwayFrame(absl::UnavailableError(kShuttingDown), /*graceful=*/false, last_call_id),
               "")
        .IgnoreError();
    entry.connection->Close(absl::UnavailableError(kShuttingDown), /*send_go_away=*/false);
  }
  open.clear();
  // Give posted closes a moment to run, then stop the I/O thread: after
  // that nothing posts to the worker pool any more.
  s.work.reset();
  LetPostedWorkRun(s.io, std::chrono::seconds(1));
  std::vector<std::weak_ptr<MemoryStream>> memory_streams = s.connections->TakeMemoryStreams();
  if (!memory_streams.empty()) {
    for (auto& weak : memory_streams) {
      if (auto stream = weak.lock()) stream->Close();
    }
    // Their pending reads complete (as errors) on the I/O thread.
    LetPostedWorkRun(s.io, std::chrono::seconds(1));
  }
  s.io.stop();
  if (s.io_thread.joinable()) s.io_thread.join();
  s.tls->StopDhGeneration();
  // Handlers still running finish against closed connections (their
  // replies are dropped). Those abandoned above keep running in the
  // background: their tasks hold the server's state, so nothing they touch
  // goes away under them.
  const absl::Duration grace = stuck.empty() ? absl::Seconds(5) : absl::ZeroDuration();
  const int abandoned = s.dispatcher->ShutdownHandlers(grace);
  if (abandoned > 0 || !stuck.empty()) {
    LogWarning(absl::StrCat(
        "shutdown: ", std::max<size_t>(abandoned, stuck.size()),
        " handler(s) still running 2 s after their cancellation were abandoned (their results "
        "are dropped): ", absl::StrJoin(stuck, ", "),
        "; handlers should return when CallContext::cancelled() becomes true"));
  }
  s.connections->Clear();
}

}  // namespace appwire
