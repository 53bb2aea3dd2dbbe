// HttpEndpoint: a plain HTTP port of the server's own, for GET requests a
// handler answers by path: the metrics as a Prometheus scrape target
// (ServerOptions::metrics_port, bound to 127.0.0.1 unless metrics_bind says
// otherwise) and the ACME HTTP-01 challenges (AcmeOptions::http_port).
//
//   GET PATH  ->  what the handler says (200 with a body, or 404)
//   any other method -> 405; a request head over 8 KiB -> 431; one that
//   takes over 5 s -> closed.
//
// HTTP/1.1 with "Connection: close": one request per connection, which is
// what Prometheus, curl and ACME validators do. At most 16 connections at a
// time; more are closed at once, so a flood costs nothing (it never reaches
// the appwire port either). Runs on the server's I/O thread. Internal.
#ifndef APPWIRE_SERVER_HTTP_ENDPOINT_H_
#define APPWIRE_SERVER_HTTP_ENDPOINT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace asio {
class io_context;
}

namespace appwire {

// What a GET is answered with.
struct HttpReply {
  std::string status = "404 Not Found";  // "200 OK"
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpEndpoint {
 public:
  // The reply to GET `path` (the request target without its query), made
  // on the I/O thread.
  using Handler = std::function<HttpReply(const std::string& path)>;

  // Binds `bind`:`port` (0: any free port) and accepts on `io`. Errors
  // name the address and the fix, as the appwire port's do; `purpose`
  // words the log and errors ("listening for metrics scrapes").
  static absl::StatusOr<std::unique_ptr<HttpEndpoint>> Start(asio::io_context& io,
                                                             const std::string& bind, int port,
                                                             const std::string& purpose,
                                                             Handler handler);
  ~HttpEndpoint();  // Close()
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // The port it listens on.
  int port() const;
  // Stops accepting and closes the connections being served. On the I/O
  // thread, or once it has stopped.
  void Close();

  struct Impl;

 private:
  explicit HttpEndpoint(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_HTTP_ENDPOINT_H_
