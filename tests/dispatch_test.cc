// Dispatcher in memory, on a FakeClock: the hello exchange, and the
// deadline rules that would otherwise need real waits (a call whose
// deadline passes while it waits for a worker is not run; a handler that
// returns after its deadline is answered DEADLINE_EXCEEDED; the deadline
// timer cancels on the clock's time), and Drain's wait for the last call.
// The rest of dispatch is covered end to end by tests/conformance_test.cc,
// rpc_test.cc and abuse_test.cc.
#include "appwire/server/dispatch.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "appwire/server/call_context.h"
#include "appwire/server/server_stream.h"
#include "appwire/transport/frames.h"
#include "gtest/gtest.h"
#include "tests/in_memory_server_side.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::DecodedHeader;
using ::appwire::testing::InMemoryServerSide;
using ::appwire::testing::RawFrameClient;
using ::appwire::testing::WaitUntil;

constexpr uint64_t kFiveSeconds = 5000000;  // timeout_micros

class DispatchTest : public ::testing::Test {
 protected:
  DispatchTest()
      : server_([this](const std::shared_ptr<Connection>& connection,
                       const std::shared_ptr<ConnectionState>& state, DecodedFrame& frame) {
          dispatcher_->OnFrame(connection, state, frame);
        }) {}

  void SetUp() override {
    auto registry = std::make_shared<ServiceRegistry>();
    // Runs until released or cancelled.
    ASSERT_TRUE(registry
                    ->RegisterRaw("test.Block/Wait",
                                  [this](CallContext& context,
                                         absl::string_view) -> absl::StatusOr<std::string> {
                                    context.OnCancel([this] { Release(); });
                                    running_.fetch_add(1);
                                    std::unique_lock<std::mutex> lock(mu_);
                                    released_cv_.wait(lock, [this] { return released_; });
                                    return std::string("done");
                                  })
                    .ok());
    ASSERT_TRUE(registry
                    ->RegisterRaw("test.Count/Run",
                                  [this](CallContext&, absl::string_view) {
                                    counted_.fetch_add(1);
                                    return absl::StatusOr<std::string>("counted");
                                  })
                    .ok());
    // Writes until it may not (the call was answered or ended).
    ASSERT_TRUE(registry
                    ->RegisterStreamRaw("test.Flood/Run", MethodKind::kServerStreaming,
                                        [](CallContext&, ServerStream& stream) {
                                          while (stream.Write(std::string(4096, 'm'))) {
                                          }
                                          return absl::StatusOr<std::string>("");
                                        })
                    .ok());
    registry->Freeze();
    dispatcher_ = std::make_unique<Dispatcher>(server_.io(), server_.clock(), "dispatch-test",
                                               "1.2.3", registry, server_.parameters());
    ASSERT_TRUE(dispatcher_->StartWorkers(1).ok());
    client_ = server_.Connect();
    ASSERT_TRUE(client_->ok()) << client_->status();
  }

  void TearDown() override {
    Release();
    client_.reset();
    server_.Stop();
    dispatcher_->ShutdownHandlers(absl::Seconds(5));
  }

  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    released_cv_.notify_all();
  }

  // Sends the hello and takes the server's.
  void Hello() {
    ASSERT_TRUE(client_->SendHello().ok());
    absl::StatusOr<DecodedHeader> hello = client_->NextFrame(absl::Seconds(5));
    ASSERT_TRUE(hello.ok()) << hello.status();
    ASSERT_TRUE(hello->header.has_hello());
  }

  // The status of call `call_id`'s response.
  absl::Status Response(uint64_t call_id) {
    absl::StatusOr<DecodedHeader> frame = client_->NextResponse(call_id, absl::Seconds(5));
    if (!frame.ok()) return frame.status();
    const v1::ResponseHeader& response = frame->header.response();
    return absl::Status(static_cast<absl::StatusCode>(response.status_code()),
                        response.status_message());
  }

  // The statuses of the next `count` responses, by call id, in whatever
  // order they come; a frame that is not a response ends the list early.
  std::map<uint64_t, absl::Status> Responses(int count) {
    std::map<uint64_t, absl::Status> statuses;
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<DecodedHeader> frame = client_->NextFrame(absl::Seconds(5));
      if (!frame.ok() || !frame->header.has_response()) break;
      const v1::ResponseHeader& response = frame->header.response();
      statuses[frame->header.call_id()] = absl::Status(
          static_cast<absl::StatusCode>(response.status_code()), response.status_message());
    }
    return statuses;
  }

  std::mutex mu_;
  std::condition_variable released_cv_;
  bool released_ = false;  // guarded by mu_
  std::atomic<int> running_{0};
  std::atomic<int> counted_{0};
  InMemoryServerSide server_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<RawFrameClient> client_;
};

TEST_F(DispatchTest, TheHelloIsAnsweredWithTheServersSoftwareAndLimit) {
  ASSERT_TRUE(client_->SendHello().ok());
  absl::StatusOr<DecodedHeader> frame = client_->NextFrame(absl::Seconds(5));
  ASSERT_TRUE(frame.ok()) << frame.status();
  ASSERT_TRUE(frame->header.has_hello());
  EXPECT_EQ(frame->header.call_id(), 0u);
  EXPECT_EQ(frame->header.hello().protocol_version(), 1u);
  EXPECT_EQ(frame->header.hello().software_name(), "dispatch-test");
  EXPECT_EQ(frame->header.hello().software_version(), "1.2.3");
  EXPECT_EQ(frame->header.hello().max_message_bytes(), FrameLimits().max_message_bytes);
}

TEST_F(DispatchTest, AHelloOfAnotherProtocolVersionClosesTheConnection) {
  ASSERT_TRUE(client_->SendHello(/*protocol_version=*/2).ok());
  EXPECT_EQ(InMemoryServerSide::NextGoAway(*client_),
            absl::FailedPreconditionError(
                "the client speaks appwire protocol version 2 (raw-frame-client); this server "
                "(dispatch-test 1.2.3) speaks version 1; use a client and server of the same "
                "protocol version"));
  EXPECT_TRUE(client_->WaitClosed(absl::Seconds(5)));
}

TEST_F(DispatchTest, ACallWhoseDeadlinePassedWhileItWaitedForAWorkerIsNotRun) {
  Hello();
  ASSERT_TRUE(client_->SendRequest(1, "test.Block/Wait").ok());  // takes the only worker
  ASSERT_TRUE(WaitUntil([&] { return running_.load() == 1; }, absl::Seconds(5)));
  ASSERT_TRUE(
      client_->SendRequest(3, "test.Count/Run", "", MethodKind::kUnary, kFiveSeconds).ok());
  // The request is queued behind the blocked one once the server read it
  // (and, on the same I/O thread, handled it).
  ASSERT_TRUE(WaitUntil(
      [&] { return server_.registry().Open()[0].connection->highest_request_id() == 3; },
      absl::Seconds(5)));
  server_.OnIoThread([] {});
  server_.clock().Advance(absl::Seconds(6));
  Release();
  // Either answer may come first: call 3 is answered by the deadline timer
  // on the I/O thread or, if the worker reaches it first, by the worker.
  std::map<uint64_t, absl::Status> responses = Responses(2);
  ASSERT_EQ(responses.size(), 2u);
  ASSERT_EQ(responses.count(1), 1u);
  EXPECT_TRUE(responses[1].ok()) << responses[1];
  EXPECT_EQ(responses[3], absl::DeadlineExceededError(
                              "the deadline of test.Count/Run passed on the server"));
  EXPECT_EQ(counted_.load(), 0);
}

TEST_F(DispatchTest, AHandlerThatReturnsAfterItsDeadlineIsAnsweredDeadlineExceeded) {
  Hello();
  ASSERT_TRUE(
      client_->SendRequest(1, "test.Block/Wait", "", MethodKind::kUnary, kFiveSeconds).ok());
  ASSERT_TRUE(WaitUntil([&] { return running_.load() == 1; }, absl::Seconds(5)));
  server_.clock().Advance(absl::Seconds(6));
  Release();  // it returns OK, too late
  EXPECT_EQ(Response(1), absl::DeadlineExceededError(
                             "the deadline of test.Block/Wait passed on the server"));
}

TEST_F(DispatchTest, TheDeadlineTimerCancelsARunningCallOnTheClocksTime) {
  Hello();
  // 20 ms on the wire; the timer's first wait is real, then it looks at the
  // clock, which has moved a second on.
  ASSERT_TRUE(client_->SendRequest(1, "test.Block/Wait", "", MethodKind::kUnary, 20000).ok());
  ASSERT_TRUE(WaitUntil([&] { return running_.load() == 1; }, absl::Seconds(5)));
  server_.clock().Advance(absl::Seconds(1));
  EXPECT_EQ(Response(1), absl::DeadlineExceededError(
                             "the deadline of test.Block/Wait passed on the server"));
  EXPECT_TRUE(dispatcher_->WaitForCalls(absl::Seconds(5)));  // the handler saw the cancellation
}

TEST_F(DispatchTest, WaitingForCallsEndsWhenTheLastOneFinishes) {
  Hello();
  EXPECT_TRUE(dispatcher_->WaitForCalls(absl::ZeroDuration()));
  ASSERT_TRUE(client_->SendRequest(1, "test.Block/Wait").ok());
  ASSERT_TRUE(WaitUntil([&] { return running_.load() == 1; }, absl::Seconds(5)));
  EXPECT_FALSE(dispatcher_->WaitForCalls(absl::Milliseconds(10)));
  EXPECT_EQ(dispatcher_->calls_completed(), 0u);
  Release();
  EXPECT_TRUE(dispatcher_->WaitForCalls(absl::Seconds(5)));
  EXPECT_EQ(dispatcher_->calls_completed(), 1u);
  EXPECT_TRUE(Response(1).ok());
}

// No message may follow its call's response. ServerStream::Write used to
// pass its credit check, lose the race with the I/O thread answering the
// call (here, for a message the client may not send), and send after the
// response: the session fuzzer found it. Each call is answered while its
// handler writes; whatever arrives for an answered call must not be a
// message, up to a ping acknowledged after every handler has stopped.
TEST_F(DispatchTest, NoMessageFollowsTheResponseOfAStreamAnsweredWhileItWrites) {
  Hello();
  std::set<uint64_t> answered;
  int late_messages = 0;
  // Reads one frame and notes what it says; false when none came.
  auto take = [&](v1::FrameHeader* header) {
    absl::StatusOr<DecodedHeader> frame = client_->NextFrame(absl::Seconds(5));
    EXPECT_TRUE(frame.ok()) << frame.status();
    if (!frame.ok()) return false;
    *header = frame->header;
    if (header->has_response()) {
      EXPECT_EQ(header->response().status_message(),
                "protocol error: test.Flood/Run takes no stream of requests");
      answered.insert(header->call_id());
    } else if (header->has_message() && answered.count(header->call_id()) > 0) {
      ++late_messages;
    }
    return true;
  };
  auto read_until_ack = [&](uint64_t opaque) {
    v1::FrameHeader header;
    while (take(&header)) {
      if (header.has_ping() && header.ping().ack() && header.ping().opaque() == opaque) return;
    }
  };
  constexpr uint64_t kCalls = 400;
  for (uint64_t id = 1; id < 2 * kCalls; id += 2) {
    ASSERT_TRUE(client_
                    ->SendRequest(id, "test.Flood/Run", "", MethodKind::kServerStreaming,
                                  kFiveSeconds)
                    .ok());
    // Let the handler start writing, then make the I/O thread answer.
    v1::FrameHeader header;
    while (take(&header) && !(header.has_message() && header.call_id() == id)) {
    }
    ASSERT_TRUE(client_->SendMessage(id, "not allowed").ok());
    ASSERT_TRUE(client_->SendFrame(PingFrame(id), "").ok());
    read_until_ack(id);
  }
  // Every handler has returned (the dispatcher has no call left), then one
  // more ping: anything they sent is in before its acknowledgement.
  ASSERT_TRUE(dispatcher_->WaitForCalls(absl::Seconds(5)));
  ASSERT_TRUE(client_->SendFrame(PingFrame(0), "").ok());
  read_until_ack(0);
  EXPECT_EQ(answered.size(), kCalls);
  EXPECT_EQ(late_messages, 0);
}

}  // namespace
}  // namespace appwire
