// ConnectionRegistry: the server's open connections. It serves each new
// stream (a TlsStream accepted over TCP, or a MemoryStream from
// ServerTestingPeer) as a transport Connection with the server's limits and
// keepalive, keeps the table of open ones (for Drain and stats), and ticks:
// it closes connections whose hello never came (kHelloTimeout), that stopped
// reading their replies (kWriteStallTimeout) or that stayed idle
// (kIdleConnectionsTimeout), and sends keepalive pings.
//
// Frames go to the handler given at construction (dispatch).
//
// Owned by Server::Impl; its callbacks and timer run on the server's I/O
// thread. Threads: Serve and StartTicks on the I/O thread; the rest is
// thread-safe.
#ifndef APPWIRE_SERVER_CONNECTION_REGISTRY_H_
#define APPWIRE_SERVER_CONNECTION_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "appwire/common/clock.h"
#include "appwire/server/connection_state.h"
#include "appwire/server/server_metrics.h"
#include "appwire/server/server_parameters.h"
#include "appwire/transport/byte_stream.h"
#include "appwire/transport/connection.h"
#include "appwire/transport/frame_codec.h"
#include "appwire/transport/memory_stream.h"
#include "appwire/transport/receive_budget.h"

namespace asio {
class io_context;
}

namespace appwire {

class ConnectionRegistry {
 public:
  // Called on the I/O thread for every frame of a connection whose TLS
  // handshake is done.
  using FrameHandler =
      std::function<void(const std::shared_ptr<Connection>& connection,
                         const std::shared_ptr<ConnectionState>& state, DecodedFrame& frame)>;

  // The tick runs on `io` and reads the time on `clock` (Clock::Real() but
  // in tests); both outlive the registry.
  ConnectionRegistry(asio::io_context& io, const Clock& clock,
                     std::shared_ptr<ServerParameters> parameters, FrameHandler on_frame);
  ~ConnectionRegistry();
  ConnectionRegistry(const ConnectionRegistry&) = delete;
  ConnectionRegistry& operator=(const ConnectionRegistry&) = delete;

  // Serves one connection over `stream`: handshake, Hello, dispatch. A
  // connection served after BeginDrain serves no call. I/O thread.
  void Serve(std::shared_ptr<ByteStream> stream, const FrameLimits& limits);
  // Ticks from now on (first on the I/O thread, at once).
  void StartTicks();

  // From now on new connections are refused calls (they are draining as
  // they open). False when a drain began already.
  bool BeginDrain();
  bool draining() const;

  struct Entry {
    std::shared_ptr<Connection> connection;
    std::shared_ptr<ConnectionState> state;
  };
  // The connections open now.
  std::vector<Entry> Open() const;
  // Forgets every connection (the end of Drain).
  void Clear();

  // The server's ends of in-memory connections (ServerTestingPeer): Drain
  // closes them before the I/O thread stops, so that none keeps a read
  // pending on a stopped io_context. False (nothing kept) once draining.
  bool AddMemoryStream(const std::shared_ptr<MemoryStream>& stream);
  std::vector<std::weak_ptr<MemoryStream>> TakeMemoryStreams();

  uint64_t connections_accepted() const;
  uint64_t handshakes_failed() const;
  // Connections that were health checks or scans, not clients: closed
  // before sending a byte, or a TLS handshake without ALPN appwire/1.
  // Counted, not in handshakes_failed, and only the first of each kind is
  // logged.
  uint64_t probes() const;
  // Payload bytes of the frames received and sent, over every connection,
  // open and closed.
  struct MessageBytes {
    uint64_t received = 0;
    uint64_t sent = 0;
  };
  MessageBytes message_bytes() const;
  // Where handshake failures are counted by reason (the server's metrics).
  // Before Serve; nullptr: nowhere.
  void SetMetrics(std::shared_ptr<ServerMetrics> metrics) { metrics_ = std::move(metrics); }
  int open_connections() const;

 private:
  void Tick();

  asio::io_context& io_;
  const Clock& clock_;
  const std::shared_ptr<ServerParameters> parameters_;
  const FrameHandler on_frame_;
  // Memory for frames being received, all connections together
  // (kMaxReceiveMemory).
  const std::shared_ptr<ReceiveBudget> receive_budget_ = std::make_shared<ReceiveBudget>(256u << 20);

  mutable std::mutex mu_;
  std::unordered_map<Connection*, Entry> connections_;  // guarded by mu_
  std::vector<std::weak_ptr<MemoryStream>> memory_streams_;  // guarded by mu_
  bool draining_ = false;  // guarded by mu_
  uint64_t connections_accepted_ = 0;  // guarded by mu_
  uint64_t handshakes_failed_ = 0;  // guarded by mu_
  uint64_t probes_ = 0;  // guarded by mu_
  MessageBytes closed_bytes_;  // of the connections that closed; guarded by mu_
  std::shared_ptr<ServerMetrics> metrics_;
  bool logged_closed_before_hello_ = false;  // guarded by mu_
  bool logged_no_application_protocol_ = false;  // guarded by mu_

  HeldParameters tick_parameters_;  // the tick's (I/O thread)
  struct Timer;  // the tick's timer (I/O thread); opaque to keep Asio out
  std::unique_ptr<Timer> timer_;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_CONNECTION_REGISTRY_H_
