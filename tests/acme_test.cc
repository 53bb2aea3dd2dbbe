// AutoSSL against a real ACME server: Pebble (Let's Encrypt's test CA) with
// pebble-challtestsrv as its DNS, started here on loopback. Pebble's
// validation authority connects to the appwire-server under test for
// TLS-ALPN-01, so every issuance below is the whole RFC 8555 exchange with
// the challenge answered on the server's own port.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "appwire/client/channel.h"
#include "appwire/common/files.h"
#include "appwire/server/server.h"
#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/certificate_info.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/pebble_ca.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::FreeTcpPort;
using ::appwire::testing::LogCapture;
using ::appwire::testing::PebbleCa;
using ::appwire::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kIssuance = absl::Seconds(60);

class AcmeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PebbleCa::available()) {
      GTEST_SKIP() << "pebble is not installed (scripts/install-deps.sh installs it)";
    }
    port_ = FreeTcpPort();
  }

  // Starts Pebble validating on port_ (and http_port_), with `environment` added.
  void StartPebble(std::map<std::string, std::string> environment = {},
                   std::map<std::string, std::string> eab_keys = {}) {
    pebble_ = std::make_unique<PebbleCa>(
        PebbleCa::Options{port_, http_port_, std::move(environment), std::move(eab_keys)});
    ASSERT_TRUE(pebble_->started()) << pebble_->Log();
  }

  ServerOptions Options() const {
    ServerOptions options;
    options.project_dir = project_.path();
    options.port = port_;
    options.acme.directory = pebble_ != nullptr ? pebble_->directory_url()
                                                : "https://127.0.0.1:1/dir";
    options.acme.ca_file = pebble_ != nullptr ? pebble_->https_ca_file() : "";
    options.acme.retry_backoff = absl::Seconds(1);
    return options;
  }

  // Options() managing shop.appwire.test.
  ServerOptions ManagedOptions() const {
    ServerOptions options = Options();
    options.acme.domains = {"shop.appwire.test"};
    return options;
  }

  // The certificate a client asking for `name` gets (its leaf), or the
  // error; trusting both Pebble's issuing root and the base cert.pem.
  absl::StatusOr<CertificateInfo> SeenAs(const std::string& name) {
    if (trust_file_.empty()) {
      const std::string root = pebble_->IssuingRootFile();
      trust_file_ = project_.File("trusted.pem");
      project_.Write("trusted.pem",
                     absl::StrCat(testing::ReadText(root), testing::ReadText(project_.File("cert.pem"))));
    }
    ChannelOptions client;
    client.target = absl::StrCat("127.0.0.1:", port_);
    client.server_name = name;
    client.ca_file = trust_file_;
    client.connect_timeout = absl::Seconds(10);
    auto channel = Channel::Connect(client);
    if (!channel.ok()) return channel.status();
    CallOptions call;
    call.timeout = absl::Seconds(5);
    absl::StatusOr<std::string> health = (*channel)->CallRaw("appwire.v1.Health/Check", "", call);
    if (!health.ok()) return health.status();
    return *(*channel)->session_info().peer_certificate;
  }

  std::string CertificateFile(const std::string& name) const {
    return project_.File(absl::StrCat("certificates/", name, ".crt"));
  }

  TempDir project_;
  int port_ = 0;
  int http_port_ = FreeTcpPort();
  std::unique_ptr<PebbleCa> pebble_;
  std::string trust_file_;
};

// StartServer, but on the port Pebble validates (StartServer picks one).
std::unique_ptr<Server> StartServer(ServerOptions options) {
  const std::string dh_path = JoinPath(options.project_dir, "dhparams.pem");
  if (!FileExists(dh_path)) {
    EXPECT_TRUE(WriteFileAtomically(dh_path, testing::Ffdhe2048Pem(), 0644).ok());
  }
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(std::move(options), nullptr);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  absl::Status started = (*server)->Start();
  EXPECT_TRUE(started.ok()) << started;
  return started.ok() ? *std::move(server) : nullptr;
}

// How many times `text` occurs in `all`.
size_t Occurrences(const std::string& all, const std::string& text) {
  size_t count = 0;
  for (size_t at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) ++count;
  return count;
}

unsigned Mode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 0777) : 0;
}

TEST_F(AcmeTest, ManagedNameIsIssuedAtStartAndServedByName) {
  StartPebble();
  LogCapture logs;
  ServerOptions options = ManagedOptions();
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(logs.WaitFor("acme: certificate saved: ", kIssuance)) << logs.All() << pebble_->Log();
  // Each step, in order, as NetTalk logs it.
  const std::string all = logs.All();
  std::vector<std::string> steps = {"ordering a certificate (no certificate yet)",
                                    "account created: ",
                                    "order created for shop.appwire.test",
                                    "shop.appwire.test: tls-alpn-01 challenge ready",
                                    "shop.appwire.test: the CA is validating",
                                    "shop.appwire.test: valid",
                                    "certificate for shop.appwire.test issued",
                                    "certificate saved: ", ", expires "};
  size_t at = 0;
  for (const std::string& step : steps) {
    const size_t found = all.find(step, at);
    ASSERT_NE(found, std::string::npos) << "missing, or out of order: " << step << "\n" << all;
    at = found;
  }
  // Logged by the I/O thread, as soon as the CA connects: after the
  // challenge was made ready, maybe before "validating" is.
  const size_t answered =
      all.find("answered the CA's TLS-ALPN-01 validation for shop.appwire.test from 127.0.0.1:");
  ASSERT_NE(answered, std::string::npos) << all;
  EXPECT_GT(answered, all.find("tls-alpn-01 challenge ready")) << all;

  // A client that trusts Pebble's root connects by name and verifies.
  absl::StatusOr<CertificateInfo> seen = SeenAs("shop.appwire.test");
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_THAT(seen->dns_names, ::testing::ElementsAre("shop.appwire.test"));
  EXPECT_THAT(seen->issuer, HasSubstr("Pebble"));
  // Other names, and no name, get the base certificate.
  absl::StatusOr<CertificateInfo> base = SeenAs("localhost");
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_EQ(base->sha256_fingerprint, server->certificate().sha256_fingerprint);

  EXPECT_EQ(Mode(project_.File("certificates/shop.appwire.test.key")), 0600u);
  EXPECT_EQ(Mode(project_.File("acme/account.key")), 0600u);
  // Staged as *.new, then put in place: nothing staged is left.
  EXPECT_FALSE(FileExists(project_.File("certificates/shop.appwire.test.key.new")));
  EXPECT_FALSE(FileExists(project_.File("certificates/shop.appwire.test.crt.new")));
  EXPECT_THAT(testing::ReadText(CertificateFile("shop.appwire.test")),
              HasSubstr("-----BEGIN CERTIFICATE-----"));
}

TEST_F(AcmeTest, Http01IsAnsweredOnTheConfiguredPlainPort) {
  StartPebble();
  LogCapture logs;
  ServerOptions options = ManagedOptions();
  options.acme.http_port = http_port_;
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(logs.WaitFor("acme: certificate saved: ", kIssuance)) << logs.All() << pebble_->Log();
  EXPECT_THAT(logs.All(), HasSubstr("shop.appwire.test: http-01 challenge ready"));
  EXPECT_THAT(logs.All(), HasSubstr("answered the CA's HTTP-01 validation "
                                    "(/.well-known/acme-challenge/"));
  EXPECT_THAT(logs.All(), Not(HasSubstr("TLS-ALPN-01 validation")));
  absl::StatusOr<CertificateInfo> seen = SeenAs("shop.appwire.test");
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_THAT(seen->issuer, HasSubstr("Pebble"));
  // Anything else on that port is a 404 that says what the port is for.
  testing::ShellRun other = testing::RunShell(
      absl::StrCat("curl -s -i http://127.0.0.1:", http_port_, "/.well-known/acme-challenge/nope"));
  EXPECT_THAT(other.output, HasSubstr("404 Not Found"));
  EXPECT_THAT(other.output, HasSubstr("this port answers ACME HTTP-01 challenges only"));
  // Drained, the server lets go of that port too.
  server->Drain(absl::ZeroDuration());
  EXPECT_NE(testing::RunShell(absl::StrCat("curl -s --max-time 2 http://127.0.0.1:", http_port_,
                                           "/.well-known/acme-challenge/nope"))
                .exit_code,
            0);
}

TEST_F(AcmeTest, NamesWithoutADotOrEndingInLocalGetASelfSignedCertificate) {
  LogCapture logs;
  ServerOptions options = Options();  // no CA at all: none is asked
  options.acme.domains = {"pos-terminal", "Shop.Local"};
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return FileExists(CertificateFile("pos-terminal")) &&
                   FileExists(CertificateFile("shop.local")); },
      absl::Seconds(20)))
      << logs.All();
  ASSERT_TRUE(logs.WaitFor("acme: certificate saved: " + CertificateFile("shop.local"))) << logs.All();
  EXPECT_THAT(logs.All(), HasSubstr("pos-terminal: a name without a dot or ending in .local gets "
                                    "a self-signed certificate"));
  EXPECT_THAT(logs.All(), Not(HasSubstr("ACME directory")));
  EXPECT_FALSE(FileExists(project_.File("acme/account.key")));
  EXPECT_EQ(Mode(project_.File("certificates/pos-terminal.key")), 0600u);
  // A client that trusts that certificate (as a LAN client pins it) verifies by name.
  trust_file_ = CertificateFile("shop.local");
  absl::StatusOr<CertificateInfo> seen = SeenAs("shop.local");
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_THAT(seen->dns_names, ::testing::ElementsAre("shop.local"));
  EXPECT_EQ(seen->issuer, seen->subject);
}

TEST_F(AcmeTest, ExternalAccountBindingWhenTheCaRequiresIt) {
  constexpr char kHmacKey[] = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
  StartPebble({}, {{"kid-1", kHmacKey}});
  {
    // Without the binding: refused before anything is sent, with the fix.
    LogCapture logs;
    ServerOptions options = ManagedOptions();
    auto server = StartServer(options);
    ASSERT_NE(server, nullptr);
    ASSERT_TRUE(logs.WaitFor("could not get a certificate for shop.appwire.test: this ACME CA "
                             "requires external account binding: set acme_eab_key_id and "
                             "acme_eab_hmac_key to the values the CA gave you",
                             kIssuance))
        << logs.All();
  }
  {
    // A wrong HMAC key: the CA's refusal, in its words.
    LogCapture logs;
    ServerOptions options = ManagedOptions();
    options.acme.eab_key_id = "kid-1";
    options.acme.eab_hmac_key = "b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH";
    auto server = StartServer(options);
    ASSERT_NE(server, nullptr);
    ASSERT_TRUE(logs.WaitFor("the ACME server refused the account request (HTTP ", kIssuance))
        << logs.All();
  }
  LogCapture logs;
  ServerOptions options = ManagedOptions();
  options.acme.eab_key_id = "kid-1";
  options.acme.eab_hmac_key = kHmacKey;
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(logs.WaitFor("acme: certificate saved: ", kIssuance)) << logs.All() << pebble_->Log();
  EXPECT_THAT(logs.All(), HasSubstr("account created: "));
}

TEST_F(AcmeTest, CaStoppedBeforeARenewalKeepsTheCertificateServed) {
  StartPebble();
  LogCapture logs;
  ServerOptions options = ManagedOptions();
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(logs.WaitFor("acme: certificate saved: ", kIssuance)) << logs.All();
  absl::StatusOr<CertificateInfo> issued = SeenAs("shop.appwire.test");
  ASSERT_TRUE(issued.ok()) << issued.status();
  server.reset();
  pebble_->Stop();
  // Due now, and the CA is gone: the renewal fails, the certificate on disk
  // keeps being served.
  LogCapture renewal;
  options.acme.renew_before = absl::Hours(24 * 365 * 100);
  server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(renewal.WaitFor("acme: could not get a certificate for shop.appwire.test: ",
                              kIssuance))
      << renewal.All();
  EXPECT_THAT(renewal.All(), HasSubstr("cannot reach the ACME directory: "));
  absl::StatusOr<CertificateInfo> still = SeenAs("shop.appwire.test");
  ASSERT_TRUE(still.ok()) << still.status();
  EXPECT_EQ(still->serial, issued->serial);
}

TEST_F(AcmeTest, RestartWithValidCertificateOnDiskContactsNoCa) {
  StartPebble();
  {
    LogCapture logs;
    ServerOptions options = ManagedOptions();
    auto server = StartServer(options);
    ASSERT_NE(server, nullptr);
    ASSERT_TRUE(logs.WaitFor("acme: certificate saved: ", kIssuance)) << logs.All();
  }
  const std::string issued = testing::ReadText(CertificateFile("shop.appwire.test"));
  absl::StatusOr<CertificateInfo> first = SeenAs("shop.appwire.test");
  ASSERT_FALSE(first.ok());  // no server now
  pebble_->Stop();  // the CA is gone: nothing may need it

  LogCapture logs;
  ServerOptions options = ManagedOptions();
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(logs.WaitFor("shop.appwire.test: certificate on disk valid until ")) << logs.All();
  absl::StatusOr<CertificateInfo> seen = SeenAs("shop.appwire.test");
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_THAT(seen->issuer, HasSubstr("Pebble"));
  EXPECT_THAT(logs.All(), Not(HasSubstr("ordering")));
  EXPECT_THAT(logs.All(), Not(HasSubstr("could not get a certificate")));
  EXPECT_EQ(testing::ReadText(CertificateFile("shop.appwire.test")), issued);
}

TEST_F(AcmeTest, OnDemandFirstHandshakeGetsTheBaseCertificateLaterOnesTheIssuedOne) {
  StartPebble();
  LogCapture logs;
  ServerOptions options = Options();
  options.acme.on_demand = true;
  options.acme.allow = {"*.shop.appwire.test"};
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  // The first handshake is not kept waiting for the CA: it gets cert.pem
  // (which the client, checking the name, refuses).
  absl::StatusOr<CertificateInfo> first = SeenAs("pos-1.shop.appwire.test");
  ASSERT_FALSE(first.ok());
  EXPECT_THAT(first.status().message(), HasSubstr("server certificate is for 'localhost'"));
  ASSERT_TRUE(logs.WaitFor("acme: certificate saved: ", kIssuance)) << logs.All() << pebble_->Log();
  absl::StatusOr<CertificateInfo> later = SeenAs("pos-1.shop.appwire.test");
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_THAT(later->dns_names, ::testing::ElementsAre("pos-1.shop.appwire.test"));
  EXPECT_THAT(later->issuer, HasSubstr("Pebble"));

  // A name outside acme_allow starts nothing.
  absl::StatusOr<CertificateInfo> other = SeenAs("other.appwire.test");
  ASSERT_FALSE(other.ok());
  EXPECT_THAT(other.status().message(), HasSubstr("server certificate is for 'localhost'"));
  absl::SleepFor(absl::Seconds(1));
  EXPECT_THAT(logs.All(), Not(HasSubstr("other.appwire.test")));
  EXPECT_FALSE(FileExists(CertificateFile("other.appwire.test")));
  // Pebble's view: the one order of pos-1, nothing since.
  EXPECT_EQ(Occurrences(pebble_->Log(), "POST /order-plz"), 1u) << pebble_->Log();
}

TEST_F(AcmeTest, OnDemandDecisionFunctionChoosesOffTheHandshakePath) {
  StartPebble();
  LogCapture logs;
  ServerOptions options = Options();
  options.acme.on_demand = true;
  options.acme.on_demand_per_hour = 1;  // refused names must not spend it
  std::atomic<int> asked{0};
  options.acme.allow_name = [&asked](const std::string& name) {
    ++asked;
    return name == "yes.appwire.test";
  };
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(SeenAs(absl::StrCat("no", i, ".appwire.test")).ok());
  EXPECT_FALSE(SeenAs("no.appwire.test").ok());
  ASSERT_TRUE(logs.WaitFor("acme: no.appwire.test: not ordered: the server's decision function "
                           "refused it"))
      << logs.All();
  EXPECT_FALSE(SeenAs("yes.appwire.test").ok());  // the base certificate, meanwhile
  ASSERT_TRUE(logs.WaitFor("acme: certificate saved: " + CertificateFile("yes.appwire.test"),
                           kIssuance))
      << logs.All();
  absl::StatusOr<CertificateInfo> seen = SeenAs("yes.appwire.test");
  ASSERT_TRUE(seen.ok()) << seen.status();
  // A refused name is not asked about again.
  EXPECT_FALSE(SeenAs("no.appwire.test").ok());
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(asked.load(), 7);
  EXPECT_THAT(logs.All(), Not(HasSubstr("on-demand limit reached")));
  EXPECT_EQ(Occurrences(pebble_->Log(), "POST /order-plz"), 1u);
}

TEST_F(AcmeTest, FailedValidationKeepsServingTheBaseCertificateAndSaysWhy) {
  // Pebble validates on a port where nothing listens: as if the name
  // resolved to another machine.
  const int real_port = port_;
  port_ = FreeTcpPort();
  StartPebble();
  port_ = real_port;
  LogCapture logs;
  ServerOptions options = ManagedOptions();
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(logs.WaitFor("acme: could not get a certificate for shop.appwire.test: ", kIssuance))
      << logs.All();
  EXPECT_THAT(logs.All(), HasSubstr("shop.appwire.test: invalid: "));
  EXPECT_THAT(logs.All(),
              HasSubstr("the CA could not validate shop.appwire.test by tls-alpn-01: "));
  EXPECT_THAT(logs.All(), HasSubstr("make sure shop.appwire.test resolves to this server and that "
                                    "its port 443 reaches appwire-server"));
  EXPECT_THAT(logs.All(), HasSubstr("the base certificate is served for it meanwhile; next try in "));
  absl::StatusOr<CertificateInfo> seen = SeenAs("shop.appwire.test");
  ASSERT_FALSE(seen.ok());  // the base certificate does not name shop.appwire.test
  EXPECT_THAT(seen.status().message(), HasSubstr("shop.appwire.test"));
  absl::StatusOr<CertificateInfo> base = SeenAs("localhost");
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_FALSE(FileExists(CertificateFile("shop.appwire.test")));
}

TEST_F(AcmeTest, UnreachableCaKeepsTheServerServing) {
  LogCapture logs;
  ServerOptions options = Options();  // no Pebble: the directory refuses connections
  options.acme.domains = {"shop.appwire.test"};
  options.acme.ca_file = "";
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(logs.WaitFor("acme: could not get a certificate for shop.appwire.test: cannot reach "
                           "the ACME directory: ",
                           absl::Seconds(30)))
      << logs.All();
  EXPECT_THAT(logs.All(), HasSubstr("(check acme_directory)"));
  pebble_.reset();
  trust_file_ = project_.File("cert.pem");
  absl::StatusOr<CertificateInfo> base = SeenAs("localhost");
  ASSERT_TRUE(base.ok()) << base.status();
}

TEST_F(AcmeTest, RejectedNoncesAreRetried) {
  // With 40% of nonces refused nearly every issuance meets a badNonce (all
  // of its ten or so requests pass at once in 0.6^10 = 0.6% of runs), a
  // request fails after its three retries in 0.4^4 = 2.6% of cases, so about
  // a quarter of the attempts end in a backoff, and the five attempts the
  // bound leaves all fail in about 0.1% of runs. (At 60% a request failed in
  // 13%, two attempts in three, and this test failed about one run in ten.)
  StartPebble({{"PEBBLE_WFE_NONCEREJECT", "40"}});
  LogCapture logs;
  ServerOptions options = ManagedOptions();
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(logs.WaitFor("acme: certificate saved: ", kIssuance)) << logs.All();
  absl::StatusOr<CertificateInfo> seen = SeenAs("shop.appwire.test");
  ASSERT_TRUE(seen.ok()) << seen.status();
}

TEST_F(AcmeTest, DueCertificateIsRenewedAndOpenConnectionsStayUp) {
  // Pebble reuses every valid authorization: the renewal needs no challenge.
  StartPebble({{"PEBBLE_AUTHZREUSE", "100"}});
  LogCapture logs;
  ServerOptions options = ManagedOptions();
  options.acme.check_interval = absl::Seconds(1);
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(logs.WaitFor("acme: certificate saved: ", kIssuance)) << logs.All();
  absl::StatusOr<CertificateInfo> first = SeenAs("shop.appwire.test");
  ASSERT_TRUE(first.ok()) << first.status();

  ChannelOptions client;
  client.target = absl::StrCat("127.0.0.1:", port_);
  client.server_name = "shop.appwire.test";
  client.ca_file = trust_file_;
  auto open = Channel::Connect(client);
  ASSERT_TRUE(open.ok()) << open.status();

  // Counted as due from now on (Pebble's certificates last years): the next
  // check renews it.
  server.reset();
  options.acme.renew_before = absl::Hours(24 * 365 * 100);
  LogCapture renewal_logs;
  // (The first server is gone with its connections; the renewal is watched
  // on a new one, with a connection opened before it.)
  server = StartServer(options);
  ASSERT_NE(server, nullptr);
  auto kept = Channel::Connect(client);
  ASSERT_TRUE(kept.ok()) << kept.status();
  ASSERT_TRUE(renewal_logs.WaitFor("acme: certificate saved: ", kIssuance)) << renewal_logs.All();
  EXPECT_THAT(renewal_logs.All(), HasSubstr("ordering a certificate (it expires "));
  EXPECT_THAT(renewal_logs.All(), HasSubstr("shop.appwire.test: already authorized"));
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        absl::StatusOr<CertificateInfo> now = SeenAs("shop.appwire.test");
        return now.ok() && now->serial != first->serial;
      },
      absl::Seconds(10)));
  CallOptions call;
  call.timeout = absl::Seconds(5);
  EXPECT_TRUE((*kept)->CallRaw("appwire.v1.Health/Check", "", call).ok());
}

TEST_F(AcmeTest, BurstOfRandomAllowedNamesStaysWithinTheRateLimit) {
  StartPebble({{"PEBBLE_VA_ALWAYS_VALID", "1"}});
  LogCapture logs;
  ServerOptions options = Options();
  options.acme.on_demand = true;
  options.acme.allow = {"*.shop.appwire.test"};
  options.acme.on_demand_per_hour = 5;
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  trust_file_ = project_.File("cert.pem");
  int served = 0;
  for (int i = 0; i < 1000; ++i) {
    absl::StatusOr<CertificateInfo> seen = SeenAs(absl::StrCat("n", i, ".shop.appwire.test"));
    if (seen.ok() || absl::StrContains(seen.status().message(), "shop.appwire.test")) ++served;
  }
  EXPECT_EQ(served, 1000);
  EXPECT_TRUE(logs.WaitFor("acme: on-demand limit reached (5 names an hour")) << logs.All();
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const std::string all = logs.All();
        size_t saved = 0;
        for (size_t at = all.find("certificate saved"); at != std::string::npos;
             at = all.find("certificate saved", at + 1)) {
          ++saved;
        }
        return saved == 5;
      },
      kIssuance))
      << logs.All();
  absl::SleepFor(absl::Seconds(1));
  const std::string all = logs.All();
  size_t orders = 0;
  for (size_t at = all.find("order created for"); at != std::string::npos;
       at = all.find("order created for", at + 1)) {
    ++orders;
  }
  EXPECT_EQ(orders, 5u);
  EXPECT_EQ(Occurrences(pebble_->Log(), "POST /order-plz"), 5u);  // Pebble's view
}

// A static HTTPS server of files (openssl s_server -WWW) standing in for a
// CA's directory and renewal information: Pebble 2.4 offers no ARI.
class StaticHttpsServer {
 public:
  StaticHttpsServer() {
    absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
    CertificateSpec spec;
    spec.common_name = "ari";
    spec.ip_addresses = {"127.0.0.1"};
    absl::StatusOr<std::string> cert = CreateSelfSignedCertificatePem(*key, spec);
    dir_.Write("key.pem", *key, 0600);
    dir_.Write("cert.pem", *cert);
    port_ = FreeTcpPort();
    pid_ = fork();
    if (pid_ == 0) {
      if (chdir(dir_.path().c_str()) != 0) _exit(127);
      FILE* out = std::freopen("s_server.log", "w", stdout);
      (void)out;
      dup2(fileno(stdout), fileno(stderr));
      const std::string accept = absl::StrCat("127.0.0.1:", port_);
      execlp("openssl", "openssl", "s_server", "-WWW", "-quiet", "-accept", accept.c_str(),
             "-cert", "cert.pem", "-key", "key.pem", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && !ready(); ++i) absl::SleepFor(absl::Milliseconds(100));
  }
  ~StaticHttpsServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const {
    return testing::RunShell(absl::StrCat("curl -s --max-time 1 --cacert ", ca_file(), " ", Url(""),
                                          " -o /dev/null"))
               .exit_code == 0;
  }
  std::string Url(const std::string& path) const {
    return absl::StrCat("https://127.0.0.1:", port_, "/", path);
  }
  std::string ca_file() const { return dir_.File("cert.pem"); }
  void Serve(const std::string& path, const std::string& body) {
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos) MakeDirectories(dir_.File(path.substr(0, slash))).IgnoreError();
    dir_.Write(path, body);
  }
  // A directory whose renewalInfo is here.
  void ServeDirectory() {
    Serve("dir", absl::StrCat(R"({"newNonce":")", Url("nonce"), R"(","newAccount":")", Url("acct"),
                              R"(","newOrder":")", Url("order"), R"(","renewalInfo":")",
                              Url("renewalInfo"), R"("})"));
  }

 private:
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

class AcmeRenewalInfoTest : public AcmeTest {
 protected:
  void SetUp() override {
    AcmeTest::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(ca_web_.ready());
    ca_web_.ServeDirectory();
    // A certificate of a CA, valid for years: not due by its dates.
    ASSERT_EQ(::mkdir(project_.File("certificates").c_str(), 0755), 0);
    test_ca_.IssuePair(project_, "certificates/shop.appwire.test.crt",
                       "certificates/shop.appwire.test.key", "shop.appwire.test",
                       {"shop.appwire.test"}, {});
    absl::StatusOr<CertificateInfo> info = DescribeCertificatePem(
        testing::ReadText(CertificateFile("shop.appwire.test")), "leaf");
    ASSERT_TRUE(info.ok());
    absl::StatusOr<std::string> id = AcmeRenewalCertificateId(info->der);
    ASSERT_TRUE(id.ok()) << id.status();
    id_ = *id;
  }
  ServerOptions AriOptions() const {
    ServerOptions options = ManagedOptions();
    options.acme.directory = ca_web_.Url("dir");
    options.acme.ca_file = ca_web_.ca_file();
    return options;
  }
  void Window(absl::Time start, absl::Time end) {
    ca_web_.Serve("renewalInfo/" + id_,
                  absl::StrCat(R"({"suggestedWindow":{"start":")", FormatUtc(start),
                               R"(","end":")", FormatUtc(end), R"("}})"));
  }
  StaticHttpsServer ca_web_;
  testing::TestCa test_ca_ = testing::TestCa::Create("ARI test CA");
  std::string id_;
};

TEST_F(AcmeRenewalInfoTest, AWindowThatHasBegunMakesTheCertificateDue) {
  Window(absl::FromUnixSeconds(1577836800), absl::FromUnixSeconds(1577923200));  // 2020-01-01..02
  LogCapture logs;
  auto server = StartServer(AriOptions());
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(logs.WaitFor("shop.appwire.test: ordering a certificate (the CA's renewal "
                           "information (ARI) says renew from 2020-01-01T",
                           absl::Seconds(20)))
      << logs.All();
  // The order goes to a "CA" that never answers a POST: stopping the server
  // abandons the request instead of waiting out its 30 s timeout.
  absl::SleepFor(absl::Milliseconds(300));
  const absl::Time stopping = absl::Now();
  server.reset();
  EXPECT_LT(absl::Now() - stopping, absl::Seconds(10));
}

TEST_F(AcmeRenewalInfoTest, AnEarlierWindowAheadIsWhenRenewalStarts) {
  const absl::Time start = absl::Now() + absl::Hours(24 * 10);
  Window(start, start + absl::Hours(24));
  LogCapture logs;
  auto server = StartServer(AriOptions());
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(logs.WaitFor("(the CA's renewal information)", absl::Seconds(20))) << logs.All();
  EXPECT_THAT(logs.All(), HasSubstr("shop.appwire.test: certificate on disk valid until "));
  EXPECT_THAT(logs.All(), Not(HasSubstr("ordering")));
}

TEST_F(AcmeRenewalInfoTest, NoWindowFromTheCaMeansTheDatesDecide) {
  // No renewalInfo file for this certificate: a 404 from the CA.
  LogCapture logs;
  auto server = StartServer(AriOptions());
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(logs.WaitFor("shop.appwire.test: no renewal information from the CA (", absl::Seconds(20)))
      << logs.All();
  EXPECT_THAT(logs.All(), HasSubstr("renewing by the certificate's dates"));
  EXPECT_THAT(logs.All(), Not(HasSubstr("ordering")));
}

// The `appwire acme` command on a project folder whose appwire.conf points
// at Pebble.
class AcmeCliTest : public AcmeTest {
 protected:
  void SetUp() override {
    AcmeTest::SetUp();
    if (IsSkipped()) return;
    StartPebble();
    project_.Write("appwire.conf", absl::StrCat("port = ", port_, "\nacme_directory = ",
                                                pebble_->directory_url(), "\nacme_ca_file = ",
                                                pebble_->https_ca_file(),
                                                "\nacme_domains = shop.appwire.test\n"));
    project_.Write("dhparams.pem", testing::Ffdhe2048Pem());
  }
  testing::ShellRun Acme(const std::string& arguments) {
    return testing::RunShell(
        absl::StrCat(APPWIRE_CLI_BINARY, " acme ", arguments, " --project ", project_.path()));
  }
};

TEST_F(AcmeCliTest, IssueStatusAndRevokeAgainstTheCa) {
  testing::ShellRun status = Acme("status");
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_EQ(status.output, "shop.appwire.test: missing\n");

  testing::ShellRun issue = Acme("issue shop.appwire.test");
  ASSERT_EQ(issue.exit_code, 0) << issue.output << pebble_->Log();
  EXPECT_THAT(issue.output, HasSubstr("acme: order created for shop.appwire.test"));
  EXPECT_THAT(issue.output, HasSubstr(absl::StrCat("shop.appwire.test: certificate saved in ",
                                                   CertificateFile("shop.appwire.test"))));
  status = Acme("status --json");
  ASSERT_EQ(status.exit_code, 0) << status.output;
  const nlohmann::json document = nlohmann::json::parse(status.output);
  ASSERT_EQ(document["names"].size(), 1u) << status.output;
  EXPECT_EQ(document["names"][0]["name"], "shop.appwire.test");
  EXPECT_EQ(document["names"][0]["state"], "valid");
  EXPECT_EQ(document["names"][0]["managed"], "acme_domains");
  EXPECT_THAT(document["names"][0]["issuer"].get<std::string>(), HasSubstr("Pebble"));
  EXPECT_TRUE(document["names"][0].contains("renewal_from"));

  const std::string serial = DescribeCertificatePem(
      testing::ReadText(CertificateFile("shop.appwire.test")), "issued")->serial;
  testing::ShellRun revoke = Acme("revoke shop.appwire.test");
  ASSERT_EQ(revoke.exit_code, 0) << revoke.output << pebble_->Log();
  EXPECT_THAT(revoke.output, HasSubstr("shop.appwire.test: revoked; "));
  EXPECT_FALSE(FileExists(CertificateFile("shop.appwire.test")));
  EXPECT_TRUE(FileExists(CertificateFile("shop.appwire.test") + ".revoked"));
  EXPECT_TRUE(FileExists(project_.File("certificates/shop.appwire.test.key.revoked")));
  // Pebble's own view of that serial.
  std::string hex;
  for (char c : serial) {
    if (c != ':') hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  EXPECT_THAT(pebble_->ManagementGet("/cert-status-by-serial/" + hex), HasSubstr("Revoked"));
  status = Acme("status");
  EXPECT_EQ(status.output, "shop.appwire.test: missing\n");
}

TEST_F(AcmeCliTest, IssueWhileTheServerHoldsThePortSaysSo) {
  ServerOptions options = Options();
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  testing::ShellRun issue = Acme("issue shop.appwire.test");
  EXPECT_EQ(issue.exit_code, 1) << issue.output;
  EXPECT_THAT(issue.output, HasSubstr("the CA's challenge is answered on this port, so it must be "
                                      "free: a running appwire-server orders the names of its "
                                      "acme_domains itself"));
  EXPECT_FALSE(FileExists(CertificateFile("shop.appwire.test")));
}

TEST_F(AcmeCliTest, BadCommandLinesAreUsageErrors) {
  EXPECT_EQ(Acme("issue").exit_code, 2);
  EXPECT_THAT(Acme("issue").output, HasSubstr("issue needs the NAME"));
  EXPECT_THAT(Acme("frobnicate").output, HasSubstr("unknown action \"frobnicate\""));
  EXPECT_THAT(Acme("issue 10.0.0.1").output, HasSubstr("\"10.0.0.1\" is not a DNS name"));
}

}  // namespace
}  // namespace appwire
