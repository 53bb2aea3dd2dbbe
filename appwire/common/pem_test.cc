#include "appwire/common/pem.h"

#include "gtest/gtest.h"

namespace appwire {
namespace {

constexpr char kCert[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

TEST(PemTest, CrlfAndBareCrBecomeLf) {
  auto crlf = NormalizePem("-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----\r\n",
                           "cert.pem", PemKind::kCertificate);
  ASSERT_TRUE(crlf.ok()) << crlf.status();
  EXPECT_EQ(*crlf, kCert);
  auto cr = NormalizePem("-----BEGIN CERTIFICATE-----\rMIIB\r-----END CERTIFICATE-----\r",
                         "cert.pem", PemKind::kCertificate);
  ASSERT_TRUE(cr.ok()) << cr.status();
  EXPECT_EQ(*cr, kCert);
}

TEST(PemTest, DerIsDetectedWithTheConversionCommand) {
  std::string der = "\x30\x82\x01\x0a\x02\x82\x01\x01\x00";
  auto result = NormalizePem(der, "/p/cert.pem", PemKind::kCertificate);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(),
            "\"/p/cert.pem\" is binary DER, not a PEM certificate; convert it with: "
            "openssl x509 -inform DER -in FILE.der -out cert.pem");
}

TEST(PemTest, Pkcs12IsDetected) {
  std::string p12 = std::string("\x30\x82\x09\x00\x02\x01\x03\x30", 8);
  auto result = NormalizePem(p12, "key.pem", PemKind::kPrivateKey);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("is a PKCS#12 (.p12/.pfx) file, not a PEM private key; "
                                           "convert it with: openssl pkcs12"),
            std::string::npos)
      << result.status();
}

TEST(PemTest, SwappedFilesAreNamed) {
  auto result = NormalizePem(kCert, "key.pem", PemKind::kPrivateKey);
  EXPECT_EQ(result.status().message(),
            "\"key.pem\" holds a certificate, not a private key; did you swap key.pem and cert.pem?");
}

TEST(PemTest, TextWithoutPemIsRefused) {
  auto result = NormalizePem("hello", "cert.pem", PemKind::kCertificate);
  EXPECT_EQ(result.status().message(),
            "\"cert.pem\" is not PEM: no \"-----BEGIN CERTIFICATE-----\" line found; it must "
            "hold a PEM certificate");
  EXPECT_EQ(NormalizePem("", "cert.pem", PemKind::kCertificate).status().message(),
            "\"cert.pem\" is empty; it must hold a PEM certificate");
}

}  // namespace
}  // namespace appwire
