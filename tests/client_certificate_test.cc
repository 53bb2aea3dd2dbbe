// Client certificates (kClientCertificateMode, selector 1004) with real
// handshakes: required, requested, refused, and the identity a handler sees.
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::ClientOptions;
using ::appwire::testing::LogCapture;
using ::appwire::testing::ReadText;
using ::appwire::testing::RunOpenSslClient;
using ::appwire::testing::StartServer;
using ::appwire::testing::TempDir;
using ::appwire::testing::TestCa;
using ::testing::HasSubstr;

// Runs a shell command; its output (stdout and stderr), failing the test
// when it exits with another code than 0.
std::string Sh(const std::string& command) {
  ::appwire::testing::ShellRun run = ::appwire::testing::RunShell(command);
  EXPECT_EQ(run.exit_code, 0) << command << "\n" << run.output;
  return run.output;
}

std::string X509Text(const std::string& path) {
  return Sh(absl::StrCat("openssl x509 -noout -text -in ", path));
}

class ClientCertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_.Write("client-ca.pem", client_ca_.cert_pem);
    client_ca_.IssuePair(client_, "cert.pem", "key.pem", "alice", {"alice.example"}, {});
    registry_ = std::make_shared<ServiceRegistry>();
    ASSERT_TRUE(registry_
                    ->RegisterRaw("test.Who/Am",
                                  [](CallContext& context, absl::string_view)
                                      -> absl::StatusOr<std::string> {
                                    if (!context.peer_certificate()) return std::string("nobody");
                                    return context.peer_certificate()->common_name;
                                  })
                    .ok());
  }

  std::unique_ptr<Server> Start(int64_t mode) {
    ServerOptions options;
    options.project_dir = project_.path();
    EXPECT_TRUE(options.parameters.Set(Parameter::kClientCertificateMode, mode).ok());
    return StartServer(options, registry_);
  }

  ChannelOptions WithIdentity(const Server& server, const TempDir& folder) {
    ChannelOptions options = ClientOptions(server, project_.File("cert.pem"));
    options.certificate_file = folder.File("cert.pem");
    options.private_key_file = folder.File("key.pem");
    return options;
  }

  TempDir project_;
  TempDir client_;
  // Connects with `options` and asks the server who the caller is: the
  // client certificate's common name, or "nobody".
  static absl::StatusOr<std::string> WhoAmI(const ChannelOptions& options) {
    auto channel = Channel::Connect(options);
    if (!channel.ok()) return channel.status();
    return (*channel)->CallRaw("test.Who/Am", "");
  }

  TestCa client_ca_ = TestCa::Create("Client CA");
  std::shared_ptr<ServiceRegistry> registry_;
};

TEST_F(ClientCertificateTest, RequiredCertificateIdentifiesTheCaller) {
  auto server = Start(kClientCertRequire);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<std::string> who = WhoAmI(WithIdentity(*server, client_));
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, "alice");
}

TEST_F(ClientCertificateTest, AReconnectionPresentsTheCertificateAgainInsteadOfResuming) {
  ServerOptions options;
  options.project_dir = project_.path();
  ASSERT_TRUE(options.parameters.Set(Parameter::kClientCertificateMode, kClientCertRequire).ok());
  ASSERT_TRUE(options.parameters.Set(Parameter::kIdleConnectionsTimeout, 1).ok());
  auto server = StartServer(options, registry_);
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(WithIdentity(*server, client_));
  ASSERT_TRUE(channel.ok()) << channel.status();
  ASSERT_TRUE((*channel)->CallRaw("test.Who/Am", "").ok());
  // The server closes the idle connection; the next call reconnects. A
  // resumed session would skip the certificate (and a CRL updated since),
  // so a server that asks for certificates issues no tickets.
  for (int i = 0; i < 400 && (*channel)->state() != ChannelState::kIdle; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ((*channel)->state(), ChannelState::kIdle);
  auto who = (*channel)->CallRaw("test.Who/Am", "");
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, "alice");
  EXPECT_EQ((*channel)->connections_made(), 2);
  EXPECT_FALSE((*channel)->session_info().resumed);
}

TEST_F(ClientCertificateTest, ARefusedClientBacksOffInsteadOfReconnectingInALoop) {
  auto server = Start(kClientCertRequire);
  ASSERT_NE(server, nullptr);
  ChannelOptions options = ClientOptions(*server, project_.File("cert.pem"));
  options.reconnect_backoff.initial = absl::Milliseconds(300);
  auto channel = Channel::Connect(options);  // TLS 1.3: the refusal comes after
  ASSERT_TRUE(channel.ok()) << channel.status();
  CallOptions fail_fast;
  fail_fast.fail_fast = true;
  auto reply = (*channel)->CallRaw("test.Who/Am", "", fail_fast);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnauthenticated) << reply.status();
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("certificate_required"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // The handshake succeeds on the client's side every time, so only the
  // backoff keeps it from trying hundreds of times a second.
  EXPECT_LE(server->stats().connections_accepted, 4u);
  EXPECT_EQ((*channel)->state(), ChannelState::kTransientFailure);
}

TEST_F(ClientCertificateTest, MissingCertificateIsRefusedByARequiringServer) {
  LogCapture log;
  auto server = Start(kClientCertRequire);
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(ClientOptions(*server, project_.File("cert.pem")));
  // TLS 1.3 clients finish their side of the handshake before the server
  // has judged their certificate: the refusal shows on the first call.
  absl::Status status = channel.ok() ? (*channel)->CallRaw("test.Who/Am", "").status()
                                     : channel.status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  if (channel.ok()) {
    for (int i = 0; i < 300 && (*channel)->is_open(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_FALSE((*channel)->is_open());
  }
  EXPECT_THAT(std::string(status.message()), HasSubstr("the server refused this client's certificate"))
      << status;
  for (int i = 0; i < 300 && !log.Contains("presented no certificate"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(log.Contains("the client presented no certificate, and this server requires one "
                           "(kClientCertificateMode)"))
      << log.All();
}

TEST_F(ClientCertificateTest, CertificateFromAnotherCaIsRefused) {
  LogCapture log;
  auto server = Start(kClientCertRequire);
  ASSERT_NE(server, nullptr);
  TempDir stranger;
  TestCa other = TestCa::Create("Other CA");
  other.IssuePair(stranger, "cert.pem", "key.pem", "mallory", {}, {});
  auto channel = Channel::Connect(WithIdentity(*server, stranger));
  absl::Status status = channel.ok() ? (*channel)->CallRaw("test.Who/Am", "").status()
                                     : channel.status();
  EXPECT_FALSE(status.ok());
  for (int i = 0; i < 300 && !log.Contains("certificate verify failed"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(log.Contains("certificate verify failed: the client's certificate 'CN=mallory'"))
      << log.All();
}

TEST_F(ClientCertificateTest, RequestedCertificateIsOptional) {
  auto server = Start(kClientCertRequest);
  ASSERT_NE(server, nullptr);
  auto anonymous = Channel::Connect(ClientOptions(*server, project_.File("cert.pem")));
  ASSERT_TRUE(anonymous.ok()) << anonymous.status();
  EXPECT_EQ(*(*anonymous)->CallRaw("test.Who/Am", ""), "nobody");
  auto identified = Channel::Connect(WithIdentity(*server, client_));
  ASSERT_TRUE(identified.ok()) << identified.status();
  EXPECT_EQ(*(*identified)->CallRaw("test.Who/Am", ""), "alice");
}

TEST_F(ClientCertificateTest, ANamedClientCaFileThatIsMissingIsAStartError) {
  ServerOptions options;
  options.project_dir = project_.path();
  options.client_ca_file = project_.File("clients-ca.pem");  // a typo
  ASSERT_TRUE(options.parameters.Set(Parameter::kClientCertificateMode, kClientCertRequest).ok());
  auto server = Server::Create(options, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(server.status().message(),
            absl::StrCat("the client CA file \"", project_.File("clients-ca.pem"),
                         "\" (client_ca / --client-ca) does not exist; fix the path, or remove "
                         "the setting to use client-ca.pem in the project folder"));
}

TEST_F(ClientCertificateTest, RequiringWithoutAClientCaIsAStartError) {
  TempDir bare;
  ServerOptions options;
  options.project_dir = bare.path();
  ASSERT_TRUE(options.parameters.Set(Parameter::kClientCertificateMode, kClientCertRequire).ok());
  auto server = Server::Create(options, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(),
            "client certificates are required (kClientCertificateMode) but no CA is trusted for "
            "them; put the CA that issues your clients' certificates in the project folder as "
            "client-ca.pem");
}

// Certificates made the way most tutorials make them, with the openssl
// command line (defect 17): `openssl req -x509` for the CA, then
// `openssl x509 -req` without -extfile for each leaf, which OpenSSL 3.0
// issues as X.509 version 1 (no extensions at all).
class OpenSslTutorialCertificateTest : public ClientCertificateTest {
 protected:
  // dir/ca.pem and dir/ca.key: an X.509 v3 CA (`openssl req -x509` adds
  // basicConstraints CA:TRUE), or with `v1` a self-signed v1 certificate
  // (`openssl x509 -req -signkey`), which has no extensions to say it is a CA.
  static void MakeCa(const TempDir& dir, const std::string& name, bool v1) {
    if (!v1) {
      Sh(absl::StrCat("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                      "-days 30 -subj '/CN=", name, "' -keyout ", dir.File("ca.key"), " -out ",
                      dir.File("ca.pem")));
      return;
    }
    Sh(absl::StrCat("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                    "-subj '/CN=", name, "' -keyout ", dir.File("ca.key"), " -out ",
                    dir.File("ca.csr")));
    Sh(absl::StrCat("openssl x509 -req -days 30 -in ", dir.File("ca.csr"), " -signkey ",
                    dir.File("ca.key"), " -out ", dir.File("ca.pem")));
  }

  // A leaf for `common_name` issued by the CA in `ca_dir`, written to
  // cert_path and key_path: `openssl x509 -req` and nothing else.
  static void IssueV1(const TempDir& ca_dir, const std::string& common_name,
                      const std::string& cert_path, const std::string& key_path) {
    Sh(absl::StrCat("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                    "-subj '/CN=", common_name, "' -keyout ", key_path, " -out ",
                    ca_dir.File("leaf.csr")));
    Sh(absl::StrCat("openssl x509 -req -days 30 -in ", ca_dir.File("leaf.csr"), " -CA ",
                    ca_dir.File("ca.pem"), " -CAkey ", ca_dir.File("ca.key"),
                    " -CAcreateserial -out ", cert_path));
  }

  // A version 1 certificate that carries extensions, as tools that forget
  // to set the version make (openssl never does): a v3 leaf for
  // `common_name` from the CA in `ca_dir`, its version field dropped
  // from the DER and the result signed again with the CA's key.
  static void IssueV1WithExtensions(const TempDir& ca_dir, const std::string& common_name,
                                    const std::string& cert_path, const std::string& key_path) {
    ca_dir.Write("ext.cnf", "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n");
    Sh(absl::StrCat("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                    "-subj '/CN=", common_name, "' -keyout ", key_path, " -out ",
                    ca_dir.File("leaf.csr")));
    Sh(absl::StrCat("openssl x509 -req -days 30 -in ", ca_dir.File("leaf.csr"), " -CA ",
                    ca_dir.File("ca.pem"), " -CAkey ", ca_dir.File("ca.key"),
                    " -CAcreateserial -extfile ", ca_dir.File("ext.cnf"),
                    " -outform DER -out ", ca_dir.File("v3.der")));
    const std::string v3 = ReadText(ca_dir.File("v3.der"));
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature };
    // the TBS starts with [0] { INTEGER 2 }. `element` reads a DER header.
    auto element = [&v3](size_t at, size_t* body) {
      const size_t first = static_cast<unsigned char>(v3[at + 1]);
      if (first < 0x80) {
        *body = at + 2;
        return first;
      }
      const size_t length_bytes = first & 0x7f;
      size_t length = 0;
      for (size_t i = 0; i < length_bytes; ++i) {
        length = length << 8 | static_cast<unsigned char>(v3[at + 2 + i]);
      }
      *body = at + 2 + length_bytes;
      return length;
    };
    auto der = [](char tag, const std::string& contents) {
      std::string length;
      for (size_t n = contents.size(); n > 0; n >>= 8) length.insert(length.begin(), char(n & 0xff));
      return std::string(1, tag) + (contents.size() < 128 ? std::string(1, char(contents.size()))
                                                          : char(0x80 | length.size()) + length) +
             contents;
    };
    size_t tbs_at;
    element(0, &tbs_at);
    size_t tbs_body;
    const size_t tbs_length = element(tbs_at, &tbs_body);
    ASSERT_EQ(v3.substr(tbs_body, 5), std::string("\xa0\x03\x02\x01\x02", 5));
    const std::string tbs = der(0x30, v3.substr(tbs_body + 5, tbs_length - 5));
    size_t algorithm_body;
    const size_t algorithm_at = tbs_body + tbs_length;
    const size_t algorithm_length = element(algorithm_at, &algorithm_body);
    const std::string algorithm =
        v3.substr(algorithm_at, algorithm_body - algorithm_at + algorithm_length);
    ca_dir.Write("tbs.der", tbs);
    Sh(absl::StrCat("openssl dgst -sha256 -sign ", ca_dir.File("ca.key"), " -out ",
                    ca_dir.File("sig.der"), " ", ca_dir.File("tbs.der")));
    const std::string signature = ReadText(ca_dir.File("sig.der"));
    ca_dir.Write("v1.der", der(0x30, tbs + algorithm + der(0x03, std::string(1, '\0') + signature)));
    Sh(absl::StrCat("openssl x509 -inform DER -in ", ca_dir.File("v1.der"), " -out ", cert_path));
  }

  TempDir tutorial_;
};

TEST_F(OpenSslTutorialCertificateTest, AVersion1ClientCertificateIdentifiesTheCaller) {
  MakeCa(tutorial_, "Tutorial CA", /*v1=*/false);
  project_.Write("client-ca.pem", ReadText(tutorial_.File("ca.pem")));
  TempDir bob;
  IssueV1(tutorial_, "bob", bob.File("cert.pem"), bob.File("key.pem"));
  const std::string text = X509Text(bob.File("cert.pem"));
  ASSERT_THAT(text, HasSubstr("Version: 1 (0x0)"));
  ASSERT_THAT(text, ::testing::Not(HasSubstr("X509v3")));

  auto server = Start(kClientCertRequire);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<std::string> who = WhoAmI(WithIdentity(*server, bob));
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, "bob");
}

TEST_F(OpenSslTutorialCertificateTest, AVersion1ClientCaIsTrusted) {
  MakeCa(tutorial_, "Tutorial V1 CA", /*v1=*/true);
  ASSERT_THAT(X509Text(tutorial_.File("ca.pem")), HasSubstr("Version: 1 (0x0)"));
  project_.Write("client-ca.pem", ReadText(tutorial_.File("ca.pem")));
  TempDir bob;
  IssueV1(tutorial_, "bob", bob.File("cert.pem"), bob.File("key.pem"));
  ASSERT_THAT(X509Text(bob.File("cert.pem")), HasSubstr("Version: 1 (0x0)"));

  auto server = Start(kClientCertRequire);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<std::string> who = WhoAmI(WithIdentity(*server, bob));
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, "bob");
}

TEST_F(OpenSslTutorialCertificateTest, AVersion1ServerCertificateIsAccepted) {
  // No subject alternative name in a v1 certificate: the client matches
  // "localhost" against the common name.
  MakeCa(tutorial_, "Tutorial CA", /*v1=*/false);
  TempDir project;
  IssueV1(tutorial_, "localhost", project.File("cert.pem"), project.File("key.pem"));
  ASSERT_THAT(X509Text(project.File("cert.pem")), HasSubstr("Version: 1 (0x0)"));
  ServerOptions options;
  options.project_dir = project.path();
  auto server = StartServer(options, registry_);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<std::string> who = WhoAmI(ClientOptions(*server, tutorial_.File("ca.pem")));
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, "nobody");
}

TEST_F(OpenSslTutorialCertificateTest, AVersion1ClientCertificateFromAnotherCaIsRefused) {
  TempDir stranger;
  MakeCa(stranger, "Stranger CA", /*v1=*/false);
  TempDir mallory;
  IssueV1(stranger, "mallory", mallory.File("cert.pem"), mallory.File("key.pem"));
  ASSERT_THAT(X509Text(mallory.File("cert.pem")), HasSubstr("Version: 1 (0x0)"));
  LogCapture log;
  auto server = Start(kClientCertRequire);  // trusts only client_ca_
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(WithIdentity(*server, mallory));
  absl::Status status = channel.ok() ? (*channel)->CallRaw("test.Who/Am", "").status()
                                     : channel.status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_TRUE(log.WaitFor("certificate verify failed: the client's certificate 'CN=mallory' "
                          "(issued by 'CN=Stranger CA'"))
      << log.All();
}

// wolfSSL cannot parse a version 1 certificate with extensions (it has no
// ALLOW_V1_EXTENSIONS here), though OpenSSL takes it: refused, saying why.
TEST_F(OpenSslTutorialCertificateTest, AVersion1CertificateWithExtensionsIsRefusedAndSaysWhy) {
  MakeCa(tutorial_, "Tutorial CA", /*v1=*/false);
  project_.Write("client-ca.pem", ReadText(tutorial_.File("ca.pem")));
  TempDir bob;
  IssueV1WithExtensions(tutorial_, "bob", bob.File("cert.pem"), bob.File("key.pem"));
  const std::string text = X509Text(bob.File("cert.pem"));
  ASSERT_THAT(text, HasSubstr("Version: 1 (0x0)"));
  ASSERT_THAT(text, HasSubstr("X509v3 Basic Constraints"));
  EXPECT_THAT(Sh(absl::StrCat("openssl verify -CAfile ", tutorial_.File("ca.pem"), " ",
                              bob.File("cert.pem"))),
              HasSubstr(": OK"));
  const std::string why =
      "an X.509 version 1 certificate that carries extensions (only version 3 certificates "
      "may, RFC 5280 4.1.2.1), which wolfSSL cannot parse; reissue it as a version 3 "
      "certificate (the tool that made it forgot to set the version; openssl x509 -req with "
      "-extfile makes version 3)";
  auto server = Start(kClientCertRequire);
  ASSERT_NE(server, nullptr);

  // Our client will not load it (it used to say that key and certificate
  // do not match) ...
  auto channel = Channel::Connect(WithIdentity(*server, bob));
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(channel.status().message(), absl::StrCat("\"", bob.File("cert.pem"), "\" holds ", why));

  // ... and the server refuses it from a client that sends it.
  LogCapture log;
  RunOpenSslClient(absl::StrCat("-connect 127.0.0.1:", server->port(),
                                " -servername localhost -alpn appwire/1 -CAfile ",
                                project_.File("cert.pem"), " -cert ", bob.File("cert.pem"),
                                " -key ", bob.File("key.pem")));
  EXPECT_TRUE(log.WaitFor(absl::StrCat("failed: the client presented ", why,
                                       " (wolfSSL error -141: ASN version error")))
      << log.All();
}

}  // namespace
}  // namespace appwire
