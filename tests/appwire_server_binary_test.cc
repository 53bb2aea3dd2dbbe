// appwire-server as an operator runs it: a child process on a fresh
// project folder, its start-up lines, a client call, SIGTERM, exit 0.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::TempDir;
using ::testing::HasSubstr;

TEST(AppwireServerBinaryTest, StartsServesAndDrainsOnSigterm) {
  TempDir dir;
  const std::string project = dir.File("project");
  const std::string log = dir.File("server.log");
  pid_t pid = testing::SpawnAppwireServer(
      APPWIRE_SERVER_BINARY, {"--project", project, "--port", "0", "--bind", "127.0.0.1"}, log);
  ASSERT_GT(pid, 0);
  std::string text;
  int port = 0;
  for (int i = 0; i < 500 && text.find("certificate fingerprint: ") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    text = testing::ReadText(log);
  }
  size_t at = text.find("listening on 127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << text;
  port = std::atoi(text.c_str() + at + 23);
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
