// ClientStreamState: what a ClientStream (appwire/client/client_stream.h) shares
// with its channel. The channel's call table holds it while the call is
// pending and ends it (End) with the call's status; the app's ClientStream
// holds it for as long as the app keeps the stream, possibly after the
// channel is gone. Internal to appwire/client/.
//
// Threads: `mu` guards connection, finished, status, response and trailers;
// `flow` (appwire/rpc/call_stream.h) is thread-safe; the other fields are set
// before the call starts and read-only afterwards, except max_message_bytes,
// which the channel sets under its own mutex before the request goes out.
#ifndef APPWIRE_CLIENT_INTERNAL_CLIENT_STREAM_STATE_H_
#define APPWIRE_CLIENT_INTERNAL_CLIENT_STREAM_STATE_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "appwire/client/channel.h"
#include "appwire/common/metadata.h"
#include "appwire/common/method_kind.h"
#include "appwire/rpc/call_stream.h"
#include "appwire/transport/connection.h"

namespace appwire {

struct ClientStreamState {
  // Weak: a stream the app keeps must not keep the channel. Gone, the
  // channel ended the call first (~Channel closes every call).
  std::weak_ptr<Channel::Impl> channel;
  uint64_t call_id = 0;
  std::string method;
  MethodKind kind = MethodKind::kUnary;
  std::unique_ptr<CallStream> flow;
  size_t max_message_bytes = 0;

  std::mutex mu;
  std::condition_variable changed;
  // Once the request went out, until the call ends: a connection must not
  // outlive its channel's I/O context, so whoever uses it holds `channel`.
  std::shared_ptr<Connection> connection;
  std::atomic<bool> writes_done{false};
  bool finished = false;  // the call's status is known
  absl::Status status;
  std::string response;
  Metadata trailers;

  // The call ended: with the server's status (messages already queued can
  // still be read) or locally (deadline, cancel, lost connection).
  void End(absl::Status final_status, std::string reply, Metadata final_trailers,
           bool from_server);
  // The request went out on `on`: writes may start. Ended meanwhile, the
  // stream must not keep the connection.
  void Started(const std::shared_ptr<Connection>& on);
};

}  // namespace appwire

#endif  // APPWIRE_CLIENT_INTERNAL_CLIENT_STREAM_STATE_H_
