#include "tests/test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "appwire/common/files.h"
#include "appwire/common/log.h"
#include "appwire/v1/builtin.pb.h"
#include "gtest/gtest.h"

namespace appwire::testing {

TempDir::TempDir() {
  char pattern[] = "/tmp/appwire-test.XXXXXX";
  char* made = mkdtemp(pattern);
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::File(const std::string& name) const { return JoinPath(path_, name); }

void TempDir::Write(const std::string& name, const std::string& contents, int mode) const {
  absl::Status status = WriteFileAtomically(File(name), contents, mode);
  if (!status.ok()) ADD_FAILURE() << status;
}

TestCa TestCa::Create(const std::string& name) {
  TestCa ca;
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  EXPECT_TRUE(key.ok()) << key.status();
  CertificateSpec spec;
  spec.common_name = name;
  spec.organization = "appwire tests";
  absl::StatusOr<std::string> cert = CreateSelfSignedCertificatePem(*key, spec);
  EXPECT_TRUE(cert.ok()) << cert.status();
  ca.key_pem = *key;
  ca.cert_pem = *cert;
  return ca;
}

void TestCa::IssueServerPair(const TempDir& dir, const std::string& common_name,
                             std::vector<std::string> dns_names,
                             std::vector<std::string> ip_addresses, int rsa_bits) const {
  IssuePair(dir, "cert.pem", "key.pem", common_name, std::move(dns_names),
            std::move(ip_addresses), rsa_bits);
}

void TestCa::IssuePair(const TempDir& dir, const std::string& cert_name,
                       const std::string& key_name, const std::string& common_name,
                       std::vector<std::string> dns_names, std::vector<std::string> ip_addresses,
                       int rsa_bits) const {
  absl::StatusOr<std::string> key =
      rsa_bits != 0 ? GenerateRsaKeyPem(rsa_bits) : GenerateEcdsaP256KeyPem();
  ASSERT_TRUE(key.ok()) << key.status();
  CertificateSpec spec;
  spec.common_name = common_name;
  spec.dns_names = std::move(dns_names);
  spec.ip_addresses = std::move(ip_addresses);
  absl::StatusOr<std::string> cert = IssueCertificatePem(*key, spec, cert_pem, key_pem);
  ASSERT_TRUE(cert.ok()) << cert.status();
  dir.Write(key_name, *key, 0600);
  dir.Write(cert_name, *cert);
}

std::string Ffdhe2048Pem() {
  absl::StatusOr<std::string> pem = ReadFile(JoinPath(APPWIRE_TEST_DATA_DIR, "ffdhe2048.pem"));
  EXPECT_TRUE(pem.ok()) << pem.status();
  return pem.ok() ? *pem : std::string();
}

std::unique_ptr<Server> StartServer(ServerOptions options,
                                    std::shared_ptr<ServiceRegistry> registry,
                                    DhParams dh_params) {
  options.bind_address = "127.0.0.1";
  options.port = 0;
  // A folder the server is to create is left to it (and to generation).
  const std::string dh_path = JoinPath(options.project_dir, "dhparams.pem");
  if (dh_params == DhParams::kFixture && !options.project_dir.empty() &&
      std::filesystem::is_directory(options.project_dir) && !FileExists(dh_path)) {
    EXPECT_TRUE(WriteFileAtomically(dh_path, Ffdhe2048Pem(), 0644).ok());
  }
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Create(std::move(options), std::move(registry));
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  absl::Status started = (*server)->Start();
  EXPECT_TRUE(started.ok()) << started;
  return *std::move(server);
}

std::unique_ptr<Server> StartServerIn(const TempDir& project,
                                      std::shared_ptr<ServiceRegistry> registry) {
  ServerOptions options;
  options.project_dir = project.path();
  return StartServer(std::move(options), std::move(registry));
}

ChannelOptions ClientOptions(const Server& server, const std::string& ca_file) {
  ChannelOptions options;
  options.target = absl::StrCat("127.0.0.1:", server.port());
  options.server_name = "localhost";
  options.ca_file = ca_file;
  options.connect_timeout = absl::Seconds(10);
  return options;
}

ShellRun RunShell(const std::string& command) {
  ShellRun run;
  // A subshell, so that the redirections and the time bound cover every
  // command of a pipeline or list.
  FILE* pipe = popen(absl::StrCat("timeout 600 sh -c '", absl::StrReplaceAll(command, {{"'", "'\\''"}}),
                                  "' </dev/null 2>&1")
                         .c_str(),
                     "r");
  if (pipe == nullptr) {
    run.output = "popen failed";
    return run;
  }
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.output.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string RunOpenSslClient(const std::string& arguments) {
  return RunShell(absl::StrCat("timeout 10 openssl s_client ", arguments)).output;
}

int ConnectTcp(int port, int receive_timeout_seconds) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval timeout{receive_timeout_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

pid_t SpawnAppwireServer(const std::string& binary, const std::vector<std::string>& arguments,
                         const std::string& log_path) {
  // As StartServer: an existing project folder gets ready DH parameters.
  for (size_t i = 0; i + 1 < arguments.size(); ++i) {
    const std::string dh_path = JoinPath(arguments[i + 1], "dhparams.pem");
    if (arguments[i] == "--project" && std::filesystem::is_directory(arguments[i + 1]) &&
        !FileExists(dh_path)) {
      EXPECT_TRUE(WriteFileAtomically(dh_path, Ffdhe2048Pem(), 0644).ok());
    }
  }
  pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::freopen(log_path.c_str(), "w", stderr);
    (void)out;
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

SpawnedServer SpawnAppwireServerAndWait(const std::string& binary,
                                        const std::vector<std::string>& arguments,
                                        const std::string& log_path) {
  SpawnedServer spawned;
  spawned.pid = SpawnAppwireServer(binary, arguments, log_path);
  if (spawned.pid <= 0) return spawned;
  std::string text;
  for (int i = 0; i < 500 && text.find("certificate fingerprint: ") == std::string::npos; ++i) {
    int status = 0;
    if (waitpid(spawned.pid, &status, WNOHANG) == spawned.pid) {
      spawned.exited = true;
      return spawned;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    text = ReadText(log_path);
  }
  const std::string listening = "listening on 127.0.0.1:";
  const size_t at = text.find(listening);
  if (at != std::string::npos) spawned.port = std::atoi(text.c_str() + at + listening.size());
  return spawned;
}

std::string ReadText(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  return text.ok() ? *text : std::string();
}

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= end) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

std::string EchoRequestBytes(const std::string& payload) {
  v1::EchoRequest request;
  request.set_payload(payload);
  return request.SerializeAsString();
}

bool LogCapture::WaitFor(const std::string& text, absl::Duration timeout) const {
  return WaitUntil([&] { return Contains(text); }, timeout);
}

LogCapture::LogCapture() {
  SetLogSink([this](LogLevel, absl::string_view line) {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.emplace_back(line);
  });
}

LogCapture::~LogCapture() { SetLogSink(nullptr); }

bool LogCapture::Contains(const std::string& text) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& line : lines_) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string LogCapture::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  return absl::StrJoin(lines_, "\n");
}

}  // namespace appwire::testing
