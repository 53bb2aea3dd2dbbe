#include "appwire/transport/private_key.h"

#include <string>

#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/certificate_info.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A decrypted key comes back as PKCS#8 ("BEGIN PRIVATE KEY"). Both wolfCrypt
// calls on PKCS#8 once took the inner key's length for its offset: such a key
// could be neither encrypted again nor sign a certificate (an encrypted
// ca.key could not issue).
TEST(PrivateKeyTest, ADecryptedPkcs8KeyEncryptsAgainAndSigns) {
  for (const char* curve : {"P-256", "P-384"}) {
    SCOPED_TRACE(curve);
    absl::StatusOr<std::string> key = GenerateEcdsaKeyPem(curve);
    ASSERT_TRUE(key.ok()) << key.status();
    absl::StatusOr<std::string> encrypted = EncryptPrivateKeyPem(*key, "first");
    ASSERT_TRUE(encrypted.ok()) << encrypted.status();
    EXPECT_TRUE(IsEncryptedPrivateKeyPem(*encrypted));
    absl::StatusOr<std::string> pkcs8 = DecryptPrivateKeyPem(*encrypted, "first", "ca.key");
    ASSERT_TRUE(pkcs8.ok()) << pkcs8.status();
    EXPECT_THAT(*pkcs8, StartsWith("-----BEGIN PRIVATE KEY-----\n"));

    absl::StatusOr<std::string> again = EncryptPrivateKeyPem(*pkcs8, "second");
    ASSERT_TRUE(again.ok()) << again.status();
    absl::StatusOr<std::string> decrypted = DecryptPrivateKeyPem(*again, "second", "again.key");
    ASSERT_TRUE(decrypted.ok()) << decrypted.status();
    EXPECT_EQ(*decrypted, *pkcs8);

    CertificateSpec spec;
    spec.common_name = "ca";
    spec.is_ca = true;
    absl::StatusOr<std::string> ca = CreateSelfSignedCertificatePem(*pkcs8, spec);
    ASSERT_TRUE(ca.ok()) << ca.status();
    absl::StatusOr<std::string> leaf_key = GenerateEcdsaKeyPem(curve);
    ASSERT_TRUE(leaf_key.ok()) << leaf_key.status();
    CertificateSpec leaf;
    leaf.common_name = "alice";
    absl::StatusOr<std::string> cert = IssueCertificatePem(*leaf_key, leaf, *ca, *pkcs8);
    ASSERT_TRUE(cert.ok()) << cert.status();
    absl::StatusOr<CertificateInfo> info = DescribeCertificatePem(*cert, "cert.pem");
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->issuer, "CN=ca");
  }
}

TEST(PrivateKeyTest, TheWrongPassphraseIsRefusedNamingTheFileAndNotThePassphrase) {
  absl::StatusOr<std::string> key = GenerateEcdsaKeyPem("P-256");
  ASSERT_TRUE(key.ok()) << key.status();
  absl::StatusOr<std::string> encrypted = EncryptPrivateKeyPem(*key, "right one");
  ASSERT_TRUE(encrypted.ok()) << encrypted.status();
  absl::StatusOr<std::string> decrypted =
      DecryptPrivateKeyPem(*encrypted, "wrong one", "/ca/ca.key");
  ASSERT_FALSE(decrypted.ok());
  EXPECT_EQ(decrypted.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(decrypted.status().message(),
              HasSubstr("cannot decrypt \"/ca/ca.key\" with the passphrase given"));
  EXPECT_THAT(decrypted.status().message(), ::testing::Not(HasSubstr("wrong one")));
  EXPECT_FALSE(EncryptPrivateKeyPem(*key, "").ok());
}

}  // namespace
}  // namespace appwire
