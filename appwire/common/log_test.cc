#include "appwire/common/log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

// What was written to stderr while `write` ran (fd 2 pointed at a file).
template <typename Write>
std::string CaptureStderr(Write write) {
  char name[] = "/tmp/appwire-log-test-XXXXXX";
  const int file = ::mkstemp(name);
  std::fflush(stderr);
  const int saved = ::dup(2);
  ::dup2(file, 2);
  write();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::string text;
  ::lseek(file, 0, SEEK_SET);
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(file, buffer, sizeof(buffer))) > 0) text.append(buffer, static_cast<size_t>(n));
  ::close(file);
  ::unlink(name);
  return text;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override {
    SetLogFormat(LogFormat::kText);
    SetMinLogLevel(LogLevel::kInfo);
    SetLogSink(nullptr);
  }
};

TEST_F(LogTest, TextLinesHaveTheTimeTheLevelAndTheEventsFieldsAsWords) {
  const std::string text = CaptureStderr([] {
    LogWarning("plain words");
    LogEvent(LogLevel::kInfo, "call",
             {{"method", "pkg.S/M"}, {"duration_us", int64_t{812}}, {"note", "two words"},
              {"empty", ""}, {"eq", "a=b"}});
  });
  const std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 2u) << text;
  EXPECT_THAT(lines[0], ::testing::MatchesRegex(
                            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z appwire W "
                            "plain words"));
  EXPECT_THAT(lines[1], ::testing::EndsWith(
                            " appwire I call method=pkg.S/M duration_us=812 note=\"two words\" "
                            "empty=\"\" eq=\"a=b\""));
}

TEST_F(LogTest, JsonLinesAreOneObjectEachWithTheFieldsTyped) {
  SetLogFormat(LogFormat::kJson);
  const int64_t before = absl::ToUnixMicros(absl::Now());
  const std::string text = CaptureStderr([] {
    LogError("quote \" backslash \\ newline \n control \x01 and bad UTF-8 \xff");
    LogEvent(LogLevel::kInfo, "call", {{"method", "pkg.S/M"}, {"duration_us", int64_t{812}}});
  });
  const int64_t after = absl::ToUnixMicros(absl::Now());
  const std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 2u) << text;
  const nlohmann::json message = nlohmann::json::parse(lines[0]);
  EXPECT_GE(message["time_us"].get<int64_t>(), before);
  EXPECT_LE(message["time_us"].get<int64_t>(), after);
  EXPECT_EQ(message["level"], "error");
  EXPECT_EQ(message["event"], "message");
  EXPECT_EQ(message["message"],
            "quote \" backslash \\ newline \n control \x01 and bad UTF-8 \xef\xbf\xbd");
  // The order of members: time_us, level, event, then the fields.
  EXPECT_THAT(lines[1], ::testing::StartsWith("{\"time_us\":"));
  EXPECT_THAT(lines[1], ::testing::EndsWith(
                            ",\"level\":\"info\",\"event\":\"call\",\"method\":\"pkg.S/M\","
                            "\"duration_us\":812}"));
}

TEST_F(LogTest, LinesBelowTheLevelAreDroppedAndASinkGetsTheTextForm) {
  SetMinLogLevel(LogLevel::kWarning);
  EXPECT_EQ(CaptureStderr([] {
              LogInfo("dropped");
              LogEvent(LogLevel::kInfo, "call", {{"method", "x"}});
            }),
            "");
  std::vector<std::string> got;
  SetLogSink([&got](LogLevel, absl::string_view line) { got.emplace_back(line); });
  SetLogFormat(LogFormat::kJson);  // a sink gets the text either way
  LogEvent(LogLevel::kError, "call", {{"method", "x"}, {"bytes_in", int64_t{3}}});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "call method=x bytes_in=3");
}

}  // namespace
}  // namespace appwire
