// End-to-end behaviour over real TLS 1.3 on loopback: a server from
// appwire/server/, a client from appwire/client/, real certificates, real protobuf.
#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "appwire/common/version.h"
#include "appwire/v1/builtin.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::ClientOptions;
using ::appwire::testing::StartServer;
using ::appwire::testing::StartServerIn;
using ::appwire::testing::TempDir;
using ::testing::HasSubstr;

class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.project_dir = project_.path();
    registry_ = std::make_shared<ServiceRegistry>();
    absl::Status registered = registry_->Register<v1::EchoRequest, v1::EchoResponse>(
                        "test.Context/Describe",
                        [](CallContext& context, const v1::EchoRequest&)
                            -> absl::StatusOr<v1::EchoResponse> {
                          v1::EchoResponse response;
                          response.set_payload(absl::StrCat(
                              context.method(), "|", context.tls_version(), "|",
                              context.cipher(), "|", context.server_name(), "|",
                              context.is_tls() ? "tls" : "plain", "|",
                              context.peer_address().rfind("127.0.0.1:", 0) == 0 ? "loopback"
                                                                                 : "other"));
                          return response;
                        });
    ASSERT_TRUE(registered.ok()) << registered;
    registered = registry_->Register<v1::EchoRequest, v1::EchoResponse>(
                        "test.Slow/Echo",
                        [](CallContext&, const v1::EchoRequest& request)
                            -> absl::StatusOr<v1::EchoResponse> {
                          // Later calls finish first: replies come back out of order.
                          int delay = 5 - (std::stoi(request.payload()) % 5);
                          std::this_thread::sleep_for(std::chrono::milliseconds(delay));
                          v1::EchoResponse response;
                          response.set_payload(request.payload());
                          return response;
                        });
    ASSERT_TRUE(registered.ok()) << registered;
    server_ = StartServer(options, registry_);
    ASSERT_NE(server_, nullptr);
  }

  std::shared_ptr<Channel> Connect() {
    auto channel = Channel::Connect(ClientOptions(*server_, project_.File("cert.pem")));
    EXPECT_TRUE(channel.ok()) << channel.status();
    return channel.ok() ? *std::move(channel) : nullptr;
  }

  TempDir project_;
  std::shared_ptr<ServiceRegistry> registry_;
  std::unique_ptr<Server> server_;
};

TEST_F(EndToEndTest, EchoStreamSendsEveryMessageBackInOrder) {
  auto channel = Connect();
  ASSERT_NE(channel, nullptr);
  std::unique_ptr<ClientStream> stream =
      channel->OpenStream("appwire.v1.Echo/EchoStream", MethodKind::kBidiStreaming, "");
  std::vector<std::string> sent;
  for (size_t size : {0u, 5u, 70000u, 3u << 20}) {
    v1::EchoRequest request;
    request.set_payload(std::string(size, 'e'));
    sent.push_back(request.SerializeAsString());
    ASSERT_TRUE(stream->Write(sent.back()));
  }
  ASSERT_TRUE(stream->WritesDone());
  std::string reply;
  for (const std::string& expected : sent) {
    ASSERT_TRUE(stream->Read(&reply));
    EXPECT_EQ(reply, expected);
  }
  EXPECT_FALSE(stream->Read(&reply));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(EndToEndTest, EchoRoundTripOverTls13) {
  auto channel = Connect();
  ASSERT_NE(channel, nullptr);
  EXPECT_EQ(channel->session_info().version, "TLSv1.3");
  EXPECT_EQ(channel->session_info().alpn, "appwire/1");
  v1::EchoRequest request;
  request.set_payload("hello appwire");
  auto reply = channel->Call<v1::EchoResponse>("appwire.v1.Echo/Echo", request);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->payload(), "hello appwire");
  EXPECT_EQ(channel->server_software(), absl::StrCat("appwire-server ", kSoftwareVersion));
}

TEST_F(EndToEndTest, HandlerSeesTheNegotiatedTlsParameters) {
  auto channel = Connect();
  ASSERT_NE(channel, nullptr);
  auto reply = channel->Call<v1::EchoResponse>("test.Context/Describe", v1::EchoRequest());
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->payload(),
            "test.Context/Describe|TLSv1.3|TLS_AES_128_GCM_SHA256|localhost|tls|loopback");
}

TEST_F(EndToEndTest, BuiltinHealthAndServerInfoAnswer) {
  auto channel = Connect();
  ASSERT_NE(channel, nullptr);
  auto health = channel->Call<v1::HealthCheckResponse>("appwire.v1.Health/Check",
                                                       v1::HealthCheckRequest());
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status(), v1::HealthCheckResponse::SERVING);
  auto info = channel->Call<v1::ServerInfoResponse>("appwire.v1.ServerInfo/Get",
                                                    v1::ServerInfoRequest());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->protocol_version(), 1u);
  EXPECT_EQ(info->min_tls_version(), "TLSv1.3");
  EXPECT_EQ(info->certificate_sha256(), server_->certificate().sha256_fingerprint);
  EXPECT_EQ(info->negotiated_tls_version(), "TLSv1.3");
}

TEST_F(EndToEndTest, TwoHundredConcurrentCallsOnOneConnectionAreAllAnswered) {
  auto channel = Connect();
  ASSERT_NE(channel, nullptr);
  constexpr int kCalls = 200;
  std::vector<std::future<absl::StatusOr<v1::EchoResponse>>> replies;
  for (int i = 0; i < kCalls; ++i) {
    v1::EchoRequest request;
    request.set_payload(std::to_string(i));
    replies.push_back(channel->CallFuture<v1::EchoResponse>("test.Slow/Echo", request));
  }
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_EQ(replies[i].wait_for(std::chrono::seconds(30)), std::future_status::ready) << i;
    absl::StatusOr<v1::EchoResponse> reply = replies[i].get();
    ASSERT_TRUE(reply.ok()) << i << ": " << reply.status();
    EXPECT_EQ(reply->payload(), std::to_string(i));
  }
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
}

TEST_F(EndToEndTest, UnknownMethodIsUnimplemented) {
  auto channel = Connect();
  ASSERT_NE(channel, nullptr);
  auto reply = channel->CallRaw("no.Such/Method", "");
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(reply.status().message(),
            "method \"no.Such/Method\" is not registered on this server (appwire-server); "
            "check the service and method name");
  // The connection stays usable.
  EXPECT_TRUE(channel->CallRaw("appwire.v1.Health/Check", "").ok());
}

TEST_F(EndToEndTest, HandlerErrorReachesTheClientUnchanged) {
  auto channel = Connect();
  ASSERT_NE(channel, nullptr);
  // A request that is not an EchoRequest: field 1 with wire type 7 (invalid).
  auto reply = channel->CallRaw("test.Context/Describe", "\x0f\x0f\x0f");
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reply.status().message(),
            "the request to test.Context/Describe is not a valid appwire.v1.EchoRequest");
}

TEST_F(EndToEndTest, CallsOnAClosedChannelFailWithFailedPrecondition) {
  auto channel = Connect();
  ASSERT_NE(channel, nullptr);
  channel->Close();
  auto reply = channel->CallRaw("appwire.v1.Health/Check", "");
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("is closed (the client closed the channel); "
                                                  "create a new Channel to reconnect"));
}

TEST_F(EndToEndTest, OversizedRequestIsRefusedByTheClientAndTheConnectionStays) {
  ChannelOptions options = ClientOptions(*server_, project_.File("cert.pem"));
  ASSERT_TRUE(options.parameters.Set(Parameter::kMaxMessageSize, 1024).ok());
  auto channel = Channel::Connect(options);
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto reply = (*channel)->CallRaw("appwire.v1.Echo/Echo", std::string(2048, 'x'));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(reply.status().message(),
            "appwire.v1.Echo/Echo: message of 2048 bytes exceeds the limit of 1024 bytes "
            "(max message size)");
  EXPECT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());
}

TEST(ServerLimitsTest, OversizedRequestGetsResourceExhaustedAndTheConnectionStays) {
  TempDir project;
  ServerOptions options;
  options.project_dir = project.path();
  ASSERT_TRUE(options.parameters.Set(Parameter::kMaxMessageSize, 1 << 20).ok());
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ChannelOptions client = ClientOptions(*server, project.File("cert.pem"));
  ASSERT_TRUE(client.parameters.Set(Parameter::kMaxMessageSize, 4 << 20).ok());  // allowed here
  auto channel = Channel::Connect(client);
  ASSERT_TRUE(channel.ok()) << channel.status();
  // Refused by the server (the request went out before its hello came) or
  // by the client (it knows the server's limit from that hello): the same
  // words either way.
  auto reply = (*channel)->CallRaw("appwire.v1.Echo/Echo", std::string(2u << 20, 'x'));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(reply.status().message(),
            "appwire.v1.Echo/Echo: message of 2097152 bytes exceeds the server's limit of "
            "1048576 bytes (kMaxMessageSize)");
  // The same connection goes on serving.
  EXPECT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());
  EXPECT_EQ((*channel)->connections_made(), 1);
}

TEST(DeadlineTest, ClientGetsDeadlineExceededWhenTheServerIsSlow) {
  TempDir project;
  auto registry = std::make_shared<ServiceRegistry>();
  std::atomic<bool> release{false};
  ASSERT_TRUE(registry
                  ->RegisterRaw("test.Slow/Wait",
                                [&release](CallContext& context, absl::string_view)
                                    -> absl::StatusOr<std::string> {
                                  // Bounded wait: at most 5 s.
                                  for (int i = 0; i < 500 && !release.load(); ++i) {
                                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                                  }
                                  return std::string("late");
                                })
                  .ok());
  auto server = StartServerIn(project, registry);
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(ClientOptions(*server, project.File("cert.pem")));
  ASSERT_TRUE(channel.ok()) << channel.status();
  CallOptions call;
  call.timeout = absl::Milliseconds(100);
  auto reply = (*channel)->CallRaw("test.Slow/Wait", "", call);
  release = true;
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(reply.status().message(),
            "test.Slow/Wait did not complete within 100ms (deadline exceeded)");
  // The late reply is discarded; the channel keeps working.
  EXPECT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());
}

TEST(DrainTest, CallsInFlightCompleteDuringDrain) {
  TempDir project;
  auto registry = std::make_shared<ServiceRegistry>();
  std::atomic<int> started{0};
  ASSERT_TRUE(registry
                  ->RegisterRaw("test.Slow/Work",
                                [&started](CallContext&, absl::string_view)
                                    -> absl::StatusOr<std::string> {
                                  ++started;
                                  std::this_thread::sleep_for(std::chrono::milliseconds(200));
                                  return std::string("done");
                                })
                  .ok());
  auto server = StartServerIn(project, registry);
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(ClientOptions(*server, project.File("cert.pem")));
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto future_reply = std::async(std::launch::async, [&] {
    return (*channel)->CallRaw("test.Slow/Work", "");
  });
  for (int i = 0; i < 500 && started.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(started.load(), 1);
  server->Drain(absl::Seconds(10));
  absl::StatusOr<std::string> reply = future_reply.get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, "done");
  // The server is gone: a call waits for a connection until its deadline
  // and says why none came.
  CallOptions bounded;
  bounded.timeout = absl::Milliseconds(300);
  auto after = (*channel)->CallRaw("appwire.v1.Health/Check", "", bounded);
  EXPECT_EQ(after.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(after.status().message()),
              HasSubstr("appwire.v1.Health/Check did not complete within 300ms (deadline "
                        "exceeded); it was waiting for a connection to 127.0.0.1:"));
  EXPECT_THAT(std::string(after.status().message()), HasSubstr("Connection refused"));
}

}  // namespace
}  // namespace appwire
