#include "appwire/server/acme_manager.h"

#include "gtest/gtest.h"

namespace appwire {
namespace {

TEST(AcmeNameMatchesTest, StarStandsForPartOfOneLabel) {
  EXPECT_TRUE(AcmeNameMatches("*.shop.example", "a.shop.example"));
  EXPECT_TRUE(AcmeNameMatches("*.shop.example", "A.Shop.Example"));
  EXPECT_FALSE(AcmeNameMatches("*.shop.example", "a.b.shop.example"));
  EXPECT_FALSE(AcmeNameMatches("*.shop.example", "shop.example"));
  EXPECT_FALSE(AcmeNameMatches("*.shop.example", ".shop.example"));
  EXPECT_TRUE(AcmeNameMatches("pos-*.example", "pos-12.example"));
  EXPECT_FALSE(AcmeNameMatches("pos-*.example", "pos-.example"));
  EXPECT_FALSE(AcmeNameMatches("pos-*.example", "pos-1.x.example"));
  EXPECT_TRUE(AcmeNameMatches("exact.example", "EXACT.example"));
  EXPECT_FALSE(AcmeNameMatches("exact.example", "other.example"));
}

TEST(NormalizeAcmeNameTest, HostNamesOnlyInLowerCase) {
  EXPECT_EQ(NormalizeAcmeName("Shop.Example."), "shop.example");
  EXPECT_EQ(NormalizeAcmeName("a-b.c1.example"), "a-b.c1.example");
  EXPECT_EQ(NormalizeAcmeName("10.0.0.1"), "");
  EXPECT_EQ(NormalizeAcmeName("::1"), "");
  EXPECT_EQ(NormalizeAcmeName("*.shop.example"), "");
  EXPECT_EQ(NormalizeAcmeName("a..example"), "");
  EXPECT_EQ(NormalizeAcmeName(""), "");
  EXPECT_EQ(NormalizeAcmeName("a_b.example"), "");
  EXPECT_EQ(NormalizeAcmeName(std::string(64, 'a') + ".example"), "");
  EXPECT_EQ(NormalizeAcmeName(std::string(63, 'a') + ".example"), std::string(63, 'a') + ".example");
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  EXPECT_EQ(NormalizeAcmeName(long_name + "x"), "");  // over 253
}

TEST(AcmeOptionsTest, ServerOptionsValidateRefusesWhatCannotBeOrdered) {
  ServerOptions options;
  options.project_dir = "/tmp";
  options.acme.domains = {"shop.example", "192.0.2.1"};
  EXPECT_EQ(options.Validate().message(),
            "acme.domains: \"192.0.2.1\" is not a DNS name an ACME CA can issue for (IP addresses "
            "and wildcards are not; list each host name)");
  options.acme.domains = {"shop.example"};
  options.acme.http_port = 0;
  EXPECT_EQ(options.Validate().message(),
            "acme.http_port 0 is out of range; use the port that port 80 reaches");
  options.acme.http_port = 80;
  options.acme.check_interval = absl::ZeroDuration();
  EXPECT_FALSE(options.Validate().ok());
  options.acme.check_interval = absl::Hours(1);
  EXPECT_TRUE(options.Validate().ok());
}

}  // namespace
}  // namespace appwire
