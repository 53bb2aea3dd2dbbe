// DelayRelay: an emulated LAN on loopback for the bench (W7). This kernel
// has no netem qdisc, so the delay is added in user space: the relay
// listens on 127.0.0.1, connects each accepted connection to the target
// port, and forwards every chunk it reads in either direction once
// `one_way` has passed since it was read. Each direction keeps its order;
// the two directions are independent, as on a wire.
//
//   DelayRelay relay(server_port, std::chrono::microseconds(250));
//   connect to 127.0.0.1:relay.port() ...
//
// It adds its own scheduling delay on top of `one_way` (a thread wakes up
// at the deadline): the bench measures that floor with plain TCP through
// the same relay and compares against it, never against 2 × one_way.
// Bounded: at most kMaxConnections relayed at once (more are closed at
// accept), four threads each; DropAll() and the destructor close them all.
#ifndef APPWIRE_BENCH_DELAY_RELAY_H_
#define APPWIRE_BENCH_DELAY_RELAY_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace appwire_bench {

class DelayRelay {
 public:
  static constexpr int kMaxConnections = 32;

  DelayRelay(int target_port, std::chrono::microseconds one_way);
  ~DelayRelay();
  DelayRelay(const DelayRelay&) = delete;
  DelayRelay& operator=(const DelayRelay&) = delete;

  int port() const { return port_; }
  // Closes every relayed connection (both sides see the connection reset
  // or closed), as a network that dropped would; new ones are still taken.
  void DropAll();

 private:
  struct Relayed;

  void AcceptLoop();
  void ReapFinished();

  const int target_port_;
  const std::chrono::microseconds one_way_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Relayed>> relayed_;
};

}  // namespace appwire_bench

#endif  // APPWIRE_BENCH_DELAY_RELAY_H_
