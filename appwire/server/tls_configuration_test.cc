// ContextSet::Select: which TLS context a client's SNI name gets. The
// contexts are real (self-signed ECDSA, made here); only their identity
// matters. The rest of TlsConfiguration (loading, reload with rollback,
// watching, DH generation, expiry) is covered end to end by
// tests/certificate_reload_test.cc, server_startup_test.cc and
// tls_configuration_test.cc.
#include "appwire/server/tls_configuration.h"

#include <memory>
#include <string>

#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/tls_context.h"
#include "appwire/transport/tls_options.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

std::shared_ptr<const TlsContext> MakeContext(const std::string& name) {
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  EXPECT_TRUE(key.ok()) << key.status();
  CertificateSpec spec;
  spec.common_name = name;
  spec.dns_names = {name};
  absl::StatusOr<std::string> cert = CreateSelfSignedCertificatePem(*key, spec);
  EXPECT_TRUE(cert.ok()) << cert.status();
  TlsOptions options;
  options.role = TlsRole::kServer;
  options.certificate_chain_pem = *cert;
  options.private_key_pem = *key;
  absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::Create(options);
  EXPECT_TRUE(context.ok()) << context.status();
  return context.ok() ? *context : nullptr;
}

class ContextSetTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto* set = new ContextSet;
    set->default_context = MakeContext("localhost");
    set->by_name["api.example.com"] = MakeContext("api.example.com");
    set->by_name["*.example.com"] = MakeContext("*.example.com");
    set_ = set;
  }
  static void TearDownTestSuite() {
    delete set_;
    set_ = nullptr;
  }
  static const ContextSet* set_;
};

const ContextSet* ContextSetTest::set_ = nullptr;

TEST_F(ContextSetTest, AnExactNameGetsItsOwnContextInAnyCase) {
  const auto& exact = set_->by_name.at("api.example.com");
  EXPECT_EQ(set_->Select("api.example.com"), exact);
  EXPECT_EQ(set_->Select("API.Example.COM"), exact);
}

TEST_F(ContextSetTest, ANameWithoutItsOwnContextGetsTheWildcardForItsFirstLabel) {
  const auto& wildcard = set_->by_name.at("*.example.com");
  EXPECT_EQ(set_->Select("www.example.com"), wildcard);
  EXPECT_EQ(set_->Select("WWW.EXAMPLE.COM"), wildcard);
}

TEST_F(ContextSetTest, AWildcardCoversOneLabelOnly) {
  EXPECT_EQ(set_->Select("a.b.example.com"), set_->default_context);
  EXPECT_EQ(set_->Select("example.com"), set_->default_context);
}

TEST_F(ContextSetTest, NoNameOrAnUnknownNameGetsTheDefault) {
  EXPECT_EQ(set_->Select(""), set_->default_context);
  EXPECT_EQ(set_->Select("other.test"), set_->default_context);
  EXPECT_EQ(set_->Select("localhost"), set_->default_context);
}

TEST(ContextSetWithoutSniTest, EveryNameGetsTheDefault) {
  ContextSet set;
  set.default_context = MakeContext("localhost");
  EXPECT_EQ(set.Select("api.example.com"), set.default_context);
  EXPECT_EQ(set.Select(""), set.default_context);
}

}  // namespace
}  // namespace appwire
