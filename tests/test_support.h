// Helpers for hermetic integration tests: temporary folders, a test CA made
// by our own certificate generator, servers on 127.0.0.1 port 0, and log
// capture.
#ifndef APPWIRE_TESTS_TEST_SUPPORT_H_
#define APPWIRE_TESTS_TEST_SUPPORT_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "appwire/client/channel.h"
#include "appwire/server/internal/dh_generator.h"
#include "appwire/server/server.h"
#include "appwire/transport/certificate_generator.h"

namespace appwire::testing {

// A fresh folder under /tmp, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const;
  void Write(const std::string& name, const std::string& contents, int mode = 0644) const;

 private:
  std::string path_;
};

// A certificate authority for tests.
struct TestCa {
  std::string cert_pem;
  std::string key_pem;
  static TestCa Create(const std::string& name);
  // Issues a leaf and writes key.pem + cert.pem into `dir`.
  void IssueServerPair(const TempDir& dir, const std::string& common_name,
                       std::vector<std::string> dns_names,
                       std::vector<std::string> ip_addresses, int rsa_bits = 0) const;
  // The same with any file names (e.g. certificates/a.example.crt); an RSA
  // key of `rsa_bits` when not 0, else ECDSA P-256.
  void IssuePair(const TempDir& dir, const std::string& cert_name, const std::string& key_name,
                 const std::string& common_name, std::vector<std::string> dns_names,
                 std::vector<std::string> ip_addresses, int rsa_bits = 0) const;
};

// What StartServer does about dhparams.pem.
enum class DhParams {
  // Puts tests/data/ffdhe2048.pem there when the project folder has none:
  // generating a safe prime takes a core for seconds to minutes, which tests
  // that do not look at it should not spend.
  kFixture,
  // Leaves the folder as it is: the server generates dhparams.pem when absent.
  kAsIs,
};

// Starts a server on 127.0.0.1 with an OS-chosen port, or fails the test.
std::unique_ptr<Server> StartServer(ServerOptions options,
                                    std::shared_ptr<ServiceRegistry> registry = nullptr,
                                    DhParams dh_params = DhParams::kFixture);

// StartServer with default options, its project folder being `project`.
std::unique_ptr<Server> StartServerIn(const TempDir& project,
                                      std::shared_ptr<ServiceRegistry> registry = nullptr);

// While alive, servers started generate dhparams.pem with `generator`
// instead of the real (slow, random-duration) one.
class ScopedDhParamsGenerator {
 public:
  explicit ScopedDhParamsGenerator(internal::DhParamsGenerator generator) {
    internal::SetDhParamsGeneratorForTesting(std::move(generator));
  }
  ~ScopedDhParamsGenerator() { internal::SetDhParamsGeneratorForTesting(nullptr); }
  ScopedDhParamsGenerator(const ScopedDhParamsGenerator&) = delete;
  ScopedDhParamsGenerator& operator=(const ScopedDhParamsGenerator&) = delete;
};

// tests/data/ffdhe2048.pem: a safe-prime group, what a generator returns.
std::string Ffdhe2048Pem();

// Options for a client of `server` trusting `ca_file`, connecting to
// 127.0.0.1:port with expected name "localhost".
ChannelOptions ClientOptions(const Server& server, const std::string& ca_file);

// What a shell command did: its exit code (-1 when it did not exit) and
// everything it printed (stdout and stderr, in order).
struct ShellRun {
  int exit_code = -1;
  std::string output;
};

// Runs `command` with sh, stdin from /dev/null (never a terminal that
// could prompt), 600 s at most (a hang guard: dhparams can take minutes).
ShellRun RunShell(const std::string& command);

// Runs `openssl s_client ARGUMENTS` (stdin closed, 10 s at most) and
// returns everything it printed: an independent TLS peer for tests.
std::string RunOpenSslClient(const std::string& arguments);

// A plain TCP connection to 127.0.0.1:port with a receive timeout, or -1.
int ConnectTcp(int port, int receive_timeout_seconds);

// Starts the appwire-server binary with `arguments`, stderr to `log_path`.
// Returns its pid. A `--project DIR` that exists gets tests/data/ffdhe2048.pem
// as its dhparams.pem when it has none (see DhParams::kFixture).
pid_t SpawnAppwireServer(const std::string& binary, const std::vector<std::string>& arguments,
                         const std::string& log_path);

// SpawnAppwireServer, then a bounded wait (5 s) for its last start-up line
// ("certificate fingerprint: ..."): its pid, the port of its "listening on
// 127.0.0.1:PORT" line (0 when it did not get there), and whether it
// exited meanwhile (then already reaped).
struct SpawnedServer {
  pid_t pid = -1;
  int port = 0;
  bool exited = false;
};
SpawnedServer SpawnAppwireServerAndWait(const std::string& binary,
                                        const std::vector<std::string>& arguments,
                                        const std::string& log_path);

// The file's contents ("" when unreadable).
std::string ReadText(const std::string& path);

// Polls `condition` every 2 ms until it holds (true) or `timeout` passed
// (false): a bounded wait for something another thread makes true.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout);

// The bytes of an appwire.v1.EchoRequest carrying `payload`.
std::string EchoRequestBytes(const std::string& payload);

// Captures what appwire logs while alive.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  bool Contains(const std::string& text) const;
  // Contains(text), waiting for it up to `timeout` (bounded polling).
  bool WaitFor(const std::string& text, absl::Duration timeout = absl::Seconds(5)) const;
  std::string All() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

}  // namespace appwire::testing

#endif  // APPWIRE_TESTS_TEST_SUPPORT_H_
