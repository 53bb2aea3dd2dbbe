#include "appwire/transport/memory_stream.h"

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "gtest/gtest.h"

namespace appwire {
namespace {

// Two ends, each with an I/O thread of its own, as a client and a server.
class MemoryStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TlsSessionInfo a;
    a.peer_address = "b";
    a.version = "none (in memory)";
    TlsSessionInfo b;
    b.peer_address = "a";
    MemoryStream::Pair pair = MemoryStream::CreatePair(a_io_, a, b_io_, b);
    a_ = pair.first;
    b_ = pair.second;
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    a_work_.reset();
    b_work_.reset();
    a_thread_.join();
    b_thread_.join();
  }

  // One read on `stream` (on its I/O thread): what it appended, or its error.
  static absl::StatusOr<std::string> ReadOnce(asio::io_context& io,
                                              const std::shared_ptr<MemoryStream>& stream) {
    // Shared with the completion, which may outlive a timed-out wait.
    auto buffer = std::make_shared<std::string>();
    auto done = std::make_shared<std::promise<absl::Status>>();
    std::future<absl::Status> result = done->get_future();
    asio::post(io, [stream, buffer, done] {
      stream->AsyncRead(buffer.get(), [buffer, done](absl::Status status) {
        done->set_value(status);
      });
    });
    if (result.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      return absl::DeadlineExceededError("no read completion within 5 s");
    }
    absl::Status status = result.get();
    if (!status.ok()) return status;
    return *buffer;
  }

  asio::io_context a_io_, b_io_;
  asio::executor_work_guard<asio::io_context::executor_type> a_work_ =
      asio::make_work_guard(a_io_);
  asio::executor_work_guard<asio::io_context::executor_type> b_work_ =
      asio::make_work_guard(b_io_);
  std::thread a_thread_{[this] { a_io_.run(); }};
  std::thread b_thread_{[this] { b_io_.run(); }};
  std::shared_ptr<MemoryStream> a_, b_;
};

TEST_F(MemoryStreamTest, TheHandshakeSucceedsWithTheInfoGiven) {
  std::promise<absl::Status> done;
  a_->AsyncHandshake([&done](absl::Status status) { done.set_value(status); });
  EXPECT_TRUE(done.get_future().get().ok());
  EXPECT_EQ(a_->info().version, "none (in memory)");
  EXPECT_EQ(a_->peer_address(), "b");
  EXPECT_EQ(b_->peer_address(), "a");
  EXPECT_EQ(a_->SavedSession(), nullptr);
}

TEST_F(MemoryStreamTest, WhatOneEndWritesTheOtherReadsInOrderAndItCountsAsQueuedUntilThen) {
  ASSERT_TRUE(a_->Write("hello, ").ok());
  ASSERT_TRUE(a_->Write("b").ok());
  EXPECT_EQ(a_->queued_bytes(), 8u);
  EXPECT_EQ(b_->queued_bytes(), 0u);
  absl::StatusOr<std::string> read = ReadOnce(b_io_, b_);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "hello, b");
  EXPECT_EQ(a_->queued_bytes(), 0u);
  // And the other way, a read waiting before the write.
  std::future<absl::StatusOr<std::string>> waiting =
      std::async(std::launch::async, [this] { return ReadOnce(a_io_, a_); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(b_->Write("back").ok());
  read = waiting.get();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "back");
}

TEST_F(MemoryStreamTest, TheDrainedCallbackRunsWhenThePeerEmptiesABacklog) {
  std::promise<void> drained;
  a_->SetDrainedCallback([&drained] { drained.set_value(); });
  ASSERT_TRUE(a_->Write(std::string(100000, 'x')).ok());
  EXPECT_EQ(a_->queued_bytes(), 100000u);
  ASSERT_TRUE(ReadOnce(b_io_, b_).ok());
  EXPECT_EQ(drained.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

TEST_F(MemoryStreamTest, AfterShutdownThePeerReadsWhatWasWrittenThenTheEnd) {
  ASSERT_TRUE(a_->Write("last words").ok());
  a_->Shutdown();
  EXPECT_EQ(a_->Write("more").code(), absl::StatusCode::kUnavailable);
  absl::StatusOr<std::string> read = ReadOnce(b_io_, b_);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "last words");
  read = ReadOnce(b_io_, b_);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(read.status().message(), "the connection with a was closed by the peer");
  // The other direction still works: shutdown ends only the sending side.
  ASSERT_TRUE(b_->Write("reply").ok());
  read = ReadOnce(a_io_, a_);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "reply");
}

TEST_F(MemoryStreamTest, CloseEndsAPendingReadAndThePeersWrites) {
  std::future<absl::StatusOr<std::string>> waiting =
      std::async(std::launch::async, [this] { return ReadOnce(a_io_, a_); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(a_->Write("last words").ok());
  a_->Close();
  EXPECT_EQ(waiting.get().status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(b_->Write("to nobody").code(), absl::StatusCode::kUnavailable);
  // As a TCP peer after a close: what was written, then the end.
  absl::StatusOr<std::string> read = ReadOnce(b_io_, b_);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "last words");
  EXPECT_EQ(ReadOnce(b_io_, b_).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(MemoryStreamTest, NoDrainedCallbackWithoutABacklog) {
  std::atomic<int> drained{0};
  a_->SetDrainedCallback([&drained] { ++drained; });
  // A read waits first (AsyncRead is thread-safe here): the write goes
  // straight to it, no backlog.
  auto buffer = std::make_shared<std::string>();
  auto done = std::make_shared<std::promise<absl::Status>>();
  b_->AsyncRead(buffer.get(), [buffer, done](absl::Status status) { done->set_value(status); });
  ASSERT_TRUE(a_->Write("straight through").ok());
  ASSERT_TRUE(done->get_future().get().ok());
  EXPECT_EQ(*buffer, "straight through");
  // A marker through a_'s executor: the callback would have run before it.
  std::promise<void> marker;
  a_->Post([&marker] { marker.set_value(); });
  marker.get_future().wait();
  EXPECT_EQ(drained.load(), 0);
}

TEST_F(MemoryStreamTest, CloseWithinLetsAWriterFinishThenCloses) {
  a_->CloseWithin(absl::Milliseconds(100));
  ASSERT_TRUE(a_->Write("in time").ok());  // as a final GoAway after a response
  absl::StatusOr<std::string> read = ReadOnce(b_io_, b_);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "in time");
  // The next read waits for the bound, then sees the end.
  EXPECT_EQ(ReadOnce(b_io_, b_).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(a_->Write("late").code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace appwire
