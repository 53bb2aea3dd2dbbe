#include "appwire/client/credentials.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "appwire/transport/tls_failure.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

Target Localhost() {
  Target target;
  target.host = "localhost";
  target.port = "19813";
  return target;
}

absl::StatusOr<ClientCredentials> Load(const ChannelOptions& options) {
  return LoadClientCredentials(options, Localhost(), *ParameterSnapshot::Take(options.parameters));
}

// A fresh client folder holding `known_servers`.
std::string FolderWithKnownServers(const std::string& name, const std::string& known_servers) {
  const std::string folder = testing::TempDir() + "/credentials_test_" + name;
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  std::ofstream(folder + "/known_servers") << known_servers;
  return folder;
}

void ExpectInvalid(const ChannelOptions& options, const std::string& message) {
  absl::StatusOr<ClientCredentials> credentials = Load(options);
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(credentials.status().message(), message);
}

// The credentials for localhost:19813 from a fresh folder holding `known_servers`.
ClientCredentials FromFolder(const std::string& name, const std::string& known_servers,
                             std::string* folder) {
  *folder = FolderWithKnownServers(name, known_servers);
  ChannelOptions options;
  options.client_folder = *folder;
  absl::StatusOr<ClientCredentials> credentials = Load(options);
  EXPECT_TRUE(credentials.ok()) << credentials.status();
  return credentials.ok() ? *std::move(credentials) : ClientCredentials();
}

TEST(CredentialsTest, TrustOnFirstUseWithoutAFolderIsRefused) {
  ChannelOptions options;
  options.trust_on_first_use = true;
  ExpectInvalid(
      options,
      "trust_on_first_use needs a client_folder: its known_servers file remembers servers");
}

TEST(CredentialsTest, CertificateWithoutKeyIsRefused) {
  ChannelOptions options;
  options.pinned_sha256 = "SHA256:00";
  options.certificate_file = "cert.pem";
  ExpectInvalid(options, "a client certificate needs both certificate_file and private_key_file");
}

TEST(CredentialsTest, MissingCaFileSaysWhatToPutThere) {
  ChannelOptions options;
  options.ca_file = testing::TempDir() + "/credentials_test_no_such_ca.pem";
  absl::StatusOr<ClientCredentials> credentials = Load(options);
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(absl::StartsWith(credentials.status().message(), "cannot load the CA file: "))
      << credentials.status();
  EXPECT_TRUE(absl::EndsWith(
      credentials.status().message(),
      "; put the server's CA (for a self-signed server, its cert.pem) there"))
      << credentials.status();
}

TEST(CredentialsTest, KnownServerIsPinnedWhenNothingElseIsTrusted) {
  const std::string folder =
      FolderWithKnownServers("pinned", "# comment\nlocalhost:19813 SHA256:AB:CD\n");
  ChannelOptions options;
  options.client_folder = folder;
  options.trust_on_first_use = true;
  absl::StatusOr<ClientCredentials> credentials = Load(options);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_EQ(credentials->tls.pinned_sha256, "SHA256:AB:CD");
  EXPECT_FALSE(credentials->first_use);
  ASSERT_TRUE(credentials->known.has_value());
  EXPECT_EQ(credentials->known->line, 2);
  EXPECT_EQ(credentials->server_key, "localhost:19813");
}

TEST(CredentialsTest, UnknownServerIsTrustedOnFirstUseOnlyWhenAsked) {
  const std::string folder = FolderWithKnownServers("first_use", "");
  ChannelOptions options;
  options.client_folder = folder;
  options.trust_on_first_use = true;
  absl::StatusOr<ClientCredentials> credentials = Load(options);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_TRUE(credentials->first_use);
  EXPECT_TRUE(credentials->tls.trust_on_first_use);

  options.trust_on_first_use = false;
  options.use_system_trust_store = true;
  credentials = Load(options);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_FALSE(credentials->first_use);
}

TEST(CredentialsTest, PinMismatchOfAKnownServerSaysItHasChanged) {
  std::string folder;
  const ClientCredentials credentials =
      FromFolder("changed", "localhost:19813 SHA256:AB:CD\n", &folder);
  // The words of the transport's error do not matter: the payload does.
  const absl::Status handshake = WithTlsFailure(
      absl::UnauthenticatedError("any words"),
      TlsFailure{TlsFailure::Kind::kPinMismatch, "SHA256:EF:01"});
  const absl::Status said = ExplainFirstHandshake(credentials, handshake);
  EXPECT_EQ(said.code(), absl::StatusCode::kUnauthenticated);
  const std::string file = folder + "/known_servers";
  EXPECT_EQ(said.message(),
            "the certificate of localhost:19813 has CHANGED since it was recorded in \"" + file +
                "\" line 1: recorded SHA256:AB:CD, presented SHA256:EF:01. Someone may be "
                "impersonating the server, or its certificate was replaced; if you know it was "
                "replaced, delete line 1 of \"" + file + "\" and connect again");
}

TEST(CredentialsTest, OtherHandshakeFailuresAreReturnedAsTheyAre) {
  std::string folder;
  const ClientCredentials credentials =
      FromFolder("other", "localhost:19813 SHA256:AB:CD\n", &folder);
  // Same words as a pin mismatch, no payload: not the CHANGED path.
  const absl::Status plain =
      absl::UnauthenticatedError("does not match the pinned fingerprint");
  EXPECT_EQ(ExplainFirstHandshake(credentials, plain), plain);
  EXPECT_TRUE(ExplainFirstHandshake(credentials, absl::OkStatus()).ok());
}

// A well-formed fingerprint: 32 bytes, all `byte`.
std::string Fingerprint(const std::string& byte) {
  std::string fingerprint = "SHA256:" + byte;
  for (int i = 1; i < 32; ++i) fingerprint += ":" + byte;
  return fingerprint;
}

TEST(CredentialsTest, FirstUseRecordsTheCertificateAndPinsReconnections) {
  const std::string folder = FolderWithKnownServers("record", "");
  ChannelOptions options;
  options.client_folder = folder;
  options.trust_on_first_use = true;
  absl::StatusOr<ClientCredentials> credentials = Load(options);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  ASSERT_TRUE(credentials->first_use);
  TlsSessionInfo session;
  session.peer_certificate.emplace();
  session.peer_certificate->sha256_fingerprint = Fingerprint("12");
  absl::StatusOr<std::shared_ptr<TlsContext>> pinned = RecordFirstUse(&*credentials, session);
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_NE(*pinned, nullptr);
  EXPECT_EQ(credentials->tls.pinned_sha256, Fingerprint("12"));
  EXPECT_FALSE(credentials->tls.trust_on_first_use);
  absl::StatusOr<std::optional<KnownServer>> found =
      FindKnownServer(folder + "/known_servers", "localhost:19813");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->fingerprint, Fingerprint("12"));
  // Once recorded, nothing more is recorded.
  pinned = RecordFirstUse(&*credentials, session);
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(*pinned, nullptr);
}

TEST(CredentialsTest, NoFirstUseRecordsNothing) {
  std::string folder;
  ClientCredentials credentials = FromFolder("none", "", &folder);
  absl::StatusOr<std::shared_ptr<TlsContext>> pinned = RecordFirstUse(&credentials, {});
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(*pinned, nullptr);
  absl::StatusOr<std::optional<KnownServer>> found =
      FindKnownServer(folder + "/known_servers", "localhost:19813");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

}  // namespace
}  // namespace appwire
