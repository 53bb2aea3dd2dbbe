// ConnectionRegistry in memory, on a FakeClock: the table of open
// connections, the drain flag, and the tick's hello timeout, which needs no
// real wait of kHelloTimeout (10 s) here.
#include "appwire/server/connection_registry.h"

#include <atomic>
#include <memory>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/in_memory_server_side.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::InMemoryServerSide;
using ::appwire::testing::RawFrameClient;
using ::appwire::testing::WaitUntil;

class ConnectionRegistryTest : public ::testing::Test {
 protected:
  ConnectionRegistryTest()
      : server_([this](const std::shared_ptr<Connection>&, const std::shared_ptr<ConnectionState>&,
                       DecodedFrame&) { frames_.fetch_add(1); }) {}

  ConnectionRegistry& registry() { return server_.registry(); }

  std::atomic<int> frames_{0};
  InMemoryServerSide server_;
};

TEST_F(ConnectionRegistryTest, AServedConnectionIsInTheTableUntilItCloses) {
  std::unique_ptr<RawFrameClient> client = server_.Connect();
  ASSERT_TRUE(client->ok()) << client->status();
  ASSERT_TRUE(WaitUntil([&] { return registry().open_connections() == 1; }, absl::Seconds(5)));
  EXPECT_EQ(registry().connections_accepted(), 1u);
  EXPECT_EQ(registry().handshakes_failed(), 0u);
  ASSERT_EQ(registry().Open().size(), 1u);
  EXPECT_EQ(registry().Open()[0].connection->peer_address(), "memory:1");
  ASSERT_TRUE(client->SendHello().ok());
  EXPECT_TRUE(WaitUntil([&] { return frames_.load() == 1; }, absl::Seconds(5)));
  client.reset();  // the client goes away
  EXPECT_TRUE(WaitUntil([&] { return registry().open_connections() == 0; }, absl::Seconds(5)));
  EXPECT_EQ(registry().connections_accepted(), 1u);
}

TEST_F(ConnectionRegistryTest, WithoutAHelloWithinTheHelloTimeoutTheConnectionIsClosed) {
  std::unique_ptr<RawFrameClient> client = server_.Connect("memory:7");
  ASSERT_TRUE(client->ok()) << client->status();
  ASSERT_TRUE(WaitUntil([&] { return registry().open_connections() == 1; }, absl::Seconds(5)));
  // The hello is due kHelloTimeout after the handshake: let it finish (its
  // callback sets the session, on the I/O thread) before the clock moves.
  std::shared_ptr<ConnectionState> state = registry().Open()[0].state;
  ASSERT_TRUE(WaitUntil(
      [&] {
        bool done = false;
        server_.OnIoThread([&] { done = state->session != nullptr; });
        return done;
      },
      absl::Seconds(5)));
  // The default kHelloTimeout is 10 s; the clock gets there at once.
  server_.clock().Advance(absl::Seconds(10));
  EXPECT_EQ(InMemoryServerSide::NextGoAway(*client),
            absl::FailedPreconditionError(
                "protocol error: no hello from memory:7 within 10s after the TLS handshake "
                "(kHelloTimeout); the first frame on a connection must be a hello "
                "(docs/protocol.md)"));
  EXPECT_TRUE(client->WaitClosed(absl::Seconds(5)));
  EXPECT_TRUE(WaitUntil([&] { return registry().open_connections() == 0; }, absl::Seconds(5)));
  EXPECT_EQ(frames_.load(), 0);
}

TEST_F(ConnectionRegistryTest, ADrainBeginsOnceAndConnectionsServedAfterItServeNoCall) {
  EXPECT_FALSE(registry().draining());
  EXPECT_TRUE(registry().BeginDrain());
  EXPECT_FALSE(registry().BeginDrain());
  EXPECT_TRUE(registry().draining());
  std::unique_ptr<RawFrameClient> client = server_.Connect();
  ASSERT_TRUE(WaitUntil([&] { return registry().open_connections() == 1; }, absl::Seconds(5)));
  std::shared_ptr<ConnectionState> state = registry().Open()[0].state;
  std::lock_guard<std::mutex> lock(state->mu);
  EXPECT_TRUE(state->draining);
}

TEST_F(ConnectionRegistryTest, InMemoryEndsAreKeptForDrainUntilItBegins) {
  asio::io_context other;
  MemoryStream::Pair pair =
      MemoryStream::CreatePair(other, TlsSessionInfo(), server_.io(), TlsSessionInfo());
  EXPECT_TRUE(registry().AddMemoryStream(pair.second));
  ASSERT_TRUE(registry().BeginDrain());
  MemoryStream::Pair late =
      MemoryStream::CreatePair(other, TlsSessionInfo(), server_.io(), TlsSessionInfo());
  EXPECT_FALSE(registry().AddMemoryStream(late.second));
  std::vector<std::weak_ptr<MemoryStream>> kept = registry().TakeMemoryStreams();
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].lock(), pair.second);
  EXPECT_TRUE(registry().TakeMemoryStreams().empty());
}

}  // namespace
}  // namespace appwire
