#include "appwire/server/settings_file.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "appwire/common/parameter_table.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

// The default of `spec` written as appwire.conf writes it.
std::string SettingsText(const ParameterSpec& spec) {
  switch (spec.kind) {
    case ParameterKind::kInt: return absl::StrCat(spec.default_int);
    case ParameterKind::kString: return spec.default_string;
    case ParameterKind::kTlsVersion: return spec.default_int == kTLSv1_2 ? "1.2" : "1.3";
    case ParameterKind::kClientCert: return "none";
    case ParameterKind::kBool: return spec.default_int != 0 ? "true" : "false";
  }
  return "";
}

TEST(SettingsFileTest, KnownKeysAreTheParameterTablesBetweenTheServerOptionsKeys) {
  std::vector<std::string> expected = {"bind"};
  for (const ParameterSpec& spec : ParameterTable()) expected.emplace_back(spec.settings_key);
  expected.insert(expected.end(), {"client_ca", "key_passphrase_file", "key_passphrase_env"});
  EXPECT_EQ(SettingKeys(), expected);
}

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

}  // namespace
}  // namespace appwire
