#include "appwire/transport/certificate_info.h"

#include <string>
#include <vector>

#include "appwire/transport/certificate_generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

using ::testing::UnorderedElementsAre;

absl::StatusOr<std::string> SelfSigned(const std::vector<std::string>& ip_addresses) {
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  if (!key.ok()) return key.status();
  CertificateSpec spec;
  spec.common_name = "localhost";
  spec.ip_addresses = ip_addresses;
  return CreateSelfSignedCertificatePem(*key, spec);
}

// Written by the generator (4 or 16 bytes each), read back as text in the
// usual forms, IPv4-mapped IPv6 included.
TEST(CertificateInfoTest, IpAddressesRoundTripAsText) {
  absl::StatusOr<std::string> cert =
      SelfSigned({"127.0.0.1", "::1", "2001:db8::17", "::ffff:192.0.2.1", "10.1.2.3"});
  ASSERT_TRUE(cert.ok()) << cert.status();
  absl::StatusOr<CertificateInfo> info = DescribeCertificatePem(*cert, "cert.pem");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(info->ip_addresses,  // in the order wolfSSL lists them
              UnorderedElementsAre("127.0.0.1", "::1", "2001:db8::17", "::ffff:192.0.2.1", "10.1.2.3"));
}

TEST(CertificateInfoTest, TheKeyAndWhetherItIsACaAreSaid) {
  absl::StatusOr<std::string> key = GenerateEcdsaKeyPem("P-384");
  ASSERT_TRUE(key.ok()) << key.status();
  CertificateSpec spec;
  spec.common_name = "ca";
  spec.is_ca = true;
  absl::StatusOr<std::string> ca = CreateSelfSignedCertificatePem(*key, spec);
  ASSERT_TRUE(ca.ok()) << ca.status();
  absl::StatusOr<CertificateInfo> info = DescribeCertificatePem(*ca, "ca.pem");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->public_key, "ECDSA P-384");
  EXPECT_TRUE(info->is_ca);
  absl::StatusOr<std::string> rsa = GenerateRsaKeyPem(2048);
  ASSERT_TRUE(rsa.ok()) << rsa.status();
  spec.is_ca = false;
  absl::StatusOr<std::string> leaf = IssueCertificatePem(*rsa, spec, *ca, *key);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  info = DescribeCertificatePem(*leaf, "leaf.pem");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->public_key, "RSA 2048");
  EXPECT_FALSE(info->is_ca);
}

TEST(CertificateInfoTest, AnAddressWithAScopeOrNoAddressIsRefused) {
  for (const std::string bad : {"fe80::1%eth0", "fe80::1%0", "127.0.0", "localhost", ""}) {
    absl::StatusOr<std::string> cert = SelfSigned({bad});
    EXPECT_EQ(cert.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(cert.status().message(), "bad IP address \"" + bad + "\"") << bad;
  }
}

}  // namespace
}  // namespace appwire
