// A connection served in memory (ServerTestingPeer, MemoryStream) goes
// through the same session logic as one over TLS: the same bytes in give
// the same frames out. The session fuzzer relies on it.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "appwire/server/internal/testing_peer.h"
#include "gtest/gtest.h"
#include "tests/raw_frame_client.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::DecodedHeader;
using ::appwire::testing::RawFrameClient;
using ::appwire::testing::TempDir;

class InMemoryConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::StartServerIn(project_);
    ASSERT_NE(server_, nullptr);
  }

  std::unique_ptr<RawFrameClient> InMemory() {
    return std::make_unique<RawFrameClient>([this](asio::io_context& io) {
      return ServerTestingPeer::ConnectInMemory(*server_, io, "memory:1");
    });
  }
  std::unique_ptr<RawFrameClient> OverTls() {
    return std::make_unique<RawFrameClient>(server_->port(), project_.File("cert.pem"));
  }

  TempDir project_;
  std::unique_ptr<Server> server_;
};

TEST_F(InMemoryConnectionTest, AHelloAndAHealthCheckAreAnswered) {
  std::unique_ptr<RawFrameClient> client = InMemory();
  ASSERT_TRUE(client->ok()) << client->status();
  ASSERT_TRUE(client->SendHello().ok());
  EXPECT_TRUE(client->ExpectHelloAnswered(absl::Seconds(5)).ok());
  EXPECT_TRUE(client->ExpectServing(1, absl::Seconds(5)).ok());
  EXPECT_EQ(server_->stats().open_connections, 1);
}

TEST_F(InMemoryConnectionTest, AProtocolErrorGetsTheSameGoAwayAndCloseAsOverTls) {
  for (bool in_memory : {true, false}) {
    SCOPED_TRACE(in_memory ? "in memory" : "over TLS");
    std::unique_ptr<RawFrameClient> client = in_memory ? InMemory() : OverTls();
    ASSERT_TRUE(client->ok()) << client->status();
    ASSERT_TRUE(client->SendPing(7).ok());  // before the Hello
    absl::StatusOr<DecodedHeader> frame = client->NextFrame(absl::Seconds(5));
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_TRUE(frame->header.has_go_away()) << frame->header.ShortDebugString();
    EXPECT_EQ(frame->header.go_away().status_code(),
              static_cast<int>(absl::StatusCode::kFailedPrecondition));
    EXPECT_EQ(frame->header.go_away().status_message(),
              "protocol error: the first frame on a connection must be a hello with call id 0 "
              "(docs/protocol.md)");
    EXPECT_TRUE(client->WaitClosed(absl::Seconds(5)));
  }
}

TEST_F(InMemoryConnectionTest, ClosingTheClientEndEndsTheServersConnection) {
  {
    std::unique_ptr<RawFrameClient> client = InMemory();
    ASSERT_TRUE(client->ok()) << client->status();
    ASSERT_TRUE(client->SendHello().ok());
    ASSERT_TRUE(client->ExpectHelloAnswered(absl::Seconds(5)).ok());
  }
  for (int i = 0; i < 500 && server_->stats().open_connections > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(server_->stats().open_connections, 0);
}

TEST_F(InMemoryConnectionTest, AfterDrainANewConnectionSeesTheEndAtOnce) {
  server_->Drain(absl::Seconds(1));
  std::unique_ptr<RawFrameClient> client = InMemory();
  EXPECT_TRUE(client->WaitClosed(absl::Seconds(5)));
  EXPECT_FALSE(client->SendHello().ok());
  EXPECT_EQ(server_->stats().open_connections, 0);
}

// The server's end is closed by Drain, so nothing of the server is left
// for a client that outlives it to reach (ASan would see it).
TEST_F(InMemoryConnectionTest, AClientThatOutlivesTheServerSeesTheEnd) {
  std::unique_ptr<RawFrameClient> client = InMemory();
  ASSERT_TRUE(client->ok()) << client->status();
  ASSERT_TRUE(client->SendHello().ok());
  ASSERT_TRUE(client->ExpectHelloAnswered(absl::Seconds(5)).ok());
  server_->Drain(absl::Seconds(1));
  server_.reset();
  EXPECT_TRUE(client->WaitClosed(absl::Seconds(5)));
  EXPECT_FALSE(client->SendPing(1).ok());
  client.reset();
}

}  // namespace
}  // namespace appwire
