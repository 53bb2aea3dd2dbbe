#include "appwire/transport/internal/tls_session.h"

#include <memory>
#include <string>

#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/certificate_info.h"
#include "appwire/transport/tls_failure.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire::internal {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// A server identity for "localhost", made once for the whole suite.
struct Identity {
  std::string key_pem;
  std::string cert_pem;
};

const Identity& ServerIdentity() {
  static const Identity* identity = [] {
    auto* made = new Identity;
    made->key_pem = *GenerateEcdsaP256KeyPem();
    CertificateSpec spec;
    spec.common_name = "localhost";
    spec.dns_names = {"localhost"};
    made->cert_pem = *CreateSelfSignedCertificatePem(made->key_pem, spec);
    return made;
  }();
  return *identity;
}

std::shared_ptr<const TlsContext> ServerContext() {
  TlsOptions options;
  options.role = TlsRole::kServer;
  options.certificate_chain_pem = ServerIdentity().cert_pem;
  options.private_key_pem = ServerIdentity().key_pem;
  absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::Create(options);
  EXPECT_TRUE(context.ok()) << context.status();
  return *context;
}

std::shared_ptr<const TlsContext> ClientContext(const std::string& trusted_ca_pem,
                                                const std::string& pinned_sha256 = "") {
  TlsOptions options;
  options.role = TlsRole::kClient;
  options.trusted_ca_pem = trusted_ca_pem;
  options.pinned_sha256 = pinned_sha256;
  absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::Create(options);
  EXPECT_TRUE(context.ok()) << context.status();
  return *context;
}

// A client and a server session joined by nothing but this test moving
// their output to the other's input.
class SessionPair {
 public:
  explicit SessionPair(std::shared_ptr<const TlsContext> client_context,
                       std::string server_name = "localhost") {
    client_ = *TlsSession::Create(std::move(client_context), "server (in memory)",
                                  std::move(server_name));
    server_ = *TlsSession::Create(ServerContext(), "client (in memory)", "");
  }

  // Runs both handshakes to the end, or to the first error (either side's).
  absl::Status Handshake() {
    bool client_done = false;
    bool server_done = false;
    for (int round = 0; round < 20 && !(client_done && server_done); ++round) {
      if (!client_done) {
        absl::StatusOr<bool> step = client_->Handshake();
        if (!step.ok()) return step.status();
        client_done = *step;
      }
      Move(*client_, *server_);
      if (!server_done) {
        absl::StatusOr<bool> step = server_->Handshake();
        if (!step.ok()) return step.status();
        server_done = *step;
      }
      Move(*server_, *client_);
    }
    if (!(client_done && server_done)) return absl::InternalError("the handshake did not end");
    return absl::OkStatus();
  }

  static void Move(TlsSession& from, TlsSession& to) {
    std::string& bytes = from.output();
    if (bytes.empty()) return;
    to.Feed(bytes.data(), bytes.size());
    bytes.clear();
  }

  TlsSession& client() { return *client_; }
  TlsSession& server() { return *server_; }

 private:
  std::unique_ptr<TlsSession> client_;
  std::unique_ptr<TlsSession> server_;
};

TEST(TlsSessionTest, HandshakeInMemoryNegotiatesTls13AndAppwireAlpn) {
  SessionPair pair(ClientContext(ServerIdentity().cert_pem));
  ASSERT_TRUE(pair.Handshake().ok());
  const TlsSessionInfo info = pair.client().Info();
  EXPECT_EQ(info.version, "TLSv1.3");
  EXPECT_EQ(info.alpn, "appwire/1");
  ASSERT_TRUE(info.peer_certificate.has_value());
  EXPECT_EQ(info.peer_certificate->sha256_fingerprint,
            DescribeCertificatePem(ServerIdentity().cert_pem, "cert.pem")->sha256_fingerprint);
}

TEST(TlsSessionTest, PlaintextCrossesInBothDirections) {
  SessionPair pair(ClientContext(ServerIdentity().cert_pem));
  ASSERT_TRUE(pair.Handshake().ok());
  ASSERT_TRUE(pair.client().Write("ping from the client").ok());
  SessionPair::Move(pair.client(), pair.server());
  std::string received;
  ASSERT_TRUE(pair.server().Read(&received).ok());
  EXPECT_EQ(received, "ping from the client");
  const std::string large(100000, 'z');  // several records
  ASSERT_TRUE(pair.server().Write(large).ok());
  SessionPair::Move(pair.server(), pair.client());
  received.clear();
  ASSERT_TRUE(pair.client().Read(&received).ok());
  EXPECT_EQ(received, large);
}

TEST(TlsSessionTest, AnUntrustedServerIsRefusedWithUnauthenticated) {
  // The client trusts a CA that did not sign the server's certificate.
  const std::string other_key = *GenerateEcdsaP256KeyPem();
  CertificateSpec spec;
  spec.common_name = "Some Other CA";
  spec.is_ca = true;
  SessionPair pair(ClientContext(*CreateSelfSignedCertificatePem(other_key, spec)));
  absl::Status status = pair.Handshake();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("TLS handshake with server (in memory) failed: certificate verify "
                              "failed: the server's certificate 'CN=localhost'"),
                    HasSubstr("is not signed by a CA this client trusts; add the server's CA to "
                              "the trusted CA file"),
                    HasSubstr("(wolfSSL error -188: certificate verify failed)")));
}

TEST(TlsSessionTest, APinMismatchCarriesThePresentedFingerprintAsData) {
  const std::string wrong_pin(64, 'a');
  SessionPair pair(ClientContext("", wrong_pin));
  absl::Status status = pair.Handshake();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  std::optional<TlsFailure> failure = GetTlsFailure(status);
  ASSERT_TRUE(failure.has_value()) << status;
  EXPECT_EQ(failure->kind, TlsFailure::Kind::kPinMismatch);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("the server's certificate does not match the pinned fingerprint: "
                        "expected SHA256:AA:AA:"));
  EXPECT_EQ(failure->presented_fingerprint,
            DescribeCertificatePem(ServerIdentity().cert_pem, "cert.pem")->sha256_fingerprint);
}

TEST(TlsSessionTest, TheWrongServerNameIsRefused) {
  SessionPair pair(ClientContext(ServerIdentity().cert_pem), "not-localhost.example");
  absl::Status status = pair.Handshake();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_EQ(status.message(),
            "TLS handshake with server (in memory) failed: certificate verify failed: hostname "
            "mismatch: server certificate is for 'localhost', connected as "
            "'not-localhost.example'; connect with a name the certificate lists, or issue the "
            "server a certificate for 'not-localhost.example' (wolfSSL error -322: peer subject "
            "name mismatch)");
}

TEST(TlsSessionTest, CloseNotifyEndsThePeersReadsAfterTheDataBeforeIt) {
  SessionPair pair(ClientContext(ServerIdentity().cert_pem));
  ASSERT_TRUE(pair.Handshake().ok());
  ASSERT_TRUE(pair.client().Write("last words").ok());
  pair.client().Shutdown();
  SessionPair::Move(pair.client(), pair.server());
  std::string received;
  ASSERT_TRUE(pair.server().Read(&received).ok());
  EXPECT_EQ(received, "last words");
  absl::Status end = pair.server().Read(&received);
  EXPECT_EQ(end.code(), absl::StatusCode::kUnavailable) << end;
  EXPECT_TRUE(pair.server().peer_closed());
}

TEST(TlsSessionTest, ATamperedRecordEndsTheSession) {
  SessionPair pair(ClientContext(ServerIdentity().cert_pem));
  ASSERT_TRUE(pair.Handshake().ok());
  ASSERT_TRUE(pair.client().Write("integrity matters").ok());
  std::string& record = pair.client().output();
  record[record.size() - 5] ^= 0x01;
  SessionPair::Move(pair.client(), pair.server());
  std::string received;
  absl::Status read = pair.server().Read(&received);
  // Reported now or by the next read, never as plaintext.
  if (read.ok()) read = pair.server().Read(&received);
  EXPECT_FALSE(read.ok());
  EXPECT_EQ(received, "");
}

}  // namespace
}  // namespace appwire::internal
