#include "tests/pebble_ca.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include "appwire/transport/certificate_generator.h"

namespace appwire::testing {
namespace {

constexpr char kPebble[] = "/usr/bin/pebble";
constexpr char kChallTestSrv[] = "/usr/bin/pebble-challtestsrv";

int FreePort(int type) {
  int fd = socket(AF_INET, type, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

pid_t Spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::string& log_path) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::freopen(log_path.c_str(), "w", stdout);
    (void)out;
    dup2(fileno(stdout), fileno(stderr));
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

void Kill(pid_t* pid) {
  if (*pid <= 0) return;
  kill(*pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200; ++i) {  // 2 s, then SIGKILL
    if (waitpid(*pid, &status, WNOHANG) == *pid) {
      *pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(*pid, SIGKILL);
  waitpid(*pid, &status, 0);
  *pid = -1;
}

}  // namespace

int FreeTcpPort() {
  // The kernel may hand out a port it just gave (it was closed again): the
  // test's server port and Pebble's own would then collide. Never the same
  // port twice in one process.
  static std::mutex mu;
  static std::set<int> given;
  std::lock_guard<std::mutex> lock(mu);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = FreePort(SOCK_STREAM);
    if (port != 0 && given.insert(port).second) return port;
  }
  return 0;
}

bool PebbleCa::available() {
  return access(kPebble, X_OK) == 0 && access(kChallTestSrv, X_OK) == 0;
}

PebbleCa::PebbleCa(Options options) {
  // Pebble's HTTPS certificate, for 127.0.0.1 and localhost.
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  CertificateSpec spec;
  spec.common_name = "pebble";
  spec.dns_names = {"localhost"};
  spec.ip_addresses = {"127.0.0.1"};
  absl::StatusOr<std::string> cert =
      key.ok() ? CreateSelfSignedCertificatePem(*key, spec) : key.status();
  if (!cert.ok()) return;
  dir_.Write("pebble-key.pem", *key, 0600);
  dir_.Write("pebble-cert.pem", *cert);
  https_ca_file_ = dir_.File("pebble-cert.pem");

  acme_port_ = FreeTcpPort();
  management_port_ = FreeTcpPort();
  const int dns_port = FreePort(SOCK_DGRAM);
  const int challtestsrv_management = FreeTcpPort();
  std::string eab_keys;
  for (const auto& [kid, key] : options.eab_keys) {
    absl::StrAppend(&eab_keys, eab_keys.empty() ? ", \"externalAccountMACKeys\": {" : ", ", "\"",
                    kid, "\": \"", key, "\"");
  }
  if (!eab_keys.empty()) eab_keys += "}";
  dir_.Write("pebble.json",
             absl::StrCat(R"({"pebble": {"listenAddress": "127.0.0.1:)", acme_port_,
                          R"(", "managementListenAddress": "127.0.0.1:)", management_port_,
                          R"(", "certificate": ")", dir_.File("pebble-cert.pem"),
                          R"(", "privateKey": ")", dir_.File("pebble-key.pem"),
                          R"(", "httpPort": )", options.http_port, R"(, "tlsPort": )", options.tls_port,
                          R"(, "ocspResponderURL": "", "externalAccountBindingRequired": )",
                          options.eab_keys.empty() ? "false" : "true", eab_keys, "}}"));
  challtestsrv_ = Spawn({kChallTestSrv, "-dns01", absl::StrCat("127.0.0.1:", dns_port), "-http01",
                         "", "-https01", "", "-tlsalpn01", "", "-management",
                         absl::StrCat("127.0.0.1:", challtestsrv_management), "-defaultIPv4",
                         "127.0.0.1", "-defaultIPv6", ""},
                        {}, dir_.File("challtestsrv.log"));
  std::map<std::string, std::string> env = {{"PEBBLE_VA_NOSLEEP", "1"},
                                            {"PEBBLE_WFE_NONCEREJECT", "0"}};
  for (const auto& [name, value] : options.environment) env[name] = value;
  pebble_ = Spawn({kPebble, "-config", dir_.File("pebble.json"), "-dnsserver",
                   absl::StrCat("127.0.0.1:", dns_port)},
                  env, dir_.File("pebble.log"));
  started_ = WaitForDirectory();
}

PebbleCa::~PebbleCa() { Stop(); }

void PebbleCa::Stop() {
  Kill(&pebble_);
  Kill(&challtestsrv_);
}

std::string PebbleCa::directory_url() const {
  return absl::StrCat("https://127.0.0.1:", acme_port_, "/dir");
}

bool PebbleCa::WaitForDirectory() {
  const std::string command = absl::StrCat("curl -sf --max-time 2 --cacert ", https_ca_file_, " ",
                                           directory_url(), " -o /dev/null");
  for (int i = 0; i < 100; ++i) {  // 20 s
    if (RunShell(command).exit_code == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

std::string PebbleCa::IssuingRootFile() {
  const std::string path = dir_.File("issuing-root.pem");
  ShellRun run = RunShell(absl::StrCat("curl -sf --max-time 5 --cacert ", https_ca_file_,
                                       " https://127.0.0.1:", management_port_, "/roots/0 -o ",
                                       path));
  return run.exit_code == 0 ? path : "";
}

std::string PebbleCa::ManagementGet(const std::string& path) {
  ShellRun run = RunShell(absl::StrCat("curl -sf --max-time 5 --cacert ", https_ca_file_,
                                       " https://127.0.0.1:", management_port_, path));
  return run.exit_code == 0 ? run.output : "";
}

std::string PebbleCa::Log() const {
  return absl::StrCat("--- pebble:\n", ReadText(dir_.File("pebble.log")), "--- challtestsrv:\n",
                      ReadText(dir_.File("challtestsrv.log")));
}

}  // namespace appwire::testing
