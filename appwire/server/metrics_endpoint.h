// MetricsEndpoint: the server's metrics as a Prometheus scrape target, on a
// plain HTTP port of its own (ServerOptions::metrics_port, bound to
// 127.0.0.1 unless metrics_bind says otherwise).
//
//   GET /metrics  ->  200, text/plain; version=0.0.4 (ServerMetrics::Exposition)
//   any other path -> 404; any other method -> 405; a request head over
//   8 KiB -> 431; one that takes over 5 s -> closed.
//
// HTTP/1.1 with "Connection: close": one request per connection, which is
// what Prometheus and curl do. At most 16 connections at a time; more are
// closed at once, so a flood of scrapes costs nothing (it never reaches the
// appwire port either). Runs on the server's I/O thread. Internal.
#ifndef APPWIRE_SERVER_METRICS_ENDPOINT_H_
#define APPWIRE_SERVER_METRICS_ENDPOINT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace asio {
class io_context;
}

namespace appwire {

class MetricsEndpoint {
 public:
  // The exposition text, made when a scrape asks (on the I/O thread).
  using Render = std::function<std::string()>;

  // Binds `bind`:`port` (0: any free port) and accepts on `io`. Errors
  // name the address and the fix, as the appwire port's do.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(asio::io_context& io,
                                                                const std::string& bind, int port,
                                                                Render render);
  ~MetricsEndpoint();  // Close()
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // The port it listens on.
  int port() const;
  // Stops accepting and closes the connections being served. On the I/O
  // thread, or once it has stopped.
  void Close();

  struct Impl;

 private:
  explicit MetricsEndpoint(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_METRICS_ENDPOINT_H_
