// A Channel's lifetime: destroying it at any moment (around a keepalive
// loss, while calls wait for a connection, while the reconnect backoff runs,
// from inside its own callbacks, while another thread cancels a call) leaves
// no object of it behind, runs no state-change callback after the destructor
// returned, and delivers every call's completion before it returns.
//
// Long on purpose: one suite; each test is one moment of the lifetime, and
// they share the fixture that counts live objects.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "appwire/client/channel.h"
#include "appwire/client/internal/live_objects.h"
#include "appwire/server/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::ClientOptions;
using ::appwire::testing::StartServer;
using ::appwire::testing::TempDir;
using ::testing::AnyOf;
using ::testing::HasSubstr;

// "nothing", or what is left of channels in this process.
std::string Left() {
  internal::LiveChannelObjects live = internal::LiveChannelObjectsForTesting();
  if (live.impls == 0 && live.links == 0 && live.connections == 0) return "nothing";
  return absl::StrCat(live.impls, " Channel::Impl, ", live.links, " Link, ", live.connections,
                      " Connection");
}

// Left(), once it says "nothing" or `timeout` passed: for a channel
// destroyed on its own I/O thread, which ends it right after.
std::string LeftAfter(absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  while (Left() != "nothing" && absl::Now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Left();
}

// A TCP relay from the client to the server that can stop relaying: the
// server then looks like a stopped process, whose kernel still accepts
// connections and keeps them open but which never answers (what
// reconnect_test does with SIGSTOP, without a process).
class Relay {
 public:
  explicit Relay(int server_port) : server_port_(server_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        listen(listen_fd_, 16) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "relay: cannot listen";
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~Relay() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (auto& [client, server] : pairs_) {
      close(client);
      close(server);
    }
    for (auto& [client, since] : hanging_) close(client);
    close(listen_fd_);
  }
  int port() const { return port_; }
  // From now on nothing goes through, either way, on old and new connections.
  void Freeze() { frozen_ = true; }
  // From now on the relay closes the connections it relays, and accepts
  // new ones only to close them a few milliseconds later, relaying nothing:
  // the client's TCP connects succeed and its TLS handshakes fail soon
  // after, attempt after attempt. Until it closes, a connection is a
  // server that does not answer.
  void HangUpOnEveryone() { hanging_up_ = true; }

 private:
  void Run() {
    while (!stop_) {
      if (hanging_up_) {
        for (auto& [client, server] : pairs_) {
          close(client);
          close(server);
        }
        pairs_.clear();
        const auto now = std::chrono::steady_clock::now();
        while (!hanging_.empty() && now - hanging_.front().second > kHangUpAfter) {
          close(hanging_.front().first);
          hanging_.pop_front();
        }
      }
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      if (!frozen_) {
        for (auto& [client, server] : pairs_) {
          fds.push_back({client, POLLIN, 0});
          fds.push_back({server, POLLIN, 0});
        }
      }
      if (poll(fds.data(), fds.size(), hanging_.empty() ? 10 : 1) <= 0) continue;
      if (fds[0].revents & POLLIN) Accept();
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        const size_t pair = (i - 1) / 2;
        const bool from_client = (i - 1) % 2 == 0;
        if (!Forward(from_client ? pairs_[pair].first : pairs_[pair].second,
                     from_client ? pairs_[pair].second : pairs_[pair].first)) {
          // Either end closed: close the other (the pair is dropped below).
          close(pairs_[pair].first);
          close(pairs_[pair].second);
          pairs_[pair] = {-1, -1};
        }
      }
      pairs_.erase(std::remove(pairs_.begin(), pairs_.end(), std::make_pair(-1, -1)),
                   pairs_.end());
    }
  }
  void Accept() {
    int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) return;
    if (hanging_up_) {
      hanging_.emplace_back(client, std::chrono::steady_clock::now());
      return;
    }
    int server = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(server_port_));
    if (connect(server, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      close(client);
      close(server);
      return;
    }
    pairs_.emplace_back(client, server);
  }
  static bool Forward(int from, int to) {
    char buffer[64 * 1024];
    ssize_t n = read(from, buffer, sizeof(buffer));
    if (n <= 0) return false;
    for (ssize_t sent = 0; sent < n;) {
      ssize_t m = send(to, buffer + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
      if (m <= 0) return false;
      sent += m;
    }
    return true;
  }

  const int server_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> frozen_{false};
  std::atomic<bool> hanging_up_{false};
  static constexpr std::chrono::milliseconds kHangUpAfter{3};
  // Accepted while hanging up, and when (relay thread only).
  std::deque<std::pair<int, std::chrono::steady_clock::time_point>> hanging_;
  std::atomic<bool> stop_{false};
  std::vector<std::pair<int, int>> pairs_;  // relay thread only
  std::thread thread_;
};

// The states a channel went through. Shared: a callback may outlive a test
// step (that is what some tests look for).
struct StateLog {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<ChannelState> states;

  void Add(ChannelState state) {
    std::lock_guard<std::mutex> lock(mu);
    states.push_back(state);
    changed.notify_all();
  }
  // Forgets the states so far: WaitFor then looks at the next ones only.
  void Clear() {
    std::lock_guard<std::mutex> lock(mu);
    states.clear();
  }
  bool WaitFor(ChannelState wanted, absl::Duration timeout = absl::Seconds(10)) {
    std::unique_lock<std::mutex> lock(mu);
    return changed.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] {
      return std::find(states.begin(), states.end(), wanted) != states.end();
    });
  }
};

// The app's callback_executor: a queue that a thread of the app's (here the
// test's) runs when it gets to it, as a UI thread does.
class Queue {
 public:
  std::function<void(std::function<void()>)> Executor() {
    return [this](std::function<void()> callback) {
      std::lock_guard<std::mutex> lock(mu_);
      callbacks_.push_back(std::move(callback));
    };
  }
  // Runs what is queued, and what those queue meanwhile.
  int RunAll() {
    int ran = 0;
    for (;;) {
      std::function<void()> callback;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (callbacks_.empty()) return ran;
        callback = std::move(callbacks_.front());
        callbacks_.pop_front();
      }
      callback();
      ++ran;
    }
  }

 private:
  std::mutex mu_;
  std::deque<std::function<void()>> callbacks_;
};

// A callback_executor with a thread of its own that runs callbacks a little
// late, as a busy UI thread does.
class ExecutorThread {
 public:
  ExecutorThread() : thread_([this] { Run(); }) {}
  ~ExecutorThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      changed_.notify_all();
    }
    thread_.join();
  }
  std::function<void(std::function<void()>)> Executor() {
    return [this](std::function<void()> callback) {
      std::lock_guard<std::mutex> lock(mu_);
      callbacks_.push_back(std::move(callback));
      changed_.notify_all();
    };
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      changed_.wait(lock, [this] { return stop_ || !callbacks_.empty(); });
      if (callbacks_.empty()) return;  // stopping, and everything ran
      std::function<void()> callback = std::move(callbacks_.front());
      callbacks_.pop_front();
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      callback();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> callbacks_;
  bool stop_ = false;
  std::thread thread_;
};

std::shared_ptr<ServiceRegistry> Registry() {
  auto registry = std::make_shared<ServiceRegistry>();
  // Answers only once cancelled (by the client, or as its connection goes).
  EXPECT_TRUE(registry
                  ->RegisterRaw("test.Lifetime/Hang",
                                [](CallContext& context,
                                   absl::string_view) -> absl::StatusOr<std::string> {
                                  while (!context.cancelled()) {
                                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                                  }
                                  return std::string("too late");
                                })
                  .ok());
  EXPECT_TRUE(registry
                  ->RegisterStreamRaw(
                      "test.Lifetime/Echo", MethodKind::kBidiStreaming,
                      [](CallContext&, ServerStream& stream) -> absl::StatusOr<std::string> {
                        std::string message;
                        while (stream.Read(&message)) {
                          if (!stream.Write(message)) break;
                        }
                        return std::string();
                      })
                  .ok());
  return registry;
}

constexpr char kClosed[] = "failed: the client closed the channel";

class ChannelLifetimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Left(), "nothing") << "a channel of an earlier test is still alive";
    ServerOptions options;
    options.project_dir = project_.path();
    options.worker_threads = 8;  // hanging handlers must not hold up the others
    server_ = StartServer(options, Registry());
    ASSERT_NE(server_, nullptr);
    relay_ = std::make_unique<Relay>(server_->port());
  }

  // Through the relay, with a keepalive that notices a frozen relay within
  // about 0.3 s, a short handshake timeout for the attempts that follow,
  // and states into `states`.
  ChannelOptions Options(const std::shared_ptr<StateLog>& states) {
    ChannelOptions options = ClientOptions(*server_, project_.File("cert.pem"));
    options.target = absl::StrCat("127.0.0.1:", relay_->port());
    EXPECT_TRUE(options.parameters.Set(Parameter::kKeepaliveInterval, 100).ok());
    EXPECT_TRUE(options.parameters.Set(Parameter::kKeepaliveTimeout, 200).ok());
    EXPECT_TRUE(options.parameters.Set(Parameter::kHandshakeTimeout, 500).ok());
    options.reconnect_backoff.initial = absl::Milliseconds(20);
    options.reconnect_backoff.max = absl::Milliseconds(100);
    options.on_state_change = [states](ChannelState state, const absl::Status&) {
      states->Add(state);
    };
    return options;
  }

  std::shared_ptr<Channel> Connect(const ChannelOptions& options) {
    absl::StatusOr<std::shared_ptr<Channel>> channel = Channel::Connect(options);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return channel.ok() ? *channel : nullptr;
  }

  TempDir project_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Relay> relay_;  // after server_: goes first
};

TEST_F(ChannelLifetimeTest, DestroyingAChannelLeavesNothingOfIt) {
  auto states = std::make_shared<StateLog>();
  std::shared_ptr<Channel> channel = Connect(Options(states));
  ASSERT_NE(channel, nullptr);
  ASSERT_TRUE(channel->CallRaw("appwire.v1.Health/Check", "").ok());
  EXPECT_NE(Left(), "nothing");
  channel.reset();
  EXPECT_EQ(Left(), "nothing");
}

TEST_F(ChannelLifetimeTest, AStreamKeptAfterItsChannelDoesNotKeepTheChannel) {
  auto states = std::make_shared<StateLog>();
  std::shared_ptr<Channel> channel = Connect(Options(states));
  ASSERT_NE(channel, nullptr);
  std::unique_ptr<ClientStream> stream =
      channel->OpenStream("test.Lifetime/Echo", MethodKind::kBidiStreaming, "");
  ASSERT_TRUE(stream->Write("hello"));
  std::string echoed;
  ASSERT_TRUE(stream->Read(&echoed));
  EXPECT_EQ(echoed, "hello");

  channel.reset();
  EXPECT_EQ(Left(), "nothing");
  // The stream still answers, saying the call is over.
  EXPECT_FALSE(stream->Write("more"));
  EXPECT_FALSE(stream->Read(&echoed));
  absl::Status status = stream->Finish();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(std::string(status.message()), HasSubstr(kClosed));
  stream->Cancel();
  stream.reset();
}

TEST_F(ChannelLifetimeTest, DestroyingItRightAfterAKeepaliveLossLeavesNothing) {
  // Around the loss the channel reconnects at once; its new TLS handshake
  // then waits for a server that does not answer. Destroyed at various
  // moments of that.
  std::mt19937 random(20240610);
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    relay_ = std::make_unique<Relay>(server_->port());
    auto states = std::make_shared<StateLog>();
    std::shared_ptr<Channel> channel = Connect(Options(states));
    ASSERT_NE(channel, nullptr);
    ASSERT_TRUE(channel->CallRaw("appwire.v1.Health/Check", "").ok());
    states->Clear();
    relay_->Freeze();
    ASSERT_TRUE(states->WaitFor(ChannelState::kConnecting));
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 60)(random)));
    channel.reset();
    ASSERT_EQ(Left(), "nothing");
  }
}

TEST_F(ChannelLifetimeTest, CallsWaitingForAConnectionCompleteBeforeTheDestructorReturns) {
  auto states = std::make_shared<StateLog>();
  std::shared_ptr<Channel> channel = Connect(Options(states));
  ASSERT_NE(channel, nullptr);
  ASSERT_TRUE(channel->CallRaw("appwire.v1.Health/Check", "").ok());  // the server's hello came
  states->Clear();
  relay_->Freeze();
  ASSERT_TRUE(states->WaitFor(ChannelState::kConnecting));

  struct Results {
    std::mutex mu;
    std::vector<absl::Status> statuses;
  };
  auto results = std::make_shared<Results>();
  for (int i = 0; i < 3; ++i) {
    channel->CallRawAsync("appwire.v1.Health/Check", "", {},
                          [results](absl::StatusOr<std::string> reply) {
                            std::lock_guard<std::mutex> lock(results->mu);
                            results->statuses.push_back(reply.status());
                          });
  }
  std::unique_ptr<ClientStream> stream =
      channel->OpenStream("test.Lifetime/Echo", MethodKind::kBidiStreaming, "");

  channel.reset();
  {
    std::lock_guard<std::mutex> lock(results->mu);
    ASSERT_EQ(results->statuses.size(), 3u);
    for (const absl::Status& status : results->statuses) {
      EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
      EXPECT_THAT(std::string(status.message()), HasSubstr(kClosed));
    }
  }
  EXPECT_EQ(Left(), "nothing");
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kCancelled);
}

TEST_F(ChannelLifetimeTest, DestroyingItWhileTheBackoffTimerRunsIsPromptAndLeavesNothing) {
  auto states = std::make_shared<StateLog>();
  ChannelOptions options = Options(states);
  options.reconnect_backoff.initial = absl::Seconds(60);
  options.reconnect_backoff.max = absl::Seconds(60);
  options.reconnect_backoff.jitter = 0;
  std::shared_ptr<Channel> channel = Connect(options);
  ASSERT_NE(channel, nullptr);
  ASSERT_TRUE(channel->CallRaw("appwire.v1.Health/Check", "").ok());  // the server's hello came
  states->Clear();
  relay_->Freeze();
  // The reconnect's handshake times out: the next attempt is a minute away.
  ASSERT_TRUE(states->WaitFor(ChannelState::kTransientFailure));
  const absl::Time start = absl::Now();
  channel.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(Left(), "nothing");
}

// The app's last reference, which a callback may drop.
struct Holder {
  std::mutex mu;
  std::shared_ptr<Channel> channel;
  std::atomic<bool> destructor_returned{false};
  std::atomic<int> late_callbacks{0};  // callbacks that ran after it returned
  std::atomic<int> completions{0};

  std::shared_ptr<Channel> Get() {
    std::lock_guard<std::mutex> lock(mu);
    return channel;
  }
  // Destroys the channel here (when this holds the last reference).
  void Drop() {
    std::shared_ptr<Channel> last;
    {
      std::lock_guard<std::mutex> lock(mu);
      last.swap(channel);
    }
    if (last == nullptr) return;  // dropped already
    last.reset();
    destructor_returned = true;
  }
  void Saw() {
    if (destructor_returned) ++late_callbacks;
  }
};

TEST_F(ChannelLifetimeTest, DestroyedFromItsOwnStateCallbackNothingRunsAfterward) {
  // On the I/O thread the destructor cannot wait for that thread: what the
  // thread still held (here a fail-fast call that the failed attempt ends)
  // is delivered before the destructor returns, and nothing after.
  auto holder = std::make_shared<Holder>();
  auto states = std::make_shared<StateLog>();
  ChannelOptions options = Options(states);
  options.on_state_change = [holder, states](ChannelState state, const absl::Status&) {
    holder->Saw();
    states->Add(state);
    if (state == ChannelState::kTransientFailure) holder->Drop();
  };
  holder->channel = Connect(options);
  ASSERT_NE(holder->channel, nullptr);
  ASSERT_TRUE(holder->Get()->CallRaw("appwire.v1.Health/Check", "").ok());
  states->Clear();
  relay_->Freeze();
  ASSERT_TRUE(states->WaitFor(ChannelState::kConnecting));
  // They wait for the attempt under way, which fails after the handshake
  // timeout.
  CallOptions fail_fast;
  fail_fast.fail_fast = true;
  std::shared_ptr<Channel> channel = holder->Get();
  for (int i = 0; i < 3; ++i) {
    channel->CallRawAsync("appwire.v1.Health/Check", "", fail_fast,
                          [holder](absl::StatusOr<std::string> reply) {
                            holder->Saw();
                            ++holder->completions;
                            EXPECT_THAT(reply.status().code(),
                                        AnyOf(absl::StatusCode::kUnavailable,
                                              absl::StatusCode::kCancelled));
                          });
  }
  channel.reset();
  ASSERT_TRUE(states->WaitFor(ChannelState::kTransientFailure));
  EXPECT_EQ(LeftAfter(absl::Seconds(5)), "nothing");
  EXPECT_TRUE(holder->destructor_returned);
  EXPECT_EQ(holder->completions, 3);
  EXPECT_EQ(holder->late_callbacks, 0);
}

TEST_F(ChannelLifetimeTest, DestroyedFromACompletionTheOtherCompletionsComeFirst) {
  // A keepalive loss fails the calls sent on the connection one after the
  // other; the first completion drops the channel.
  auto holder = std::make_shared<Holder>();
  auto states = std::make_shared<StateLog>();
  holder->channel = Connect(Options(states));
  ASSERT_NE(holder->channel, nullptr);
  for (int i = 0; i < 3; ++i) {
    holder->Get()->CallRawAsync("test.Lifetime/Hang", "", {},
                                [holder](absl::StatusOr<std::string> reply) {
                                  holder->Saw();
                                  ++holder->completions;
                                  EXPECT_THAT(reply.status().code(),
                                              AnyOf(absl::StatusCode::kUnavailable,
                                                    absl::StatusCode::kCancelled));
                                  holder->Drop();
                                });
  }
  // Sent: Health/Check goes out after them on the same connection.
  ASSERT_TRUE(holder->Get()->CallRaw("appwire.v1.Health/Check", "").ok());
  relay_->Freeze();
  for (int i = 0; i < 1000 && !holder->destructor_returned; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(holder->destructor_returned);
  EXPECT_EQ(LeftAfter(absl::Seconds(5)), "nothing");
  EXPECT_EQ(holder->completions, 3);
  EXPECT_EQ(holder->late_callbacks, 0);
}

TEST_F(ChannelLifetimeTest, ACancelOnAnotherThreadCompletesBeforeTheDestructorReturns) {
  auto states = std::make_shared<StateLog>();
  std::shared_ptr<Channel> channel = Connect(Options(states));
  ASSERT_NE(channel, nullptr);
  auto token = CancellationToken::Create();
  CallOptions options;
  options.cancellation = token;
  std::promise<void> started;
  auto returned = std::make_shared<std::atomic<bool>>(false);
  auto late = std::make_shared<std::atomic<bool>>(false);
  channel->CallRawAsync("test.Lifetime/Hang", "", options,
                        [&started, returned, late](absl::StatusOr<std::string> reply) {
                          EXPECT_EQ(reply.status().code(), absl::StatusCode::kCancelled);
                          started.set_value();
                          // Long enough for a destructor that does not wait
                          // to return meanwhile.
                          std::this_thread::sleep_for(std::chrono::milliseconds(200));
                          *late = returned->load();
                        });
  // The completion runs on the cancelling thread.
  std::thread canceller([&] { token->Cancel(); });
  started.get_future().wait();
  channel.reset();
  *returned = true;
  canceller.join();
  EXPECT_FALSE(*late) << "the completion was still running when ~Channel returned";
  EXPECT_EQ(Left(), "nothing");
}

TEST_F(ChannelLifetimeTest, StateChangesQueuedInTheExecutorAreDroppedOnceTheChannelIsGone) {
  // An app's queue that runs only later, e.g. a UI thread busy meanwhile:
  // the state changes still queued there when the channel went are dropped;
  // completions still run (they say how each call ended) and touch nothing
  // of the channel's.
  auto holder = std::make_shared<Holder>();
  auto states = std::make_shared<StateLog>();
  Queue queue;
  ChannelOptions options = Options(states);
  options.callback_executor = queue.Executor();
  options.on_state_change = [holder, states](ChannelState state, const absl::Status&) {
    holder->Saw();
    states->Add(state);
  };
  holder->channel = Connect(options);
  ASSERT_NE(holder->channel, nullptr);
  auto reply = std::make_shared<absl::Status>();
  holder->Get()->CallRawAsync("test.Lifetime/Hang", "", {},
                              [reply](absl::StatusOr<std::string> result) {
                                *reply = result.status();
                              });
  holder->Drop();
  EXPECT_EQ(Left(), "nothing");
  EXPECT_GE(queue.RunAll(), 1);  // at least the call's completion
  EXPECT_EQ(holder->late_callbacks, 0);
  EXPECT_EQ(reply->code(), absl::StatusCode::kCancelled) << *reply;
}

TEST_F(ChannelLifetimeTest, NoStateChangeRunsAfterTheDestructorReturned) {
  // Short keepalive, a relay frozen at some moment and the channel destroyed
  // at another: state changes (ready, connecting, transient failure, shut
  // down) happen all around the destruction. Half the rounds run callbacks
  // on the I/O thread, half on an executor thread of the app's.
  std::mt19937 random(7);
  for (int round = 0; round < 50; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    relay_ = std::make_unique<Relay>(server_->port());
    auto holder = std::make_shared<Holder>();
    auto states = std::make_shared<StateLog>();
    ChannelOptions options = Options(states);
    ASSERT_TRUE(options.parameters.Set(Parameter::kKeepaliveInterval, 20).ok());
    ASSERT_TRUE(options.parameters.Set(Parameter::kKeepaliveTimeout, 40).ok());
    ASSERT_TRUE(options.parameters.Set(Parameter::kHandshakeTimeout, 300).ok());
    options.reconnect_backoff.initial = absl::Milliseconds(5);
    options.reconnect_backoff.max = absl::Milliseconds(20);
    options.on_state_change = [holder](ChannelState, const absl::Status&) { holder->Saw(); };
    std::unique_ptr<ExecutorThread> executor;
    if (round % 2 == 1) {
      executor = std::make_unique<ExecutorThread>();
      options.callback_executor = executor->Executor();
    }
    holder->channel = Connect(options);
    ASSERT_NE(holder->channel, nullptr);
    holder->Get()->CallRawAsync("test.Lifetime/Hang", "", {},
                                [holder](absl::StatusOr<std::string>) { ++holder->completions; });
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 60)(random)));
    relay_->Freeze();
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 150)(random)));
    holder->Drop();
    executor.reset();  // runs what it still had queued
    ASSERT_EQ(holder->late_callbacks, 0);
    ASSERT_EQ(holder->completions, 1);
    ASSERT_EQ(Left(), "nothing");
  }
}

TEST_F(ChannelLifetimeTest, DestroyingItWhileAttemptsConnectLeavesNoConnection) {
  // Attempts one after the other, each failing in its TLS handshake a few
  // milliseconds after its TCP connect succeeded, and the channel destroyed
  // at some moment among them: also between an attempt's TCP connect and
  // its connection's start. A connection started after Close() had closed
  // the channel's connections was never closed, and its handshake, which
  // the peer had not answered yet when the poll loop of ~Impl ended, kept
  // it alive.
  std::mt19937 random(11);
  for (int round = 0; round < 150; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    relay_ = std::make_unique<Relay>(server_->port());
    auto states = std::make_shared<StateLog>();
    ChannelOptions options = Options(states);
    options.reconnect_backoff.initial = absl::Milliseconds(1);
    options.reconnect_backoff.max = absl::Milliseconds(1);
    std::shared_ptr<Channel> channel = Connect(options);
    ASSERT_NE(channel, nullptr);
    states->Clear();
    relay_->HangUpOnEveryone();
    ASSERT_TRUE(states->WaitFor(ChannelState::kConnecting));
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, 5000)(random)));
    channel.reset();
    ASSERT_EQ(Left(), "nothing");
  }
}

}  // namespace
}  // namespace appwire
