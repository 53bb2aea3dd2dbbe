#include "appwire/transport/connection.h"

#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "appwire/transport/frames.h"
#include "appwire/transport/memory_stream.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

// One end of a connection in memory: its I/O thread, and what its callbacks saw.
class End {
 public:
  explicit End(std::string name) : name_(std::move(name)), thread_([this] { io_.run(); }) {}
  ~End() { Stop(); }

  // Closes the connection and lets its I/O thread finish with it: a
  // connection's read loop holds it (through the stream's pending read)
  // until the stream ends, so an open one would leak (LeakSanitizer).
  void Close() {
    if (connection_ == nullptr) return;
    connection_->Close(absl::CancelledError("the test is over"), /*send_go_away=*/false);
    Sync();
  }

  // Stops the I/O thread. Both ends stop before either is destroyed: a
  // stream in memory posts to its peer's I/O context.
  void Stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // Waits (at most 5 s) for the handshake: Send() fails before it.
  bool WaitOpen() {
    for (int i = 0; i < 5000 && connection_->state() == Connection::State::kHandshaking; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return connection_->state() == Connection::State::kOpen;
  }

  void Connect(std::shared_ptr<ByteStream> stream, FrameLimits limits = {},
               bool require_hello = false) {
    Connection::Callbacks callbacks;
    callbacks.on_frame = [this](const std::shared_ptr<Connection>& connection,
                                DecodedFrame& frame) {
      if (frame.header.has_hello()) connection->PeerHelloReceived();
      std::lock_guard<std::mutex> lock(mu_);
      frames_.push_back(frame.header);
      payloads_.emplace_back(frame.payload);
      changed_.notify_all();
    };
    callbacks.on_closed = [this](const std::shared_ptr<Connection>&, const absl::Status& reason) {
      std::lock_guard<std::mutex> lock(mu_);
      closed_.push_back(reason);
      closed_on_ = std::this_thread::get_id();
      changed_.notify_all();
    };
    connection_ = Connection::Create(std::move(stream), limits, std::move(callbacks));
    if (require_hello) connection_->RequireHelloFirst();
    asio::post(io_, [connection = connection_] { connection->Start(); });
  }

  // Waits (at most 5 s) until `count` frames came; false if they did not.
  bool WaitForFrames(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(5),
                             [&] { return frames_.size() >= count; });
  }
  bool WaitForClosed() {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(5), [&] { return !closed_.empty(); });
  }
  std::vector<v1::FrameHeader> frames() {
    std::lock_guard<std::mutex> lock(mu_);
    return frames_;
  }
  std::vector<std::string> payloads() {
    std::lock_guard<std::mutex> lock(mu_);
    return payloads_;
  }
  std::vector<absl::Status> closed() {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  std::thread::id closed_on() {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_on_;
  }
  // Runs nothing, but returns once what was posted before it has run.
  void Sync() {
    std::promise<void> done;
    asio::post(io_, [&] { done.set_value(); });
    done.get_future().wait();
  }

  asio::io_context& io() { return io_; }
  std::thread::id thread_id() const { return thread_.get_id(); }
  Connection& connection() { return *connection_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<v1::FrameHeader> frames_;
  std::vector<std::string> payloads_;
  std::vector<absl::Status> closed_;
  std::thread::id closed_on_;
  std::shared_ptr<Connection> connection_;
  std::thread thread_;
};

class ConnectionTest : public ::testing::Test {
 protected:
  void Connect(FrameLimits limits = {}, bool b_requires_hello = false) {
    TlsSessionInfo a_info;
    a_info.peer_address = "b";
    TlsSessionInfo b_info;
    b_info.peer_address = "a";
    MemoryStream::Pair pair = MemoryStream::CreatePair(a_.io(), a_info, b_.io(), b_info);
    a_.Connect(pair.first, limits);
    b_.Connect(pair.second, limits, b_requires_hello);
    ASSERT_TRUE(a_.WaitOpen());
    ASSERT_TRUE(b_.WaitOpen());
  }
  void TearDown() override {
    a_.Close();
    b_.Close();
    a_.Sync();
    b_.Sync();
    a_.Stop();
    b_.Stop();
  }

  End a_{"a"};
  End b_{"b"};
};

v1::FrameHeader Request(uint64_t call_id) {
  v1::FrameHeader header;
  header.set_call_id(call_id);
  header.mutable_request()->set_method("/test.Service/Method");
  return header;
}

TEST_F(ConnectionTest, FramesSentFromAnyThreadArriveInOrderWithTheirPayloads) {
  Connect();
  for (uint64_t id = 1; id <= 199; id += 2) {
    ASSERT_TRUE(a_.connection().Send(MessageFrame(id), std::string(id, 'x')).ok());
  }
  ASSERT_TRUE(b_.WaitForFrames(100));
  const std::vector<v1::FrameHeader> frames = b_.frames();
  const std::vector<std::string> payloads = b_.payloads();
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(frames[i].call_id(), 2 * i + 1);
    EXPECT_TRUE(frames[i].has_message());
    EXPECT_EQ(payloads[i], std::string(2 * i + 1, 'x'));
  }
}

// connection.h: callbacks run on the I/O thread. Close() from an app's
// thread used to run on_closed on that thread, inside the caller's locks.
TEST_F(ConnectionTest, CloseFromAnotherThreadReportsOnTheIoThreadOnceWithTheReason) {
  Connect();
  a_.Sync();
  a_.connection().Close(absl::InternalError("the test is done"));
  a_.connection().Close(absl::CancelledError("a second close changes nothing"));
  ASSERT_TRUE(a_.WaitForClosed());
  a_.Sync();
  ASSERT_EQ(a_.closed().size(), 1u);
  EXPECT_EQ(a_.closed()[0].code(), absl::StatusCode::kInternal);
  EXPECT_EQ(a_.closed()[0].message(), "the test is done");
  EXPECT_EQ(a_.closed_on(), a_.thread_id());
  EXPECT_EQ(a_.connection().state(), Connection::State::kClosed);
  // The peer heard why, in a GoAway.
  ASSERT_TRUE(b_.WaitForFrames(1));
  const v1::FrameHeader go_away = b_.frames().back();
  ASSERT_TRUE(go_away.has_go_away());
  EXPECT_EQ(go_away.go_away().status_code(), static_cast<int>(absl::StatusCode::kInternal));
  EXPECT_EQ(go_away.go_away().status_message(), "the test is done");
  EXPECT_FALSE(go_away.go_away().graceful());
}

TEST_F(ConnectionTest, SendAfterCloseFailsWithUnavailable) {
  Connect();
  a_.Sync();
  a_.connection().Close(absl::OkStatus());
  absl::Status sent = a_.connection().Send(MessageFrame(1), "late");
  EXPECT_EQ(sent.code(), absl::StatusCode::kUnavailable);
}

TEST_F(ConnectionTest, TheGoAwayNamesTheHighestRequestReceivedInAnyOrder) {
  Connect();
  for (uint64_t id : {1, 7, 3}) ASSERT_TRUE(a_.connection().Send(Request(id), "").ok());
  ASSERT_TRUE(b_.WaitForFrames(3));
  EXPECT_EQ(b_.connection().highest_request_id(), 7u);
  b_.connection().Close(absl::UnavailableError("the server is shutting down"));
  ASSERT_TRUE(a_.WaitForFrames(1));
  ASSERT_TRUE(a_.frames().back().has_go_away());
  EXPECT_EQ(a_.frames().back().go_away().last_call_id(), 7u);
}

TEST_F(ConnectionTest, APayloadOverThisEndsLimitIsRefusedAndTheConnectionStays) {
  FrameLimits limits;
  limits.max_message_bytes = 1024;
  Connect(limits);
  absl::Status sent = a_.connection().Send(MessageFrame(1), std::string(1025, 'x'));
  EXPECT_EQ(sent.code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(a_.connection().Send(MessageFrame(3), std::string(1024, 'x')).ok());
  ASSERT_TRUE(b_.WaitForFrames(1));
  EXPECT_EQ(b_.frames()[0].call_id(), 3u);
  EXPECT_EQ(a_.connection().state(), Connection::State::kOpen);
}

TEST_F(ConnectionTest, BeforeTheHelloEvenPingsGoToTheOwner) {
  Connect({}, /*b_requires_hello=*/true);
  ASSERT_TRUE(a_.connection().Send(PingFrame(5), "").ok());
  ASSERT_TRUE(b_.WaitForFrames(1));
  ASSERT_TRUE(b_.frames()[0].has_ping());
  EXPECT_EQ(b_.frames()[0].ping().opaque(), 5u);
  // After the hello, pings are the connection's business: answered, not
  // handed on.
  v1::FrameHeader hello;
  hello.mutable_hello()->set_protocol_version(1);
  ASSERT_TRUE(a_.connection().Send(hello, "").ok());
  ASSERT_TRUE(a_.connection().Send(PingFrame(6), "").ok());
  ASSERT_TRUE(a_.connection().Send(MessageFrame(1), "after").ok());
  ASSERT_TRUE(b_.WaitForFrames(3));
  const std::vector<v1::FrameHeader> frames = b_.frames();
  EXPECT_TRUE(frames[1].has_hello());
  EXPECT_TRUE(frames[2].has_message());
}

}  // namespace
}  // namespace appwire
