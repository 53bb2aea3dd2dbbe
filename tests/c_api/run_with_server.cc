// Runs a C API test program against a real appwire-server:
//
//   run_with_server SERVER_BINARY COMMAND [ARGS...]
//
// starts SERVER_BINARY on a fresh project folder (port 0, loopback), waits
// for it to listen, writes a CA certificate the server does not use (the
// "wrong CA"), runs COMMAND ARGS... TARGET PROJECT_DIR WRONG_CA_FILE
// FINGERPRINT TEMP_DIR, stops the server with SIGTERM and exits with the
// command's status. The command is bounded (killed after 120 s); the
// server's log is printed when anything failed. Used for c_api_test.c and
// c_api_test.py (tests/c_api/CMakeLists.txt).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/test_support.h"

namespace {

using appwire::testing::TempDir;

constexpr char kListening[] = "listening on 127.0.0.1:";
constexpr char kFingerprint[] = "certificate fingerprint: ";

// The child's exit status, or -1 after killing it at `timeout`.
int WaitBounded(pid_t pid, std::chrono::seconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > end) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  std::fprintf(stderr, "run_with_server: the command died of signal %d\n", WTERMSIG(status));
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int Run(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SERVER_BINARY COMMAND [ARGS...]\n", argv[0]);
    return 2;
  }
  TempDir dir;
  const std::string project = dir.File("project");
  const std::string log = dir.File("server.log");
  const std::string scratch = dir.File("scratch");
  std::filesystem::create_directory(project);  // so that it gets ready DH parameters
  std::filesystem::create_directory(scratch);
  pid_t server = appwire::testing::SpawnAppwireServer(
      argv[1], {"--project", project, "--port", "0", "--bind", "127.0.0.1"}, log);
  if (server <= 0) {
    std::fprintf(stderr, "run_with_server: cannot start %s\n", argv[1]);
    return 1;
  }
  std::string text;
  for (int i = 0; i < 1000 && (text.find(kListening) == std::string::npos ||
                               text.find(kFingerprint) == std::string::npos);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    text = appwire::testing::ReadText(log);
  }
  const size_t listening = text.find(kListening);
  const size_t fingerprint_at = text.find(kFingerprint);
  if (listening == std::string::npos || fingerprint_at == std::string::npos) {
    std::fprintf(stderr, "run_with_server: the server did not start:\n%s\n", text.c_str());
    kill(server, SIGKILL);
    waitpid(server, nullptr, 0);
    return 1;
  }
  const int port = std::atoi(text.c_str() + listening + sizeof(kListening) - 1);
  const size_t start = fingerprint_at + sizeof(kFingerprint) - 1;
  const std::string fingerprint = text.substr(start, text.find_first_of("\r\n", start) - start);
  const std::string wrong_ca = dir.File("other-ca.pem");
  dir.Write("other-ca.pem", appwire::testing::TestCa::Create("Other CA").cert_pem);

  std::vector<std::string> arguments(argv + 2, argv + argc);
  arguments.push_back(absl::StrCat("127.0.0.1:", port));
  arguments.push_back(project);
  arguments.push_back(wrong_ca);
  arguments.push_back(fingerprint);
  arguments.push_back(scratch);
  std::fflush(nullptr);
  pid_t child = fork();
  if (child == 0) {
    std::vector<char*> child_argv;
    for (std::string& argument : arguments) child_argv.push_back(argument.data());
    child_argv.push_back(nullptr);
    execvp(child_argv[0], child_argv.data());
    std::perror("run_with_server: exec");
    _exit(127);
  }
  const int result = child < 0 ? 1 : WaitBounded(child, std::chrono::seconds(120));
  if (result == -1) std::fprintf(stderr, "run_with_server: the command took over 120 s\n");

  kill(server, SIGTERM);
  const int server_status = WaitBounded(server, std::chrono::seconds(30));
  if (result != 0 || server_status != 0) {
    std::fprintf(stderr, "run_with_server: command %d, server %d; the server's log:\n%s\n",
                 result, server_status, appwire::testing::ReadText(log).c_str());
  }
  if (result != 0) return result == -1 ? 1 : result;
  return server_status == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
