// What appwire-server does with the project folder at start: generate,
// reuse, or refuse with a message that names the file and the fix.
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include "appwire/transport/certificate_generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::TempDir;
using ::appwire::testing::TestCa;
using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<Server>> CreateIn(const TempDir& project) {
  ServerOptions options;
  options.project_dir = project.path();
  options.port = 0;
  return Server::Create(options, nullptr);
}

// Create makes the pair in memory, Start writes it once the port is bound.
TEST(ServerStartupTest, GeneratesASelfSignedPairOnceWithAPrivateKey) {
  TempDir project;
  auto first = CreateIn(project);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE((*first)->certificate_generated());
  EXPECT_FALSE(FileExists(project.File("key.pem")));
  ASSERT_TRUE((*first)->Start().ok());
  struct stat key_stat;
  ASSERT_EQ(::stat(project.File("key.pem").c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 0777, 0600u);
  const CertificateInfo& cert = (*first)->certificate();
  EXPECT_EQ(cert.common_name, "localhost");
  EXPECT_THAT(cert.subject_alt_names, ::testing::Contains("localhost"));
  EXPECT_THAT(cert.subject_alt_names, ::testing::Contains("127.0.0.1"));
  EXPECT_EQ(cert.sha256_fingerprint.size(), std::string("SHA256:").size() + 32 * 3 - 1);
  EXPECT_GT(cert.not_after, absl::Now() + absl::Hours(24 * 365));
  // Scanners flag certificates valid over 825 days, notBefore's day of
  // clock-skew margin included.
  EXPECT_LE(cert.not_after - cert.not_before, absl::Hours(24 * 825));
  EXPECT_GE(cert.not_after - cert.not_before, absl::Hours(24 * 824));

  auto second = CreateIn(project);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE((*second)->certificate_generated());
  EXPECT_EQ((*second)->certificate().sha256_fingerprint, cert.sha256_fingerprint);
}

// A server created and never started, or whose start fails at the bind,
// leaves the folder as it was: no key, certificate or ticket key (an
// operator whose port was taken must not find a new identity there).
TEST(ServerStartupTest, AServerThatDoesNotStartWritesNothing) {
  TempDir dir;
  const std::string project = dir.File("project");
  auto running = testing::StartServerIn(dir);  // holds a port
  ASSERT_NE(running, nullptr);
  ServerOptions options;
  options.project_dir = project;
  options.port = running->port();
  {
    auto created = Server::Create(options, nullptr);
    ASSERT_TRUE(created.ok()) << created.status();
    EXPECT_TRUE((*created)->certificate_generated());
    EXPECT_EQ((*created)->Start().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_FALSE(FileExists(project)) << "the bind failed, yet the folder was made";
  options.port = 0;
  auto started = Server::Create(options, nullptr);
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_TRUE((*started)->Start().ok());
  for (const char* secret : {"key.pem", "session-ticket.key"}) {
    struct stat st;
    ASSERT_EQ(::stat(JoinPath(project, secret).c_str(), &st), 0) << secret;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << secret;
  }
  EXPECT_TRUE(FileExists(JoinPath(project, "cert.pem")));
}

TEST(ServerStartupTest, WarnsWhenTheKeyIsReadableByOthersAtStartAndReload) {
  TempDir project;
  ASSERT_NE(testing::StartServerIn(project), nullptr);  // generates key.pem with mode 0600
  {
    appwire::testing::LogCapture log;
    ASSERT_TRUE(CreateIn(project).ok());
    EXPECT_FALSE(log.Contains("readable by group or others")) << log.All();
  }
  ASSERT_EQ(::chmod(project.File("key.pem").c_str(), 0644), 0);
  appwire::testing::LogCapture log;
  auto server = CreateIn(project);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string warning = absl::StrCat("key ", project.File("key.pem"),
                                           " is readable by group or others (mode 0644); run "
                                           "chmod 600 ",
                                           project.File("key.pem"));
  EXPECT_TRUE(log.Contains(warning)) << log.All();
  ASSERT_TRUE((*server)->ReloadCertificates().ok());
  size_t count = 0;
  const std::string all = log.All();
  for (size_t at = all.find(warning); at != std::string::npos; at = all.find(warning, at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 2u) << all;
}

TEST(ServerStartupTest, RefusesAKeyThatDoesNotMatchTheCertificate) {
  TempDir project;
  TestCa ca = TestCa::Create("Test CA");
  ca.IssueServerPair(project, "localhost", {"localhost"}, {});
  absl::StatusOr<std::string> other_key = GenerateEcdsaP256KeyPem();
  ASSERT_TRUE(other_key.ok());
  project.Write("key.pem", *other_key, 0600);
  auto server = CreateIn(project);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server.status().message(),
            absl::StrCat("\"", project.File("cert.pem"), "\" and \"", project.File("key.pem"),
                         "\" do not match: the private key is not the key of the certificate; "
                         "put the matching key beside the certificate (or remove both files to "
                         "have appwire-server generate a self-signed pair)"));
}

TEST(ServerStartupTest, RefusesWhenOnlyTheCertificateIsThere) {
  TempDir project;
  TestCa ca = TestCa::Create("Test CA");
  project.Write("cert.pem", ca.cert_pem);
  auto server = CreateIn(project);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(server.status().message(),
            absl::StrCat("\"", project.File("cert.pem"), "\" exists but \"",
                         project.File("key.pem"),
                         "\" does not; put the private key of cert.pem beside it, or remove \"",
                         project.File("cert.pem"),
                         "\" to have appwire-server generate a self-signed pair"));
  // Nothing was generated over the operator's file.
  EXPECT_FALSE(FileExists(project.File("key.pem")));
}

TEST(ServerStartupTest, RefusesACertificateThatIsNotPem) {
  TempDir project;
  project.Write("cert.pem", std::string("\x30\x82\x01\x0a\x02\x82\x01\x01", 8));
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  ASSERT_TRUE(key.ok());
  project.Write("key.pem", *key, 0600);
  auto server = CreateIn(project);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server.status().message(),
            absl::StrCat("\"", project.File("cert.pem"),
                         "\" is binary DER, not a PEM certificate; convert it with: openssl "
                         "x509 -inform DER -in FILE.der -out cert.pem"));
}

TEST(ServerStartupTest, AcceptsCrlfLineEndings) {
  TempDir project;
  TestCa ca = TestCa::Create("Test CA");
  ca.IssueServerPair(project, "localhost", {"localhost"}, {});
  for (const char* name : {"cert.pem", "key.pem"}) {
    absl::StatusOr<std::string> text = ReadFile(project.File(name));
    ASSERT_TRUE(text.ok());
    std::string crlf;
    for (char c : *text) {
      if (c == '\n') crlf += "\r\n";
      else crlf.push_back(c);
    }
    project.Write(name, crlf, 0600);
  }
  auto server = CreateIn(project);
  EXPECT_TRUE(server.ok()) << server.status();
}

TEST(ServerStartupTest, InvalidOptionsNameTheOption) {
  TempDir project;
  ServerOptions options;
  options.project_dir = project.path();
  options.bind_address = "localhost:80";
  EXPECT_EQ(Server::Create(options, nullptr).status().message(),
            "bind address \"localhost:80\" is not an IP address; use e.g. 127.0.0.1, ::1, "
            "0.0.0.0 or ::");
  options.bind_address = "127.0.0.1";
  options.port = 70000;
  EXPECT_EQ(Server::Create(options, nullptr).status().message(),
            "port 70000 is out of range; use 1-65535, or 0 for any free port");
}

TEST(ServerStartupTest, PortInUseIsReportedWithTheFix) {
  TempDir project;
  auto first = testing::StartServerIn(project);
  ASSERT_NE(first, nullptr);
  ServerOptions options;
  options.project_dir = project.path();
  options.port = first->port();
  auto second = Server::Create(options, nullptr);
  ASSERT_TRUE(second.ok());
  absl::Status started = (*second)->Start();
  EXPECT_EQ(started.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(started.message()), HasSubstr("the address is already in use; stop the other "
                                           "server or choose another port"));
}

TEST(ServiceRegistryTest, RejectsMalformedAndDuplicateNames) {
  ServiceRegistry registry;
  RawHandler handler = [](CallContext&, absl::string_view) -> absl::StatusOr<std::string> {
    return std::string();
  };
  EXPECT_EQ(registry.RegisterRaw("NoSlash", handler).message(),
            "method name \"NoSlash\" must look like \"package.Service/Method\"");
  EXPECT_TRUE(registry.RegisterRaw("a.B/C", handler).ok());
  EXPECT_EQ(registry.RegisterRaw("a.B/C", handler).code(), absl::StatusCode::kAlreadyExists);
  registry.Freeze();
  EXPECT_EQ(registry.RegisterRaw("a.B/D", handler).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace appwire
