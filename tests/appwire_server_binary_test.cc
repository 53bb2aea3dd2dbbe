// appwire-server as an operator runs it: a child process on a fresh
// project folder, its start-up lines, a client call, SIGTERM, exit 0.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "appwire/client/channel.h"
#include "appwire/common/files.h"
#include "appwire/server/service_manager.h"
#include "appwire/v1/builtin.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::TempDir;
using ::testing::HasSubstr;

using Started = testing::SpawnedServer;

Started SpawnAndWait(const std::vector<std::string>& arguments, const std::string& log) {
  return testing::SpawnAppwireServerAndWait(APPWIRE_SERVER_BINARY, arguments, log);
}

TEST(AppwireServerBinaryTest, StartsServesAndDrainsOnSigterm) {
  TempDir dir;
  const std::string project = dir.File("project");
  const std::string log = dir.File("server.log");
  const Started server =
      SpawnAndWait({"--project", project, "--port", "0", "--bind", "127.0.0.1"}, log);
  const pid_t pid = server.pid;
  ASSERT_GT(pid, 0);
  const int port = server.port;
  std::string text = testing::ReadText(log);
  ASSERT_NE(port, 0) << text;
  EXPECT_THAT(text, HasSubstr("minimum TLS version: TLSv1.3"));
  EXPECT_THAT(text, HasSubstr("certificate subject: O=appwire self-signed, CN=localhost"));
  EXPECT_THAT(text, HasSubstr("certificate expires: "));
  EXPECT_THAT(text, HasSubstr("certificate fingerprint: SHA256:"));
  EXPECT_THAT(text, HasSubstr("key.pem written with mode 0600"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("PRIVATE KEY")));  // never logged
  struct stat key_stat;
  ASSERT_EQ(::stat((project + "/key.pem").c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 0777, 0600u);

  ChannelOptions options;
  options.target = absl::StrCat("127.0.0.1:", port);
  options.ca_file = project + "/cert.pem";
  auto channel = Channel::Connect(options);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  text = testing::ReadText(log);
  EXPECT_THAT(text, HasSubstr("received SIGTERM; draining calls in flight"));
  EXPECT_THAT(text, HasSubstr("stopped"));
}

// SIGHUP re-reads appwire.conf: the database parameters apply to new
// connections, the keys read only at start are named, and a file that
// does not read keeps the running settings.
TEST(AppwireServerBinaryTest, SighupRereadsTheSettingsThatCanChangeLive) {
  TempDir dir;
  ASSERT_TRUE(MakeDirectories(dir.File("project")).ok());
  dir.Write("project/appwire.conf", "max_message_bytes = 2000000\n");
  const std::string log = dir.File("server.log");
  const Started server = SpawnAndWait({"--project", dir.File("project"), "--port", "0"}, log);
  ASSERT_GT(server.pid, 0);
  ASSERT_NE(server.port, 0) << testing::ReadText(log);
  auto max_message_bytes = [&]() -> uint64_t {
    ChannelOptions options;
    options.target = absl::StrCat("127.0.0.1:", server.port);
    options.ca_file = dir.File("project/cert.pem");
    auto channel = Channel::Connect(options);
    if (!channel.ok()) return 0;
    auto info = (*channel)->Call<v1::ServerInfoResponse>("appwire.v1.ServerInfo/Get",
                                                         v1::ServerInfoRequest());
    return info.ok() ? info->max_message_bytes() : 0;
  };
  EXPECT_EQ(max_message_bytes(), 2000000u);

  dir.Write("project/appwire.conf", "max_message_bytes = 1000000\nbind = 0.0.0.0\n");
  ASSERT_EQ(kill(server.pid, SIGHUP), 0);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return testing::ReadText(log).find("is read only at start") != std::string::npos; },
      absl::Seconds(10)))
      << testing::ReadText(log);
  std::string text = testing::ReadText(log);
  EXPECT_THAT(text, HasSubstr(absl::StrCat("received SIGHUP; re-reading ",
                                           dir.File("project/appwire.conf"),
                                           " and reloading certificates")));
  EXPECT_THAT(text, HasSubstr("kMaxMessageSize (1006) is now 1000000 for new connections"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("bind changed in ", dir.File("project/appwire.conf"),
                                           " but is read only at start: it takes effect at the "
                                           "next start of appwire-server")));
  EXPECT_EQ(max_message_bytes(), 1000000u);

  dir.Write("project/appwire.conf", "max_message_bytes = lots\n");
  ASSERT_EQ(kill(server.pid, SIGHUP), 0);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return testing::ReadText(log).find("settings not re-read") != std::string::npos; },
      absl::Seconds(10)));
  EXPECT_THAT(testing::ReadText(log),
              HasSubstr("settings not re-read, the running ones stay: "));
  EXPECT_EQ(max_message_bytes(), 1000000u);

  ASSERT_EQ(kill(server.pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(server.pid, &status, 0), server.pid);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// A datagram socket standing in for systemd's notification socket
// (NOTIFY_SOCKET): what appwire-server tells its service manager.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    timeval timeout{10, 0};  // a hang guard for each message
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  // The next message ("" after 10 s without one).
  std::string Next() {
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

// Under systemd (Type=notify): READY=1 once it listens, RELOADING=1 then
// READY=1 around a SIGHUP, STOPPING=1 when it drains.
TEST(AppwireServerBinaryTest, TellsTheServiceManagerWhenReadyReloadingAndStopping) {
  if (!ServiceManagerNotificationsBuiltIn()) {
    GTEST_SKIP() << "built without libsystemd (scripts/install-deps.sh installs libsystemd-dev)";
  }
  TempDir dir;
  NotifySocket notify(dir.File("notify.sock"));
  ASSERT_TRUE(notify.bound());
  ::setenv("NOTIFY_SOCKET", dir.File("notify.sock").c_str(), 1);
  const Started server =
      SpawnAndWait({"--project", dir.File("project"), "--port", "0"}, dir.File("server.log"));
  ::unsetenv("NOTIFY_SOCKET");
  ASSERT_GT(server.pid, 0);
  ASSERT_NE(server.port, 0);
  EXPECT_EQ(notify.Next(), absl::StrCat("READY=1\nSTATUS=listening on 127.0.0.1:", server.port));
  ASSERT_EQ(kill(server.pid, SIGHUP), 0);
  EXPECT_THAT(notify.Next(), ::testing::MatchesRegex("RELOADING=1\nMONOTONIC_USEC=[0-9]+"));
  EXPECT_EQ(notify.Next(), absl::StrCat("READY=1\nSTATUS=listening on 127.0.0.1:", server.port));
  ASSERT_EQ(kill(server.pid, SIGTERM), 0);
  EXPECT_EQ(notify.Next(), "STOPPING=1\nSTATUS=draining calls in flight");
  int status = 0;
  ASSERT_EQ(waitpid(server.pid, &status, 0), server.pid);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// --log-format json: every line one JSON object; --access-log true: one
// "call" event per answered call, with its fields typed.
TEST(AppwireServerBinaryTest, JsonLinesAndTheAccessLog) {
  TempDir dir;
  const std::string log = dir.File("server.log");
  const Started server = SpawnAndWait({"--project", dir.File("project"), "--port", "0",
                                       "--log-format", "json", "--access-log", "true"},
                                      log);
  ASSERT_GT(server.pid, 0);
  ASSERT_NE(server.port, 0) << testing::ReadText(log);
  ChannelOptions options;
  options.target = absl::StrCat("127.0.0.1:", server.port);
  options.ca_file = dir.File("project/cert.pem");
  auto channel = Channel::Connect(options);
  ASSERT_TRUE(channel.ok()) << channel.status();
  ASSERT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());
  v1::EchoRequest echo;
  echo.set_payload("hello");
  ASSERT_TRUE((*channel)->CallRaw("appwire.v1.Echo/Echo", echo.SerializeAsString()).ok());
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return testing::ReadText(log).find("appwire.v1.Echo/Echo") != std::string::npos; },
      absl::Seconds(10)));
  ASSERT_EQ(kill(server.pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(server.pid, &status, 0), server.pid);
  EXPECT_EQ(WEXITSTATUS(status), 0);

  std::vector<nlohmann::json> calls;
  bool listening = false;
  for (absl::string_view line : absl::StrSplit(testing::ReadText(log), '\n', absl::SkipEmpty())) {
    nlohmann::json object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(object.is_discarded()) << "not JSON: " << line;
    ASSERT_TRUE(object["time_us"].is_number_integer()) << line;
    ASSERT_TRUE(object["level"].is_string()) << line;
    if (object["event"] == "call") calls.push_back(object);
    if (object["event"] == "message" &&
        object["message"].get<std::string>().rfind("listening on 127.0.0.1:", 0) == 0) {
      listening = true;
    }
  }
  EXPECT_TRUE(listening);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["method"], "appwire.v1.Health/Check");
  EXPECT_EQ(calls[0]["status"], "OK");
  EXPECT_EQ(calls[0]["identity"], "-");
  EXPECT_THAT(calls[0]["peer"].get<std::string>(), ::testing::StartsWith("127.0.0.1:"));
  EXPECT_TRUE(calls[0]["duration_us"].is_number_integer());
  EXPECT_EQ(calls[0]["bytes_in"], 0);
  EXPECT_EQ(calls[0]["bytes_out"], 2);  // SERVING: 08 01
  EXPECT_EQ(calls[1]["method"], "appwire.v1.Echo/Echo");
  EXPECT_EQ(calls[1]["bytes_in"], echo.ByteSizeLong());
  EXPECT_EQ(calls[1]["bytes_out"], echo.ByteSizeLong());
}

TEST(AppwireServerBinaryTest, RefusesToStartOnAKeyThatDoesNotMatch) {
  TempDir project;
  testing::TestCa ca = testing::TestCa::Create("Test CA");
  ca.IssueServerPair(project, "localhost", {"localhost"}, {});
  project.Write("key.pem", ca.key_pem, 0600);  // the CA's key, not the leaf's
  const std::string log = project.File("server.log");
  pid_t pid = testing::SpawnAppwireServer(APPWIRE_SERVER_BINARY,
                                          {"--project", project.path(), "--port", "0"}, log);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(testing::ReadText(log),
              HasSubstr(absl::StrCat("cannot start: \"", project.File("cert.pem"), "\" and \"",
                                     project.File("key.pem"), "\" do not match")));
}

}  // namespace
}  // namespace appwire
