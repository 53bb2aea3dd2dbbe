#include "delay_relay.h"

#include "loopback.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <string>

namespace appwire_bench {
namespace {

using Clock = std::chrono::steady_clock;

// Sleeps until `deadline` on the monotonic clock (steady_clock on Linux),
// with the timer slack at its minimum: the default 50 µs would be a fifth
// of the delay being emulated.
void SleepUntil(Clock::time_point deadline) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      deadline.time_since_epoch())
                      .count();
  timespec at{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
  }
}

// One direction of one connection: a reader that stamps each chunk with
// when it may go out, and a writer that sends it then.
class DelayedPipe {
 public:
  DelayedPipe(int from, int to, std::chrono::microseconds delay)
      : from_(from), to_(to), delay_(delay) {}

  void Start() {
    reader_ = std::thread([this] {
      ReadLoop();
      ++ended_;
    });
    writer_ = std::thread([this] {
      WriteLoop();
      ++ended_;
    });
  }
  void Join() {
    reader_.join();
    writer_.join();
  }
  // Both loops have returned (the connection ended this way).
  bool done() const { return ended_.load() == 2; }

 private:
  struct Chunk {
    Clock::time_point due;
    std::string bytes;  // empty: the reading side ended
  };
  // At most this much read and not yet written: a peer that writes faster
  // than the other reads is held back, as a full socket would.
  static constexpr size_t kMaxQueuedBytes = 4 << 20;

  void ReadLoop() {
    char buffer[64 * 1024];
    for (;;) {
      const ssize_t n = read(from_, buffer, sizeof(buffer));
      const Clock::time_point due = Clock::now() + delay_;
      std::unique_lock<std::mutex> lock(mu_);
      room_.wait(lock, [this] { return queued_ < kMaxQueuedBytes || stopped_; });
      if (n <= 0 || stopped_) {
        queue_.push_back({due, std::string()});
        ready_.notify_one();
        return;
      }
      queue_.push_back({due, std::string(buffer, static_cast<size_t>(n))});
      queued_ += static_cast<size_t>(n);
      ready_.notify_one();
    }
  }

  void WriteLoop() {
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    for (;;) {
      Chunk chunk;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [this] { return !queue_.empty(); });
        chunk = std::move(queue_.front());
        queue_.pop_front();
        queued_ -= chunk.bytes.size();
        room_.notify_one();
      }
      SleepUntil(chunk.due);
      if (chunk.bytes.empty()) {
        shutdown(to_, SHUT_WR);
        return;
      }
      size_t sent = 0;
      while (sent < chunk.bytes.size()) {
        const ssize_t n = send(to_, chunk.bytes.data() + sent, chunk.bytes.size() - sent,
                               MSG_NOSIGNAL);
        if (n <= 0) {
          // The other side is gone: stop reading this direction too.
          std::lock_guard<std::mutex> lock(mu_);
          stopped_ = true;
          room_.notify_one();
          shutdown(from_, SHUT_RD);
          return;
        }
        sent += static_cast<size_t>(n);
      }
    }
  }

  const int from_;
  const int to_;
  const std::chrono::microseconds delay_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::condition_variable room_;
  std::deque<Chunk> queue_;
  size_t queued_ = 0;
  bool stopped_ = false;
  std::atomic<int> ended_{0};
  std::thread reader_;
  std::thread writer_;
};

}  // namespace

struct DelayRelay::Relayed {
  Relayed(int client_fd, int server_fd, std::chrono::microseconds delay)
      : client(client_fd),
        server(server_fd),
        up(client_fd, server_fd, delay),
        down(server_fd, client_fd, delay) {}
  ~Relayed() {
    Shut();
    up.Join();
    down.Join();
    close(client);
    close(server);
  }
  void Shut() {
    shutdown(client, SHUT_RDWR);
    shutdown(server, SHUT_RDWR);
  }
  int client;
  int server;
  DelayedPipe up;
  DelayedPipe down;
};

DelayRelay::DelayRelay(int target_port, std::chrono::microseconds one_way)
    : target_port_(target_port), one_way_(one_way) {
  listener_ = ListenLoopback(&port_);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

DelayRelay::~DelayRelay() {
  stopping_ = true;
  acceptor_.join();
  close(listener_);
  DropAll();
}

void DelayRelay::DropAll() {
  std::vector<std::unique_ptr<Relayed>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.swap(relayed_);
  }
  all.clear();  // each destructor shuts both sockets and joins its threads
}

void DelayRelay::ReapFinished() {
  std::vector<std::unique_ptr<Relayed>> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = relayed_.begin(); it != relayed_.end();) {
      if ((*it)->up.done() && (*it)->down.done()) {
        finished.push_back(std::move(*it));
        it = relayed_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

void DelayRelay::AcceptLoop() {
  while (!stopping_) {
    pollfd ready{listener_, POLLIN, 0};
    if (poll(&ready, 1, 50) <= 0) continue;
    const int client = AcceptLoopback(listener_);
    if (client < 0) continue;
    ReapFinished();
    std::lock_guard<std::mutex> lock(mu_);
    const int server =
        relayed_.size() < kMaxConnections ? ConnectLoopback(target_port_) : -1;
    if (server < 0) {
      close(client);
      continue;
    }
    relayed_.push_back(std::make_unique<Relayed>(client, server, one_way_));
    relayed_.back()->up.Start();
    relayed_.back()->down.Start();
  }
}

}  // namespace appwire_bench
