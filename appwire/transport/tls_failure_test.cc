#include "appwire/transport/tls_failure.h"

#include <memory>
#include <string>

#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/internal/tls_session.h"
#include "appwire/transport/tls_context.h"
#include "appwire/transport/tls_options.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

using ::testing::HasSubstr;

TEST(TlsFailureTest, ThePinMismatchAndThePresentedFingerprintSurviveCopies) {
  const TlsFailure failure{TlsFailure::Kind::kPinMismatch, "SHA256:AB:CD"};
  absl::Status status = WithTlsFailure(absl::UnauthenticatedError("any words"), failure);
  const absl::Status copy = status;
  ASSERT_TRUE(GetTlsFailure(copy).has_value());
  EXPECT_EQ(*GetTlsFailure(copy), failure);
  EXPECT_EQ(copy.message(), "any words");
  EXPECT_EQ(copy.code(), absl::StatusCode::kUnauthenticated);
}

TEST(TlsFailureTest, ARefusedCertificateAndItsAlertSurviveCopies) {
  const TlsFailure failure{TlsFailure::Kind::kPeerRefusedCertificate, "", 116};
  const absl::Status copy = WithTlsFailure(absl::UnauthenticatedError("any words"), failure);
  ASSERT_TRUE(GetTlsFailure(copy).has_value());
  EXPECT_EQ(GetTlsFailure(copy)->kind, TlsFailure::Kind::kPeerRefusedCertificate);
  EXPECT_EQ(GetTlsFailure(copy)->alert, 116);
  EXPECT_EQ(copy.message(), "any words");
}

TEST(TlsFailureTest, TheProbeKindsSurviveCopies) {
  for (TlsFailure::Kind kind :
       {TlsFailure::Kind::kClosedBeforeHello, TlsFailure::Kind::kNoApplicationProtocol}) {
    const TlsFailure failure{kind, "", -1};
    const absl::Status copy = WithTlsFailure(absl::UnavailableError("any words"), failure);
    ASSERT_TRUE(GetTlsFailure(copy).has_value());
    EXPECT_EQ(*GetTlsFailure(copy), failure);
    EXPECT_EQ(copy.code(), absl::StatusCode::kUnavailable);
  }
}

TEST(TlsFailureTest, AStatusWithoutOneHasNone) {
  EXPECT_FALSE(GetTlsFailure(absl::UnauthenticatedError(
                                 "the server's certificate does not match the pinned fingerprint"))
                   .has_value());
  EXPECT_FALSE(GetTlsFailure(absl::OkStatus()).has_value());
}

// A server that requires a client certificate, and a client that trusts it
// but has none, over an in-memory pair of TLS sessions (real wolfSSL, no
// sockets).
class RefusedClientCertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
    ASSERT_TRUE(key.ok()) << key.status();
    CertificateSpec spec;
    spec.common_name = "server.test";
    spec.dns_names = {"server.test"};
    absl::StatusOr<std::string> cert = CreateSelfSignedCertificatePem(*key, spec);
    ASSERT_TRUE(cert.ok()) << cert.status();

    TlsOptions server;
    server.role = TlsRole::kServer;
    server.certificate_chain_pem = *cert;
    server.private_key_pem = *key;
    server.client_certificate_mode = TlsOptions::ClientCertificateMode::kRequire;
    server.trusted_ca_pem = *cert;  // any CA: the client presents nothing
    TlsOptions client;
    client.role = TlsRole::kClient;
    client.trusted_ca_pem = *cert;
    absl::StatusOr<std::shared_ptr<TlsContext>> server_context = TlsContext::Create(server);
    ASSERT_TRUE(server_context.ok()) << server_context.status();
    absl::StatusOr<std::shared_ptr<TlsContext>> client_context = TlsContext::Create(client);
    ASSERT_TRUE(client_context.ok()) << client_context.status();
    auto server_session =
        internal::TlsSession::Create(*server_context, "client.test:1", "");
    ASSERT_TRUE(server_session.ok()) << server_session.status();
    auto client_session =
        internal::TlsSession::Create(*client_context, "server.test:1", "server.test");
    ASSERT_TRUE(client_session.ok()) << client_session.status();
    server_ = *std::move(server_session);
    client_ = *std::move(client_session);
  }

  // Moves what each side wrote to the other.
  void Exchange() {
    server_->Feed(client_->output().data(), client_->output().size());
    client_->output().clear();
    client_->Feed(server_->output().data(), server_->output().size());
    server_->output().clear();
  }

  std::unique_ptr<internal::TlsSession> server_;
  std::unique_ptr<internal::TlsSession> client_;
};

TEST_F(RefusedClientCertificateTest, TheClientSeesTheRefusalAsAKindWithTheAlert) {
  // TLS 1.3: the client's side of the handshake finishes before the server
  // judges its (absent) certificate; the verdict is an alert it reads next.
  absl::StatusOr<bool> client_done = false;
  absl::StatusOr<bool> server_done = false;
  for (int round = 0; round < 10 && client_done.ok() && !*client_done; ++round) {
    client_done = client_->Handshake();
    Exchange();
    if (server_done.ok() && !*server_done) server_done = server_->Handshake();
    Exchange();
  }
  ASSERT_TRUE(client_done.ok()) << client_done.status();
  ASSERT_TRUE(*client_done);
  ASSERT_FALSE(server_done.ok());
  EXPECT_THAT(std::string(server_done.status().message()),
              HasSubstr("the client presented no certificate, and this server requires one"));

  std::string plaintext;
  absl::Status read = client_->Read(&plaintext);
  EXPECT_EQ(read.code(), absl::StatusCode::kUnauthenticated) << read;
  EXPECT_THAT(std::string(read.message()),
              HasSubstr("the server refused this client's certificate (alert "
                        "'certificate_required')"));
  const std::optional<TlsFailure> failure = GetTlsFailure(read);
  ASSERT_TRUE(failure.has_value()) << read;
  EXPECT_EQ(failure->kind, TlsFailure::Kind::kPeerRefusedCertificate);
  EXPECT_EQ(failure->alert, 116);  // certificate_required
  // The server's own failure is not the peer refusing anything.
  EXPECT_FALSE(GetTlsFailure(server_done.status()).has_value());
}

}  // namespace
}  // namespace appwire
