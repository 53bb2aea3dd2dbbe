// TLS configuration the way 4D users know it, with real handshakes: database
// parameters changed on a running server, cipher lists, the settings file.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include "appwire/server/settings_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::ClientOptions;
using ::appwire::testing::DhParams;
using ::appwire::testing::Ffdhe2048Pem;
using ::appwire::testing::ScopedDhParamsGenerator;
using ::appwire::testing::RunOpenSslClient;
using ::appwire::testing::StartServer;
using ::appwire::testing::StartServerIn;
using ::appwire::testing::TempDir;
using ::testing::HasSubstr;

class TlsConfigurationTest : public ::testing::Test {
 protected:
  void TearDown() override { ResetDatabaseParameters(); }

  ChannelOptions Tls12Client(const Server& server, const TempDir& project) {
    ChannelOptions client = ClientOptions(server, project.File("cert.pem"));
    EXPECT_TRUE(client.parameters.Set(Parameter::kMinTlsVersion, kTLSv1_2).ok());
    EXPECT_TRUE(client.parameters.Set(Parameter::kMaxTlsVersion, kTLSv1_2).ok());
    return client;
  }
};

TEST_F(TlsConfigurationTest, ProcessWideMinimumChangeReachesARunningServerWithoutRestart) {
  TempDir project;
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);
  ChannelOptions client = Tls12Client(*server, project);
  auto refused = Channel::Connect(client);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);

  auto open_before = Channel::Connect(ClientOptions(*server, project.File("cert.pem")));
  ASSERT_TRUE(open_before.ok());

  ASSERT_TRUE(SetDatabaseParameter(Parameter::kMinTlsVersion, kTLSv1_2).ok());
  EXPECT_EQ(GetDatabaseParameter(Parameter::kMinTlsVersion).AsInt(), kTLSv1_2);
  auto accepted = Channel::Connect(client);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ((*accepted)->session_info().version, "TLSv1.2");
  EXPECT_EQ((*accepted)->session_info().cipher, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  // The connection opened before keeps what it negotiated, and still works.
  EXPECT_EQ((*open_before)->session_info().version, "TLSv1.3");
  EXPECT_TRUE((*open_before)->CallRaw("appwire.v1.Health/Check", "").ok());
  EXPECT_EQ(server->tls_settings().min_version, TlsVersion::k1_2);
}

TEST_F(TlsConfigurationTest, CipherListSelector64ChoosesTheTls12Suites) {
  TempDir project;
  ServerOptions options;
  options.project_dir = project.path();
  ASSERT_TRUE(options.parameters.Set(Parameter::kMinTlsVersion, kTLSv1_2).ok());
  absl::Status set =
      options.parameters.Set(Parameter::kSslCipherList, "ECDHE-ECDSA-AES256-GCM-SHA384");
  ASSERT_TRUE(set.ok()) << set;
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  const std::string connect = absl::StrCat("-connect 127.0.0.1:", server->port(),
                                           " -servername localhost -alpn appwire/1 -CAfile ",
                                           project.File("cert.pem"));
  // openssl as an independent client: the listed suite is offered ...
  EXPECT_THAT(RunOpenSslClient(connect + " -tls1_2"),
              HasSubstr("Cipher is ECDHE-ECDSA-AES256-GCM-SHA384"));
  // ... and one outside the list is not.
  EXPECT_THAT(RunOpenSslClient(connect + " -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256"),
              HasSubstr("handshake failure"));
  // TLS 1.3 is unaffected by selector 64.
  EXPECT_THAT(RunOpenSslClient(connect), HasSubstr("New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256"));

  // "" restores the default list.
  ASSERT_TRUE(server->SetParameter(Parameter::kSslCipherList, "").ok());
  EXPECT_THAT(RunOpenSslClient(connect + " -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256"),
              HasSubstr("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256"));
}

TEST_F(TlsConfigurationTest, CipherListWithoutForwardSecrecyIsRefusedUnlessAllowed) {
  absl::Status status = SetDatabaseParameter(Parameter::kSslCipherList, "AES128-GCM-SHA256");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()),
            "kSslCipherList (64): \"AES128-GCM-SHA256\" leaves no forward-secret suite: it "
            "would allow only AES128-GCM-SHA256; add ECDHE or DHE suites, or set "
            "kAllowNonForwardSecret (1008) to 1 if you really mean it");
  EXPECT_EQ(GetDatabaseParameter(Parameter::kSslCipherList).AsString(), "");
  EXPECT_EQ(SetDatabaseParameter(Parameter::kSslCipherList, "NO-SUCH-CIPHER").message(),
            "kSslCipherList (64): \"NO-SUCH-CIPHER\" names NO-SUCH-CIPHER, which this build "
            "does not support as TLS 1.2 cipher suites; use OpenSSL names such as "
            "ECDHE-ECDSA-AES128-GCM-SHA256 or ECDHE-RSA-AES256-GCM-SHA384, or \"\" for the "
            "default");
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kAllowNonForwardSecret, 1).ok());
  EXPECT_TRUE(SetDatabaseParameter(Parameter::kSslCipherList, "AES128-GCM-SHA256").ok());
}

TEST_F(TlsConfigurationTest, Tls13SuiteChoiceIsNegotiated) {
  TempDir project;
  ServerOptions options;
  options.project_dir = project.path();
  ASSERT_TRUE(options.parameters.Set(Parameter::kTls13CipherSuites, "TLS_AES_256_GCM_SHA384").ok());
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(ClientOptions(*server, project.File("cert.pem")));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ((*channel)->session_info().cipher, "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(SetDatabaseParameter(Parameter::kTls13CipherSuites, "TLS_NOPE").code(),
            absl::StatusCode::kInvalidArgument);
  // A TLS 1.2 suite is not a TLS 1.3 suite.
  EXPECT_EQ(SetDatabaseParameter(Parameter::kTls13CipherSuites,
                                 "TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256")
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TlsConfigurationTest, SettingsFileAndItsErrorsNameTheFileAndLine) {
  TempDir project;
  project.Write("appwire.conf",
                "# comment\nport = 0\rbind = 127.0.0.1\nmin_tls = 1.2\r\nmax_message_bytes = 2048\n");
  ServerOptions options;
  options.project_dir = project.path();
  ASSERT_TRUE(ApplySettingsFile(project.File("appwire.conf"), &options).ok());
  EXPECT_EQ(options.port, 0);
  EXPECT_EQ(options.parameters.Get(Parameter::kMinTlsVersion).AsInt(), kTLSv1_2);
  EXPECT_EQ(options.parameters.Get(Parameter::kMaxMessageSize).AsInt(), 2048);

  project.Write("appwire.conf", "port = 0\r\nmin_tls = 1.1\r\n");  // CRLF counts one line
  ServerOptions refused;
  absl::Status status = ApplySettingsFile(project.File("appwire.conf"), &refused);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            absl::StrCat("\"", project.File("appwire.conf"),
                         "\" line 2: kMinTlsVersion (105): 2 is not allowed; TLS 1.1 is "
                         "obsolete and insecure, and appwire does not offer it; use kTLSv1_2 (3) "
                         "or kTLSv1_3 (4)"));
  project.Write("appwire.conf", "prot = 1\n");
  EXPECT_THAT(std::string(ApplySettingsFile(project.File("appwire.conf"), &refused).message()),
              HasSubstr("line 1: unknown setting \"prot\"; known settings: bind, port, min_tls"));
}

TEST_F(TlsConfigurationTest, BindsToIpv6Loopback) {
  TempDir project;
  ServerOptions options;
  options.project_dir = project.path();
  options.port = 0;
  auto created = Server::Create(options, nullptr);
  ASSERT_TRUE(created.ok());
  // StartServer forces 127.0.0.1; this one binds ::1 itself.
  ServerOptions v6 = options;
  v6.bind_address = "::1";
  auto server = Server::Create(v6, nullptr);
  ASSERT_TRUE(server.ok());
  absl::Status started = (*server)->Start();
  if (!started.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << started;
  EXPECT_EQ((*server)->listen_address(), absl::StrCat("[::1]:", (*server)->port()));
  ChannelOptions client;
  client.target = absl::StrCat("[::1]:", (*server)->port());
  client.ca_file = project.File("cert.pem");
  auto channel = Channel::Connect(client);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

using ::appwire::testing::LogCapture;
using ::appwire::testing::TestCa;

bool WaitForFile(const std::string& path) {
  for (int i = 0; i < 3000 && !FileExists(path); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return FileExists(path);
}

// The server's part: a background generation whose result is written,
// loaded and offered. The generator here returns a known safe-prime group at
// once; the real one is tested in appwire/transport/dh_params_test.cc and through
// `appwire dhparams` (appwire_cli_test).
TEST(DhParamsTest, GeneratedOnFirstStartThenDheSuitesWorkAndTheFileIsReused) {
  LogCapture log;
  int generated_bits = 0;
  ScopedDhParamsGenerator generator([&generated_bits](const SafePrimeGeneration& generation) {
    generated_bits = generation.bits;
    return absl::StatusOr<std::string>(Ffdhe2048Pem());
  });
  TempDir project;
  TestCa ca = TestCa::Create("Test CA");
  ca.IssueServerPair(project, "localhost", {"localhost"}, {"127.0.0.1"}, /*rsa_bits=*/2048);
  project.Write("ca.pem", ca.cert_pem);
  ServerOptions options;
  options.project_dir = project.path();
  ASSERT_TRUE(options.parameters.Set(Parameter::kMinTlsVersion, kTLSv1_2).ok());
  auto server = StartServer(options, nullptr, DhParams::kAsIs);
  ASSERT_NE(server, nullptr);
  // TLS 1.3 is served at once, whatever the DH parameters are doing.
  auto tls13 = Channel::Connect(ClientOptions(*server, project.File("ca.pem")));
  ASSERT_TRUE(tls13.ok()) << tls13.status();

  ASSERT_TRUE(WaitForFile(project.File("dhparams.pem")));
  ASSERT_TRUE(log.WaitFor("DH parameters ready in ")) << log.All();
  EXPECT_EQ(generated_bits, 2048);
  EXPECT_TRUE(log.Contains(absl::StrCat(
      "generating 2048-bit DH parameters into ", project.File("dhparams.pem"),
      " for TLS 1.2 DHE suites (a safe prime: this could take several minutes); TLS 1.3 is "
      "served meanwhile")))
      << log.All();
  EXPECT_TRUE(log.Contains("TLS 1.2 DHE suites are offered from now on")) << log.All();
  absl::StatusOr<std::string> dh = ReadFile(project.File("dhparams.pem"));
  ASSERT_TRUE(dh.ok());
  EXPECT_EQ(*dh, Ffdhe2048Pem());

  // A DHE-only TLS 1.2 client.
  const std::string connect = absl::StrCat("-connect 127.0.0.1:", server->port(),
                                           " -servername localhost -alpn appwire/1 -CAfile ",
                                           project.File("ca.pem"));
  EXPECT_THAT(RunOpenSslClient(connect + " -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256"),
              HasSubstr("Cipher is DHE-RSA-AES128-GCM-SHA256"));

  // The next start reuses the file as it is.
  server->Drain(absl::ZeroDuration());
  generated_bits = 0;
  auto again = StartServer(options, nullptr, DhParams::kAsIs);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(*ReadFile(project.File("dhparams.pem")), *dh);
  EXPECT_EQ(generated_bits, 0);
}

ServerOptions InProject(const TempDir& project) {
  ServerOptions options;
  options.project_dir = project.path();
  return options;
}

// A generator that runs until cancelled (30 s at most, a hang guard), and
// records what the server gave it and at which priority it ran.
struct BlockingGenerator {
  std::atomic<bool> cancelled{false};
  std::atomic<bool> got_cancel_flag{false};
  std::atomic<int> nice{-100};
  absl::StatusOr<std::string> operator()(const SafePrimeGeneration& generation) {
    errno = 0;
    nice = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
    got_cancel_flag = generation.cancel != nullptr;
    const absl::Time end = absl::Now() + absl::Seconds(30);
    while (absl::Now() < end) {
      if (generation.cancel != nullptr && generation.cancel->load()) {
        cancelled = true;
        return absl::CancelledError("cancelled");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return absl::DeadlineExceededError("never cancelled");
  }
};

// Drain on another thread: true when it returned within `bound` (a hang
// guard, not a speed assertion).
bool DrainReturnsWithin(Server* server, absl::Duration bound) {
  std::future<void> drained = std::async(std::launch::async, [server] {
    server->Drain(absl::ZeroDuration());
  });
  const bool returned =
      drained.wait_for(absl::ToChronoMilliseconds(bound)) == std::future_status::ready;
  drained.wait();
  return returned;
}

TEST(DhParamsTest, StopCancelsTheGenerationAtOnceAndWritesNoFile) {
  LogCapture log;
  BlockingGenerator blocking;
  ScopedDhParamsGenerator generator(
      [&blocking](const SafePrimeGeneration& generation) { return blocking(generation); });
  TempDir project;
  auto server = StartServer(InProject(project), nullptr, DhParams::kAsIs);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(log.WaitFor("generating 2048-bit DH parameters")) << log.All();
  // Drain joins the generation thread, so its return means the thread ended.
  EXPECT_TRUE(DrainReturnsWithin(server.get(), absl::Seconds(10)));
  EXPECT_TRUE(blocking.got_cancel_flag);
  EXPECT_TRUE(blocking.cancelled);
  EXPECT_TRUE(log.Contains(absl::StrCat("DH parameter generation stopped: the server is "
                                        "stopping; ", project.File("dhparams.pem"),
                                        " is generated at the next start")))
      << log.All();
  EXPECT_FALSE(FileExists(project.File("dhparams.pem")));
  EXPECT_FALSE(log.Contains("DH parameters not generated")) << log.All();
}

TEST(DhParamsTest, GenerationRunsAtTheLowestPriority) {
  const int ours = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
  LogCapture log;
  BlockingGenerator blocking;
  ScopedDhParamsGenerator generator(
      [&blocking](const SafePrimeGeneration& generation) { return blocking(generation); });
  TempDir project;
  auto server = StartServer(InProject(project), nullptr, DhParams::kAsIs);
  ASSERT_NE(server, nullptr);
  for (int i = 0; i < 1000 && blocking.nice == -100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(blocking.nice, 19);
  // The rest of the process keeps its priority (whatever `nice` it runs under).
  EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid))), ours);
}

// The real generator inside a real server: Stop does not wait for it.
TEST(DhParamsTest, StopCancelsARealGeneration) {
  LogCapture log;
  TempDir project;
  auto server = StartServer(InProject(project), nullptr, DhParams::kAsIs);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(log.WaitFor("generating 2048-bit DH parameters")) << log.All();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(DrainReturnsWithin(server.get(), absl::Seconds(10)));
  if (log.Contains("DH parameters ready in")) {
    GTEST_SKIP() << "a safe prime turned up within 200 ms (a lucky draw): nothing to cancel";
  }
  EXPECT_TRUE(log.Contains("DH parameter generation stopped: the server is stopping"))
      << log.All();
  EXPECT_FALSE(FileExists(project.File("dhparams.pem")));
}

TEST(DhParamsTest, ABadFileIsAnErrorNeverSilentlyReplaced) {
  TempDir project;
  project.Write("dhparams.pem", "not parameters\n");
  ServerOptions options;
  options.project_dir = project.path();
  options.port = 0;
  auto server = Server::Create(options, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(),
            absl::StrCat("\"", project.File("dhparams.pem"),
                         "\" holds no PEM \"DH PARAMETERS\" block; delete it to have "
                         "appwire-server generate new parameters, or replace it with: appwire "
                         "dhparams --force --out ", project.File("dhparams.pem"),
                         " (or: openssl dhparam -out ", project.File("dhparams.pem"),
                         " 2048)"));
  EXPECT_EQ(*ReadFile(project.File("dhparams.pem")), "not parameters\n");

  // 1024-bit parameters, made by openssl: too small.
  ASSERT_EQ(std::system(absl::StrCat("openssl dhparam -out ", project.File("dhparams.pem"),
                                     " 1024 2>/dev/null").c_str()),
            0);
  server = Server::Create(options, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()),
              HasSubstr("holds 1024-bit DH parameters; at least 2048 bits are needed"));
}

TEST(CertificateTest, RsaServerCertificateWorks) {
  TempDir project;
  TestCa ca = TestCa::Create("Test CA");
  ca.IssueServerPair(project, "localhost", {"localhost"}, {"127.0.0.1"}, /*rsa_bits=*/2048);
  project.Write("ca.pem", ca.cert_pem);
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(ClientOptions(*server, project.File("ca.pem")));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

TEST(IdleTimeoutTest, IdleConnectionIsClosedWithAReasonAndBusyOnesAreNot) {
  TempDir project;
  auto registry = std::make_shared<ServiceRegistry>();
  ASSERT_TRUE(registry
                  ->RegisterRaw("test.Slow/Wait",
                                [](CallContext&, absl::string_view) -> absl::StatusOr<std::string> {
                                  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
                                  return std::string("done");
                                })
                  .ok());
  ServerOptions options;
  options.project_dir = project.path();
  ASSERT_TRUE(options.parameters.Set(Parameter::kIdleConnectionsTimeout, 1).ok());
  auto server = StartServer(options, registry);
  ASSERT_NE(server, nullptr);
  auto idle = Channel::Connect(ClientOptions(*server, project.File("cert.pem")));
  auto busy = Channel::Connect(ClientOptions(*server, project.File("cert.pem")));
  ASSERT_TRUE(idle.ok() && busy.ok());
  // The busy connection's only call runs longer than the idle timeout.
  absl::StatusOr<std::string> reply = (*busy)->CallRaw("test.Slow/Wait", "");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ((*busy)->connections_made(), 1);
  for (int i = 0; i < 400 && (*idle)->state() != ChannelState::kIdle; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ((*idle)->state(), ChannelState::kIdle);
  // The next call reopens the connection transparently.
  auto after = (*idle)->CallRaw("appwire.v1.Health/Check", "");
  EXPECT_TRUE(after.ok()) << after.status();
  EXPECT_EQ((*idle)->connections_made(), 2);
  EXPECT_TRUE((*idle)->session_info().resumed);
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

TEST(ClientParametersTest, ProcessWideChangeReachesChannelsOpenedAfterIt) {
  TempDir project;
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);
  auto before = Channel::Connect(ClientOptions(*server, project.File("cert.pem")));
  ASSERT_TRUE(before.ok());
  EXPECT_EQ((*before)->session_info().cipher, "TLS_AES_128_GCM_SHA256");
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kTls13CipherSuites, "TLS_CHACHA20_POLY1305_SHA256").ok());
  auto after = Channel::Connect(ClientOptions(*server, project.File("cert.pem")));
  ResetDatabaseParameters();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ((*after)->session_info().cipher, "TLS_CHACHA20_POLY1305_SHA256");
  EXPECT_EQ((*before)->session_info().cipher, "TLS_AES_128_GCM_SHA256");
}

}  // namespace
}  // namespace appwire
