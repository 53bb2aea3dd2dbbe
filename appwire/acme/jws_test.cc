#include "appwire/acme/jws.h"

#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/jws_crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire::acme {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string Decoded(const std::string& base64url) {
  std::string out;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(base64url, &out)) << base64url;
  return out;
}

class JwsTest : public ::testing::Test {
 protected:
  std::string key_ = *GenerateEcdsaP256KeyPem();
};

TEST(Base64UrlTest, NoPaddingAndUrlAlphabet) {
  EXPECT_EQ(Base64Url(std::string("\xfb\xff", 2)), "-_8");
  EXPECT_EQ(Base64Url(""), "");
}

TEST_F(JwsTest, PublicJwkIsTheRfc7638TextAndTheThumbprintItsDigest) {
  absl::StatusOr<std::string> jwk = PublicJwk(key_);
  ASSERT_TRUE(jwk.ok()) << jwk.status();
  EXPECT_THAT(*jwk, MatchesRegex(R"(\{"crv":"P-256","kty":"EC","x":"[A-Za-z0-9_-]{43}",)"
                                 R"("y":"[A-Za-z0-9_-]{43}"\})"));
  absl::StatusOr<Es256PublicKey> point = Es256PublicKeyOf(key_);
  ASSERT_TRUE(point.ok());
  EXPECT_THAT(*jwk, HasSubstr(Base64Url(point->x)));
  absl::StatusOr<std::string> thumbprint = JwkThumbprint(key_);
  ASSERT_TRUE(thumbprint.ok());
  EXPECT_EQ(*thumbprint, Base64Url(Sha256Digest(*jwk)));
}

TEST_F(JwsTest, WithoutKidTheHeaderCarriesTheJwk) {
  absl::StatusOr<std::string> body =
      SignJws(key_, ProtectedHeader{"https://ca/new-account", "n0nce", ""}, R"({"a":1})");
  ASSERT_TRUE(body.ok()) << body.status();
  const nlohmann::json jws = nlohmann::json::parse(*body);
  const nlohmann::json header = nlohmann::json::parse(Decoded(jws["protected"]));
  EXPECT_EQ(header["alg"], "ES256");
  EXPECT_EQ(header["nonce"], "n0nce");
  EXPECT_EQ(header["url"], "https://ca/new-account");
  EXPECT_EQ(header["jwk"].dump(), *PublicJwk(key_));
  EXPECT_FALSE(header.contains("kid"));
  EXPECT_EQ(Decoded(jws["payload"]), R"({"a":1})");
  EXPECT_EQ(Decoded(jws["signature"]).size(), 64u);
}

TEST_F(JwsTest, WithKidNoJwkAndPostAsGetHasAnEmptyPayload) {
  absl::StatusOr<std::string> body =
      SignJws(key_, ProtectedHeader{"https://ca/order/1", "n", "https://ca/acct/7"}, "");
  ASSERT_TRUE(body.ok());
  const nlohmann::json jws = nlohmann::json::parse(*body);
  const nlohmann::json header = nlohmann::json::parse(Decoded(jws["protected"]));
  EXPECT_EQ(header["kid"], "https://ca/acct/7");
  EXPECT_FALSE(header.contains("jwk"));
  EXPECT_EQ(jws["payload"], "");
}

TEST_F(JwsTest, ExternalAccountBindingSignsTheJwkWithHs256) {
  absl::StatusOr<std::string> binding =
      ExternalAccountBinding(key_, "kid-1", "secret", "https://ca/new-account");
  ASSERT_TRUE(binding.ok()) << binding.status();
  const nlohmann::json jws = nlohmann::json::parse(*binding);
  const nlohmann::json header = nlohmann::json::parse(Decoded(jws["protected"]));
  EXPECT_EQ(header["alg"], "HS256");
  EXPECT_EQ(header["kid"], "kid-1");
  EXPECT_EQ(header["url"], "https://ca/new-account");
  EXPECT_EQ(Decoded(jws["payload"]), *PublicJwk(key_));
  EXPECT_EQ(Decoded(jws["signature"]),
            *HmacSha256("secret", jws["protected"].get<std::string>() + "." +
                                      jws["payload"].get<std::string>()));
}

TEST_F(JwsTest, AKeyThatIsNotP256IsRefused) {
  absl::StatusOr<std::string> ed25519 = GenerateEd25519KeyPem();
  ASSERT_TRUE(ed25519.ok());
  EXPECT_EQ(SignJws(*ed25519, {"u", "n", ""}, "").status().message(),
            "an ES256 key must be an ECDSA P-256 key");
}

}  // namespace
}  // namespace appwire::acme
