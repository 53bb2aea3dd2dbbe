// InMemoryServerSide: the server's connection management without a Server,
// TLS or sockets, for the unit tests of server/connection_registry and
// server/dispatch. It runs an I/O thread with a ConnectionRegistry on a
// FakeClock; Connect() serves the server's end of an in-memory pair
// (appwire/transport/memory_stream.h) and hands the client's end to a
// RawFrameClient. Frames go to the handler given (a Dispatcher, or the
// test's own).
//
// Stop() (or the destructor) closes every connection and stops the I/O
// thread; a test that owns something on that thread (a Dispatcher's timer)
// calls Stop() before destroying it.
#ifndef APPWIRE_TESTS_IN_MEMORY_SERVER_SIDE_H_
#define APPWIRE_TESTS_IN_MEMORY_SERVER_SIDE_H_

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "appwire/common/clock.h"
#include "appwire/common/parameters.h"
#include "appwire/server/connection_registry.h"
#include "appwire/server/internal/testing_peer.h"
#include "appwire/server/server_parameters.h"
#include "appwire/transport/memory_stream.h"
#include "tests/raw_frame_client.h"

namespace appwire::testing {

class InMemoryServerSide {
 public:
  explicit InMemoryServerSide(ConnectionRegistry::FrameHandler on_frame,
                              ParameterOverrides overrides = {})
      : parameters_(std::make_shared<ServerParameters>(std::move(overrides))),
        registry_(io_, clock_, parameters_, std::move(on_frame)),
        work_(io_.get_executor()),
        thread_([this] { io_.run(); }) {
    registry_.StartTicks();
  }
  ~InMemoryServerSide() { Stop(); }
  InMemoryServerSide(const InMemoryServerSide&) = delete;
  InMemoryServerSide& operator=(const InMemoryServerSide&) = delete;

  asio::io_context& io() { return io_; }
  FakeClock& clock() { return clock_; }
  const std::shared_ptr<ServerParameters>& parameters() { return parameters_; }
  ConnectionRegistry& registry() { return registry_; }

  // A client whose server end `registry()` serves (on the I/O thread, as
  // accepted connections are), known in the server's messages as `name`.
  std::unique_ptr<RawFrameClient> Connect(const std::string& name = "memory:1") {
    return std::make_unique<RawFrameClient>([this, name](asio::io_context& client_io) {
      MemoryStream::Pair pair = ServerTestingPeer::CreateInMemoryPair(client_io, io_, name);
      asio::post(io_, [this, stream = pair.second] { registry_.Serve(stream, FrameLimits()); });
      return std::move(pair.first);
    });
  }

  // The status of the GoAway that `client` receives next (its code and
  // message); INTERNAL saying what came instead when it is not a GoAway.
  static absl::Status NextGoAway(RawFrameClient& client) {
    absl::StatusOr<DecodedHeader> frame = client.NextFrame(absl::Seconds(5));
    if (!frame.ok()) return absl::InternalError(frame.status().ToString());
    if (!frame->header.has_go_away()) {
      return absl::InternalError("not a go_away: " + frame->header.ShortDebugString());
    }
    return absl::Status(static_cast<absl::StatusCode>(frame->header.go_away().status_code()),
                        frame->header.go_away().status_message());
  }

  // Runs `task` on the I/O thread and waits for it (bounded).
  template <typename Task>
  void OnIoThread(Task task) {
    std::promise<void> done;
    asio::post(io_, [&] {
      task();
      done.set_value();
    });
    done.get_future().wait_for(std::chrono::seconds(5));
  }

  void Stop() {
    if (!thread_.joinable()) return;
    for (auto& entry : registry_.Open()) {
      entry.connection->Close(absl::UnavailableError("the test is over"), false);
    }
    OnIoThread([] {});
    work_.reset();
    io_.stop();
    thread_.join();
    registry_.Clear();
  }

 private:
  asio::io_context io_{1};
  FakeClock clock_;
  std::shared_ptr<ServerParameters> parameters_;
  ConnectionRegistry registry_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace appwire::testing

#endif  // APPWIRE_TESTS_IN_MEMORY_SERVER_SIDE_H_
