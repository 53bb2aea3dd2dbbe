#include "tests/test_support.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/files.h"
#include "common/log.h"
#include "gtest/gtest.h"

namespace appwire::testing {

TempDir::TempDir() {
  char pattern[] = "/tmp/appwire-test.XXXXXX";
  char* made = mkdtemp(pattern);
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::File(const std::string& name) const { return JoinPath(path_, name); }

void TempDir::Write(const std::string& name, const std::string& contents, int mode) const {
  absl::Status status = WriteFileAtomically(File(name), contents, mode);
  if (!status.ok()) ADD_FAILURE() << status;
}

TestCa TestCa::Create(const std::string& name) {
  TestCa ca;
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  EXPECT_TRUE(key.ok()) << key.status();
  CertificateSpec spec;
  spec.common_name = name;
  spec.organization = "appwire tests";
  absl::StatusOr<std::string> cert = CreateSelfSignedCertificatePem(*key, spec);
  EXPECT_TRUE(cert.ok()) << cert.status();
  ca.key_pem = *key;
  ca.cert_pem = *cert;
  return ca;
}

void TestCa::IssueServerPair(const TempDir& dir, const std::string& common_name,
                             std::vector<std::string> dns_names,
                             std::vector<std::string> ip_addresses, int rsa_bits) const {
  IssuePair(dir, "cert.pem", "key.pem", common_name, std::move(dns_names),
            std::move(ip_addresses), rsa_bits);
}

void TestCa::IssuePair(const TempDir& dir, const std::string& cert_name,
                       const std::string& key_name, const std::string& common_name,
                       std::vector<std::string> dns_names, std::vector<std::string> ip_addresses,
                       int rsa_bits) const {
  absl::StatusOr<std::string> key =
      rsa_bits != 0 ? GenerateRsaKeyPem(rsa_bits) : GenerateEcdsaP256KeyPem();
  ASSERT_TRUE(key.ok()) << key.status();
  CertificateSpec spec;
  spec.common_name = common_name;
  spec.dns_names = std::move(dns_names);
  spec.ip_addresses = std::move(ip_addresses);
  absl::StatusOr<std::string> cert = IssueCertificatePem(*key, spec, cert_pem, key_pem);
  ASSERT_TRUE(cert.ok()) << cert.status();
  dir.Write(key_name, *key, 0600);
  dir.Write(cert_name, *cert);
}

std::unique_ptr<Server> StartServer(ServerOptions options,
                                    std::shared_ptr<ServiceRegistry> registry) {
  options.bind_address = "127.0.0.1";
  options.port = 0;
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Create(std::move(options), std::move(registry));
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  absl::Status started = (*server)->Start();
  EXPECT_TRUE(started.ok()) << started;
  return *std::move(server);
}

std::unique_ptr<Server> StartServerIn(const TempDir& project,
                                      std::shared_ptr<ServiceRegistry> registry) {
  ServerOptions options;
  options.project_dir = project.path();
  return StartServer(std::move(options), std::move(registry));
}

ChannelOptions ClientOptions(const Server& server, const std::string& ca_file) {
  ChannelOptions options;
  options.target = absl::StrCat("127.0.0.1:", server.port());
  options.server_name = "localhost";
  options.ca_file = ca_file;
  options.connect_timeout = absl::Seconds(10);
  return options;
}

LogCapture::LogCapture() {
  SetLogSink([this](LogLevel, absl::string_view line) {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.emplace_back(line);
  });
}

LogCapture::~LogCapture() { SetLogSink(nullptr); }

bool LogCapture::Contains(const std::string& text) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& line : lines_) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string LogCapture::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  return absl::StrJoin(lines_, "\n");
}

}  // namespace appwire::testing
