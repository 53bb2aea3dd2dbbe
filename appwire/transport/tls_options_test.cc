#include "appwire/transport/tls_options.h"

#include <memory>

#include "gtest/gtest.h"

namespace appwire {
namespace {

TlsOptions ValidClient() {
  TlsOptions options;
  options.role = TlsRole::kClient;
  options.use_system_trust_store = true;
  return options;
}

TEST(TlsOptionsTest, DefaultsAreTls13OnlyWithTenSecondHandshake) {
  TlsOptions options;
  EXPECT_EQ(options.min_version, TlsVersion::k1_3);
  EXPECT_EQ(options.max_version, TlsVersion::k1_3);
  EXPECT_EQ(options.handshake_timeout, absl::Seconds(10));
}

TEST(TlsOptionsTest, ClientWithoutAnyTrustIsRefused) {
  TlsOptions options;
  options.role = TlsRole::kClient;
  absl::Status status = options.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "a TLS client must trust the server somehow: set a CA file, the system "
            "trust store, or a pinned SHA-256 fingerprint");
}

TEST(TlsOptionsTest, MinAboveMaxIsRefused) {
  TlsOptions options = ValidClient();
  options.min_version = TlsVersion::k1_3;
  options.max_version = TlsVersion::k1_2;
  absl::Status status = options.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "TLS min_version TLSv1.3 is above max_version TLSv1.2; lower the minimum "
            "or raise the maximum");
}

TEST(TlsOptionsTest, ServerNeedsCertificateAndKey) {
  TlsOptions options;
  options.role = TlsRole::kServer;
  EXPECT_EQ(options.Validate().message(),
            "a TLS server needs a certificate chain and its private key");
}

TEST(TlsOptionsTest, ClientIdentityNeedsBothHalves) {
  TlsOptions options = ValidClient();
  options.certificate_chain_pem = "-----BEGIN CERTIFICATE-----";
  EXPECT_EQ(options.Validate().message(),
            "a client identity needs both a certificate and its private key");
}

TEST(TlsOptionsTest, NonPositiveHandshakeTimeoutIsRefused) {
  TlsOptions options = ValidClient();
  options.handshake_timeout = absl::ZeroDuration();
  EXPECT_EQ(options.Validate().message(), "handshake_timeout must be positive, got 0");
}

TEST(TlsOptionsTest, BadPinIsRefusedWithTheReason) {
  TlsOptions options = ValidClient();
  options.pinned_sha256 = "SHA256:AB:CD";
  absl::Status status = options.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "pinned fingerprint \"SHA256:AB:CD\" has 2 bytes; a SHA-256 fingerprint has 32");
  options.pinned_sha256 = "SHA256:ZZ";
  EXPECT_EQ(options.Validate().message(),
            "pinned fingerprint \"SHA256:ZZ\" has a non-hex character 'Z'; copy the "
            "SHA256:... line appwire-server prints");
}

TEST(TlsOptionsTest, FingerprintFormatsRoundTrip) {
  std::string raw;
  for (int i = 0; i < 32; ++i) raw.push_back(static_cast<char>(i * 7));
  std::string text = FormatSha256Fingerprint(raw);
  EXPECT_EQ(text.substr(0, 16), "SHA256:00:07:0E:");
  std::string parsed;
  ASSERT_TRUE(ParseSha256Fingerprint(text, &parsed).ok());
  EXPECT_EQ(parsed, raw);
  // Plain lower-case hex works too.
  std::string hex;
  for (char c : text.substr(7)) {
    if (c != ':') hex.push_back(static_cast<char>(std::tolower(c)));
  }
  ASSERT_TRUE(ParseSha256Fingerprint(hex, &parsed).ok());
  EXPECT_EQ(parsed, raw);
}

TEST(TlsOptionsTest, ApplyParametersTakesOverridesOverProcessWideValues) {
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kMinTlsVersion, kTLSv1_2).ok());
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kHandshakeTimeout, 2500).ok());
  ParameterOverrides overrides;
  ASSERT_TRUE(overrides.Set(Parameter::kKeyExchangeGroups, "X25519").ok());
  ASSERT_TRUE(overrides.Set(Parameter::kClientCertificateMode, kClientCertRequire).ok());

  TlsOptions from_overrides;
  ApplyParameters(overrides, &from_overrides);
  EXPECT_EQ(from_overrides.min_version, TlsVersion::k1_2);
  EXPECT_EQ(from_overrides.max_version, TlsVersion::k1_3);
  EXPECT_EQ(from_overrides.handshake_timeout, absl::Milliseconds(2500));
  EXPECT_EQ(from_overrides.key_exchange_groups, "X25519");
  EXPECT_EQ(from_overrides.client_certificate_mode, TlsOptions::ClientCertificateMode::kRequire);
  EXPECT_EQ(from_overrides.tls12_cipher_list, "");
  EXPECT_FALSE(from_overrides.allow_non_forward_secret);

  // A snapshot taken now gives the same; one taken before a change keeps
  // the old values.
  std::shared_ptr<const ParameterSnapshot> before = ParameterSnapshot::Take(overrides);
  ResetDatabaseParameters();
  TlsOptions from_snapshot;
  ApplyParameters(*before, &from_snapshot);
  EXPECT_EQ(from_snapshot.min_version, TlsVersion::k1_2);
  EXPECT_EQ(from_snapshot.handshake_timeout, absl::Milliseconds(2500));
  EXPECT_EQ(from_snapshot.key_exchange_groups, "X25519");
  TlsOptions after_reset;
  ApplyParameters(overrides, &after_reset);
  EXPECT_EQ(after_reset.min_version, TlsVersion::k1_3);
  EXPECT_EQ(after_reset.handshake_timeout, absl::Seconds(10));
}

}  // namespace
}  // namespace appwire
