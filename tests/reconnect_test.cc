// A desktop client against an appwire-server process that dies, comes
// back, or stops answering: what the client sees, and how it recovers.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "appwire/client/channel.h"
#include "appwire/common/files.h"
#include "appwire/transport/certificate_info.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::TempDir;
using ::testing::HasSubstr;

// appwire-server on `project`, on `port` (0: any). Returns its pid and sets
// *port to the port it listens on; -1 when it did not start.
pid_t StartServerProcess(const TempDir& dir, int* port, const std::string& log_name) {
  const std::string log = dir.File(log_name);
  pid_t pid = testing::SpawnAppwireServer(
      APPWIRE_SERVER_BINARY,
      {"--project", dir.File("project"), "--port", std::to_string(*port), "--bind", "127.0.0.1"},
      log);
  if (pid <= 0) return -1;
  std::string text;
  for (int i = 0; i < 1000 && text.find("listening on 127.0.0.1:") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    text = testing::ReadText(log);
  }
  const size_t at = text.find("listening on 127.0.0.1:");
  if (at == std::string::npos) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return -1;
  }
  *port = std::atoi(text.c_str() + at + 23);
  return pid;
}

void Kill(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// Records the states a channel goes through.
struct StateLog {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<ChannelState> states;

  bool WaitFor(ChannelState wanted, absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu);
    return changed.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] {
      return !states.empty() && states.back() == wanted;
    });
  }
};

ChannelOptions ClientFor(const TempDir& dir, int port, StateLog* log) {
  ChannelOptions options;
  options.target = absl::StrCat("127.0.0.1:", port);
  options.ca_file = dir.File("project/cert.pem");
  options.reconnect_backoff.initial = absl::Milliseconds(50);
  options.reconnect_backoff.max = absl::Milliseconds(200);
  options.on_state_change = [log](ChannelState state, const absl::Status&) {
    std::lock_guard<std::mutex> lock(log->mu);
    log->states.push_back(state);
    log->changed.notify_all();
  };
  return options;
}

TEST(ReconnectTest, AKilledServerGivesUnavailableThenTheClientReconnectsResumingTheSession) {
  TempDir dir;
  int port = 0;
  pid_t pid = StartServerProcess(dir, &port, "first.log");
  ASSERT_GT(pid, 0);
  StateLog states;
  auto channel = Channel::Connect(ClientFor(dir, port, &states));
  ASSERT_TRUE(channel.ok()) << channel.status();
  ASSERT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());
  EXPECT_FALSE((*channel)->session_info().resumed);

  Kill(pid);
  // Promptly: the loss is noticed from the closed socket, and calls that
  // ask to fail fast do so with kUnavailable and the reason.
  ASSERT_TRUE(states.WaitFor(ChannelState::kTransientFailure, absl::Seconds(5)));
  CallOptions fail_fast;
  fail_fast.fail_fast = true;
  auto reply = (*channel)->CallRaw("appwire.v1.Health/Check", "", fail_fast);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(reply.status().message()),
              HasSubstr(absl::StrCat("failed at once (fail_fast): the server at 127.0.0.1:",
                                     port, " is unreachable: ")));
  // A call that waits for readiness is served once the server is back.
  auto waiting = std::async(std::launch::async, [&] {
    CallOptions options;
    options.timeout = absl::Seconds(20);
    return (*channel)->CallRaw("appwire.v1.Health/Check", "", options);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  pid = StartServerProcess(dir, &port, "second.log");
  ASSERT_GT(pid, 0);
  absl::StatusOr<std::string> served = waiting.get();
  EXPECT_TRUE(served.ok()) << served.status();
  EXPECT_EQ((*channel)->state(), ChannelState::kReady);
  EXPECT_EQ((*channel)->connections_made(), 2);
  // The new process accepted the ticket the old one issued
  // (session-ticket.key): no certificate exchange on the reconnect.
  EXPECT_TRUE((*channel)->session_info().resumed);
  Kill(pid);
}

// A resumed session carries no certificate, so the pin must not be checked
// on it again: before the fix every reconnect of a pinned channel failed with
// "... does not match the pinned fingerprint: expected SHA256:..., the
// server presented none".
TEST(ReconnectTest, APinnedChannelReconnectsResumingTheSession) {
  TempDir dir;
  int port = 0;
  pid_t pid = StartServerProcess(dir, &port, "first.log");
  ASSERT_GT(pid, 0);
  auto pem = ReadFile(dir.File("project/cert.pem"));
  ASSERT_TRUE(pem.ok()) << pem.status();
  auto info = DescribeCertificatePem(*pem, "cert.pem");
  ASSERT_TRUE(info.ok()) << info.status();
  StateLog states;
  ChannelOptions options = ClientFor(dir, port, &states);
  options.ca_file.clear();
  options.pinned_sha256 = info->sha256_fingerprint;
  auto channel = Channel::Connect(options);
  ASSERT_TRUE(channel.ok()) << channel.status();
  ASSERT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());
  EXPECT_FALSE((*channel)->session_info().resumed);
  Kill(pid);
  ASSERT_TRUE(states.WaitFor(ChannelState::kTransientFailure, absl::Seconds(5)));
  pid = StartServerProcess(dir, &port, "second.log");
  ASSERT_GT(pid, 0);
  CallOptions bounded;
  bounded.timeout = absl::Seconds(20);
  absl::StatusOr<std::string> served = (*channel)->CallRaw("appwire.v1.Health/Check", "", bounded);
  EXPECT_TRUE(served.ok()) << served.status();
  EXPECT_EQ((*channel)->connections_made(), 2);
  EXPECT_TRUE((*channel)->session_info().resumed);
  Kill(pid);
}

TEST(ReconnectTest, AServerThatStopsAnsweringIsDetectedByKeepalive) {
  TempDir dir;
  int port = 0;
  pid_t pid = StartServerProcess(dir, &port, "server.log");
  ASSERT_GT(pid, 0);
  StateLog states;
  ChannelOptions options = ClientFor(dir, port, &states);
  ASSERT_TRUE(options.parameters.Set(Parameter::kKeepaliveInterval, 100).ok());
  ASSERT_TRUE(options.parameters.Set(Parameter::kKeepaliveTimeout, 300).ok());
  auto channel = Channel::Connect(options);
  ASSERT_TRUE(channel.ok()) << channel.status();
  ASSERT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());
  // The process stops: its kernel still holds the TCP connection, so only
  // an unanswered ping can tell.
  kill(pid, SIGSTOP);
  for (int i = 0; i < 500 && testing::ReadText(absl::StrCat("/proc/", pid, "/stat"))
                                     .find(") T ") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto reply = (*channel)->CallRaw("appwire.v1.Health/Check", "");
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(reply.status().message()),
              HasSubstr(absl::StrCat("appwire.v1.Health/Check failed: no reply from 127.0.0.1:",
                                     port, " to a keepalive ping within 300ms "
                                     "(kKeepaliveTimeout); the peer or the network is gone")));
  kill(pid, SIGCONT);
  Kill(pid);
}

}  // namespace
}  // namespace appwire
