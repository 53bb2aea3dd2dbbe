// The desktop side of mutual TLS: the client folder, per-server overrides,
// trust on first use, authorisation policies and revoked certificates.
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "appwire/client/client_folder.h"
#include "appwire/common/files.h"
#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/certificate_info.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::ClientOptions;
using ::appwire::testing::LogCapture;
using ::appwire::testing::StartServer;
using ::appwire::testing::StartServerIn;
using ::appwire::testing::TempDir;
using ::appwire::testing::TestCa;
using ::testing::HasSubstr;

ChannelOptions FolderOptions(const Server& server, const TempDir& folder) {
  ChannelOptions options;
  options.target = absl::StrCat("localhost:", server.port());
  options.client_folder = folder.path();
  return options;
}

TEST(TrustOnFirstUseTest, FirstConnectRecordsSecondSucceedsChangedCertificateFails) {
  TempDir project;
  TempDir folder;
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);
  ChannelOptions options = FolderOptions(*server, folder);

  // Without explicit TOFU, an unknown self-signed server is not trusted.
  auto refused = Channel::Connect(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);

  options.trust_on_first_use = true;
  auto first = Channel::Connect(options);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string fingerprint = server->certificate().sha256_fingerprint;
  EXPECT_EQ(*ReadFile(folder.File("known_servers")),
            absl::StrCat("localhost:", server->port(), " ", fingerprint, "\n"));

  auto second = Channel::Connect(options);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*ReadFile(folder.File("known_servers")),
            absl::StrCat("localhost:", server->port(), " ", fingerprint, "\n"));

  // The server's certificate changes (a new self-signed pair).
  const int port = server->port();
  server->Drain(absl::ZeroDuration());
  server.reset();
  ASSERT_EQ(std::remove(project.File("cert.pem").c_str()), 0);
  ASSERT_EQ(std::remove(project.File("key.pem").c_str()), 0);
  ServerOptions again;
  again.project_dir = project.path();
  again.bind_address = "127.0.0.1";
  again.port = port;
  auto replaced = Server::Create(again, nullptr);
  ASSERT_TRUE(replaced.ok());
  ASSERT_TRUE((*replaced)->Start().ok());
  auto changed = Channel::Connect(options);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(changed.status().message(),
            absl::StrCat("the certificate of localhost:", port,
                         " has CHANGED since it was recorded in \"", folder.File("known_servers"),
                         "\" line 1: recorded ", fingerprint, ", presented ",
                         (*replaced)->certificate().sha256_fingerprint,
                         ". Someone may be impersonating the server, or its certificate was "
                         "replaced; if you know it was replaced, delete line 1 of \"",
                         folder.File("known_servers"), "\" and connect again"));
}

class MutualTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ca_.IssueServerPair(project_, "localhost", {"localhost"}, {"127.0.0.1"});
    project_.Write("client-ca.pem", client_ca_.cert_pem);
    folder_.Write("ca.pem", server_ca_.cert_pem);
    client_ca_.IssuePair(folder_, "cert.pem", "key.pem", "alice", {}, {});
    registry_ = std::make_shared<ServiceRegistry>();
    ASSERT_TRUE(registry_
                    ->RegisterRaw("test.Who/Am",
                                  [](CallContext& context, absl::string_view)
                                      -> absl::StatusOr<std::string> {
                                    return context.peer_certificate()
                                               ? context.peer_certificate()->common_name
                                               : std::string("nobody");
                                  })
                    .ok());
    ASSERT_TRUE(registry_
                    ->RegisterRaw("test.Admin/Reset",
                                  [](CallContext&, absl::string_view)
                                      -> absl::StatusOr<std::string> { return std::string("reset"); })
                    .ok());
  }

  std::unique_ptr<Server> Start() {
    ServerOptions options;
    options.project_dir = project_.path();
    EXPECT_TRUE(options.parameters.Set(Parameter::kClientCertificateMode, kClientCertRequire).ok());
    return StartServer(options, registry_);
  }

  TempDir project_;
  TempDir folder_;
  TestCa server_ca_ = TestCa::Create("Server CA");
  TestCa client_ca_ = TestCa::Create("Client CA");
  std::shared_ptr<ServiceRegistry> registry_;
};

TEST_F(MutualTlsTest, ClientFolderProvidesIdentityAndTrustAndPerServerOverridesWin) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(FolderOptions(*server, folder_));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(*(*channel)->CallRaw("test.Who/Am", ""), "alice");

  // <folder>/localhost/ holds another identity, used for that server only.
  ASSERT_TRUE(MakeDirectories(folder_.File("localhost")).ok());
  client_ca_.IssuePair(folder_, "localhost/cert.pem", "localhost/key.pem", "bob", {}, {});
  auto overridden = Channel::Connect(FolderOptions(*server, folder_));
  ASSERT_TRUE(overridden.ok()) << overridden.status();
  EXPECT_EQ(*(*overridden)->CallRaw("test.Who/Am", ""), "bob");
}

TEST_F(MutualTlsTest, PolicyRefusesWithPermissionDeniedNamingTheIdentity) {
  AuthorizationPolicy admins;
  admins.allowed_common_names = {"root-operator"};
  ASSERT_TRUE(registry_->SetPolicy("test.Admin", admins).ok());
  AuthorizationPolicy by_fingerprint;
  by_fingerprint.callback = [](const PeerIdentity* identity, const std::string&) {
    return identity != nullptr && identity->common_name == "alice";
  };
  ASSERT_TRUE(registry_->SetPolicy("test.Who/Am", by_fingerprint).ok());
  auto server = Start();
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(FolderOptions(*server, folder_));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(*(*channel)->CallRaw("test.Who/Am", ""), "alice");
  auto refused = (*channel)->CallRaw("test.Admin/Reset", "");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  auto info = DescribeCertificatePem(*ReadFile(folder_.File("cert.pem")), "cert.pem");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(refused.status().message(),
            absl::StrCat("the client 'CN=alice' (", info->sha256_fingerprint,
                         ") may not call test.Admin/Reset; ask the server's operator to allow it"));
  // The connection stays usable.
  EXPECT_EQ(*(*channel)->CallRaw("test.Who/Am", ""), "alice");
}

// Revokes `client_cert_file` with openssl's own CA tooling and writes the
// CRL to `crl_file`.
bool Revoke(const TempDir& work, const TestCa& ca, const std::string& client_cert_file,
            const std::string& crl_file) {
  work.Write("ca.pem", ca.cert_pem);
  work.Write("ca.key", ca.key_pem, 0600);
  work.Write("index.txt", "");
  work.Write("crlnumber", "1000\n");
  work.Write("openssl.cnf",
             absl::StrCat("[ ca ]\ndefault_ca = appwire_test\n[ appwire_test ]\n",
                          "database = ", work.File("index.txt"), "\n",
                          "crlnumber = ", work.File("crlnumber"), "\n",
                          "certificate = ", work.File("ca.pem"), "\n",
                          "private_key = ", work.File("ca.key"), "\n",
                          "default_md = sha256\ndefault_crl_days = 30\n"));
  const std::string base = absl::StrCat("openssl ca -batch -config ", work.File("openssl.cnf"));
  return std::system(absl::StrCat(base, " -revoke ", client_cert_file, " >/dev/null 2>&1").c_str()) ==
             0 &&
         std::system(absl::StrCat(base, " -gencrl -out ", crl_file, " >/dev/null 2>&1").c_str()) ==
             0;
}

TEST_F(MutualTlsTest, RevokedClientCertificateIsRefusedSayingSo) {
  TempDir work;
  ASSERT_TRUE(Revoke(work, client_ca_, folder_.File("cert.pem"), project_.File("crl.pem")));
  LogCapture log;
  auto server = Start();
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(FolderOptions(*server, folder_));
  absl::Status status = channel.ok() ? (*channel)->CallRaw("test.Who/Am", "").status()
                                     : channel.status();
  EXPECT_FALSE(status.ok());
  for (int i = 0; i < 300 && !log.Contains("is revoked"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(log.Contains("certificate verify failed: the client's certificate 'CN=alice'"))
      << log.All();
  EXPECT_TRUE(log.Contains("is revoked (listed in the certificate revocation list)")) << log.All();

  // Another client of the same CA, not revoked, still gets in.
  TempDir other;
  other.Write("ca.pem", server_ca_.cert_pem);
  client_ca_.IssuePair(other, "cert.pem", "key.pem", "carol", {}, {});
  auto carol = Channel::Connect(FolderOptions(*server, other));
  ASSERT_TRUE(carol.ok()) << carol.status();
  EXPECT_EQ(*(*carol)->CallRaw("test.Who/Am", ""), "carol");
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

TEST_F(MutualTlsTest, ExpiredClientCertificateIsRefusedSayingSo) {
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  ASSERT_TRUE(key.ok());
  CertificateSpec spec;
  spec.common_name = "dave";
  spec.days_valid = 0;
  absl::StatusOr<std::string> cert =
      IssueCertificatePem(*key, spec, client_ca_.cert_pem, client_ca_.key_pem);
  ASSERT_TRUE(cert.ok());
  folder_.Write("key.pem", *key, 0600);
  folder_.Write("cert.pem", *cert);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past its end
  LogCapture log;
  auto server = Start();
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(FolderOptions(*server, folder_));
  absl::Status status = channel.ok() ? (*channel)->CallRaw("test.Who/Am", "").status()
                                     : channel.status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  for (int i = 0; i < 300 && !log.Contains("expired"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(log.Contains("certificate verify failed: the client's certificate 'CN=dave'"))
      << log.All();
  EXPECT_TRUE(log.Contains("expired on ")) << log.All();
}

TEST_F(MutualTlsTest, EncryptedClientKeyTakesItsPassphraseFromAFile) {
  ASSERT_EQ(std::system(absl::StrCat("openssl pkey -in ", folder_.File("key.pem"),
                                     " -aes256 -passout pass:desk -out ", folder_.File("key.enc"))
                            .c_str()),
            0);
  ASSERT_EQ(::rename(folder_.File("key.enc").c_str(), folder_.File("key.pem").c_str()), 0);
  auto server = Start();
  ASSERT_NE(server, nullptr);
  ChannelOptions options = FolderOptions(*server, folder_);
  auto locked = Channel::Connect(options);
  ASSERT_FALSE(locked.ok());
  EXPECT_THAT(std::string(locked.status().message()), HasSubstr("is encrypted"));
  folder_.Write("passphrase", "desk\n", 0600);
  options.key_passphrase_file = folder_.File("passphrase");
  auto unlocked = Channel::Connect(options);
  ASSERT_TRUE(unlocked.ok()) << unlocked.status();
  EXPECT_EQ(*(*unlocked)->CallRaw("test.Who/Am", ""), "alice");
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

TEST_F(MutualTlsTest, HandlerSeesTheExactIdentityOfTheCertificate) {
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  ASSERT_TRUE(key.ok());
  CertificateSpec spec;
  spec.common_name = "erin";
  spec.dns_names = {"erin.desk.example"};
  spec.email_addresses = {"erin@example.com"};
  spec.uris = {"spiffe://example.com/desk/erin"};
  absl::StatusOr<std::string> cert =
      IssueCertificatePem(*key, spec, client_ca_.cert_pem, client_ca_.key_pem);
  ASSERT_TRUE(cert.ok()) << cert.status();
  folder_.Write("key.pem", *key, 0600);
  folder_.Write("cert.pem", *cert);
  ASSERT_TRUE(registry_
                  ->RegisterRaw("test.Identity/Describe",
                                [](CallContext& context, absl::string_view)
                                    -> absl::StatusOr<std::string> {
                                  const PeerIdentity& id = *context.peer_certificate();
                                  return absl::StrCat(
                                      id.common_name, "|", id.dns_names.at(0), "|",
                                      id.email_addresses.at(0), "|", id.uris.at(0), "|",
                                      id.issuer, "|", id.serial, "|", id.sha256_fingerprint, "|",
                                      FormatUtc(id.not_after), "|", context.tls_version(), "|",
                                      context.session_resumed() ? "resumed" : "full");
                                })
                  .ok());
  auto server = Start();
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(FolderOptions(*server, folder_));
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto described = (*channel)->CallRaw("test.Identity/Describe", "");
  ASSERT_TRUE(described.ok()) << described.status();
  auto expected = DescribeCertificatePem(*cert, "cert.pem");
  ASSERT_TRUE(expected.ok());
  EXPECT_FALSE(expected->serial.empty());
  EXPECT_EQ(*described, absl::StrCat("erin|erin.desk.example|erin@example.com|"
                                     "spiffe://example.com/desk/erin|O=appwire tests, CN=Client CA|",
                                     expected->serial, "|", expected->sha256_fingerprint, "|",
                                     FormatUtc(expected->not_after), "|TLSv1.3|full"));
}

}  // namespace
}  // namespace appwire
