#include "appwire/transport/parameter_checks.h"

#include <string>

#include "appwire/common/parameter_table.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

class ParameterChecksTest : public ::testing::Test {
 protected:
  void TearDown() override { ResetDatabaseParameters(); }
};

constexpr char kUnknownSuiteMessage[] =
    "kSslCipherList (64): \"NO-SUCH-CIPHER\" names NO-SUCH-CIPHER, which this build does not "
    "support as TLS 1.2 cipher suites; use OpenSSL names such as ECDHE-ECDSA-AES128-GCM-SHA256 "
    "or ECDHE-RSA-AES256-GCM-SHA384, or \"\" for the default";

// ctest runs each test in a process of its own: this is the first thing
// the process does, before any TlsContext, Server or Channel exists.
TEST_F(ParameterChecksTest, CipherListsAreCheckedBeforeAnyTlsObjectExists) {
  absl::Status status = SetDatabaseParameter(Parameter::kSslCipherList, "NO-SUCH-CIPHER");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), kUnknownSuiteMessage);
  EXPECT_EQ(ValidateParameter(Parameter::kSslCipherList, "NO-SUCH-CIPHER").message(),
            kUnknownSuiteMessage);
  ParameterOverrides overrides;
  EXPECT_EQ(overrides.Set(Parameter::kSslCipherList, "NO-SUCH-CIPHER").message(),
            kUnknownSuiteMessage);
  EXPECT_FALSE(overrides.Has(Parameter::kSslCipherList));
  EXPECT_EQ(GetDatabaseParameter(Parameter::kSslCipherList).AsString(), "");
}

TEST_F(ParameterChecksTest, Tls13SuitesMustNameOneThisBuildHas) {
  EXPECT_EQ(SetDatabaseParameter(Parameter::kTls13CipherSuites, "TLS_NOPE").message(),
            "kTls13CipherSuites (1002): TLS 1.3 cipher suites \"TLS_NOPE\" name none this "
            "build supports; use IANA names such as TLS_AES_128_GCM_SHA256, "
            "TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256");
  EXPECT_TRUE(SetDatabaseParameter(Parameter::kTls13CipherSuites, "TLS_AES_256_GCM_SHA384").ok());
  EXPECT_TRUE(SetDatabaseParameter(Parameter::kTls13CipherSuites, "").ok());  // the default
}

TEST_F(ParameterChecksTest, ForwardSecrecyRuleReadsTheOtherSelectorWhereTheValueIsSet) {
  ParameterOverrides overrides;
  ASSERT_TRUE(overrides.Set(Parameter::kAllowNonForwardSecret, 1).ok());
  EXPECT_TRUE(overrides.Set(Parameter::kSslCipherList, "AES128-GCM-SHA256").ok());
  // The process-wide kAllowNonForwardSecret is still 0.
  EXPECT_EQ(ValidateParameter(Parameter::kSslCipherList, "AES128-GCM-SHA256").message(),
            "kSslCipherList (64): \"AES128-GCM-SHA256\" leaves no forward-secret suite: it "
            "would allow only AES128-GCM-SHA256; add ECDHE or DHE suites, or set "
            "kAllowNonForwardSecret (1008) to 1 if you really mean it");
}

TEST_F(ParameterChecksTest, TableChecksComeFirst) {
  EXPECT_EQ(CheckParameter(Parameter::kSslCipherList, 5, nullptr).message(),
            "kSslCipherList (64) takes a string, got 5");
  EXPECT_EQ(CheckParameter(static_cast<Parameter>(77), "x", nullptr).message(),
            "selector 77 is not an appwire parameter; see docs/configuration.md for the list");
}

TEST_F(ParameterChecksTest, EveryCheckTheTableLeavesToTheTlsLibraryIsMade) {
  const ParameterLookup defaults = [](Parameter other) {
    return DefaultValue(*FindParameter(other));
  };
  int tls_checks = 0;
  for (const ParameterSpec& spec : ParameterTable()) {
    const bool needs_tls = spec.check == ParameterCheck::kTls12CipherList ||
                           spec.check == ParameterCheck::kTls13CipherSuites;
    if (!needs_tls) {
      EXPECT_TRUE(CheckTlsParameter(spec.selector, DefaultValue(spec), defaults).ok()) << spec.name;
      continue;
    }
    ++tls_checks;
    EXPECT_TRUE(CheckTlsParameter(spec.selector, DefaultValue(spec), defaults).ok()) << spec.name;
    EXPECT_EQ(CheckTlsParameter(spec.selector, "NOT-A-SUITE", defaults).code(),
              absl::StatusCode::kInvalidArgument)
        << spec.name;
  }
  EXPECT_EQ(tls_checks, 2);
}

}  // namespace
}  // namespace appwire
