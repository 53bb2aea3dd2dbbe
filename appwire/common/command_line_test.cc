#include "appwire/common/command_line.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

using ::testing::ElementsAre;
using Kind = FlagSpec::Kind;

const std::vector<FlagSpec> kFlags = {
    {"out", Kind::kValue}, {"san", Kind::kRepeated}, {"json", Kind::kSwitch},
    {"data", Kind::kValue, 'd'}};

absl::StatusOr<CommandLine> Parse(std::vector<const char*> words, size_t max_positional = 2) {
  words.insert(words.begin(), {"appwire", "sub"});
  return ParseCommandLine(static_cast<int>(words.size()), words.data(), 2, kFlags,
                          max_positional);
}

absl::Status Error(std::vector<const char*> words, size_t max_positional = 2) {
  return Parse(std::move(words), max_positional).status();
}

TEST(CommandLineTest, ValuesComeAfterASpaceOrAnEqualsSign) {
  absl::StatusOr<CommandLine> line =
      Parse({"init", "--out", "dir", "--san=DNS:a", "--json", "--san", "IP:10.0.0.5", "extra"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_THAT(line->positional, ElementsAre("init", "extra"));
  EXPECT_EQ(line->Get("out"), "dir");
  EXPECT_THAT(line->All("san"), ElementsAre("DNS:a", "IP:10.0.0.5"));
  EXPECT_TRUE(line->Has("json"));
  EXPECT_FALSE(line->help);
  // In the order given (settings checked against each other apply in it).
  ASSERT_EQ(line->flags.size(), 4u);
  EXPECT_EQ(line->flags[0].first, "out");
  EXPECT_EQ(line->flags[1], std::make_pair(std::string("san"), std::string("DNS:a")));
  EXPECT_EQ(line->flags[2].first, "json");
  EXPECT_EQ(line->flags[3].first, "san");
  EXPECT_EQ(line->Get("missing", "fallback"), "fallback");
  EXPECT_TRUE(line->All("missing").empty());
}

TEST(CommandLineTest, AnEmptyValueAfterEqualsIsAValue) {
  absl::StatusOr<CommandLine> line = Parse({"--out="});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(line->Has("out"));
  EXPECT_EQ(line->Get("out", "fallback"), "");
}

TEST(CommandLineTest, UnknownFlagsAreErrorsNotIgnored) {
  EXPECT_EQ(Error({"--out", "d", "--bogus-flag", "1"}),
            absl::InvalidArgumentError("unknown flag --bogus-flag"));
  EXPECT_EQ(Error({"--bogus=1"}), absl::InvalidArgumentError("unknown flag --bogus"));
  EXPECT_EQ(Error({"-x"}), absl::InvalidArgumentError("unknown flag -x (flags are spelled --name)"));
}

TEST(CommandLineTest, AValueFlagNeedsItsValue) {
  EXPECT_EQ(Error({"--out"}), absl::InvalidArgumentError("--out needs a value"));
  // The next flag is not taken as the value (no file named --json).
  EXPECT_EQ(Error({"--out", "--json"}), absl::InvalidArgumentError("--out needs a value"));
  absl::StatusOr<CommandLine> odd = Parse({"--out=--json"});
  ASSERT_TRUE(odd.ok()) << odd.status();
  EXPECT_EQ(odd->Get("out"), "--json");
}

TEST(CommandLineTest, SwitchesTakeNoValue) {
  EXPECT_EQ(Error({"--json=true"}), absl::InvalidArgumentError("--json takes no value"));
  // The word after a switch is positional.
  absl::StatusOr<CommandLine> line = Parse({"--json", "true"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_THAT(line->positional, ElementsAre("true"));
}

TEST(CommandLineTest, OnlyRepeatedFlagsMayRepeat) {
  EXPECT_EQ(Error({"--out", "a", "--out", "b"}),
            absl::InvalidArgumentError("--out is given twice"));
  EXPECT_EQ(Error({"--json", "--json"}), absl::InvalidArgumentError("--json is given twice"));
}

TEST(CommandLineTest, AOneLetterSpellingIsTheSameFlag) {
  absl::StatusOr<CommandLine> line = Parse({"-d", "{\"a\": 1}"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->Get("data"), "{\"a\": 1}");
  EXPECT_EQ(Error({"-d", "x", "--data", "y"}), absl::InvalidArgumentError("--data is given twice"));
  EXPECT_EQ(Error({"-d"}), absl::InvalidArgumentError("--data needs a value"));
  EXPECT_EQ(Error({"-o"}), absl::InvalidArgumentError("unknown flag -o (flags are spelled --name)"));
}

TEST(CommandLineTest, StrayArgumentsAreErrors) {
  EXPECT_EQ(Error({"a", "b", "c"}), absl::InvalidArgumentError("unexpected argument \"c\""));
  EXPECT_EQ(Error({"a"}, 0), absl::InvalidArgumentError("unexpected argument \"a\""));
}

TEST(CommandLineTest, DoubleDashEndsTheFlagsAndDashIsPositional) {
  absl::StatusOr<CommandLine> line = Parse({"-", "--", "--json"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_THAT(line->positional, ElementsAre("-", "--json"));
  EXPECT_FALSE(line->Has("json"));
}

TEST(CommandLineTest, HelpIsAlwaysAllowed) {
  for (const char* help : {"-h", "--help"}) {
    absl::StatusOr<CommandLine> line = Parse({"--out", "d", help});
    ASSERT_TRUE(line.ok()) << line.status();
    EXPECT_TRUE(line->help);
  }
  EXPECT_EQ(Error({"--help", "--bogus"}), absl::InvalidArgumentError("unknown flag --bogus"));
}

}  // namespace
}  // namespace appwire
