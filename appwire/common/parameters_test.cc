#include "appwire/common/parameters.h"

#include <memory>
#include <thread>

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

// This test program includes only appwire/common/ headers and calls nothing of
// appwire/transport/ itself. When the TLS layer registered its checks from a static
// initialiser, nothing here pulled that object in and any cipher list was
// accepted; now the checks are part of SetDatabaseParameter itself.
TEST_F(ParametersTest, CipherListsAreCheckedWhateverTheProgramLinks) {
  EXPECT_EQ(SetDatabaseParameter(Parameter::kSslCipherList, "NO-SUCH-CIPHER").message(),
            "kSslCipherList (64): \"NO-SUCH-CIPHER\" names NO-SUCH-CIPHER, which this build "
            "does not support as TLS 1.2 cipher suites; use OpenSSL names such as "
            "ECDHE-ECDSA-AES128-GCM-SHA256 or ECDHE-RSA-AES256-GCM-SHA384, or \"\" for the "
            "default");
  EXPECT_EQ(ValidateParameter(Parameter::kTls13CipherSuites, "TLS_NOPE").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetDatabaseParameter(Parameter::kSslCipherList).AsString(), "");
}

TEST_F(ParametersTest, EmptyListsMeanTheDefault) {
  EXPECT_TRUE(SetDatabaseParameter(Parameter::kKeyExchangeGroups, "").ok());
  EXPECT_TRUE(SetDatabaseParameter(Parameter::kSslCipherList, "").ok());
  EXPECT_TRUE(SetDatabaseParameter(Parameter::kTls13CipherSuites, "").ok());
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

TEST_F(ParametersTest, SnapshotHoldsEverySelectorsValueInForce) {
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kKeyExchangeGroups, "X25519").ok());
  std::shared_ptr<const ParameterSnapshot> snapshot = ParameterSnapshot::Take(ParameterOverrides());
  EXPECT_EQ(snapshot->Int(Parameter::kClientServerPortId), 19813);
  EXPECT_EQ(snapshot->Int(Parameter::kMaxReceiveMemory), int64_t{256} << 20);
  EXPECT_EQ(snapshot->Get(Parameter::kSslCipherList).AsString(), "");
  EXPECT_EQ(snapshot->Get(Parameter::kKeyExchangeGroups).AsString(), "X25519");
  // As GetDatabaseParameter: a number that is no selector reads as int 0.
  EXPECT_TRUE(snapshot->Get(static_cast<Parameter>(77)).is_int());
  EXPECT_EQ(snapshot->Int(static_cast<Parameter>(77)), 0);
}

TEST_F(ParametersTest, SnapshotDoesNotChangeWhenProcessWideValuesChangeAfterIt) {
  std::shared_ptr<const ParameterSnapshot> before = ParameterSnapshot::Take(ParameterOverrides());
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kMaxMetadataSize, 100).ok());
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kTls13CipherSuites, "TLS_AES_256_GCM_SHA384").ok());
  EXPECT_EQ(before->Int(Parameter::kMaxMetadataSize), 8192);
  EXPECT_EQ(before->Get(Parameter::kTls13CipherSuites).AsString(), "");

  std::shared_ptr<const ParameterSnapshot> after = ParameterSnapshot::Take(ParameterOverrides());
  EXPECT_EQ(after->Int(Parameter::kMaxMetadataSize), 100);
  EXPECT_EQ(after->Get(Parameter::kTls13CipherSuites).AsString(), "TLS_AES_256_GCM_SHA384");

  ResetDatabaseParameters();
  EXPECT_EQ(after->Int(Parameter::kMaxMetadataSize), 100);
  EXPECT_EQ(ParameterSnapshot::Take(ParameterOverrides())->Int(Parameter::kMaxMetadataSize), 8192);
}

TEST_F(ParametersTest, SnapshotPutsOverridesOverProcessWideValues) {
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kHandshakeTimeout, 2000).ok());
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kMaxConcurrentCalls, 7).ok());
  ParameterOverrides overrides;
  ASSERT_TRUE(overrides.Set(Parameter::kHandshakeTimeout, 500).ok());
  std::shared_ptr<const ParameterSnapshot> snapshot = ParameterSnapshot::Take(overrides);
  EXPECT_EQ(snapshot->Int(Parameter::kHandshakeTimeout), 500);
  EXPECT_EQ(snapshot->Int(Parameter::kMaxConcurrentCalls), 7);
  // Taken means copied: the overrides may change afterwards.
  ASSERT_TRUE(overrides.Set(Parameter::kHandshakeTimeout, 600).ok());
  EXPECT_EQ(snapshot->Int(Parameter::kHandshakeTimeout), 500);
}

TEST_F(ParametersTest, SnapshotGenerationIsTheOneInForceWhenTaken) {
  std::shared_ptr<const ParameterSnapshot> first = ParameterSnapshot::Take(ParameterOverrides());
  EXPECT_EQ(first->generation(), DatabaseParametersGeneration());
  // A refused value changes nothing, the generation included.
  ASSERT_FALSE(SetDatabaseParameter(Parameter::kHelloTimeout, 0).ok());
  EXPECT_EQ(first->generation(), DatabaseParametersGeneration());

  ASSERT_TRUE(SetDatabaseParameter(Parameter::kHelloTimeout, 5).ok());
  EXPECT_LT(first->generation(), DatabaseParametersGeneration());
  std::shared_ptr<const ParameterSnapshot> second = ParameterSnapshot::Take(ParameterOverrides());
  EXPECT_EQ(second->generation(), DatabaseParametersGeneration());
  EXPECT_GT(second->generation(), first->generation());
  // Overrides are the holder's own business: they do not move it.
  ParameterOverrides overrides;
  ASSERT_TRUE(overrides.Set(Parameter::kHelloTimeout, 9).ok());
  EXPECT_EQ(ParameterSnapshot::Take(overrides)->generation(), second->generation());
}

// One writer sets a value to 1, 2, ... while this thread takes snapshots.
// Each change moves the generation by one, so a snapshot whose value and
// generation were read at the same moment has value = generation - start
// (the default, 1000, before the first change).
TEST_F(ParametersTest, SnapshotValueAndGenerationAreTakenTogether) {
  constexpr int kSteps = 2000;
  const uint64_t start = DatabaseParametersGeneration();
  std::thread writer([] {
    for (int value = 1; value <= kSteps; ++value) {
      ASSERT_TRUE(SetDatabaseParameter(Parameter::kMaxConcurrentCalls, value).ok());
    }
  });
  int64_t value = 0;
  bool consistent = true;
  while (value != kSteps && consistent) {
    std::shared_ptr<const ParameterSnapshot> snapshot =
        ParameterSnapshot::Take(ParameterOverrides());
    value = snapshot->Int(Parameter::kMaxConcurrentCalls);
    const uint64_t changes = snapshot->generation() - start;
    const int64_t expected = changes == 0 ? 1000 : static_cast<int64_t>(changes);
    consistent = value == expected;
    EXPECT_EQ(value, expected) << "generation " << snapshot->generation() << ", start " << start;
  }
  writer.join();
}

}  // namespace
}  // namespace appwire
