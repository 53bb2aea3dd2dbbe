// Certificates the way NetTalk and 4D operators handle them: one per host
// name chosen by SNI, and replaced on disk while the server runs.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
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

// The fingerprint of the certificate a client connecting with `name` gets.
std::string FingerprintSeenAs(const Server& server, const TempDir& project,
                              const std::string& name) {
  ChannelOptions client = ClientOptions(server, project.File("ca.pem"));
  client.server_name = name;
  auto channel = Channel::Connect(client);
  if (!channel.ok()) return std::string(channel.status().message());
  return (*channel)->session_info().peer_certificate->sha256_fingerprint;
}

std::string Fingerprint(const TempDir& dir, const std::string& file) {
  auto info = DescribeCertificatePem(*ReadFile(dir.File(file)), file);
  return info.ok() ? info->sha256_fingerprint : "unreadable";
}

class SniTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_.IssueServerPair(project_, "localhost", {"localhost", "unknown.example"}, {"127.0.0.1"});
    ASSERT_EQ(::mkdir(project_.File("certificates").c_str(), 0755), 0);
    ca_.IssuePair(project_, "certificates/a.example.crt", "certificates/a.example.key",
                  "a.example", {"a.example"}, {});
    ca_.IssuePair(project_, "certificates/*.wild.example.crt", "certificates/*.wild.example.key",
                  "*.wild.example", {"*.wild.example"}, {});
    project_.Write("ca.pem", ca_.cert_pem);
  }
  TempDir project_;
  TestCa ca_ = TestCa::Create("Test CA");
};

TEST_F(SniTest, HostNamePicksItsCertificateAndOthersGetTheDefault) {
  auto server = StartServerIn(project_);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(FingerprintSeenAs(*server, project_, "a.example"),
            Fingerprint(project_, "certificates/a.example.crt"));
  EXPECT_EQ(FingerprintSeenAs(*server, project_, "A.Example"),
            Fingerprint(project_, "certificates/a.example.crt"));
  EXPECT_EQ(FingerprintSeenAs(*server, project_, "db.wild.example"),
            Fingerprint(project_, "certificates/*.wild.example.crt"));
  EXPECT_EQ(FingerprintSeenAs(*server, project_, "unknown.example"),
            Fingerprint(project_, "cert.pem"));
  // An IP address sends no SNI: the default certificate.
  EXPECT_EQ(FingerprintSeenAs(*server, project_, "127.0.0.1"), Fingerprint(project_, "cert.pem"));
}

TEST_F(SniTest, HandlerSeesTheRequestedName) {
  auto registry = std::make_shared<ServiceRegistry>();
  ASSERT_TRUE(registry
                  ->RegisterRaw("test.Sni/Name",
                                [](CallContext& context, absl::string_view)
                                    -> absl::StatusOr<std::string> { return context.server_name(); })
                  .ok());
  auto server = StartServerIn(project_, registry);
  ASSERT_NE(server, nullptr);
  ChannelOptions client = ClientOptions(*server, project_.File("ca.pem"));
  client.server_name = "a.example";
  auto channel = Channel::Connect(client);
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto name = (*channel)->CallRaw("test.Sni/Name", "");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, "a.example");
}

TEST_F(SniTest, KeyWithoutCertificateIsNamed) {
  project_.Write("certificates/orphan.example.key", "x", 0600);
  ServerOptions options;
  options.project_dir = project_.path();
  auto server = Server::Create(options, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(),
            absl::StrCat("\"", project_.File("certificates/orphan.example.key"),
                         "\" has no certificate beside it; add \"",
                         project_.File("certificates/orphan.example.crt"),
                         "\" or remove the key"));
}

TEST(ReloadTest, ReplacedCertificateServesNewConnectionsWhileOpenOnesKeepWorking) {
  LogCapture log;
  TempDir project;
  TestCa ca = TestCa::Create("Test CA");
  ca.IssueServerPair(project, "localhost", {"localhost"}, {"127.0.0.1"});
  project.Write("ca.pem", ca.cert_pem);
  ServerOptions options;
  options.project_dir = project.path();
  options.certificate_check_interval = absl::Milliseconds(50);
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  const std::string first = Fingerprint(project, "cert.pem");
  auto open = Channel::Connect(ClientOptions(*server, project.File("ca.pem")));
  ASSERT_TRUE(open.ok());
  EXPECT_EQ((*open)->session_info().peer_certificate->sha256_fingerprint, first);

  ca.IssueServerPair(project, "localhost", {"localhost"}, {"127.0.0.1"});  // replaced on disk
  const std::string second = Fingerprint(project, "cert.pem");
  ASSERT_NE(first, second);
  std::string seen;
  for (int i = 0; i < 300 && seen != second; ++i) {  // bounded: ~3 s
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    seen = FingerprintSeenAs(*server, project, "localhost");
  }
  EXPECT_EQ(seen, second);
  EXPECT_TRUE(log.Contains("certificate files changed on disk; reloading")) << log.All();
  EXPECT_TRUE((*open)->CallRaw("appwire.v1.Health/Check", "").ok());
  EXPECT_EQ(server->certificate().sha256_fingerprint, second);
}

TEST(ReloadTest, BrokenReplacementKeepsTheLastGoodCertificate) {
  LogCapture log;
  TempDir project;
  TestCa ca = TestCa::Create("Test CA");
  ca.IssueServerPair(project, "localhost", {"localhost"}, {"127.0.0.1"});
  project.Write("ca.pem", ca.cert_pem);
  ServerOptions options;
  options.project_dir = project.path();
  options.certificate_check_interval = absl::ZeroDuration();  // explicit reloads only
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  const std::string good = Fingerprint(project, "cert.pem");

  // A key that belongs to another certificate.
  absl::StatusOr<std::string> other_key = GenerateEcdsaP256KeyPem();
  ASSERT_TRUE(other_key.ok());
  project.Write("key.pem", *other_key, 0600);
  absl::Status reloaded = server->ReloadCertificates();
  EXPECT_EQ(reloaded.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(reloaded.message()), HasSubstr("do not match"));
  EXPECT_TRUE(log.Contains("certificate reload failed, still serving the previous certificates"))
      << log.All();
  EXPECT_EQ(FingerprintSeenAs(*server, project, "localhost"), good);

  // Not PEM at all: the same.
  project.Write("cert.pem", "garbage");
  EXPECT_EQ(server->ReloadCertificates().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FingerprintSeenAs(*server, project, "localhost"), good);
}

TEST(ReloadTest, AppwireServerReloadsOnSighup) {
  TempDir dir;
  TempDir project;
  TestCa ca = TestCa::Create("Test CA");
  ca.IssueServerPair(project, "localhost", {"localhost"}, {"127.0.0.1"});
  const std::string log = dir.File("server.log");
  pid_t pid = testing::SpawnAppwireServer(APPWIRE_SERVER_BINARY,
                                          {"--project", project.path(), "--port", "0"}, log);
  for (int i = 0; i < 500 && testing::ReadText(log).find("fingerprint") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ca.IssueServerPair(project, "localhost", {"localhost"}, {"127.0.0.1"});
  const std::string second = Fingerprint(project, "cert.pem");
  ASSERT_EQ(kill(pid, SIGHUP), 0);
  std::string text;
  for (int i = 0; i < 500 && text.find("certificates reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    text = testing::ReadText(log);
  }
  EXPECT_THAT(text, HasSubstr(absl::StrCat("received SIGHUP; re-reading ", project.File("appwire.conf"),
                                           " and reloading certificates")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("certificates reloaded: ", project.File("cert.pem"))));
  EXPECT_THAT(text, HasSubstr(second));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

// An intermediate CA signed by `root`.
TestCa IssueIntermediate(const TestCa& root, const std::string& name) {
  TestCa intermediate;
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  EXPECT_TRUE(key.ok());
  CertificateSpec spec;
  spec.common_name = name;
  spec.is_ca = true;
  absl::StatusOr<std::string> cert = IssueCertificatePem(*key, spec, root.cert_pem, root.key_pem);
  EXPECT_TRUE(cert.ok()) << cert.status();
  intermediate.key_pem = *key;
  intermediate.cert_pem = *cert;
  return intermediate;
}

TEST(ChainTest, IntermediatesAreSentSoAClientTrustingOnlyTheRootConnects) {
  TempDir project;
  TestCa root = TestCa::Create("Root CA");
  TestCa intermediate = IssueIntermediate(root, "Intermediate CA");
  intermediate.IssueServerPair(project, "localhost", {"localhost"}, {"127.0.0.1"});
  project.Write("cert.pem", *ReadFile(project.File("cert.pem")) + intermediate.cert_pem);
  project.Write("root.pem", root.cert_pem);
  auto server = StartServerIn(project);
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(ClientOptions(*server, project.File("root.pem")));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ((*channel)->session_info().peer_certificate->common_name, "localhost");
}

TEST(ChainTest, ChainInTheWrongOrderIsRefusedNamingBothCertificates) {
  TempDir project;
  TestCa root = TestCa::Create("Root CA");
  TestCa intermediate = IssueIntermediate(root, "Intermediate CA");
  intermediate.IssueServerPair(project, "localhost", {"localhost"}, {});
  project.Write("cert.pem", intermediate.cert_pem + *ReadFile(project.File("cert.pem")));
  ServerOptions options;
  options.project_dir = project.path();
  auto server = Server::Create(options, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(server.status().message(),
            absl::StrCat("\"", project.File("cert.pem"),
                         "\" holds a chain in the wrong order (or with a certificate missing): "
                         "certificate 1 ('CN=Intermediate CA') is issued by 'O=appwire tests, "
                         "CN=Root CA', but certificate 2 is 'CN=localhost'; put the server's own "
                         "certificate first, then the certificate that issued it, and so on"));
}

class EncryptedKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_.IssueServerPair(project_, "localhost", {"localhost"}, {"127.0.0.1"});
    project_.Write("ca.pem", ca_.cert_pem);
    // openssl encrypts it as a desktop admin would (PKCS#8, AES-256, PBKDF2).
    ASSERT_EQ(std::system(absl::StrCat("openssl pkey -in ", project_.File("key.pem"),
                                       " -aes256 -passout pass:s3cret -out ",
                                       project_.File("key.enc"))
                              .c_str()),
              0);
    ASSERT_EQ(::rename(project_.File("key.enc").c_str(), project_.File("key.pem").c_str()), 0);
    options_.project_dir = project_.path();
  }
  TempDir project_;
  TestCa ca_ = TestCa::Create("Test CA");
  ServerOptions options_;
};

TEST_F(EncryptedKeyTest, PassphraseFromAFileUnlocksTheKey) {
  project_.Write("passphrase.txt", "s3cret\n", 0600);
  options_.key_passphrase_file = project_.File("passphrase.txt");
  auto server = StartServer(options_);
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(ClientOptions(*server, project_.File("ca.pem")));
  ASSERT_TRUE(channel.ok()) << channel.status();
}

TEST_F(EncryptedKeyTest, PassphraseFromTheEnvironmentUnlocksTheKey) {
  ::setenv("APPWIRE_TEST_KEY_PASSPHRASE", "s3cret", 1);
  options_.key_passphrase_env = "APPWIRE_TEST_KEY_PASSPHRASE";
  auto server = StartServer(options_);
  ::unsetenv("APPWIRE_TEST_KEY_PASSPHRASE");
  ASSERT_NE(server, nullptr);
}

TEST_F(EncryptedKeyTest, MissingOrWrongPassphraseIsAClearError) {
  auto missing = Server::Create(options_, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            absl::StrCat("\"", project_.File("key.pem"),
                         "\" is encrypted; give its passphrase with key_passphrase_file or "
                         "key_passphrase_env (appwire.conf or --key-passphrase-file / "
                         "--key-passphrase-env for appwire-server, ChannelOptions for a client)"));
  project_.Write("passphrase.txt", "wrong\n", 0600);
  options_.key_passphrase_file = project_.File("passphrase.txt");
  auto wrong = Server::Create(options_, nullptr);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(wrong.status().message()),
              HasSubstr(absl::StrCat("cannot decrypt \"", project_.File("key.pem"),
                                     "\" with the passphrase given; is it the right one?")));
  EXPECT_THAT(std::string(wrong.status().message()), ::testing::Not(HasSubstr("wrong")));
  options_.key_passphrase_file.clear();
  options_.key_passphrase_env = "APPWIRE_TEST_UNSET_VARIABLE";
  auto unset = Server::Create(options_, nullptr);
  EXPECT_THAT(std::string(unset.status().message()),
              HasSubstr("its passphrase should come from the environment variable "
                        "APPWIRE_TEST_UNSET_VARIABLE, which is not set"));
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

TEST(ExpiryTest, ExpiredCertificateRefusesToStartAndSoonExpiringOneWarns) {
  TempDir project;
  TestCa ca = TestCa::Create("Test CA");
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  ASSERT_TRUE(key.ok());
  CertificateSpec spec;
  spec.common_name = "localhost";
  spec.dns_names = {"localhost"};
  spec.days_valid = 10;
  absl::StatusOr<std::string> soon = IssueCertificatePem(*key, spec, ca.cert_pem, ca.key_pem);
  ASSERT_TRUE(soon.ok()) << soon.status();
  project.Write("key.pem", *key, 0600);
  project.Write("cert.pem", *soon);
  {
    LogCapture log;
    auto server = StartServerIn(project);
    ASSERT_NE(server, nullptr);
    EXPECT_TRUE(log.Contains(absl::StrCat("certificate ", project.File("cert.pem"),
                                          " expires on ")))
        << log.All();
    EXPECT_TRUE(log.Contains("days); renew it")) << log.All();
  }

  // A certificate whose validity ended: refused, with the date and the fix.
  spec.days_valid = 0;
  absl::StatusOr<std::string> expired = IssueCertificatePem(*key, spec, ca.cert_pem, ca.key_pem);
  ASSERT_TRUE(expired.ok()) << expired.status();
  project.Write("cert.pem", *expired);
  auto info = DescribeCertificatePem(*expired, "cert.pem");
  ASSERT_TRUE(info.ok());
  while (absl::Now() <= info->not_after + absl::Seconds(1)) {  // bounded: at most ~2 s
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (info->not_after > absl::Now() + absl::Seconds(5)) GTEST_SKIP() << "days_valid 0 not supported";
  }
  ServerOptions options;
  options.project_dir = project.path();
  auto server = Server::Create(options, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(server.status().message(),
            absl::StrCat("\"", project.File("cert.pem"), "\" expired on ",
                         FormatUtc(info->not_after), "; renew the certificate"));
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

// Regression: finishing dhparams.pem generation used to refresh the file
// watcher's snapshot, so a certificate replaced during the generation was
// never reloaded.
TEST(ReloadTest, CertificateReplacedWhileDhParametersAreGeneratedIsStillReloaded) {
  LogCapture log;
  // The generation ends when the test says so: the certificate is replaced
  // while it runs, for sure.
  std::atomic<bool> finish{false};
  testing::ScopedDhParamsGenerator generator([&finish](const SafePrimeGeneration& generation) {
    while (!finish && !generation.cancel->load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return absl::StatusOr<std::string>(testing::Ffdhe2048Pem());
  });
  TempDir project;
  TestCa ca = TestCa::Create("Test CA");
  ca.IssueServerPair(project, "localhost", {"localhost"}, {"127.0.0.1"});
  project.Write("ca.pem", ca.cert_pem);
  ServerOptions options;
  options.project_dir = project.path();
  options.certificate_check_interval = absl::Seconds(2);  // first look after the generation
  auto server = StartServer(options, nullptr, testing::DhParams::kAsIs);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(log.WaitFor("generating 2048-bit DH parameters")) << log.All();
  ca.IssueServerPair(project, "localhost", {"localhost"}, {"127.0.0.1"});  // during generation
  const std::string replaced = Fingerprint(project, "cert.pem");
  finish = true;
  ASSERT_TRUE(log.WaitFor("DH parameters ready in", absl::Seconds(30))) << log.All();
  std::string seen;
  for (int i = 0; i < 100 && seen != replaced; ++i) {  // bounded: ~5 s
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = FingerprintSeenAs(*server, project, "localhost");
  }
  EXPECT_EQ(seen, replaced) << log.All();
}

}  // namespace
}  // namespace appwire
