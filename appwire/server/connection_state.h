// ConnectionState: what the server remembers about one open connection
// beside the transport's Connection: whether its hello came, which call ids
// it used, its TLS session, and the calls that frames from the client may
// still refer to.
//
// Made by ConnectionRegistry::Serve, shared by the connection's callbacks,
// the registry's table (the idle and hello ticks, Drain) and dispatch (every
// call holds it until its handler returns). Each field says which threads
// touch it.
#ifndef APPWIRE_SERVER_CONNECTION_STATE_H_
#define APPWIRE_SERVER_CONNECTION_STATE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "absl/time/time.h"
#include "appwire/rpc/call_id_window.h"
#include "appwire/server/server_call.h"
#include "appwire/server/server_parameters.h"
#include "appwire/transport/tls_session_info.h"

namespace appwire {

struct ConnectionState {
  // Written on the I/O thread; read by the tick (also the I/O thread) and
  // by Drain.
  std::atomic<bool> hello_received{false};
  // When the TLS handshake finished: the hello is due kHelloTimeout later.
  absl::Time handshake_done = absl::InfiniteFuture();  // I/O thread only
  // Which call ids this connection used (I/O thread only).
  CallIdWindow call_ids;
  std::shared_ptr<const TlsSessionInfo> session;
  // The largest message the client accepts (its hello); 0 until known.
  size_t peer_max_message_bytes = 0;
  // The parameters this connection's requests read, refreshed when one
  // changed (ServerParameters::Refresh). I/O thread only.
  HeldParameters parameters;
  // Calls accepted and whose handler has not returned: a connection with
  // calls running is never idle, however long a handler takes.
  std::atomic<int> active_calls{0};

  std::mutex mu;
  // Calls that frames from the client may still refer to (cancel, stream
  // messages, window updates). Inline (kIoThread) calls are never here.
  std::unordered_map<uint64_t, std::shared_ptr<ServerCall>> calls;
  // A graceful GoAway went out (Drain): new calls are refused.
  bool draining = false;
  // The highest call id received when draining began: what every GoAway
  // of this connection says from then on.
  uint64_t drain_last_call_id = 0;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_CONNECTION_STATE_H_
