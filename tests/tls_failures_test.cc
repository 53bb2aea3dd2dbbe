// What each TLS failure looks like to the person who has to fix it: real
// handshakes on loopback, with the status code and the words asserted.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::ClientOptions;
using ::appwire::testing::RunOpenSslClient;
using ::appwire::testing::LogCapture;
using ::appwire::testing::StartServer;
using ::appwire::testing::StartServerIn;
using ::appwire::testing::TempDir;
using ::appwire::testing::TestCa;
using ::testing::HasSubstr;

TEST(TlsFailureTest, PlaintextClientIsRefusedAndTheServerKeepsServing) {
  LogCapture log;
  TempDir project;
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);

  int fd = testing::ConnectTcp(server->port(), /*receive_timeout_seconds=*/5);
  ASSERT_GE(fd, 0);
  const char request[] = "GET / HTTP/1.0\r\n\r\n";
  ASSERT_GT(::send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL), 0);
  // The server answers with at most a TLS alert, then closes.
  char buffer[256];
  ssize_t total = 0;
  for (int i = 0; i < 10; ++i) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      EXPECT_EQ(n, 0) << "expected an orderly close, not a timeout";
      break;
    }
    total += n;
    EXPECT_NE(buffer[0], 'H') << "the server must never answer in plaintext";
  }
  EXPECT_LT(total, 16);
  ::close(fd);
  EXPECT_TRUE(log.WaitFor("the client did not start a TLS handshake (first bytes: "
                              "\"GET / HTTP/1.0..\"); is it a plaintext client?"))
      << log.All();

  auto channel = Channel::Connect(ClientOptions(*server, project.File("cert.pem")));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());
}

TEST(TlsFailureTest, ClientThatTrustsAnotherCaFailsUnauthenticated) {
  TempDir project;
  TestCa server_ca = TestCa::Create("Server CA");
  server_ca.IssueServerPair(project, "localhost", {"localhost"}, {"127.0.0.1"});
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);

  TempDir client;
  TestCa other_ca = TestCa::Create("Other CA");
  client.Write("ca.pem", other_ca.cert_pem);
  auto channel = Channel::Connect(ClientOptions(*server, client.File("ca.pem")));
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(channel.status().message()),
              HasSubstr("TLS handshake with 127.0.0.1:"));
  EXPECT_THAT(std::string(channel.status().message()),
              HasSubstr("certificate verify failed: the server's certificate 'CN=localhost' "
                        "(issued by 'O=appwire tests, CN=Server CA'"));
  EXPECT_THAT(std::string(channel.status().message()),
              HasSubstr("is not signed by a CA this client trusts; add the server's CA to the "
                        "trusted CA file"));

  // The same client with the right CA gets in: the test can tell the two apart.
  client.Write("ca.pem", server_ca.cert_pem);
  auto good = Channel::Connect(ClientOptions(*server, client.File("ca.pem")));
  ASSERT_TRUE(good.ok()) << good.status();
}

TEST(TlsFailureTest, HostNameMismatchFailsNamingBothNames) {
  TempDir project;
  TestCa ca = TestCa::Create("Test CA");
  ca.IssueServerPair(project, "db.example.com", {"db.example.com"}, {});
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);
  project.Write("ca.pem", ca.cert_pem);

  ChannelOptions client = ClientOptions(*server, project.File("ca.pem"));
  client.server_name = "localhost";
  auto channel = Channel::Connect(client);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(channel.status().message()),
              HasSubstr("certificate verify failed: hostname mismatch: server certificate is "
                        "for 'db.example.com', connected as 'localhost'"));

  client.server_name = "db.example.com";
  auto good = Channel::Connect(client);
  EXPECT_TRUE(good.ok()) << good.status();
}

TEST(TlsFailureTest, Tls12OnlyClientIsRefusedWhenTheMinimumIs13) {
  LogCapture log;
  TempDir project;
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);

  ChannelOptions client = ClientOptions(*server, project.File("cert.pem"));
  ASSERT_TRUE(client.parameters.Set(Parameter::kMinTlsVersion, kTLSv1_2).ok());
  ASSERT_TRUE(client.parameters.Set(Parameter::kMaxTlsVersion, kTLSv1_2).ok());
  auto channel = Channel::Connect(client);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(channel.status().message()),
              HasSubstr("the server refused the TLS version: this client allows TLSv1.2 to "
                        "TLSv1.2; the server requires another version"));
  EXPECT_TRUE(log.WaitFor("no TLS version in common: this server allows TLSv1.3 to TLSv1.3"))
      << log.All();

  // The same running server accepts the same client once its minimum is
  // lowered, without a restart (4D would need one).
  ASSERT_TRUE(server->SetParameter(Parameter::kMinTlsVersion, kTLSv1_2).ok());
  auto good = Channel::Connect(client);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ((*good)->session_info().version, "TLSv1.2");
  EXPECT_TRUE((*good)->CallRaw("appwire.v1.Health/Check", "").ok());
}

TEST(TlsFailureTest, PinnedFingerprintTrustsASelfSignedServerAndAMismatchIsRefused) {
  TempDir project;
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);

  ChannelOptions client = ClientOptions(*server, "");
  client.pinned_sha256 = server->certificate().sha256_fingerprint;
  auto pinned = Channel::Connect(client);
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_TRUE((*pinned)->CallRaw("appwire.v1.Health/Check", "").ok());

  std::string wrong = "SHA256:";
  for (int i = 0; i < 32; ++i) absl::StrAppend(&wrong, i ? ":" : "", "AA");
  client.pinned_sha256 = wrong;
  auto refused = Channel::Connect(client);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr(absl::StrCat("the server's certificate does not match the pinned "
                                     "fingerprint: expected ", wrong,
                                     ", the server presented ",
                                     server->certificate().sha256_fingerprint)));
}

TEST(TlsFailureTest, MissingCaFileIsNamed) {
  TempDir project;
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(ClientOptions(*server, project.File("no-such-ca.pem")));
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(channel.status().message(),
            absl::StrCat("cannot load the CA file: read \"", project.File("no-such-ca.pem"),
                         "\": No such file or directory; put the server's CA (for a "
                         "self-signed server, its cert.pem) there"));
}

// openssl s_client is an independent TLS peer: it shows what the server
// really offers and refuses, without our client's code in the way.
TEST(TlsFailureTest, OpenSslSeesTls13WithAlpnAndClientsWithoutItAreRefused) {
  LogCapture log;
  TempDir project;
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);
  const std::string connect = absl::StrCat("-connect 127.0.0.1:", server->port(),
                                           " -servername localhost -CAfile ",
                                           project.File("cert.pem"));

  std::string with_alpn = RunOpenSslClient(connect + " -alpn appwire/1");
  EXPECT_THAT(with_alpn, HasSubstr("New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256"));
  EXPECT_THAT(with_alpn, HasSubstr("ALPN protocol: appwire/1"));
  EXPECT_THAT(with_alpn, HasSubstr("Verify return code: 0 (ok)"));

  std::string other_alpn = RunOpenSslClient(connect + " -alpn h2");
  EXPECT_THAT(other_alpn, HasSubstr("no application protocol"));

  std::string no_alpn = RunOpenSslClient(connect);
  EXPECT_TRUE(log.WaitFor("the client did not negotiate ALPN \"appwire/1\"; it is not an "
                              "appwire client"))
      << log.All();

  std::string tls12 = RunOpenSslClient(connect + " -tls1_2 -alpn appwire/1");
  EXPECT_THAT(tls12, HasSubstr("alert protocol version"));
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

// A load balancer's health checks (TCP connect and close; a TLS handshake
// without the ALPN) every few seconds are counted, and only the first of
// each kind is logged (before, each was a warning).
TEST(TlsFailureTest, HealthChecksAreCountedAndLoggedOncePerKind) {
  LogCapture log;
  TempDir project;
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);
  for (int i = 0; i < 3; ++i) {
    const int fd = testing::ConnectTcp(server->port(), /*receive_timeout_seconds=*/5);
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  const std::string connect = absl::StrCat("-connect 127.0.0.1:", server->port(),
                                           " -servername localhost -CAfile ",
                                           project.File("cert.pem"));
  for (int i = 0; i < 2; ++i) RunOpenSslClient(connect);  // no -alpn
  ASSERT_TRUE(testing::WaitUntil([&] { return server->stats().probes == 5; }, absl::Seconds(10)))
      << server->stats().probes << "\n" << log.All();
  EXPECT_EQ(server->stats().handshakes_failed, 0u);
  const std::string all = log.All();
  auto count = [&](const std::string& text) {
    size_t n = 0;
    for (size_t at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) ++n;
    return n;
  };
  const std::string counted =
      "; connections like this one (health checks, scanners) are counted in the server's stats "
      "from now on, not logged";
  EXPECT_EQ(count(" did not begin: the peer closed the connection without sending anything (a "
                  "TCP health check or a port scan)" + counted),
            1u)
      << all;
  EXPECT_EQ(count("did not begin"), 1u) << all;
  EXPECT_EQ(count("the client did not negotiate ALPN \"appwire/1\"; it is not an appwire client "
                  "(or an old one)" + counted),
            1u)
      << all;
  EXPECT_EQ(count("did not negotiate ALPN"), 1u) << all;
  EXPECT_EQ(count(" W "), 0u) << all;  // no warning
  // A client that sends something and then gives up is still a failure.
  const int fd = testing::ConnectTcp(server->port(), /*receive_timeout_seconds=*/5);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::send(fd, "\x16\x03\x01", 3, 0), 3);
  ::close(fd);
  ASSERT_TRUE(testing::WaitUntil([&] { return server->stats().handshakes_failed == 1; },
                                 absl::Seconds(10)));
  EXPECT_EQ(server->stats().probes, 5u);
}

TEST(TlsFailureTest, SilentClientIsDisconnectedAfterTheHandshakeTimeout) {
  LogCapture log;
  TempDir project;
  ServerOptions options;
  options.project_dir = project.path();
  ASSERT_TRUE(options.parameters.Set(Parameter::kHandshakeTimeout, 200).ok());
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);

  int fd = testing::ConnectTcp(server->port(), /*receive_timeout_seconds=*/10);
  ASSERT_GE(fd, 0);
  // Send nothing; the server gives up and closes (recv sees EOF, not our
  // 10 s receive timeout).
  char byte;
  EXPECT_EQ(::recv(fd, &byte, 1, 0), 0);
  ::close(fd);
  EXPECT_TRUE(log.WaitFor("did not complete within 200ms (handshake timeout)")) << log.All();
}

TEST(TlsFailureTest, SystemTrustStoreDoesNotTrustASelfSignedServer) {
  TempDir project;
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);
  ChannelOptions client = ClientOptions(*server, "");
  client.use_system_trust_store = true;
  auto channel = Channel::Connect(client);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(channel.status().message()),
              HasSubstr("is not signed by a CA this client trusts"));
}

}  // namespace
}  // namespace appwire
