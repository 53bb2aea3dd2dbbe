#include "tools/appwire/command.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "appwire/common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire::cli {
namespace {

using ::testing::ElementsAre;

Arguments Parse(std::vector<std::string> words) {
  std::vector<char*> argv = {const_cast<char*>("appwire"), const_cast<char*>("sub")};
  for (std::string& word : words) argv.push_back(word.data());
  return ParseArguments(static_cast<int>(argv.size()), argv.data(), 2);
}

TEST(ArgumentsTest, FlagsTakeTheNextWordExceptJsonAndForce) {
  const Arguments a = Parse({"init", "--json", "--out", "dir", "--force", "extra", "--name"});
  EXPECT_THAT(a.positional, ElementsAre("init", "extra"));
  EXPECT_EQ(a.Get("out"), "dir");
  EXPECT_TRUE(a.Has("json"));
  EXPECT_TRUE(a.Has("force"));
  EXPECT_TRUE(a.Has("name"));  // last on the line: given, with no value
  EXPECT_EQ(a.Get("name", "fallback"), "");
  EXPECT_FALSE(a.Has("pub"));
  EXPECT_EQ(a.Get("pub", "fallback"), "fallback");
}

TEST(ArgumentsTest, ARepeatedFlagKeepsEveryValueInOrder) {
  const Arguments a = Parse({"--san", "DNS:a", "--san", "IP:10.0.0.1", "--san", "b"});
  EXPECT_THAT(a.All("san"), ElementsAre("DNS:a", "IP:10.0.0.1", "b"));
  EXPECT_EQ(a.Get("san"), "DNS:a");
  EXPECT_TRUE(a.All("cn").empty());
}

TEST(AddSansTest, DnsIpAndBareNamesAreTakenAndOtherKindsRefused) {
  CertificateSpec spec;
  ASSERT_TRUE(AddSans({"DNS:a.test", "IP:192.0.2.1", "b.test"}, &spec).ok());
  EXPECT_THAT(spec.dns_names, ElementsAre("a.test", "b.test"));
  EXPECT_THAT(spec.ip_addresses, ElementsAre("192.0.2.1"));
  const absl::Status refused = AddSans({"URI:https://a.test"}, &spec);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.message(), "--san URI:https://a.test: use DNS:name or IP:address");
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/appwire-command-test-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    dir_ = name;
    key_ = JoinPath(dir_, "key.pem");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::string key_;
};

TEST_F(KeyFileTest, AnExistingKeyIsReplacedOnlyWithForce) {
  EXPECT_TRUE(RefuseToReplace(key_, Parse({}), kKeyReplaced).ok());  // nothing there yet
  ASSERT_TRUE(WriteKey(key_, "first", Parse({})).ok());
  struct stat st;
  ASSERT_EQ(::stat(key_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const std::string refusal = key_ +
      " exists; pass --force to replace it (the private key in it would be lost, and with it "
      "every certificate issued for it)";
  const absl::Status asked = RefuseToReplace(key_, Parse({}), kKeyReplaced);
  EXPECT_EQ(asked.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(asked.message(), refusal);
  // The write itself keeps the file too (a key that appeared after the check).
  const absl::Status written = WriteKey(key_, "second", Parse({}));
  EXPECT_EQ(written.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(written.message(), refusal);
  EXPECT_EQ(*ReadFile(key_), "first");

  EXPECT_TRUE(RefuseToReplace(key_, Parse({"--force"}), kKeyReplaced).ok());
  ASSERT_TRUE(WriteKey(key_, "second", Parse({"--force"})).ok());
  EXPECT_EQ(*ReadFile(key_), "second");
}

TEST(JsonStringTest, QuotesAndBackslashesAreEscapedAndControlCharactersDropped) {
  EXPECT_EQ(JsonString("a \"b\" \\ c\r\n"), "\"a \\\"b\\\" \\\\ c\"");
}

}  // namespace
}  // namespace appwire::cli
