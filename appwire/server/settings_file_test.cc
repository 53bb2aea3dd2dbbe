#include "appwire/server/settings_file.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "appwire/common/parameter_table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

// The default of `spec` as appwire-server --help shows it (DescribeSettings).
std::string SettingsText(const ParameterSpec& spec) {
  for (const SettingDescription& setting : DescribeSettings()) {
    if (setting.key == spec.settings_key) return setting.default_value;
  }
  ADD_FAILURE() << spec.settings_key << " is not described";
  return "";
}

TEST(SettingsFileTest, KnownKeysAreTheParameterTablesBetweenTheServerOptionsKeys) {
  std::vector<std::string> expected = {"bind"};
  for (const ParameterSpec& spec : ParameterTable()) expected.emplace_back(spec.settings_key);
  expected.insert(expected.end(), {"client_ca", "key_passphrase_file", "key_passphrase_env",
                                   "metrics_port", "metrics_bind", "access_log", "reflection",
                                   "stats", "acme_domains", "acme_on_demand", "acme_allow",
                                   "acme_directory", "acme_staging", "acme_email", "acme_ca_file",
                                   "acme_eab_key_id", "acme_eab_hmac_key", "acme_http_port",
                                   "acme_on_demand_per_hour"});
  EXPECT_EQ(SettingKeys(), expected);
}

TEST(SettingsFileTest, AcmeSettingsFillAcmeOptions) {
  ServerOptions options;
  ASSERT_TRUE(ApplySetting("acme_domains", "Shop.Example, api.shop.example,", &options).ok());
  EXPECT_EQ(options.acme.domains, (std::vector<std::string>{"Shop.Example", "api.shop.example"}));
  ASSERT_TRUE(ApplySetting("acme_on_demand", "true", &options).ok());
  ASSERT_TRUE(ApplySetting("acme_allow", "*.shop.example, pos-*.example", &options).ok());
  EXPECT_EQ(options.acme.allow, (std::vector<std::string>{"*.shop.example", "pos-*.example"}));
  ASSERT_TRUE(ApplySetting("acme_staging", "yes", &options).ok());
  ASSERT_TRUE(ApplySetting("acme_on_demand_per_hour", "7", &options).ok());
  ASSERT_TRUE(ApplySetting("acme_directory", "https://ca.example/dir", &options).ok());
  ASSERT_TRUE(ApplySetting("acme_http_port", "8080", &options).ok());
  EXPECT_EQ(options.acme.http_port, 8080);
  EXPECT_TRUE(options.acme.on_demand);
  EXPECT_TRUE(options.acme.staging);
  EXPECT_EQ(options.acme.on_demand_per_hour, 7);
  EXPECT_EQ(options.acme.directory, "https://ca.example/dir");
  EXPECT_TRUE(options.acme.enabled());
}

TEST(SettingsFileTest, BadAcmeValuesNameTheSettingAndTheFix) {
  ServerOptions options;
  EXPECT_EQ(ApplySetting("acme_domains", "shop.example, 10.0.0.1", &options).message(),
            "acme_domains: \"10.0.0.1\" is not a DNS name an ACME CA can issue for (IP addresses "
            "and wildcards are not; list each host name)");
  EXPECT_EQ(ApplySetting("acme_domains", "*.shop.example", &options).message(),
            "acme_domains: \"*.shop.example\" is not a DNS name an ACME CA can issue for (IP "
            "addresses and wildcards are not; list each host name)");
  EXPECT_EQ(ApplySetting("acme_directory", "http://ca.example/dir", &options).message(),
            "acme_directory = \"http://ca.example/dir\": an ACME directory is an https:// URL");
  EXPECT_EQ(ApplySetting("acme_http_port", "0", &options).message(),
            "acme_http_port = \"0\": use the port that port 80 reaches, 1 to 65535");
  EXPECT_EQ(ApplySetting("acme_on_demand_per_hour", "-1", &options).message(),
            "acme_on_demand_per_hour = \"-1\": use a whole number from 0 to 10000");
  EXPECT_THAT(std::string(ApplySetting("acme_typo", "x", &options).message()),
              ::testing::HasSubstr("unknown setting \"acme_typo\"; known settings: "));
}

TEST(SettingsFileTest, AcmeChangesNeedARestart) {
  ServerOptions running, reread;
  reread.acme.domains = {"shop.example"};
  SettingsChange change =
      CompareSettings(running, reread, [&](Parameter p) { return running.parameters.Get(p); });
  EXPECT_EQ(change.need_restart, std::vector<std::string>{"acme_*"});
}

TEST(SettingsFileTest, EveryKeyIsDescribedWithItsDefault) {
  std::vector<std::string> described;
  for (const SettingDescription& setting : DescribeSettings()) described.push_back(setting.key);
  EXPECT_EQ(described, SettingKeys());
  const std::vector<SettingDescription> settings = DescribeSettings();
  EXPECT_EQ(settings.front().key, "bind");
  EXPECT_EQ(settings.front().default_value, "127.0.0.1");
  for (const SettingDescription& setting : settings) {
    if (setting.key == "handshake_timeout_ms") {
      EXPECT_EQ(setting.default_value, "10000");
      EXPECT_EQ(setting.unit, "milliseconds");
    }
    if (setting.key == "min_tls") {
      EXPECT_EQ(setting.default_value, "1.3");
    }
    if (setting.key == "allow_non_forward_secret") {
      EXPECT_EQ(setting.default_value, "false");
    }
    if (setting.key == "groups") {
      EXPECT_EQ(setting.unit, "groups, ':'-separated");
    }
  }
}

// Each default, as DescribeSettings writes it, reads back as that default.
TEST(SettingsFileTest, EveryParameterKeySetsItsSelectorInTheServersOverrides) {
  for (const ParameterSpec& spec : ParameterTable()) {
    ServerOptions options;
    ASSERT_TRUE(ApplySetting(spec.settings_key, SettingsText(spec), &options).ok())
        << spec.settings_key << " = " << SettingsText(spec);
    if (spec.selector == Parameter::kClientServerPortId) {
      // The port is a ServerOptions field, checked as selector 35.
      EXPECT_EQ(options.port, static_cast<int>(spec.default_int));
      EXPECT_FALSE(options.parameters.Has(spec.selector));
      continue;
    }
    ASSERT_TRUE(options.parameters.Has(spec.selector)) << spec.settings_key;
    EXPECT_EQ(options.parameters.Get(spec.selector), DefaultValue(spec)) << spec.settings_key;
  }
}

TEST(SettingsFileTest, ValueWordsFollowTheKindAndNameTheKey) {
  ServerOptions options;
  EXPECT_EQ(ApplySetting("min_tls", "1.4", &options).message(),
            "min_tls = \"1.4\": use 1.2 or 1.3");
  EXPECT_EQ(ApplySetting("client_cert", "maybe", &options).message(),
            "client_cert = \"maybe\": use none, request or require");
  EXPECT_EQ(ApplySetting("allow_non_forward_secret", "2", &options).message(),
            "allow_non_forward_secret = \"2\": use 1 or 0");
  EXPECT_EQ(ApplySetting("max_message_bytes", "16MiB", &options).message(),
            "max_message_bytes = \"16MiB\": a whole number is expected");
  // 1.1 reaches the parameter check, which says why it is refused.
  EXPECT_EQ(ApplySetting("max_tls", "1.1", &options).message(),
            "kMaxTlsVersion (1001): 2 is not allowed; TLS 1.1 is obsolete and insecure, and "
            "appwire does not offer it; use kTLSv1_2 (3) or kTLSv1_3 (4)");
  ASSERT_TRUE(ApplySetting("client_cert", "require", &options).ok());
  EXPECT_EQ(options.parameters.Get(Parameter::kClientCertificateMode).AsInt(), kClientCertRequire);
  ASSERT_TRUE(ApplySetting("allow_non_forward_secret", "yes", &options).ok());
  EXPECT_EQ(options.parameters.Get(Parameter::kAllowNonForwardSecret).AsInt(), 1);
}

TEST(SettingsFileTest, PortIsCheckedAsSelector35AndLeftUnsetWhenRefused) {
  ServerOptions options;
  EXPECT_EQ(ApplySetting("port", "70000", &options).message(),
            "kClientServerPortId (35): 70000 is not allowed; use 0 to 65535 (0 picks a free "
            "port)");
  EXPECT_FALSE(options.port.has_value());
}

TEST(SettingsFileTest, ComparingSaysWhatChangesLiveAndWhatWaitsForARestart) {
  ServerOptions running;
  ASSERT_TRUE(ApplySetting("max_message_bytes", "2000000", &running).ok());
  ASSERT_TRUE(ApplySetting("idle_timeout_s", "60", &running).ok());
  ServerOptions reread;
  ASSERT_TRUE(ApplySetting("max_message_bytes", "1000000", &reread).ok());  // changed
  ASSERT_TRUE(ApplySetting("bind", "0.0.0.0", &reread).ok());
  ASSERT_TRUE(ApplySetting("port", "8443", &reread).ok());
  // idle_timeout_s is gone from the file: back to its default.
  const SettingsChange change = CompareSettings(
      running, reread, [&running](Parameter p) { return running.parameters.Get(p); });
  ASSERT_EQ(change.parameters.size(), 2u);
  EXPECT_EQ(change.parameters[0].first, Parameter::kMaxMessageSize);
  EXPECT_EQ(change.parameters[0].second, ParameterValue(1000000));
  EXPECT_EQ(change.parameters[1].first, Parameter::kIdleConnectionsTimeout);
  EXPECT_EQ(change.parameters[1].second, ParameterValue(0));
  EXPECT_EQ(change.need_restart, (std::vector<std::string>{"bind", "port"}));
  // The running server's own values count, not what it started with.
  const SettingsChange none = CompareSettings(running, running, [&reread](Parameter p) {
    return reread.parameters.Get(p);
  });
  EXPECT_EQ(none.parameters.size(), 2u);
  EXPECT_TRUE(CompareSettings(running, running, [&running](Parameter p) {
                return running.parameters.Get(p);
              }).parameters.empty());
}

}  // namespace
}  // namespace appwire
