// ServerTestingPeer: for the session fuzzer and tests only. Serves a
// connection over an in-memory stream pair (appwire/transport/memory_stream.h)
// exactly as a connection accepted over TCP once its TLS handshake is done:
// the same Hello rule, dispatch, limits, handlers, keepalive and Hello
// timers, and the same Drain; only TLS is left out.
#ifndef APPWIRE_SERVER_INTERNAL_TESTING_PEER_H_
#define APPWIRE_SERVER_INTERNAL_TESTING_PEER_H_

#include <memory>
#include <string>

#include <asio/io_context.hpp>

#include "appwire/server/server.h"
#include "appwire/transport/byte_stream.h"
#include "appwire/transport/memory_stream.h"

namespace appwire {

class ServerTestingPeer {
 public:
  // A new connection to `server` (started): returns the client's end, whose
  // completions run on `client_io`. `client_name` is the client's address
  // in the server's logs and messages ("memory:1").
  static std::shared_ptr<ByteStream> ConnectInMemory(Server& server, asio::io_context& client_io,
                                                     const std::string& client_name);
  // The in-memory pair ConnectInMemory serves, for tests that serve its
  // second end themselves: its session info says "no TLS" (version "none
  // (in memory)", ALPN appwire/1); the server end's peer is `client_name`.
  static MemoryStream::Pair CreateInMemoryPair(asio::io_context& client_io,
                                               asio::io_context& server_io,
                                               const std::string& client_name);
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_INTERNAL_TESTING_PEER_H_
