// appwire-server's command line as an operator types it: unknown flags and
// stray words stop it with exit status 2 before anything is written,
// --help lists every flag with its default, --version, --config FILE
// instead of the project's appwire.conf, --log-level, and settings applied
// in the order given.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include "appwire/common/version.h"
#include "appwire/server/settings_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::RunShell;
using ::appwire::testing::ShellRun;
using ::appwire::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

ShellRun Server(const std::string& arguments) {
  return RunShell(absl::StrCat(APPWIRE_SERVER_BINARY, " ", arguments));
}

void ExpectUsageError(const ShellRun& run, const std::string& problem) {
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_EQ(run.output, absl::StrCat("appwire-server: ", problem,
                                     "\n(appwire-server --help lists the flags and settings)\n"));
}

// Starts the binary, waits (bounded) for its last start-up line, stops it
// with SIGTERM and returns what it logged; "" when it did not get there.
std::string StartAndStop(const std::vector<std::string>& arguments, const TempDir& dir) {
  const std::string log = dir.File("server.log");
  const testing::SpawnedServer server =
      testing::SpawnAppwireServerAndWait(APPWIRE_SERVER_BINARY, arguments, log);
  if (server.pid <= 0) return "";
  if (!server.exited) {
    kill(server.pid, SIGTERM);
    int status = 0;
    waitpid(server.pid, &status, 0);
  }
  return testing::ReadText(log);
}

TEST(AppwireServerFlagsTest, AnUnknownFlagOrStrayWordStopsItBeforeAnythingIsWritten) {
  TempDir dir;
  const std::string project = dir.File("project");
  ExpectUsageError(Server(absl::StrCat("--project ", project, " --bogus-flag 1")),
                   "unknown flag --bogus-flag");
  ExpectUsageError(Server(absl::StrCat("--project ", project, " 19813")),
                   "unexpected argument \"19813\"");
  ExpectUsageError(Server(absl::StrCat("--project ", project, " --port")), "--port needs a value");
  ExpectUsageError(Server(absl::StrCat("--project ", project, " --port 1 --port 2")),
                   "--port is given twice");
  ExpectUsageError(Server(absl::StrCat("--project ", project, " --log-level loud")),
                   "--log-level loud: use debug, info, warning or error");
  ExpectUsageError(Server(absl::StrCat("--project=", project, " --min-tls=1.1")),
                   "--min-tls 1.1: kMinTlsVersion (105): 2 is not allowed; TLS 1.1 is obsolete and "
                   "insecure, and appwire does not offer it; use kTLSv1_2 (3) or kTLSv1_3 (4)");
  ExpectUsageError(Server(""), "--project DIR is required");
  // No key, certificate or folder was made by any of them.
  EXPECT_FALSE(FileExists(project));
}

TEST(AppwireServerFlagsTest, HelpListsEveryFlagWithItsDefault) {
  const ShellRun help = Server("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, ::testing::StartsWith("usage: appwire-server --project DIR"));
  for (const SettingDescription& setting : DescribeSettings()) {
    std::string flag = setting.key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    EXPECT_THAT(help.output, HasSubstr(absl::StrCat("\n  --", flag, " ")))
        << flag << " is not listed";
  }
  EXPECT_THAT(help.output, HasSubstr("\n  --handshake-timeout-ms 10000  milliseconds\n"));
  EXPECT_THAT(help.output, HasSubstr("\n  --min-tls 1.3  1.2 or 1.3\n"));
  EXPECT_THAT(help.output, HasSubstr("\n  --bind 127.0.0.1  address to listen on"));
  EXPECT_THAT(help.output, HasSubstr("\n  --client-ca (none)  file of the CAs"));
  EXPECT_THAT(help.output, HasSubstr("Exit status: 0 stopped, 1 could not start, 2 wrong "
                                     "command line."));
  EXPECT_EQ(Server("-h").output, help.output);

  const ShellRun version = Server("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output, absl::StrCat("appwire-server ", kSoftwareVersion, "\n"));
}

TEST(AppwireServerFlagsTest, ConfigReadsAnotherSettingsFileWhichMustExist) {
  TempDir dir;
  ASSERT_TRUE(MakeDirectories(dir.File("project")).ok());
  // The project's own file would stop the server: --config replaces it.
  dir.Write("project/appwire.conf", "min_tls = 1.0\n");
  dir.Write("other.conf", "min_tls = 1.2\nport = 0\n");
  const std::string text = StartAndStop(
      {"--project", dir.File("project"), "--config", dir.File("other.conf")}, dir);
  EXPECT_THAT(text, HasSubstr("minimum TLS version: TLSv1.2")) << text;

  const ShellRun missing = Server(absl::StrCat("--project ", dir.File("fresh"), " --config ",
                                               dir.File("absent.conf")));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.output,
              HasSubstr(absl::StrCat("cannot start: --config ", dir.File("absent.conf"),
                                     ": no such file (give a settings file that exists, or leave "
                                     "--config out to read the project folder's appwire.conf)")));
  EXPECT_FALSE(FileExists(dir.File("fresh")));
}

// --check reads everything a start reads, says what would be served, and
// writes nothing.
TEST(AppwireServerFlagsTest, CheckSaysWhatWouldBeServedAndWritesNothing) {
  TempDir dir;
  const std::string project = dir.File("project");
  ShellRun run = Server(absl::StrCat("--project ", project, " --check --port 7777"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, absl::StrCat(project, ": usable\n  would listen on 127.0.0.1:7777\n"
                                     "  minimum TLS version: TLSv1.3\n"
                                     "  certificate: none yet; the first start generates a "
                                     "self-signed pair in ",
                                     project, " (key.pem, cert.pem)\n"));
  EXPECT_FALSE(FileExists(project));
  // With a pair (made by a start): its certificate.
  StartAndStop({"--project", project, "--port", "0"}, dir);
  ASSERT_TRUE(FileExists(JoinPath(project, "cert.pem")));
  run = Server(absl::StrCat("--project ", project, " --check --bind ::1 --min-tls 1.2"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("  would listen on [::1]:19813\n  minimum TLS version: "
                                    "TLSv1.2\n  maximum TLS version: TLSv1.3\n"));
  EXPECT_THAT(run.output, HasSubstr("  certificate fingerprint: SHA256:"));
  // A folder the server would refuse: exit 1, the reason.
  dir.Write("project/appwire.conf", "port = many\n");
  run = Server(absl::StrCat("--project ", project, " --check"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("cannot start: \""));
  EXPECT_THAT(run.output, HasSubstr("port = \"many\": a whole number is expected"));
}

TEST(AppwireServerFlagsTest, SettingsApplyInTheOrderGivenAndLogLevelFilters) {
  TempDir dir;
  // min before max: each is checked against the other as it is set, so the
  // order the operator wrote matters (a sorted order would set max 1.2
  // under the default min 1.3 and refuse).
  std::string text = StartAndStop({"--project", dir.File("project"), "--port", "0", "--min-tls",
                                   "1.2", "--max-tls", "1.2"},
                                  dir);
  EXPECT_THAT(text, HasSubstr("minimum TLS version: TLSv1.2")) << text;
  EXPECT_THAT(text, Not(HasSubstr("maximum TLS version")));
  // Warnings and errors only: with the key (generated above) readable by
  // its group, the start-up warns and the info lines are not written.
  ASSERT_EQ(::chmod(dir.File("project/key.pem").c_str(), 0640), 0);
  const std::string log = dir.File("quiet.log");
  pid_t pid = testing::SpawnAppwireServer(
      APPWIRE_SERVER_BINARY,
      {"--project", dir.File("project"), "--port", "0", "--log-level", "warning"}, log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return testing::ReadText(log).find("readable by group") != std::string::npos; },
      absl::Seconds(10)));
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  text = testing::ReadText(log);
  EXPECT_THAT(text, HasSubstr(" W key " + dir.File("project/key.pem"))) << text;
  EXPECT_THAT(text, Not(HasSubstr("listening on"))) << text;
  EXPECT_THAT(text, Not(HasSubstr("stopped"))) << text;
}

}  // namespace
}  // namespace appwire
