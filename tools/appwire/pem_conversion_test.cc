#include "tools/appwire/pem_conversion.h"

#include <string>

#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/certificate_info.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

using ::testing::ContainsRegex;
using ::testing::StartsWith;

// A self-signed certificate, described (its `der` is the DER form).
CertificateInfo MakeCertificate() {
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  EXPECT_TRUE(key.ok()) << key.status();
  CertificateSpec spec;
  spec.common_name = "convert.test";
  absl::StatusOr<std::string> pem = CreateSelfSignedCertificatePem(key.value_or(""), spec);
  EXPECT_TRUE(pem.ok()) << pem.status();
  absl::StatusOr<CertificateInfo> info = DescribeCertificatePem(pem.value_or(""), "test");
  EXPECT_TRUE(info.ok()) << info.status();
  return info.value_or(CertificateInfo{});
}

TEST(PemConversionTest, ADerCertificateBecomesAPemChainOfOne) {
  const CertificateInfo original = MakeCertificate();
  ASSERT_FALSE(original.der.empty());
  absl::StatusOr<ConvertedPem> converted = ConvertToPem(original.der, "", "id.der");
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_TRUE(converted->private_key_pem.empty());
  EXPECT_EQ(SplitPemCertificates(converted->certificate_chain_pem).size(), 1u);
  absl::StatusOr<CertificateInfo> back =
      DescribeCertificatePem(converted->certificate_chain_pem, "converted");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->sha256_fingerprint, original.sha256_fingerprint);
  EXPECT_FALSE(LooksLikePkcs12(original.der));  // SEQUENCE { SEQUENCE ...: not a PFX
}

TEST(PemConversionTest, PemInputIsRefusedSayingToUseItAsItIs) {
  absl::StatusOr<ConvertedPem> converted =
      ConvertToPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "", "id.pem");
  EXPECT_EQ(converted.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(converted.status().message(),
            "\"id.pem\" is neither PKCS#12 nor a DER certificate or private key (it is PEM "
            "already: use it as it is)");
}

TEST(PemConversionTest, ABrokenPkcs12FileIsRefusedWithWolfCryptsCode) {
  // SEQUENCE { INTEGER 3, ... }: a PFX header, and then nothing usable.
  const std::string pfx("\x30\x0a\x02\x01\x03\x30\x05\x06\x03\x2a\x03\x04", 12);
  ASSERT_TRUE(LooksLikePkcs12(pfx));
  absl::StatusOr<ConvertedPem> converted = ConvertToPem(pfx, "pw", "id.p12");
  EXPECT_EQ(converted.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(converted.status().message()),
              StartsWith("cannot open the PKCS#12 file \"id.p12\": wrong password (--password-file, "
                         "--password-env or --password), "
                         "or a cipher this build does not have (wolfCrypt error -"));
  EXPECT_THAT(std::string(converted.status().message()),
              ContainsRegex("\\(wolfCrypt error -[0-9]+: [^)]+\\)$"));
}

}  // namespace
}  // namespace appwire
