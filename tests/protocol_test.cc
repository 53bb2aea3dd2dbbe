// The wire protocol seen from a hand-made client built on appwire/transport/ alone:
// what a server does with a hello of another version, a request before the
// hello, a request with an even call id, an oversized request, a ping, a
// drain. And from a hand-made server: what the Channel does with a call the
// server says it did not process.
#include <future>
#include <thread>

#include <asio/connect.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "absl/strings/str_cat.h"
#include "appwire/client/channel.h"
#include "appwire/client/client_stream.h"
#include "appwire/common/files.h"
#include "appwire/common/version.h"
#include "appwire/transport/certificate_store.h"
#include "appwire/transport/connection.h"
#include "appwire/transport/tls_context.h"
#include "appwire/transport/tls_stream.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/scripted_server.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::ScriptedServer;
using ::appwire::testing::StartServer;
using ::appwire::testing::StartServerIn;
using ::appwire::testing::TempDir;
using ::testing::HasSubstr;

// A raw appwire connection: real TLS, frames chosen by the test.
class RawClient {
 public:
  RawClient(const Server& server, const std::string& ca_file) {
    TlsOptions tls;
    tls.role = TlsRole::kClient;
    tls.trusted_ca_pem = *ReadFile(ca_file);
    auto context = TlsContext::Create(tls);
    EXPECT_TRUE(context.ok()) << context.status();
    asio::ip::tcp::socket socket(io_);
    socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                           static_cast<unsigned short>(server.port())));
    auto stream = TlsStream::Create(std::move(socket), *context, "localhost");
    EXPECT_TRUE(stream.ok()) << stream.status();
    Connection::Callbacks callbacks;
    callbacks.on_handshake = [this](const std::shared_ptr<Connection>&, const absl::Status& s) {
      handshake_.set_value(s);
    };
    callbacks.on_frame = [this](const std::shared_ptr<Connection>&, DecodedFrame& frame) {
      std::lock_guard<std::mutex> lock(mu_);
      frames_.push_back(frame.header);
    };
    callbacks.on_closed = [this](const std::shared_ptr<Connection>&, const absl::Status& s) {
      closed_.set_value(s);
    };
    connection_ = Connection::Create(*stream, FrameLimits(), std::move(callbacks));
    work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
    connection_->Start();
    absl::Status handshake = handshake_.get_future().get();
    EXPECT_TRUE(handshake.ok()) << handshake;
  }

  ~RawClient() {
    connection_->Close(absl::CancelledError("test done"));
    work_.reset();
    io_.stop();
    thread_.join();
  }

  void SendHello(uint32_t version) {
    v1::FrameHeader header;
    header.mutable_hello()->set_protocol_version(version);
    header.mutable_hello()->set_software_name("raw-test-client");
    ASSERT_TRUE(connection_->Send(header, "").ok());
  }

  void SendRequest(uint64_t call_id, const std::string& method) {
    v1::FrameHeader header;
    header.set_call_id(call_id);
    header.mutable_request()->set_method(method);
    ASSERT_TRUE(connection_->Send(header, "").ok());
  }

  const std::shared_ptr<Connection>& connection() const { return connection_; }

  void SendFrame(const v1::FrameHeader& header, const std::string& payload) {
    ASSERT_TRUE(connection_->Send(header, payload).ok());
  }

  // Bounded wait for `count` frames.
  std::vector<v1::FrameHeader> WaitForFrames(size_t count) {
    for (int i = 0; i < 2500 && frames().size() < count; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return frames();
  }

  // The reason the server closed the connection (bounded wait).
  absl::Status WaitClosed() {
    auto future = closed_.get_future();
    if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      return absl::DeadlineExceededError("the server did not close the connection");
    }
    return future.get();
  }

  std::vector<v1::FrameHeader> frames() {
    std::lock_guard<std::mutex> lock(mu_);
    return frames_;
  }

 private:
  asio::io_context io_{1};
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::shared_ptr<Connection> connection_;
  std::promise<absl::Status> handshake_;
  std::promise<absl::Status> closed_;
  std::mutex mu_;
  std::vector<v1::FrameHeader> frames_;
};

class ProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartServerIn(project_);
    ASSERT_NE(server_, nullptr);
  }
  TempDir project_;
  std::unique_ptr<Server> server_;
};

TEST_F(ProtocolTest, HelloIsAnsweredWithTheServersHello) {
  RawClient client(*server_, project_.File("cert.pem"));
  client.SendHello(1);
  client.SendRequest(1, "appwire.v1.Health/Check");
  for (int i = 0; i < 500 && client.frames().size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::vector<v1::FrameHeader> frames = client.frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].call_id(), 0u);
  EXPECT_EQ(frames[0].hello().protocol_version(), 1u);
  EXPECT_EQ(frames[0].hello().software_name(), "appwire-server");
  EXPECT_EQ(frames[1].call_id(), 1u);
  EXPECT_EQ(frames[1].response().status_code(), 0);
}

TEST_F(ProtocolTest, ProtobufsOwnComplaintsGoThroughAppwiresLog) {
  appwire::testing::LogCapture log;
  RawClient client(*server_, project_.File("cert.pem"));
  client.SendHello(1);
  // proto3 strings must be UTF-8: the server's parse of this header fails,
  // and protobuf says why in its own words.
  client.SendRequest(1, std::string("appwire.v1.Health/\xff\xfe"));
  client.WaitClosed().IgnoreError();
  std::vector<v1::FrameHeader> frames = client.WaitForFrames(2);  // hello, GoAway
  ASSERT_EQ(frames.size(), 2u);
  ASSERT_TRUE(frames[1].has_go_away());
  EXPECT_EQ(frames[1].go_away().status_code(), 3);
  EXPECT_THAT(frames[1].go_away().status_message(), HasSubstr("malformed frame"));
  EXPECT_TRUE(log.WaitFor("protobuf: ")) << log.All();
  EXPECT_TRUE(log.Contains("UTF-8")) << log.All();
}

TEST_F(ProtocolTest, AnotherProtocolVersionGetsAGoAwayNamingBothVersions) {
  RawClient client(*server_, project_.File("cert.pem"));
  client.SendHello(2);
  absl::Status closed = client.WaitClosed();
  std::vector<v1::FrameHeader> frames = client.frames();
  ASSERT_EQ(frames.size(), 1u) << closed;
  ASSERT_TRUE(frames[0].has_go_away());
  EXPECT_EQ(frames[0].go_away().status_code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(frames[0].go_away().status_message(),
            absl::StrCat("the client speaks appwire protocol version 2 (raw-test-client); this "
                         "server (appwire-server ",
                         kSoftwareVersion,
                         ") speaks version 1; use a client and server of the same protocol "
                         "version"));
}

TEST_F(ProtocolTest, RequestBeforeHelloIsAProtocolError) {
  RawClient client(*server_, project_.File("cert.pem"));
  client.SendRequest(1, "appwire.v1.Health/Check");
  client.WaitClosed().IgnoreError();
  std::vector<v1::FrameHeader> frames = client.frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].go_away().status_message(),
            "protocol error: the first frame on a connection must be a hello with call id 0 "
            "(docs/protocol.md)");
}

TEST_F(ProtocolTest, EvenCallIdIsAProtocolError) {
  RawClient client(*server_, project_.File("cert.pem"));
  client.SendHello(1);
  client.SendRequest(2, "appwire.v1.Health/Check");
  client.WaitClosed().IgnoreError();
  std::vector<v1::FrameHeader> frames = client.frames();
  ASSERT_EQ(frames.size(), 2u);  // the hello, then the GoAway
  EXPECT_EQ(frames[1].go_away().status_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(frames[1].go_away().status_message(),
            "protocol error: request with call id 2; clients use odd call ids "
            "(docs/protocol.md)");
}

TEST_F(ProtocolTest, HelloStatesTheLargestMessageTheServerAccepts) {
  RawClient client(*server_, project_.File("cert.pem"));
  client.SendHello(1);
  std::vector<v1::FrameHeader> frames = client.WaitForFrames(1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].hello().max_message_bytes(), 16u << 20);
}

TEST_F(ProtocolTest, TheServerAnswersKeepalivePings) {
  RawClient client(*server_, project_.File("cert.pem"));
  client.SendHello(1);
  ASSERT_EQ(client.WaitForFrames(1).size(), 1u);
  // The client pings after 10 ms of silence and gives up after 300 ms
  // without an answer; over a second the server must answer every ping.
  client.connection()->SetKeepalive(absl::Milliseconds(10), absl::Milliseconds(300));
  for (int i = 0; i < 200; ++i) {
    client.connection()->CheckKeepalive();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(client.connection()->state(), Connection::State::kOpen);
  // Pings are not activity: they do not keep an idle connection busy.
  EXPECT_GE(client.connection()->idle_for(), absl::Milliseconds(900));
}

TEST(ServerLimitsProtocolTest, OversizedRequestIsSkippedAndTheNextOneOnTheConnectionServed) {
  TempDir project;
  ServerOptions options;
  options.project_dir = project.path();
  ASSERT_TRUE(options.parameters.Set(Parameter::kMaxMessageSize, 1024).ok());
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  RawClient client(*server, project.File("cert.pem"));
  client.SendHello(1);
  v1::FrameHeader request;
  request.set_call_id(1);
  request.mutable_request()->set_method("appwire.v1.Echo/Echo");
  client.SendFrame(request, std::string(300000, 'x'));  // arrives in many TLS records
  client.SendRequest(3, "appwire.v1.Health/Check");
  std::vector<v1::FrameHeader> frames = client.WaitForFrames(3);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[1].call_id(), 1u);
  EXPECT_EQ(frames[1].response().status_code(),
            static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(frames[1].response().status_message(),
            "appwire.v1.Echo/Echo: message of 300000 bytes exceeds the server's limit of 1024 "
            "bytes (kMaxMessageSize)");
  EXPECT_EQ(frames[2].call_id(), 3u);
  EXPECT_EQ(frames[2].response().status_code(), 0);
}

TEST(DrainProtocolTest, GoAwayNamesTheLastCallAndLaterRequestsAreRefusedAsNotProcessed) {
  TempDir project;
  auto registry = std::make_shared<ServiceRegistry>();
  std::promise<void> started;
  ASSERT_TRUE(registry
                  ->RegisterRaw("test.Slow/Hold",
                                [&started](CallContext& context,
                                           absl::string_view) -> absl::StatusOr<std::string> {
                                  started.set_value();
                                  while (!context.cancelled()) {
                                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                                  }
                                  return std::string("late");
                                })
                  .ok());
  auto server = StartServerIn(project, registry);
  ASSERT_NE(server, nullptr);
  RawClient client(*server, project.File("cert.pem"));
  client.SendHello(1);
  client.SendRequest(5, "test.Slow/Hold");
  started.get_future().wait();
  std::thread drain([&] { server->Drain(absl::Milliseconds(500)); });
  std::vector<v1::FrameHeader> frames = client.WaitForFrames(2);
  ASSERT_EQ(frames.size(), 2u);
  ASSERT_TRUE(frames[1].has_go_away());
  EXPECT_TRUE(frames[1].go_away().graceful());
  EXPECT_EQ(frames[1].go_away().last_call_id(), 5u);
  // A request that crosses the GoAway is refused unstarted.
  client.SendRequest(7, "appwire.v1.Health/Check");
  frames = client.WaitForFrames(3);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[2].call_id(), 7u);
  EXPECT_TRUE(frames[2].response().not_processed());
  EXPECT_EQ(frames[2].response().status_code(), static_cast<int>(absl::StatusCode::kUnavailable));
  EXPECT_EQ(frames[2].response().status_message(),
            "appwire.v1.Health/Check was not processed: the server is shutting down; retry on "
            "a new connection");
  // At the timeout the running call is answered, then the final GoAway.
  frames = client.WaitForFrames(5);
  drain.join();
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(frames[3].call_id(), 5u);
  EXPECT_FALSE(frames[3].response().not_processed());
  EXPECT_EQ(frames[3].response().status_message(),
            "test.Slow/Hold was cancelled: the server shut down and the call was still running "
            "after the drain timeout of 500ms");
  EXPECT_FALSE(frames[4].go_away().graceful());
  // Still 5: call 7 was received but never processed.
  EXPECT_EQ(frames[4].go_away().last_call_id(), 5u);
}

TEST(NotProcessedTest, TheChannelSendsACallTheServerDidNotProcessAgainOnANewConnection) {
  TempDir project;
  // The first connection refuses every call as not processed (a draining
  // server), and then goes away; the second one answers.
  ScriptedServer server(project, [](int connection, const v1::FrameHeader& request,
                                    std::string* payload) {
    v1::ResponseHeader response;
    if (connection == 1) {
      response.set_status_code(static_cast<int>(absl::StatusCode::kUnavailable));
      response.set_status_message("not processed: draining");
      response.set_not_processed(true);
    } else {
      *payload = absl::StrCat("served on connection ", connection, " as call ",
                              request.call_id());
    }
    return response;
  });
  auto channel = Channel::Connect(server.ClientOptions(project));
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto reply = (*channel)->CallRaw("test.Any/Thing", "request bytes");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, "served on connection 2 as call 1");
  EXPECT_EQ(server.connections(), 2);
}

TEST(NotProcessedTest, ACallAboveTheGoAwaysLastCallIsSentAgainOnANewConnection) {
  TempDir project;
  ScriptedServer server(project, [](int connection, const v1::FrameHeader& request,
                                    std::string* payload) {
    v1::ResponseHeader response;
    if (connection == 1) {
      response.set_status_code(-1);  // closes, never having processed it
    } else {
      *payload = absl::StrCat("served on connection ", connection);
    }
    return response;
  });
  auto channel = Channel::Connect(server.ClientOptions(project));
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto reply = (*channel)->CallRaw("test.Any/Thing", "");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, "served on connection 2");
}

TEST(NotProcessedTest, ACallRefusedTwiceFailsWithTheServersStatus) {
  TempDir project;
  ScriptedServer server(project, [](int, const v1::FrameHeader&, std::string*) {
    v1::ResponseHeader response;
    response.set_status_code(static_cast<int>(absl::StatusCode::kUnavailable));
    response.set_status_message("not processed: draining");
    response.set_not_processed(true);
    return response;
  });
  auto channel = Channel::Connect(server.ClientOptions(project));
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto reply = (*channel)->CallRaw("test.Any/Thing", "");
  EXPECT_EQ(reply.status(), absl::UnavailableError("not processed: draining"));
}

// The channel's deadline timer runs on its I/O thread, which may be busy
// when the deadline passes (here: an async call's callback holds it, as a
// slow callback or a loaded machine does). A stream that saw its deadline
// pass must still finish DEADLINE_EXCEEDED: Finish() must not half-close,
// which lets a server that answers at once end the call OK first (the
// c_api_test flake under TSan). The scripted server ignores deadlines.
TEST(StreamDeadlineTest, AStreamPastItsDeadlineFinishesDeadlineExceededWhileTheTimerIsLate) {
  TempDir project;
  ScriptedServer server(project, [](int, const v1::FrameHeader& frame, std::string*) {
    v1::ResponseHeader response;
    // The stream gets no answer until its half-close; then OK.
    if (frame.has_request() && frame.request().method() == "test.Echo/Stream") {
      response.set_status_code(-2);
    }
    return response;
  });
  auto channel = Channel::Connect(server.ClientOptions(project));
  ASSERT_TRUE(channel.ok()) << channel.status();
  CallOptions within;
  within.timeout = absl::Milliseconds(100);
  std::unique_ptr<ClientStream> stream =
      (*channel)->OpenStream("test.Echo/Stream", MethodKind::kBidiStreaming, "", within);
  ASSERT_TRUE(stream->Write("first"));
  std::promise<void> holding;
  (*channel)->CallRawAsync("test.Any/Thing", "", {}, [&holding](absl::StatusOr<std::string>) {
    holding.set_value();
    absl::SleepFor(absl::Milliseconds(400));  // the I/O thread, past the deadline
  });
  holding.get_future().wait();
  std::string message;
  EXPECT_FALSE(stream->Read(&message));
  EXPECT_FALSE(stream->Write("too late"));
  EXPECT_EQ(stream->Finish(),
            absl::DeadlineExceededError(
                "test.Echo/Stream did not complete within 100ms (deadline exceeded)"));
}

TEST(WorkerPoolServerTest, ABlockedHandlerDoesNotStallOtherConnections) {
  TempDir project;
  auto registry = std::make_shared<ServiceRegistry>();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> entered{false};
  ASSERT_TRUE(registry
                  ->RegisterRaw("test.Block/Wait",
                                [&](CallContext&, absl::string_view) -> absl::StatusOr<std::string> {
                                  entered = true;
                                  released.wait_for(std::chrono::seconds(10));
                                  return std::string("released");
                                })
                  .ok());
  ServerOptions options;
  options.project_dir = project.path();
  options.worker_threads = 1;  // the only worker is the one blocked
  auto server = StartServer(options, registry);
  ASSERT_NE(server, nullptr);
  auto first = Channel::Connect(testing::ClientOptions(*server, project.File("cert.pem")));
  auto second = Channel::Connect(testing::ClientOptions(*server, project.File("cert.pem")));
  ASSERT_TRUE(first.ok() && second.ok());
  auto blocked = std::async(std::launch::async,
                            [&] { return (*first)->CallRaw("test.Block/Wait", ""); });
  for (int i = 0; i < 500 && !entered.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(entered.load());
  // The I/O thread still serves: health (a non-blocking, inline handler)
  // answers on both connections while the worker is stuck.
  EXPECT_TRUE((*second)->CallRaw("appwire.v1.Health/Check", "").ok());
  EXPECT_TRUE((*first)->CallRaw("appwire.v1.Health/Check", "").ok());
  release.set_value();
  absl::StatusOr<std::string> reply = blocked.get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, "released");
}

}  // namespace
}  // namespace appwire
