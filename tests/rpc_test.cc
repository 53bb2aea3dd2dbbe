// The RPC layer end to end over real TLS on loopback: deadlines,
// cancellation, metadata, streaming with flow control, limits, callbacks on
// the app's executor, state changes, drain.
//
// Long on purpose: one end-to-end suite sharing one server fixture; the
// rules themselves have unit tests in appwire/rpc/ and appwire/transport/.
#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "appwire/client/channel.h"
#include "appwire/server/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/memory_sampler.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::ClientOptions;
using ::appwire::testing::StartServer;
using ::appwire::testing::TempDir;
using ::testing::HasSubstr;

// What the test handlers saw, for the assertions.
struct Observed {
  std::mutex mu;
  std::condition_variable changed;
  int hang_started = 0;
  std::vector<absl::Status> hang_cancel_reasons;
  int cancel_callbacks = 0;
  std::atomic<int> messages_written{0};

  void Record(const absl::Status& reason) {
    std::lock_guard<std::mutex> lock(mu);
    hang_cancel_reasons.push_back(reason);
    changed.notify_all();
  }
  // Bounded wait for `predicate` (mu held while it runs).
  template <typename Predicate>
  bool WaitFor(Predicate predicate) {
    std::unique_lock<std::mutex> lock(mu);
    return changed.wait_for(lock, std::chrono::seconds(10), predicate);
  }
};

std::shared_ptr<ServiceRegistry> TestRegistry(Observed* observed) {
  auto registry = std::make_shared<ServiceRegistry>();
  // Never answers on its own: returns only once the call is cancelled.
  EXPECT_TRUE(registry
                  ->RegisterRaw("test.Rpc/Hang",
                                [observed](CallContext& context,
                                           absl::string_view) -> absl::StatusOr<std::string> {
                                  std::promise<void> cancelled;
                                  context.OnCancel([&] {
                                    {
                                      std::lock_guard<std::mutex> lock(observed->mu);
                                      ++observed->cancel_callbacks;
                                    }
                                    cancelled.set_value();
                                  });
                                  {
                                    std::lock_guard<std::mutex> lock(observed->mu);
                                    ++observed->hang_started;
                                    observed->changed.notify_all();
                                  }
                                  cancelled.get_future().wait();
                                  observed->Record(context.cancel_reason());
                                  return std::string("too late");
                                })
                  .ok());
  // Returns the x-request-id header; trailers echo what came in.
  EXPECT_TRUE(registry
                  ->RegisterRaw("test.Rpc/Headers",
                                [](CallContext& context,
                                   absl::string_view) -> absl::StatusOr<std::string> {
                                  for (const auto& [key, value] : context.metadata()) {
                                    context.AddTrailer("echo-" + key, value);
                                  }
                                  context.AddTrailer("x-served-by", "rpc-test");
                                  auto id = context.metadata().find("x-request-id");
                                  if (id == context.metadata().end()) return std::string();
                                  return id->second;
                                })
                  .ok());
  EXPECT_TRUE(registry
                  ->RegisterRaw("test.Rpc/Slow",
                                [](CallContext&, absl::string_view) -> absl::StatusOr<std::string> {
                                  std::this_thread::sleep_for(std::chrono::milliseconds(50));
                                  return std::string("done");
                                })
                  .ok());
  // Server streaming: the request is "COUNT:SIZE".
  EXPECT_TRUE(registry
                  ->RegisterStreamRaw(
                      "test.Rpc/Count", MethodKind::kServerStreaming,
                      [observed](CallContext&, ServerStream& stream) -> absl::StatusOr<std::string> {
                        std::string request;
                        if (!stream.Read(&request)) return absl::InvalidArgumentError("no request");
                        std::vector<std::string> parts = absl::StrSplit(request, ':');
                        int count = 0, size = 0;
                        if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &count) ||
                            !absl::SimpleAtoi(parts[1], &size)) {
                          return absl::InvalidArgumentError("want COUNT:SIZE");
                        }
                        const std::string message(static_cast<size_t>(size), 'm');
                        for (int i = 0; i < count; ++i) {
                          if (!stream.Write(message)) {
                            return absl::CancelledError("the client went away");
                          }
                          ++observed->messages_written;
                        }
                        return std::string();
                      })
                  .ok());
  // Client streaming: answers with the number of bytes received.
  EXPECT_TRUE(registry
                  ->RegisterStreamRaw(
                      "test.Rpc/Sum", MethodKind::kClientStreaming,
                      [](CallContext&, ServerStream& stream) -> absl::StatusOr<std::string> {
                        uint64_t total = 0;
                        std::string message;
                        while (stream.Read(&message)) total += message.size();
                        return std::to_string(total);
                      })
                  .ok());
  // Client streaming that answers at once, without reading.
  EXPECT_TRUE(registry
                  ->RegisterStreamRaw(
                      "test.Rpc/RefuseUpload", MethodKind::kClientStreaming,
                      [](CallContext&, ServerStream&) -> absl::StatusOr<std::string> {
                        return absl::FailedPreconditionError("uploads are closed today");
                      })
                  .ok());
  // Bidirectional: sends every message back, upper-cased.
  EXPECT_TRUE(registry
                  ->RegisterStreamRaw(
                      "test.Rpc/Shout", MethodKind::kBidiStreaming,
                      [](CallContext&, ServerStream& stream) -> absl::StatusOr<std::string> {
                        std::string message;
                        while (stream.Read(&message)) {
                          for (char& c : message) c = static_cast<char>(std::toupper(c));
                          if (!stream.Write(message)) break;
                        }
                        return std::string();
                      })
                  .ok());
  return registry;
}

class RpcTest : public ::testing::Test {
 protected:
  void StartWith(ServerOptions options) {
    options.project_dir = project_.path();
    server_ = StartServer(options, TestRegistry(&observed_));
    ASSERT_NE(server_, nullptr);
  }
  void SetUp() override { StartWith(ServerOptions()); }
  std::shared_ptr<Channel> Connect(ChannelOptions options) {
    auto channel = Channel::Connect(options);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return channel.ok() ? *channel : nullptr;
  }
  std::shared_ptr<Channel> Connect() {
    return Connect(ClientOptions(*server_, project_.File("cert.pem")));
  }

  TempDir project_;
  Observed observed_;
  std::unique_ptr<Server> server_;
};

TEST_F(RpcTest, DeadlinePassesOnAServerThatNeverAnswers) {
  auto channel = Connect();
  CallOptions options;
  options.timeout = absl::Milliseconds(200);
  const absl::Time start = absl::Now();
  auto reply = channel->CallRaw("test.Rpc/Hang", "", options);
  const absl::Duration waited = absl::Now() - start;
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(reply.status().message(),
            "test.Rpc/Hang did not complete within 200ms (deadline exceeded)");
  // On time: not before the deadline, and not after some long fallback.
  EXPECT_GE(waited, absl::Milliseconds(200));
  EXPECT_LT(waited, absl::Seconds(5));
  // The server cancelled the handler's context: the client's cancel frame or
  // its own deadline timer, whichever came first.
  ASSERT_TRUE(observed_.WaitFor([&] { return observed_.hang_cancel_reasons.size() == 1; }));
  const absl::Status reason = observed_.hang_cancel_reasons[0];
  EXPECT_TRUE(reason.code() == absl::StatusCode::kDeadlineExceeded ||
              reason.code() == absl::StatusCode::kCancelled)
      << reason;
  EXPECT_EQ(observed_.cancel_callbacks, 1);
  // The channel goes on serving; the late reply was dropped.
  EXPECT_TRUE(channel->CallRaw("appwire.v1.Health/Check", "").ok());
}

TEST_F(RpcTest, CancelFromAnotherThreadReachesTheHandler) {
  auto channel = Connect();
  auto token = CancellationToken::Create();
  CallOptions options;
  options.cancellation = token;
  auto reply = std::async(std::launch::async,
                          [&] { return channel->CallRaw("test.Rpc/Hang", "", options); });
  ASSERT_TRUE(observed_.WaitFor([&] { return observed_.hang_started == 1; }));
  token->Cancel();
  absl::StatusOr<std::string> result = reply.get();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(result.status().message(), "test.Rpc/Hang was cancelled by the client");
  ASSERT_TRUE(observed_.WaitFor([&] { return observed_.hang_cancel_reasons.size() == 1; }));
  EXPECT_EQ(observed_.hang_cancel_reasons[0],
            absl::CancelledError("test.Rpc/Hang was cancelled by the client"));
  EXPECT_EQ(observed_.cancel_callbacks, 1);
  // A token already cancelled fails new calls at once.
  auto again = channel->CallRaw("test.Rpc/Headers", "", options);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(again.status().message(), "test.Rpc/Headers was cancelled before it started");
  EXPECT_TRUE(channel->CallRaw("appwire.v1.Health/Check", "").ok());
}

TEST_F(RpcTest, HeadersReachTheHandlerAndTrailersComeBack) {
  auto channel = Connect();
  Metadata trailers;
  CallOptions options;
  options.metadata.emplace("x-request-id", "42");
  options.metadata.emplace("token-bin", std::string("\0\1\xff", 3));
  options.trailers = &trailers;
  auto reply = channel->CallRaw("test.Rpc/Headers", "", options);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, "42");
  EXPECT_EQ(trailers, (Metadata{{"echo-token-bin", std::string("\0\1\xff", 3)},
                                {"echo-x-request-id", "42"},
                                {"x-served-by", "rpc-test"}}));
}

TEST_F(RpcTest, MetadataOverEitherLimitIsRefusedAndTheConnectionStays) {
  auto channel = Connect();
  CallOptions big;
  big.metadata.emplace("x-big", std::string(9000, 'v'));
  auto reply = channel->CallRaw("test.Rpc/Headers", "", big);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(reply.status().message(),
            "the request headers of test.Rpc/Headers: metadata of 9005 bytes exceeds the limit "
            "of 8192 bytes (kMaxMetadataSize)");
  CallOptions bad;
  bad.metadata.emplace("X-Upper", "v");
  reply = channel->CallRaw("test.Rpc/Headers", "", bad);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("metadata key \"X-Upper\""));
  // The server's own, lower limit.
  ASSERT_TRUE(server_->SetParameter(Parameter::kMaxMetadataSize, 100).ok());
  CallOptions medium;
  medium.metadata.emplace("x-medium", std::string(192, 'v'));
  reply = channel->CallRaw("test.Rpc/Headers", "", medium);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(reply.status().message(),
            "the request headers of test.Rpc/Headers: metadata of 200 bytes exceeds the limit "
            "of 100 bytes (kMaxMetadataSize)");
  EXPECT_TRUE(channel->CallRaw("appwire.v1.Health/Check", "").ok());
  EXPECT_EQ(channel->connections_made(), 1);
}

TEST_F(RpcTest, ClientMetadataLimitFollowsAProcessWideChangeAfterConnect) {
  // The server allows more, so a refusal below is the client's own.
  ASSERT_TRUE(server_->SetParameter(Parameter::kMaxMetadataSize, 32768).ok());
  auto channel = Connect();
  CallOptions medium;
  medium.metadata.emplace("x-medium", std::string(192, 'v'));
  EXPECT_TRUE(channel->CallRaw("test.Rpc/Headers", "", medium).ok());
  // The channel's parameter snapshot is taken again after the change.
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kMaxMetadataSize, 100).ok());
  auto reply = channel->CallRaw("test.Rpc/Headers", "", medium);
  ResetDatabaseParameters();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(reply.status().message(),
            "the request headers of test.Rpc/Headers: metadata of 200 bytes exceeds the limit "
            "of 100 bytes (kMaxMetadataSize)");
  EXPECT_TRUE(channel->CallRaw("test.Rpc/Headers", "", medium).ok());
  EXPECT_EQ(channel->connections_made(), 1);
}

TEST_F(RpcTest, ServerStreamStopsAtTheWindowUntilTheClientReads) {
  auto channel = Connect();
  // 64 messages of 64 KiB: 4 MiB, four times the 1 MiB window.
  std::unique_ptr<ClientStream> stream =
      channel->OpenStream("test.Rpc/Count", MethodKind::kServerStreaming, "64:65536");
  // Without reading, the server gets at most one window out (plus the one
  // message that may overdraw it). Give it time to overrun if it could.
  int written = -1;
  for (int i = 0; i < 50 && written != observed_.messages_written.load(); ++i) {
    written = observed_.messages_written.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
  }
  EXPECT_GE(written, 8);
  EXPECT_LE(written, 17);  // 1 MiB / 64 KiB + 1
  std::string message;
  int read = 0;
  while (stream->Read(&message)) {
    ASSERT_EQ(message.size(), 65536u);
    ++read;
  }
  EXPECT_EQ(read, 64);
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(observed_.messages_written.load(), 64);
}

TEST_F(RpcTest, AStreamOfHundredsOfMegabytesKeepsMemoryFlat) {
  auto channel = Connect();
  testing::MemorySampler memory;
  // 1280 x 256 KiB = 320 MiB from the server, read slower than it is sent.
  std::unique_ptr<ClientStream> stream =
      channel->OpenStream("test.Rpc/Count", MethodKind::kServerStreaming, "1280:262144");
  uint64_t total = 0;
  int read = 0;
  std::string message;
  while (stream->Read(&message)) {
    total += message.size();
    if (++read % 64 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(total, uint64_t{320} << 20);
  // The memory of this process (client and server both) grew by far less
  // than the 320 MiB that went through.
  memory.Stop();
  EXPECT_LT(memory.growth(), int64_t{64} << 20) << memory.Describe();
}

TEST_F(RpcTest, ClientStreamAndBidiStreamCarryEveryMessage) {
  auto channel = Connect();
  std::unique_ptr<ClientStream> upload =
      channel->OpenStream("test.Rpc/Sum", MethodKind::kClientStreaming, "");
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(upload->Write(std::string(100000, 'u')));
  ASSERT_TRUE(upload->Finish().ok());
  EXPECT_EQ(upload->response(), "4000000");

  std::unique_ptr<ClientStream> shout =
      channel->OpenStream("test.Rpc/Shout", MethodKind::kBidiStreaming, "");
  std::string reply;
  for (const char* word : {"ping", "pong", "done"}) {
    ASSERT_TRUE(shout->Write(word));
    ASSERT_TRUE(shout->Read(&reply));
    EXPECT_EQ(reply, absl::AsciiStrToUpper(word));
  }
  ASSERT_TRUE(shout->WritesDone());
  EXPECT_FALSE(shout->Read(&reply));
  EXPECT_TRUE(shout->Finish().ok());
}

TEST_F(RpcTest, AServerThatEndsAnUploadEarlyReleasesABlockedWriter) {
  auto channel = Connect();
  CallOptions bounded;  // a writer that stays blocked fails here instead of hanging
  bounded.timeout = absl::Seconds(20);
  std::unique_ptr<ClientStream> upload =
      channel->OpenStream("test.Rpc/RefuseUpload", MethodKind::kClientStreaming, "", bounded);
  // More than the 1 MiB window: the writer must block, then learn the
  // server's answer instead of waiting for credit that never comes.
  int written = 0;
  while (written < 100 && upload->Write(std::string(64 * 1024, 'u'))) ++written;
  EXPECT_LT(written, 100);
  EXPECT_EQ(upload->Finish(), absl::FailedPreconditionError("uploads are closed today"));
}

TEST_F(RpcTest, ACallbackMayDropTheLastReferenceToTheChannel) {
  auto channel = Connect();
  std::promise<absl::Status> done;
  // The channel is destroyed from inside its own I/O thread's callback.
  channel->CallRawAsync("appwire.v1.Health/Check", "", {},
                        [&done, keep = channel](absl::StatusOr<std::string> reply) mutable {
                          keep.reset();
                          done.set_value(reply.status());
                        });
  channel.reset();
  EXPECT_TRUE(done.get_future().get().ok());
  // The process is still here, and a new channel works.
  auto again = Connect();
  EXPECT_TRUE(again->CallRaw("appwire.v1.Health/Check", "").ok());
}

TEST_F(RpcTest, StreamCalledAsTheWrongKindIsRefusedWithTheFix) {
  auto channel = Connect();
  auto reply = channel->CallRaw("test.Rpc/Sum", "");
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reply.status().message(),
            "test.Rpc/Sum is a client-streaming method; the client called it as unary; "
            "regenerate the client's stubs from the same .proto file");
}

TEST_F(RpcTest, CancellingAStreamStopsTheServersWriter) {
  auto channel = Connect();
  std::unique_ptr<ClientStream> stream =
      channel->OpenStream("test.Rpc/Count", MethodKind::kServerStreaming, "100000:1024");
  std::string message;
  ASSERT_TRUE(stream->Read(&message));
  stream->Cancel();
  EXPECT_FALSE(stream->Read(&message));
  absl::Status status = stream->Finish();
  EXPECT_EQ(status, absl::CancelledError("test.Rpc/Count was cancelled by the client"));
  // The server stops writing (its Write() returns false); it had sent at
  // most what the window let out.
  int before = -1;
  for (int i = 0; i < 50 && before != observed_.messages_written.load(); ++i) {
    before = observed_.messages_written.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LT(observed_.messages_written.load(), 100000);
}

class LimitsTest : public RpcTest {
 protected:
  void SetUp() override {
    ServerOptions options;
    EXPECT_TRUE(options.parameters.Set(Parameter::kMaxConcurrentCalls, 2).ok());
    StartWith(options);
  }
};

TEST_F(LimitsTest, CallsOverTheConcurrencyLimitGetResourceExhaustedAndTheConnectionStays) {
  auto channel = Connect();
  auto token = CancellationToken::Create();
  CallOptions hang;
  hang.cancellation = token;
  std::promise<absl::Status> first, second;
  channel->CallRawAsync("test.Rpc/Hang", "", hang,
                        [&](absl::StatusOr<std::string> r) { first.set_value(r.status()); });
  channel->CallRawAsync("test.Rpc/Hang", "", hang,
                        [&](absl::StatusOr<std::string> r) { second.set_value(r.status()); });
  ASSERT_TRUE(observed_.WaitFor([&] { return observed_.hang_started == 2; }));
  auto refused = channel->CallRaw("test.Rpc/Slow", "");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().message(),
            "test.Rpc/Slow refused: 2 calls are already running on this connection, the limit "
            "is 2 (kMaxConcurrentCalls); retry when some finish");
  token->Cancel();
  EXPECT_EQ(first.get_future().get().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(second.get_future().get().code(), absl::StatusCode::kCancelled);
  ASSERT_TRUE(observed_.WaitFor([&] { return observed_.hang_cancel_reasons.size() == 2; }));
  // The handlers have returned or are about to: the same connection serves
  // again once they have.
  absl::StatusOr<std::string> after = absl::UnknownError("not tried");
  for (int i = 0; i < 100; ++i) {
    after = channel->CallRaw("test.Rpc/Slow", "");
    if (after.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(channel->connections_made(), 1);
}

// A stand-in for a UI thread: runs what is posted to it, in order.
class UiThread {
 public:
  UiThread() : thread_([this] { Run(); }) {}
  ~UiThread() {
    Post(nullptr);
    thread_.join();
  }
  void Post(std::function<void()> task) {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
    wake_.notify_one();
  }
  std::thread::id id() const { return thread_.get_id(); }

 private:
  void Run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [this] { return !tasks_.empty(); });
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      if (!task) return;
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::thread thread_;
};

TEST_F(RpcTest, CallbacksRunOnTheExecutorTheAppGives) {
  UiThread ui;
  std::mutex mu;
  std::vector<std::pair<ChannelState, std::thread::id>> states;
  ChannelOptions options = ClientOptions(*server_, project_.File("cert.pem"));
  options.callback_executor = [&ui](std::function<void()> task) { ui.Post(std::move(task)); };
  options.on_state_change = [&](ChannelState state, const absl::Status&) {
    std::lock_guard<std::mutex> lock(mu);
    states.emplace_back(state, std::this_thread::get_id());
  };
  auto channel = Connect(options);
  std::promise<std::thread::id> completed_on;
  channel->CallRawAsync("appwire.v1.Health/Check", "", {},
                        [&](absl::StatusOr<std::string> reply) {
                          EXPECT_TRUE(reply.ok());
                          completed_on.set_value(std::this_thread::get_id());
                        });
  EXPECT_EQ(completed_on.get_future().get(), ui.id());
  // A blocking call does not need the executor (the UI thread may be the
  // caller).
  std::promise<bool> blocking_ok;
  ui.Post([&] { blocking_ok.set_value(channel->CallRaw("appwire.v1.Health/Check", "").ok()); });
  EXPECT_TRUE(blocking_ok.get_future().get());
  std::promise<void> drained;
  ui.Post([&] { drained.set_value(); });
  drained.get_future().get();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].first, ChannelState::kConnecting);
  EXPECT_EQ(states[1].first, ChannelState::kReady);
  for (auto& [state, thread] : states) EXPECT_EQ(thread, ui.id());
}

TEST_F(RpcTest, AfterADrainStatesFollowAndFailFastCallsFailAtOnce) {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<ChannelState> states;
  absl::Status last_reason;
  ChannelOptions options = ClientOptions(*server_, project_.File("cert.pem"));
  options.reconnect_backoff.initial = absl::Milliseconds(20);
  options.reconnect_backoff.max = absl::Milliseconds(100);
  options.on_state_change = [&](ChannelState state, const absl::Status& reason) {
    std::lock_guard<std::mutex> lock(mu);
    states.push_back(state);
    if (!reason.ok()) last_reason = reason;
    changed.notify_all();
  };
  auto channel = Connect(options);
  // One call first: the server's side of the handshake is then done too (a
  // connection still in its handshake cannot be sent a GoAway, and is just
  // closed).
  ASSERT_TRUE(channel->CallRaw("appwire.v1.Health/Check", "").ok());
  server_->Drain(absl::Seconds(1));
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(10), [&] {
      return !states.empty() && states.back() == ChannelState::kIdle;
    })) << [&] {
      std::string seen;
      for (ChannelState state : states) absl::StrAppend(&seen, ChannelStateName(state), "; ");
      return seen;
    }();
  }
  // Idle: a fail-fast call still gets one connection attempt, which fails.
  CallOptions fail_fast;
  fail_fast.fail_fast = true;
  auto reply = channel->CallRaw("appwire.v1.Health/Check", "", fail_fast);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(reply.status().message()),
              HasSubstr("appwire.v1.Health/Check failed: the server at 127.0.0.1:"));
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("Connection refused"));
  // In transient failure, fail-fast calls fail without waiting.
  reply = channel->CallRaw("appwire.v1.Health/Check", "", fail_fast);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  channel->Close();
  EXPECT_EQ(channel->state(), ChannelState::kShutdown);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_GE(states.size(), 6u);
  EXPECT_EQ(states.back(), ChannelState::kShutdown);
  EXPECT_EQ(states[0], ChannelState::kConnecting);
  EXPECT_EQ(states[1], ChannelState::kReady);
  EXPECT_EQ(states[2], ChannelState::kIdle);
  EXPECT_EQ(states[3], ChannelState::kConnecting);
  EXPECT_EQ(states[4], ChannelState::kTransientFailure);
  EXPECT_THAT(std::string(last_reason.message()), HasSubstr("Connection refused"));
}

class FewWorkersTest : public RpcTest {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.worker_threads = 2;
    StartWith(options);
  }
};

TEST_F(FewWorkersTest, MoreOpenStreamsThanWorkersAllProgressAndUnaryCallsStillRun) {
  auto channel = Connect();
  // Eight streams held open at once, each waiting on the client, with two
  // workers: none may wait for another to finish.
  std::vector<std::unique_ptr<ClientStream>> streams;
  CallOptions bounded;  // a starved stream fails instead of hanging the test
  bounded.timeout = absl::Seconds(10);
  for (int i = 0; i < 8; ++i) {
    streams.push_back(
        channel->OpenStream("test.Rpc/Shout", MethodKind::kBidiStreaming, "", bounded));
  }
  std::string reply;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(streams[i]->Write(absl::StrCat("stream ", i)));
    ASSERT_TRUE(streams[i]->Read(&reply));
    EXPECT_EQ(reply, absl::StrCat("STREAM ", i));
  }
  auto slow = channel->CallRaw("test.Rpc/Slow", "");
  EXPECT_TRUE(slow.ok()) << slow.status();
  for (auto& stream : streams) EXPECT_TRUE(stream->Finish().ok());
}

class DrainTest : public RpcTest {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.worker_threads = 4;
    StartWith(options);
  }
};

TEST_F(DrainTest, EveryOneOfAHundredCallsInFlightCompletesOrGetsAStatus) {
  auto channel = Connect();
  std::mutex mu;
  std::condition_variable all_done;
  std::vector<absl::StatusOr<std::string>> results;
  for (int i = 0; i < 100; ++i) {
    channel->CallRawAsync("test.Rpc/Slow", "", {}, [&](absl::StatusOr<std::string> reply) {
      std::lock_guard<std::mutex> lock(mu);
      results.push_back(std::move(reply));
      all_done.notify_all();
    });
  }
  // 100 calls of 50 ms on 4 workers need 1.25 s; the drain allows 0.5 s.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server_->Drain(absl::Milliseconds(500));
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(all_done.wait_for(lock, std::chrono::seconds(10),
                                [&] { return results.size() == 100; }))
      << results.size() << " of 100 calls ended";
  int completed = 0, cancelled = 0;
  for (const auto& result : results) {
    if (result.ok()) {
      EXPECT_EQ(*result, "done");
      ++completed;
    } else {
      EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
      EXPECT_THAT(std::string(result.status().message()),
                  HasSubstr("test.Rpc/Slow was cancelled: the server shut down and the call was "
                            "still running after the drain timeout of 500ms"));
      ++cancelled;
    }
  }
  EXPECT_GT(completed, 10);
  EXPECT_GT(cancelled, 10);
  EXPECT_EQ(completed + cancelled, 100);
}

}  // namespace
}  // namespace appwire
