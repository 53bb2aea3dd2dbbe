#include "appwire/transport/jws_crypto.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/certificate_info.h"
#include "appwire/transport/internal/wolfssl.h"
#include "appwire/transport/tls_context.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

using ::testing::HasSubstr;

// Verifies an ES256 signature with wolfCrypt's own ECDSA, from the public
// point alone: r||s back to DER, the point imported, the hash checked.
bool VerifiesEs256(const Es256PublicKey& key, absl::string_view message,
                   const std::string& signature) {
  if (signature.size() != 64) return false;
  ecc_key ecc;
  wc_ecc_init(&ecc);
  const std::string x = absl::BytesToHexString(key.x), y = absl::BytesToHexString(key.y);
  bool ok = wc_ecc_import_raw(&ecc, x.c_str(), y.c_str(), nullptr, "SECP256R1") == 0;
  byte der[80];
  word32 der_size = sizeof(der);
  ok = ok && wc_ecc_rs_raw_to_sig(reinterpret_cast<const byte*>(signature.data()), 32,
                                  reinterpret_cast<const byte*>(signature.data()) + 32, 32, der,
                                  &der_size) == 0;
  const std::string digest = Sha256Digest(message);
  int verified = 0;
  ok = ok && wc_ecc_verify_hash(der, der_size, reinterpret_cast<const byte*>(digest.data()),
                                static_cast<word32>(digest.size()), &verified, &ecc) == 0;
  wc_ecc_free(&ecc);
  return ok && verified == 1;
}

TEST(Es256Test, SignatureVerifiesWithThePublicPointAndNotForOtherBytes) {
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  ASSERT_TRUE(key.ok());
  absl::StatusOr<Es256PublicKey> point = Es256PublicKeyOf(*key);
  ASSERT_TRUE(point.ok()) << point.status();
  EXPECT_EQ(point->x.size(), 32u);
  EXPECT_EQ(point->y.size(), 32u);
  absl::StatusOr<std::string> signature = SignEs256(*key, "protected.payload");
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_EQ(signature->size(), 64u);
  EXPECT_TRUE(VerifiesEs256(*point, "protected.payload", *signature));
  EXPECT_FALSE(VerifiesEs256(*point, "protected.payloaD", *signature));
}

TEST(Es256Test, OtherKeysAreRefused) {
  absl::StatusOr<std::string> p384 = GenerateEcdsaKeyPem("P-384");
  ASSERT_TRUE(p384.ok());
  EXPECT_EQ(SignEs256(*p384, "x").status().message(), "an ES256 key must be an ECDSA P-256 key");
  EXPECT_EQ(Es256PublicKeyOf("not a key").status().code(), absl::StatusCode::kInternal);
}

TEST(HmacSha256Test, MatchesRfc4231TestCase2) {
  absl::StatusOr<std::string> mac = HmacSha256("Jefe", "what do ya want for nothing?");
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(absl::BytesToHexString(*mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Sha256DigestTest, MatchesTheKnownDigestOfAbc) {
  EXPECT_EQ(absl::BytesToHexString(Sha256Digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// What openssl (an independent parser: wolfSSL refuses certificates with a
// critical extension it does not know, as RFC 5280 says a verifier must)
// prints of a PEM certificate: `openssl x509 -noout ARGUMENTS`.
std::string OpenSslText(const std::string& pem, const std::string& arguments = "-text") {
  char path[] = "/tmp/appwire-challenge-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return "";
  const bool written = write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size());
  close(fd);
  std::string text;
  if (written) {
    FILE* pipe =
        popen(absl::StrCat("openssl x509 -noout ", arguments, " -in ", path, " 2>&1").c_str(), "r");
    char buffer[4096];
    for (size_t n; pipe != nullptr && (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;) {
      text.append(buffer, n);
    }
    if (pipe != nullptr) pclose(pipe);
  }
  unlink(path);
  return text;
}

TEST(AcmeChallengeCertificateTest, NamesTheDomainAndCarriesTheCriticalAcmeIdentifier) {
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  ASSERT_TRUE(key.ok());
  absl::StatusOr<std::string> pem =
      CreateAcmeChallengeCertificatePem(*key, "shop.example", "token.thumbprint");
  ASSERT_TRUE(pem.ok()) << pem.status();
  const std::string text = OpenSslText(*pem);
  EXPECT_THAT(text, HasSubstr("Subject: CN = shop.example"));
  EXPECT_THAT(text, HasSubstr("DNS:shop.example\n"));  // the only name
  EXPECT_THAT(text, HasSubstr("1.3.6.1.5.5.7.1.31: critical"));
  // Its value, in the DER: OCTET STRING { OCTET STRING SHA-256(key authorization) }.
  std::string body;
  for (absl::string_view line : absl::StrSplit(*pem, '\n')) {
    if (!line.empty() && line[0] != '-') absl::StrAppend(&body, line);
  }
  std::string der;
  ASSERT_TRUE(absl::Base64Unescape(body, &der));
  EXPECT_THAT(der, HasSubstr(std::string("\x06\x08\x2b\x06\x01\x05\x05\x07\x01\x1f\x01\x01\xff"
                                         "\x04\x22\x04\x20", 17) +
                             Sha256Digest("token.thumbprint")));
  EXPECT_THAT(text, HasSubstr("ecdsa-with-SHA256"));
}

TEST(AcmeChallengeCertificateTest, ServesInAnAcmeTlsContextAlthoughWolfSslCannotParseIt) {
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  ASSERT_TRUE(key.ok());
  absl::StatusOr<std::string> pem = CreateAcmeChallengeCertificatePem(*key, "shop.example", "k");
  ASSERT_TRUE(pem.ok());
  TlsOptions options;
  options.role = TlsRole::kServer;
  options.certificate_chain_pem = *pem;
  options.private_key_pem = *key;
  options.alpn_protocol = std::string(kAcmeTlsAlpnProtocol);
  EXPECT_TRUE(TlsContext::Create(options).ok());
  // Anywhere else it is refused, as any certificate wolfSSL cannot read.
  options.alpn_protocol = std::string(kAlpnProtocol);
  options.certificate_source = "challenge.pem";
  EXPECT_THAT(TlsContext::Create(options).status().message(),
              HasSubstr("\"challenge.pem\" holds no certificate wolfSSL can parse"));
}

// Hex digits of `text` after `label`, up to the end of the text, as bytes.
std::string HexAfter(const std::string& text, const std::string& label) {
  const size_t at = text.find(label);
  std::string hex;
  for (size_t i = at == std::string::npos ? text.size() : at + label.size(); i < text.size(); ++i) {
    if (absl::ascii_isxdigit(static_cast<unsigned char>(text[i]))) hex.push_back(text[i]);
  }
  return absl::HexStringToBytes(hex);
}

TEST(AcmeRenewalCertificateIdTest, IsTheAuthorityKeyIdAndTheSerialAsOpenSslReadsThem) {
  absl::StatusOr<std::string> ca_key = GenerateEcdsaP256KeyPem();
  CertificateSpec ca_spec;
  ca_spec.common_name = "Test CA";
  absl::StatusOr<std::string> ca = CreateSelfSignedCertificatePem(*ca_key, ca_spec);
  ASSERT_TRUE(ca.ok());
  for (int i = 0; i < 8; ++i) {  // serials with and without the high bit set
    absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
    CertificateSpec spec;
    spec.common_name = "shop.example";
    spec.dns_names = {"shop.example"};
    absl::StatusOr<std::string> leaf = IssueCertificatePem(*key, spec, *ca, *ca_key);
    ASSERT_TRUE(leaf.ok()) << leaf.status();
    absl::StatusOr<CertificateInfo> info = DescribeCertificatePem(*leaf, "leaf");
    ASSERT_TRUE(info.ok());
    absl::StatusOr<std::string> id = AcmeRenewalCertificateId(info->der);
    ASSERT_TRUE(id.ok()) << id.status();
    const std::string key_id =
        HexAfter(OpenSslText(*leaf, "-ext authorityKeyIdentifier"), "Identifier:");
    std::string serial = HexAfter(OpenSslText(*leaf, "-serial"), "serial=");
    if (!serial.empty() && (static_cast<unsigned char>(serial[0]) & 0x80)) serial.insert(0, 1, '\0');
    std::string expected_key_id, expected_serial;
    absl::WebSafeBase64Escape(key_id, &expected_key_id);
    absl::WebSafeBase64Escape(serial, &expected_serial);
    ASSERT_FALSE(key_id.empty());
    EXPECT_EQ(*id, expected_key_id + "." + expected_serial);
  }
  absl::StatusOr<CertificateInfo> self_signed = DescribeCertificatePem(*ca, "ca");
  EXPECT_THAT(AcmeRenewalCertificateId(self_signed->der).status().message(),
              HasSubstr("no authority key identifier"));
  EXPECT_FALSE(AcmeRenewalCertificateId("not DER").ok());
}

}  // namespace
}  // namespace appwire
