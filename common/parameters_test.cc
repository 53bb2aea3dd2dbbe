#include "common/parameters.h"

#include "gtest/gtest.h"

namespace appwire {
namespace {

class ParametersTest : public ::testing::Test {
 protected:
  void TearDown() override { ResetDatabaseParameters(); }
};

TEST_F(ParametersTest, DefaultsFollow4DAndSecureChoices) {
  EXPECT_EQ(GetDatabaseParameter(Parameter::kMinTlsVersion).AsInt(), kTLSv1_3);
  EXPECT_EQ(GetDatabaseParameter(Parameter::kClientServerPortId).AsInt(), 19813);
  EXPECT_EQ(GetDatabaseParameter(Parameter::kSslCipherList).AsString(), "");
  EXPECT_EQ(GetDatabaseParameter(Parameter::kHandshakeTimeout).AsInt(), 10000);
  EXPECT_EQ(GetDatabaseParameter(Parameter::kMaxMessageSize).AsInt(), 16 << 20);
  EXPECT_EQ(GetDatabaseParameter(Parameter::kDhParamBits).AsInt(), 2048);
  EXPECT_EQ(static_cast<int>(Parameter::kMinTlsVersion), 105);
  EXPECT_EQ(static_cast<int>(Parameter::kSslCipherList), 64);
  EXPECT_EQ(static_cast<int>(Parameter::kClientServerPortId), 35);
  EXPECT_EQ(static_cast<int>(Parameter::kIdleConnectionsTimeout), 54);
}

TEST_F(ParametersTest, SetThenGetReturnsTheValueInForce) {
  uint64_t before = DatabaseParametersGeneration();
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kMinTlsVersion, kTLSv1_2).ok());
  EXPECT_EQ(GetDatabaseParameter(Parameter::kMinTlsVersion).AsInt(), kTLSv1_2);
  EXPECT_GT(DatabaseParametersGeneration(), before);
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kMinTlsVersion, TlsVersion::k1_3).ok());
  EXPECT_EQ(GetDatabaseParameter(Parameter::kMinTlsVersion).AsInt(), kTLSv1_3);
}

TEST_F(ParametersTest, ObsoleteTlsVersionsAreRefusedAndNothingChanges) {
  uint64_t before = DatabaseParametersGeneration();
  absl::Status status = SetDatabaseParameter(Parameter::kMinTlsVersion, 1);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "kMinTlsVersion (105): 1 is not allowed; TLS 1.0 is obsolete and insecure, and "
            "appwire does not offer it; use kTLSv1_2 (3) or kTLSv1_3 (4)");
  EXPECT_EQ(SetDatabaseParameter(Parameter::kMinTlsVersion, 2).message(),
            "kMinTlsVersion (105): 2 is not allowed; TLS 1.1 is obsolete and insecure, and "
            "appwire does not offer it; use kTLSv1_2 (3) or kTLSv1_3 (4)");
  EXPECT_EQ(GetDatabaseParameter(Parameter::kMinTlsVersion).AsInt(), kTLSv1_3);
  EXPECT_EQ(DatabaseParametersGeneration(), before);
}

TEST_F(ParametersTest, MinAboveMaxIsRefused) {
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kMinTlsVersion, kTLSv1_2).ok());
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kMaxTlsVersion, kTLSv1_2).ok());
  EXPECT_EQ(SetDatabaseParameter(Parameter::kMinTlsVersion, kTLSv1_3).message(),
            "kMinTlsVersion (105): 4 is not allowed; it is above kMaxTlsVersion (3); raise "
            "kMaxTlsVersion first");
}

TEST_F(ParametersTest, WrongKindAndRangeNameTheSelector) {
  EXPECT_EQ(SetDatabaseParameter(Parameter::kSslCipherList, 5).message(),
            "kSslCipherList (64) takes a string, got 5");
  EXPECT_EQ(SetDatabaseParameter(Parameter::kDhParamBits, 1024).message(),
            "kDhParamBits (1007): 1024 is not allowed; use 2048, 3072 or 4096 bits");
  EXPECT_EQ(SetDatabaseParameter(Parameter::kMaxMessageSize, 0).message(),
            "kMaxMessageSize (1006): 0 is not allowed; use 1 to 1073741824 bytes");
  EXPECT_EQ(SetDatabaseParameter(Parameter::kKeyExchangeGroups, "P-256:P-999").message(),
            "kKeyExchangeGroups (1003): \"P-256:P-999\" is not allowed; unknown group "
            "\"P-999\"; use ':'-separated P-256, P-384, P-521, X25519, ffdhe2048, ffdhe3072");
  EXPECT_EQ(SetDatabaseParameter(static_cast<Parameter>(77), 1).message(),
            "selector 77 is not an appwire parameter; see docs/configuration.md for the list");
}

TEST_F(ParametersTest, OverridesWinOverProcessWideValues) {
  ParameterOverrides overrides;
  EXPECT_EQ(overrides.Get(Parameter::kHandshakeTimeout).AsInt(), 10000);
  ASSERT_TRUE(overrides.Set(Parameter::kHandshakeTimeout, 500).ok());
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kHandshakeTimeout, 2000).ok());
  EXPECT_EQ(overrides.Get(Parameter::kHandshakeTimeout).AsInt(), 500);
  overrides.Clear(Parameter::kHandshakeTimeout);
  EXPECT_EQ(overrides.Get(Parameter::kHandshakeTimeout).AsInt(), 2000);
  // Cross-selector checks use the overrides' own view.
  ASSERT_TRUE(overrides.Set(Parameter::kMinTlsVersion, kTLSv1_2).ok());
  ASSERT_TRUE(overrides.Set(Parameter::kMaxTlsVersion, kTLSv1_2).ok());
  EXPECT_EQ(GetDatabaseParameter(Parameter::kMaxTlsVersion).AsInt(), kTLSv1_3);
}

}  // namespace
}  // namespace appwire
