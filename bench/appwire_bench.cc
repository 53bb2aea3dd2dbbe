// appwire-bench: the W1-W6 workloads against appwire-server on 127.0.0.1,
// printed as JSON. See bench/README.md for what each workload measures and
// the gRPC figures they are compared with.
//
//   appwire-bench [--server PATH] [--suite TLS_AES_256_GCM_SHA384] [--only W1,W3]
//
// It starts appwire-server itself (a child process, project folder in a
// temporary directory, port 0) so that W5 can read the server's RSS. Every
// loop is bounded in count and in time.
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "appwire/client/channel.h"
#include "appwire/common/command_line.h"
#include "appwire/common/log.h"
#include "appwire/v1/builtin.pb.h"
#include "delay_relay.h"
#include "loopback.h"

namespace {

using Clock = std::chrono::steady_clock;

struct ServerProcess {
  pid_t pid = -1;
  int port = 0;
  std::string project;
  std::string fingerprint;
};

// Starts appwire-server and reads its port and fingerprint from its log.
ServerProcess StartServer(const std::string& binary) {
  ServerProcess server;
  char pattern[] = "/tmp/appwire-bench.XXXXXX";
  server.project = mkdtemp(pattern);
  std::string log = server.project + "/server.log";
  server.pid = fork();
  if (server.pid == 0) {
    FILE* out = std::freopen(log.c_str(), "w", stderr);
    (void)out;
    execl(binary.c_str(), binary.c_str(), "--project", server.project.c_str(), "--port", "0",
          "--bind", "127.0.0.1", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Until the server listens and has its DH parameters (generated on first
  // start in the background: it must not compete with the workloads).
  bool dh_ready = false;
  for (int i = 0; i < 1200 && (server.port == 0 || server.fingerprint.empty() || !dh_ready);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line)) {
      size_t at = line.find("listening on 127.0.0.1:");
      if (at != std::string::npos) server.port = std::atoi(line.c_str() + at + 23);
      at = line.find("certificate fingerprint: ");
      if (at != std::string::npos) server.fingerprint = line.substr(at + 25);
      if (line.find("DH parameters ready") != std::string::npos) dh_ready = true;
    }
  }
  if (server.port == 0) {
    std::fprintf(stderr, "appwire-bench: %s did not start; see %s\n", binary.c_str(), log.c_str());
    std::exit(1);
  }
  return server;
}

void StopServer(ServerProcess& server) {
  kill(server.pid, SIGTERM);
  int status = 0;
  waitpid(server.pid, &status, 0);
  std::error_code ignored;
  std::filesystem::remove_all(server.project, ignored);
}

long RssKiB(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

std::string EchoRequest(size_t bytes) {
  appwire::v1::EchoRequest request;
  request.set_payload(std::string(bytes, 'a'));
  return request.SerializeAsString();
}

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  size_t index = static_cast<size_t>(p * (values.size() - 1));
  std::nth_element(values.begin(), values.begin() + index, values.end());
  return values[index];
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// User plus system CPU seconds process `pid` has used so far, all its
// threads (fields 14 and 15 of /proc/PID/stat, in clock ticks). The command
// name before them is in parentheses and may hold spaces.
double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t name_end = text.rfind(')');
  if (name_end == std::string::npos) return 0;
  std::vector<std::string> fields = absl::StrSplit(text.substr(name_end + 2), ' ');
  // fields[0] is field 3 (the state): utime is field 14, stime field 15.
  if (fields.size() < 13) return 0;
  return static_cast<double>(std::atoll(fields[11].c_str()) + std::atoll(fields[12].c_str())) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU time per call of the client (this process) and the server over a
// measured loop: what a call costs both machines, whatever it waits for.
class CallCpu {
 public:
  explicit CallCpu(pid_t server)
      : server_(server), client_start_(CpuSeconds(getpid())), server_start_(CpuSeconds(server)) {}

  // ", \"cpu_us_per_call\": total, \"client_cpu_us_per_call\": ..., \"server_...\": ..."
  // (`unit` names what was counted: "call", "connection").
  std::string Fields(int64_t count, absl::string_view unit = "call") const {
    if (count <= 0) return "";
    const double client = (CpuSeconds(getpid()) - client_start_) * 1e6 / static_cast<double>(count);
    const double server = (CpuSeconds(server_) - server_start_) * 1e6 / static_cast<double>(count);
    auto rounded = [](double us) { return static_cast<double>(static_cast<int64_t>(us * 10)) / 10; };
    return absl::StrCat(", \"cpu_us_per_", unit, "\": ", rounded(client + server),
                        ", \"client_cpu_us_per_", unit, "\": ", rounded(client),
                        ", \"server_cpu_us_per_", unit, "\": ", rounded(server));
  }

 private:
  pid_t server_;
  double client_start_;
  double server_start_;
};

constexpr char kEcho[] = "appwire.v1.Echo/Echo";

std::shared_ptr<appwire::Channel> Connect(const appwire::ChannelOptions& options) {
  auto channel = appwire::Channel::Connect(options);
  if (!channel.ok()) {
    std::fprintf(stderr, "appwire-bench: connect failed: %s\n", channel.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(channel);
}

void Check(const absl::StatusOr<std::string>& reply) {
  if (!reply.ok()) {
    std::fprintf(stderr, "appwire-bench: call failed: %s\n", reply.status().ToString().c_str());
    std::exit(1);
  }
}

// `calls` blocking 64-byte calls one after another on `channel` (bounded by
// `limit`), after `warm_up` unmeasured ones: latencies, rate, CPU per call.
struct UnaryLoop {
  std::vector<double> latencies_us;
  double calls_per_s = 0;
  std::string cpu_fields;
};

UnaryLoop RunUnaryLoop(appwire::Channel& channel, pid_t server, int warm_up, int calls,
                       Clock::duration limit) {
  const std::string request = EchoRequest(64);
  for (int i = 0; i < warm_up; ++i) Check(channel.CallRaw(kEcho, request));
  UnaryLoop loop;
  loop.latencies_us.reserve(static_cast<size_t>(calls));
  const CallCpu cpu(server);
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < calls && Clock::now() - start < limit; ++i) {
    const Clock::time_point t0 = Clock::now();
    Check(channel.CallRaw(kEcho, request));
    loop.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  loop.calls_per_s = static_cast<double>(loop.latencies_us.size()) / Seconds(Clock::now() - start);
  loop.cpu_fields = cpu.Fields(static_cast<int64_t>(loop.latencies_us.size()));
  return loop;
}

std::string W1(const appwire::ChannelOptions& options, pid_t server, std::string* suite) {
  auto channel = Connect(options);
  *suite = channel->session_info().cipher;
  UnaryLoop loop = RunUnaryLoop(*channel, server, 500, 20000, std::chrono::seconds(60));
  double p50 = Percentile(loop.latencies_us, 0.50);
  double p99 = Percentile(loop.latencies_us, 0.99);
  return absl::StrCat("{\"calls\": ", loop.latencies_us.size(), ", \"calls_per_s\": ",
                      static_cast<int64_t>(loop.calls_per_s), ", \"p50_us\": ",
                      static_cast<int64_t>(p50), ", \"p99_us\": ", static_cast<int64_t>(p99),
                      loop.cpu_fields, "}");
}

std::string W2(const appwire::ChannelOptions& options, pid_t server) {
  auto channel = Connect(options);
  const std::string request = EchoRequest(64);
  constexpr int kInFlight = 64;
  const auto duration = std::chrono::seconds(10);
  std::atomic<int64_t> completed{0};
  std::atomic<bool> stop{false};
  std::atomic<int> outstanding{0};
  std::mutex mu;
  std::condition_variable all_done;
  std::function<void()> issue = [&] {
    ++outstanding;
    channel->CallRawAsync(kEcho, request, {}, [&](absl::StatusOr<std::string> reply) {
      Check(reply);
      ++completed;
      if (!stop.load(std::memory_order_relaxed)) issue();
      if (--outstanding == 0) {
        std::lock_guard<std::mutex> lock(mu);
        all_done.notify_all();
      }
    });
  };
  const CallCpu cpu(server);
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < kInFlight; ++i) issue();
  std::this_thread::sleep_for(duration);
  stop = true;
  int64_t done_at_stop = completed.load();
  double elapsed = Seconds(Clock::now() - start);
  const std::string cpu_fields = cpu.Fields(done_at_stop);
  {
    std::unique_lock<std::mutex> lock(mu);
    all_done.wait_for(lock, std::chrono::seconds(10), [&] { return outstanding.load() == 0; });
  }
  return absl::StrCat("{\"in_flight\": ", kInFlight, ", \"seconds\": ",
                      static_cast<int64_t>(elapsed), ", \"calls_per_s\": ",
                      static_cast<int64_t>(done_at_stop / elapsed), cpu_fields, "}");
}

std::string W3(const appwire::ChannelOptions& options) {
  auto channel = Connect(options);
  const size_t kPayload = 1u << 20;
  const std::string request = EchoRequest(kPayload);
  for (int i = 0; i < 20; ++i) Check(channel->CallRaw(kEcho, request));  // warm-up
  int calls = 0;
  const Clock::time_point start = Clock::now();
  while (calls < 2000 && Clock::now() - start < std::chrono::seconds(10)) {
    absl::StatusOr<std::string> reply = channel->CallRaw(kEcho, request);
    Check(reply);
    ++calls;
  }
  double elapsed = Seconds(Clock::now() - start);
  return absl::StrCat("{\"calls\": ", calls, ", \"MB_per_s\": ",
                      static_cast<int64_t>(calls * (kPayload / 1e6) / elapsed), "}");
}

// W6: one bidirectional stream through appwire.v1.Echo/EchoStream, 256 MiB
// each way in 128 KiB messages, written by one thread and read by another:
// what per-call flow control leaves of W3's throughput.
std::string W6(const appwire::ChannelOptions& options) {
  auto channel = Connect(options);
  constexpr int kMessages = 2048;
  const std::string message = EchoRequest(128 * 1024);
  std::unique_ptr<appwire::ClientStream> stream = channel->OpenStream(
      "appwire.v1.Echo/EchoStream", appwire::MethodKind::kBidiStreaming, "");
  const Clock::time_point start = Clock::now();
  std::thread writer([&] {
    for (int i = 0; i < kMessages; ++i) {
      if (!stream->Write(message)) break;
    }
    stream->WritesDone();
  });
  int64_t received = 0;
  std::string reply;
  while (stream->Read(&reply)) received += static_cast<int64_t>(reply.size());
  writer.join();
  const absl::Status finished = stream->Finish();
  if (!finished.ok()) {
    std::fprintf(stderr, "appwire-bench: W6 failed: %s\n", finished.ToString().c_str());
    std::exit(1);
  }
  const double elapsed = Seconds(Clock::now() - start);
  if (received != static_cast<int64_t>(kMessages) * static_cast<int64_t>(message.size())) {
    std::fprintf(stderr, "appwire-bench: W6 lost messages\n");
    std::exit(1);
  }
  return absl::StrCat("{\"MiB_each_way\": ", received >> 20, ", \"MB_per_s_each_way\": ",
                      static_cast<int64_t>(received / 1e6 / elapsed), "}");
}

std::string W4(const appwire::ChannelOptions& options, pid_t server) {
  const std::string request = EchoRequest(64);
  constexpr int kConnections = 500;
  int made = 0;
  const CallCpu cpu(server);
  const Clock::time_point start = Clock::now();
  for (; made < kConnections && Clock::now() - start < std::chrono::seconds(60); ++made) {
    auto channel = Connect(options);
    Check(channel->CallRaw(kEcho, request));
    if (channel->session_info().resumed) {
      std::fprintf(stderr, "appwire-bench: W4 must use full handshakes\n");
      std::exit(1);
    }
  }
  double elapsed = Seconds(Clock::now() - start);
  return absl::StrCat("{\"connections\": ", made, ", \"connections_per_s\": ",
                      static_cast<int64_t>(made / elapsed), cpu.Fields(made, "connection"), "}");
}

std::string W5(const appwire::ChannelOptions& options, pid_t server) {
  const std::string request = EchoRequest(64);
  constexpr int kConnections = 1000;
  {
    auto warm = Connect(options);  // the server's first connection allocates caches
    Check(warm->CallRaw(kEcho, request));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  long before = RssKiB(server);
  std::vector<std::shared_ptr<appwire::Channel>> channels;
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < kConnections && Clock::now() - start < std::chrono::seconds(120); ++i) {
    channels.push_back(Connect(options));
    Check(channels.back()->CallRaw(kEcho, request));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long after = RssKiB(server);
  double per_connection = static_cast<double>(after - before) / channels.size();
  return absl::StrCat("{\"connections\": ", channels.size(), ", \"server_rss_before_KiB\": ",
                      before, ", \"server_rss_after_KiB\": ", after,
                      ", \"KiB_per_connection\": ", static_cast<int64_t>(per_connection * 10) / 10.0,
                      "}");
}

// Low-priority busy loops, one per CPU, for W1_awake: no core sleeps, so a
// thread woken by a reply starts at once instead of after the CPU's
// wake-up. SCHED_IDLE: they run only when nothing else wants the core.
class BusyLoops {
 public:
  BusyLoops() {
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    for (long i = 0; i < cpus && i < 64; ++i) {
      const pid_t pid = fork();
      if (pid == 0) {
        sched_param idle{};
        sched_setscheduler(0, SCHED_IDLE, &idle);
        const auto until = Clock::now() + std::chrono::seconds(120);  // bounded even if orphaned
        while (Clock::now() < until) {
        }
        _exit(0);
      }
      if (pid > 0) pids_.push_back(pid);
    }
  }
  ~BusyLoops() {
    for (pid_t pid : pids_) kill(pid, SIGKILL);
    for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
  }

 private:
  std::vector<pid_t> pids_;
};

// The floor W7 is held to: 64-byte plain TCP ping-pong through a
// DelayRelay in front of a plain echo server started here.
struct TcpFloor {
  int64_t calls = 0;
  double calls_per_s = 0;
  double p50_us = 0;
};

TcpFloor PlainTcpThroughRelay(std::chrono::microseconds one_way, int calls) {
  int echo_port = 0;
  const int listener = appwire_bench::ListenLoopback(&echo_port);
  std::thread echo([listener] {
    const int fd = appwire_bench::AcceptLoopback(listener);
    if (fd < 0) return;
    char buffer[64];
    while (appwire_bench::ReadExactly(fd, buffer, sizeof(buffer)) &&
           write(fd, buffer, sizeof(buffer)) == 64) {
    }
    close(fd);
  });
  TcpFloor floor;
  {
    appwire_bench::DelayRelay relay(echo_port, one_way);
    const int fd = appwire_bench::ConnectLoopback(relay.port());
    if (fd < 0) {
      std::perror("appwire-bench: W7 floor");
      std::exit(1);
    }
    char buffer[64] = {};
    std::vector<double> rtts;
    const Clock::time_point start = Clock::now();
    for (int i = 0; i < calls && Clock::now() - start < std::chrono::seconds(20); ++i) {
      const Clock::time_point t0 = Clock::now();
      if (write(fd, buffer, sizeof(buffer)) != 64 ||
          !appwire_bench::ReadExactly(fd, buffer, sizeof(buffer))) {
        std::fprintf(stderr, "appwire-bench: W7 floor: the relay dropped the connection\n");
        std::exit(1);
      }
      rtts.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    floor.calls = static_cast<int64_t>(rtts.size());
    floor.calls_per_s = static_cast<double>(rtts.size()) / Seconds(Clock::now() - start);
    floor.p50_us = Percentile(rtts, 0.5);
    close(fd);
  }
  echo.join();
  close(listener);
  return floor;
}

double Median(std::vector<double> values) { return Percentile(values, 0.5); }

// W7: W1 and connection set-up over an emulated LAN (DelayRelay, 0.25 ms
// each way), against plain TCP through the same relay.
std::string W7(appwire::ChannelOptions options, int server_port, pid_t server) {
  const std::chrono::microseconds one_way(250);
  constexpr int kCalls = 4000;
  const TcpFloor floor = PlainTcpThroughRelay(one_way, kCalls);
  appwire_bench::DelayRelay relay(server_port, one_way);
  options.target = absl::StrCat("127.0.0.1:", relay.port());
  const std::string request = EchoRequest(64);

  // W1 through the relay.
  UnaryLoop loop;
  {
    auto channel = Connect(options);
    loop = RunUnaryLoop(*channel, server, 50, kCalls, std::chrono::seconds(20));
  }

  // Connect to first reply: TCP, TLS, Hello and one unary call, on a new
  // channel (a full handshake) ...
  constexpr int kConnects = 15;
  std::vector<double> full_us;
  for (int i = 0; i < kConnects; ++i) {
    const Clock::time_point t0 = Clock::now();
    auto channel = Connect(options);
    Check(channel->CallRaw(kEcho, request));
    full_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (channel->session_info().resumed) {
      std::fprintf(stderr, "appwire-bench: W7: a new channel resumed a session\n");
      std::exit(1);
    }
  }
  // ... and on a channel whose connection the network dropped (it
  // reconnects resuming its TLS session). Timed from before the drop: it
  // includes noticing the loss and any backoff before the first attempt.
  std::vector<double> resumed_us;
  int resumed = 0;
  {
    auto channel = Connect(options);
    Check(channel->CallRaw(kEcho, request));
    for (int i = 0; i < kConnects; ++i) {
      const Clock::time_point t0 = Clock::now();
      relay.DropAll();
      absl::StatusOr<std::string> reply;
      for (int attempt = 0; attempt < 100; ++attempt) {
        appwire::CallOptions bounded;
        bounded.timeout = absl::Seconds(10);
        reply = channel->CallRaw(kEcho, request, bounded);
        if (reply.ok() || reply.status().code() != absl::StatusCode::kUnavailable) break;
      }
      Check(reply);
      resumed_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      if (channel->session_info().resumed) ++resumed;
    }
  }
  const double rtt = floor.p50_us;
  auto rounded = [](double v) { return static_cast<double>(static_cast<int64_t>(v * 100)) / 100; };
  return absl::StrCat(
      "{\"one_way_delay_us\": ", one_way.count(), ", \"tcp_floor\": {\"calls\": ", floor.calls,
      ", \"calls_per_s\": ", static_cast<int64_t>(floor.calls_per_s), ", \"rtt_p50_us\": ",
      static_cast<int64_t>(floor.p50_us), "}, \"W1\": {\"calls\": ", loop.latencies_us.size(),
      ", \"calls_per_s\": ", static_cast<int64_t>(loop.calls_per_s), ", \"of_tcp_floor\": ",
      rounded(loop.calls_per_s / floor.calls_per_s), ", \"p50_us\": ",
      static_cast<int64_t>(Percentile(loop.latencies_us, 0.5)), loop.cpu_fields,
      "}, \"connect_to_first_reply\": {\"full_us\": ", static_cast<int64_t>(Median(full_us)),
      ", \"full_rtts\": ", rounded(Median(full_us) / rtt), ", \"resumed_us\": ",
      static_cast<int64_t>(Median(resumed_us)), ", \"resumed_rtts\": ",
      rounded(Median(resumed_us) / rtt), ", \"resumed_sessions\": ", resumed, "}}");
}

}  // namespace

int main(int argc, char** argv) {
  std::string server_binary =
      (std::filesystem::path(argv[0]).parent_path() / "../appwire/server/appwire-server").string();
  const std::string all = "W1,W2,W3,W4,W5,W6,W7,W1_awake";
  const char* const usage =
      "usage: appwire-bench [--server PATH] [--suite NAME] [--only W1,W2,...]\n"
      "workloads: W1,W2,W3,W4,W5,W6,W7,W1_awake (all by default); see bench/README.md\n";
  const std::vector<appwire::FlagSpec> flags = {{"server"}, {"suite"}, {"only"}};
  absl::StatusOr<appwire::CommandLine> line = appwire::ParseCommandLine(argc, argv, 1, flags, 0);
  if (!line.ok()) {
    std::fprintf(stderr, "appwire-bench: %s\n%s", std::string(line.status().message()).c_str(),
                 usage);
    return 2;
  }
  if (line->help) {
    std::fputs(usage, stdout);
    return 0;
  }
  server_binary = line->Get("server", server_binary);
  const std::string suite = line->Get("suite", "TLS_AES_256_GCM_SHA384");
  const std::string only = line->Get("only", all);
  for (absl::string_view name : absl::StrSplit(only, ',')) {
    if (!absl::StrContains(absl::StrCat(",", all, ","), absl::StrCat(",", name, ","))) {
      std::fprintf(stderr, "appwire-bench: --only %s: no workload \"%s\"\n%s", only.c_str(),
                   std::string(name).c_str(), usage);
      return 2;
    }
  }
  // W5 keeps 1000 connections open on both sides.
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  appwire::SetMinLogLevel(appwire::LogLevel::kWarning);
  ServerProcess server = StartServer(server_binary);
  appwire::ChannelOptions options;
  options.target = absl::StrCat("127.0.0.1:", server.port);
  options.server_name = "localhost";
  options.pinned_sha256 = server.fingerprint;
  options.ca_file = server.project + "/cert.pem";
  absl::Status suite_ok = options.parameters.Set(appwire::Parameter::kTls13CipherSuites, suite);
  if (!suite_ok.ok()) {
    std::fprintf(stderr, "appwire-bench: --suite: %s\n", std::string(suite_ok.message()).c_str());
    return 2;
  }

  std::vector<std::string> fields;
  std::string negotiated = suite;
  const std::vector<std::string> only_list = absl::StrSplit(only, ',');
  auto wanted = [&](const char* name) {
    return std::find(only_list.begin(), only_list.end(), name) != only_list.end();
  };
  if (wanted("W1")) fields.push_back(absl::StrCat("\"W1\": ", W1(options, server.pid, &negotiated)));
  if (wanted("W2")) fields.push_back(absl::StrCat("\"W2\": ", W2(options, server.pid)));
  if (wanted("W3")) fields.push_back(absl::StrCat("\"W3\": ", W3(options)));
  if (wanted("W4")) fields.push_back(absl::StrCat("\"W4\": ", W4(options, server.pid)));
  if (wanted("W5")) fields.push_back(absl::StrCat("\"W5\": ", W5(options, server.pid)));
  if (wanted("W6")) fields.push_back(absl::StrCat("\"W6\": ", W6(options)));
  if (wanted("W7")) fields.push_back(absl::StrCat("\"W7\": ", W7(options, server.port, server.pid)));
  if (wanted("W1_awake")) {
    const BusyLoops busy;
    std::string ignored;
    fields.push_back(absl::StrCat("\"W1_awake\": ", W1(options, server.pid, &ignored)));
  }
  StopServer(server);
  std::printf("{\n  \"tls\": {\"version\": \"TLSv1.3\", \"suite\": \"%s\", \"group\": \"secp256r1\", "
              "\"certificate\": \"ECDSA P-256\"},\n",
              negotiated.c_str());
  for (size_t i = 0; i < fields.size(); ++i) {
    std::printf("  %s%s\n", fields[i].c_str(), i + 1 < fields.size() ? "," : "");
  }
  std::printf("}\n");
  return 0;
}
