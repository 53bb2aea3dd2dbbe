#include "appwire/server/http_endpoint.h"

#include <chrono>
#include <set>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "appwire/server/internal/listener.h"

namespace appwire {
namespace {

constexpr size_t kMaxRequestHeadBytes = 8 * 1024;
constexpr size_t kMaxConnections = 16;
constexpr auto kRequestTimeout = std::chrono::seconds(5);

std::string Response(absl::string_view status, absl::string_view content_type,
                     absl::string_view body, absl::string_view extra_headers = "") {
  return absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\n", extra_headers,
                      "Connection: close\r\n\r\n", body);
}

// The answer to a request head (everything up to the blank line).
std::string Answer(absl::string_view head, const HttpEndpoint::Handler& handler) {
  const absl::string_view line = head.substr(0, head.find("\r\n"));
  const size_t first_space = line.find(' ');
  const size_t second_space = line.find(' ', first_space + 1);
  if (first_space == absl::string_view::npos || second_space == absl::string_view::npos ||
      !absl::StartsWith(line.substr(second_space + 1), "HTTP/1.")) {
    return Response("400 Bad Request", "text/plain; charset=utf-8",
                    "not an HTTP/1.x request line\n");
  }
  const absl::string_view method = line.substr(0, first_space);
  absl::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  target = target.substr(0, target.find('?'));  // Prometheus may add parameters
  if (method != "GET") {
    return Response("405 Method Not Allowed", "text/plain; charset=utf-8",
                    "only GET is served here\n", "Allow: GET\r\n");
  }
  const HttpReply reply = handler(std::string(target));
  return Response(reply.status, reply.content_type, reply.body);
}

}  // namespace

struct HttpEndpoint::Impl : std::enable_shared_from_this<HttpEndpoint::Impl> {
  struct Session {
    explicit Session(asio::ip::tcp::socket s, asio::io_context& io)
        : socket(std::move(s)), timer(io) {}
    asio::ip::tcp::socket socket;
    asio::steady_timer timer;
    std::string head;
    std::string reply;
    char buffer[1024];
  };

  Impl(asio::io_context& io, Handler handler) : io(io), acceptor(io), handler(std::move(handler)) {}

  void Accept() {
    auto self = shared_from_this();
    acceptor.async_accept([self](const std::error_code& error, asio::ip::tcp::socket socket) {
      if (error) {
        if (error == asio::error::operation_aborted || !self->acceptor.is_open()) return;
        self->Accept();  // a failed accept (descriptors) costs one try
        return;
      }
      if (self->sessions.size() >= kMaxConnections) {
        std::error_code ignored;
        socket.close(ignored);
      } else {
        auto session = std::make_shared<Session>(std::move(socket), self->io);
        self->sessions.insert(session);
        session->timer.expires_after(kRequestTimeout);
        session->timer.async_wait([self, session](const std::error_code& timer_error) {
          if (!timer_error) self->End(session);
        });
        self->Read(session);
      }
      self->Accept();
    });
  }

  void Read(const std::shared_ptr<Session>& session) {
    auto self = shared_from_this();
    session->socket.async_read_some(
        asio::buffer(session->buffer),
        [self, session](const std::error_code& error, size_t n) {
          if (error) {
            self->End(session);
            return;
          }
          session->head.append(session->buffer, n);
          const size_t end = session->head.find("\r\n\r\n");
          if (end == std::string::npos && session->head.size() <= kMaxRequestHeadBytes) {
            self->Read(session);
            return;
          }
          session->reply =
              end == std::string::npos || end > kMaxRequestHeadBytes
                  ? Response("431 Request Header Fields Too Large", "text/plain; charset=utf-8",
                             "the request head is over 8 KiB\n")
                  : Answer(absl::string_view(session->head).substr(0, end), self->handler);
          asio::async_write(session->socket, asio::buffer(session->reply),
                            [self, session](const std::error_code&, size_t) { self->End(session); });
        });
  }

  void End(const std::shared_ptr<Session>& session) {
    std::error_code ignored;
    session->timer.cancel();
    session->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    session->socket.close(ignored);
    sessions.erase(session);
  }

  void Close() {
    std::error_code ignored;
    acceptor.close(ignored);
    std::set<std::shared_ptr<Session>> open;
    open.swap(sessions);
    for (const std::shared_ptr<Session>& session : open) End(session);
  }

  asio::io_context& io;
  asio::ip::tcp::acceptor acceptor;
  const Handler handler;
  std::set<std::shared_ptr<Session>> sessions;  // I/O thread only
  int port = 0;
};

absl::StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(asio::io_context& io,
                                                                  const std::string& bind,
                                                                  int port,
                                                                  const std::string& purpose,
                                                                  Handler handler) {
  auto impl = std::make_shared<Impl>(io, std::move(handler));
  absl::Status listening = internal::Listen(impl->acceptor, bind, port, purpose);
  if (!listening.ok()) return listening;
  impl->port = impl->acceptor.local_endpoint().port();
  impl->Accept();
  return std::unique_ptr<HttpEndpoint>(new HttpEndpoint(std::move(impl)));
}

HttpEndpoint::HttpEndpoint(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpEndpoint::~HttpEndpoint() { Close(); }

int HttpEndpoint::port() const { return impl_->port; }

void HttpEndpoint::Close() { impl_->Close(); }

}  // namespace appwire
