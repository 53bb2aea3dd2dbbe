// ScriptedServer: a server made of appwire/transport/ parts whose answers a test
// scripts, for testing what the client does with replies the real server
// never sends. Real TLS (the project folder's certificate), real frames.
#ifndef APPWIRE_TESTS_SCRIPTED_SERVER_H_
#define APPWIRE_TESTS_SCRIPTED_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "appwire/client/channel.h"
#include "appwire/transport/connection.h"
#include "appwire/transport/tls_context.h"
#include "appwire/v1/frame.pb.h"
#include "tests/test_support.h"

namespace appwire::testing {

// A server made of appwire/transport/ parts whose answers the test scripts: real
// TLS, real frames, one script call per request, told which connection
// (1, 2, ...) it came on. A script answer with status_code -1 means "close
// as an idle server does when the request crosses its GoAway": a final
// GoAway that names an earlier call as the last one received; -2 means
// "no answer (yet)". A stream's half-close goes to the script too (its
// header has_half_close()), and the answer ends the call. The server knows
// nothing of deadlines: it never ends a call because one passed.
class ScriptedServer {
 public:
  using Script = std::function<v1::ResponseHeader(int connection, const v1::FrameHeader&,
                                                  std::string* payload)>;

  ScriptedServer(const TempDir& project, Script script);
  ~ScriptedServer();
  int port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return accepted_.load(); }
  // A channel that trusts this server (its certificate is in `project`).
  ChannelOptions ClientOptions(const TempDir& project) const;

 private:
  void Accept();

  Script script_;
  std::shared_ptr<const TlsContext> context_;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  asio::ip::tcp::acceptor acceptor_{io_};
  std::vector<std::shared_ptr<Connection>> connections_;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

}  // namespace appwire::testing

#endif  // APPWIRE_TESTS_SCRIPTED_SERVER_H_
