#include "tools/appwire/command.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire::cli {
namespace {

using ::testing::ElementsAre;

// A command line with the flags the helpers below read.
Arguments Parse(std::vector<std::string> words) {
  std::vector<const char*> argv = {"appwire", "sub"};
  for (const std::string& word : words) argv.push_back(word.c_str());
  const std::vector<FlagSpec> flags = {{"force", Kind::kSwitch}, {"days"}};
  return *ParseCommandLine(static_cast<int>(argv.size()), argv.data(), 2, flags, 0);
}

TEST(DaysFlagTest, TakesWholeDaysFromOneToOneHundredYears) {
  EXPECT_EQ(*DaysFlag(Parse({}), 825), 825);
  EXPECT_EQ(*DaysFlag(Parse({"--days", "90"}), 825), 90);
  EXPECT_EQ(*DaysFlag(Parse({"--days=36500"}), 825), 36500);
  for (const char* bad : {"0", "-1", "36501", "90d", ""}) {
    EXPECT_EQ(DaysFlag(Parse({std::string("--days=") + bad}), 825).status(),
              absl::InvalidArgumentError(absl::StrCat(
                  "--days ", bad, ": give a whole number of days from 1 to 36500")));
  }
}

TEST(AddSansTest, DnsIpEmailUriAndBareNamesAreTakenAndOtherKindsRefused) {
  CertificateSpec spec;
  ASSERT_TRUE(AddSans({"DNS:a.test", "IP:192.0.2.1", "b.test", "EMAIL:ops@a.test",
                       "URI:https://a.test/id"},
                      &spec)
                  .ok());
  EXPECT_THAT(spec.dns_names, ElementsAre("a.test", "b.test"));
  EXPECT_THAT(spec.ip_addresses, ElementsAre("192.0.2.1"));
  EXPECT_THAT(spec.email_addresses, ElementsAre("ops@a.test"));
  EXPECT_THAT(spec.uris, ElementsAre("https://a.test/id"));
  const absl::Status refused = AddSans({"RID:1.2.3"}, &spec);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.message(), "--san RID:1.2.3: use DNS:name, IP:address, EMAIL:address or URI:uri");
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

TEST_F(KeyFileTest, OtherFilesAreReplacedOnlyWithForceUnlessTheyHoldTheSame) {
  const std::string cert = JoinPath(dir_, "cert.pem");
  ASSERT_TRUE(Write(cert, "first", 0644, Parse({}), kCertificateReplaced).ok());
  // The same contents again: no loss, so no refusal.
  EXPECT_TRUE(Write(cert, "first", 0644, Parse({}), kCertificateReplaced).ok());
  EXPECT_TRUE(RefuseToReplaceUnlessSame(cert, "first", Parse({}), kCertificateReplaced).ok());
  const std::string refusal = cert +
      " exists; pass --force to replace it (the certificate in it would be lost; clients may "
      "trust or pin it)";
  EXPECT_EQ(RefuseToReplaceUnlessSame(cert, "second", Parse({}), kCertificateReplaced),
            absl::AlreadyExistsError(refusal));
  EXPECT_EQ(Write(cert, "second", 0644, Parse({}), kCertificateReplaced),
            absl::AlreadyExistsError(refusal));
  EXPECT_EQ(*ReadFile(cert), "first");
  ASSERT_TRUE(Write(cert, "second", 0644, Parse({"--force"}), kCertificateReplaced).ok());
  EXPECT_EQ(*ReadFile(cert), "second");
  struct stat st;
  ASSERT_EQ(::stat(cert.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

}  // namespace
}  // namespace appwire::cli
