#include "appwire/client/credentials.h"

#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include "appwire/common/log.h"
#include "appwire/common/pem.h"
#include "appwire/transport/certificate_store.h"
#include "appwire/transport/private_key.h"
#include "appwire/transport/tls_failure.h"

namespace appwire {
namespace {

// Fills what `options` leave empty from the client folder, and finds the
// server in known_servers.
absl::Status ApplyClientFolder(const Target& target, ChannelOptions* options,
                               ClientCredentials* credentials) {
  if (options->client_folder.empty()) {
    if (options->trust_on_first_use) {
      return absl::InvalidArgumentError(
          "trust_on_first_use needs a client_folder: its known_servers file remembers servers");
    }
    return absl::OkStatus();
  }
  ClientFolderFiles files = ResolveClientFolder(
      options->client_folder, options->server_name.empty() ? target.host : options->server_name);
  if (options->ca_file.empty()) options->ca_file = files.ca_file;
  if (options->certificate_file.empty() && options->private_key_file.empty()) {
    options->certificate_file = files.certificate_file;
    options->private_key_file = files.private_key_file;
  }
  credentials->known_servers_file = files.known_servers_file;
  absl::StatusOr<std::optional<KnownServer>> found =
      FindKnownServer(credentials->known_servers_file, credentials->server_key);
  if (!found.ok()) return found.status();
  credentials->known = *found;
  const bool other_trust = !options->ca_file.empty() || options->use_system_trust_store ||
                           !options->pinned_sha256.empty();
  if (credentials->known.has_value() && !other_trust) {
    options->pinned_sha256 = credentials->known->fingerprint;
  } else if (!credentials->known.has_value() && options->trust_on_first_use && !other_trust) {
    credentials->first_use = true;
  }
  return absl::OkStatus();
}

absl::Status LoadCa(const std::string& ca_file, TlsOptions* tls) {
  absl::StatusOr<std::string> ca = ReadFile(ca_file);
  if (!ca.ok()) {
    return absl::Status(ca.status().code(),
                        absl::StrCat("cannot load the CA file: ", ca.status().message(),
                                     "; put the server's CA (for a self-signed server, "
                                     "its cert.pem) there"));
  }
  absl::StatusOr<std::string> pem = NormalizePem(*ca, ca_file, PemKind::kCertificate);
  if (!pem.ok()) return pem.status();
  tls->trusted_ca_pem = *std::move(pem);
  tls->trusted_ca_source = ca_file;
  return absl::OkStatus();
}

// This client's certificate chain and private key (decrypted in memory).
absl::Status LoadIdentity(const ChannelOptions& options, TlsOptions* tls) {
  if (options.certificate_file.empty() != options.private_key_file.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs both certificate_file and private_key_file");
  }
  if (options.certificate_file.empty()) return absl::OkStatus();
  for (const auto& [path, kind, target, source] :
       {std::make_tuple(options.certificate_file, PemKind::kCertificate,
                        &tls->certificate_chain_pem, &tls->certificate_source),
        std::make_tuple(options.private_key_file, PemKind::kPrivateKey, &tls->private_key_pem,
                        &tls->private_key_source)}) {
    absl::StatusOr<std::string> pem = ReadPemFile(path, kind);
    if (!pem.ok()) return pem.status();
    *target = *std::move(pem);
    *source = path;
  }
  if (!IsEncryptedPrivateKeyPem(tls->private_key_pem)) return absl::OkStatus();
  IdentityLoadOptions load;
  load.passphrase_file = options.key_passphrase_file;
  load.passphrase_env = options.key_passphrase_env;
  absl::StatusOr<std::string> passphrase = ReadPassphrase(load, options.private_key_file);
  if (!passphrase.ok()) return passphrase.status();
  absl::StatusOr<std::string> plain =
      DecryptPrivateKeyPem(tls->private_key_pem, *passphrase, options.private_key_file);
  if (!plain.ok()) return plain.status();
  tls->private_key_pem = *std::move(plain);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ClientCredentials> LoadClientCredentials(const ChannelOptions& requested,
                                                        const Target& target,
                                                        const ParameterSnapshot& parameters) {
  ClientCredentials credentials;
  credentials.server_key = target.HostPort();
  // The client folder fills what the options leave empty.
  ChannelOptions options = requested;
  absl::Status folder = ApplyClientFolder(target, &options, &credentials);
  if (!folder.ok()) return folder;

  TlsOptions& tls = credentials.tls;
  tls.role = TlsRole::kClient;
  ApplyParameters(parameters, &tls);
  tls.use_system_trust_store = options.use_system_trust_store;
  tls.pinned_sha256 = options.pinned_sha256;
  tls.trust_on_first_use = credentials.first_use;
  if (!options.ca_file.empty()) {
    absl::Status ca = LoadCa(options.ca_file, &tls);
    if (!ca.ok()) return ca;
  }
  absl::Status identity = LoadIdentity(options, &tls);
  if (!identity.ok()) return identity;
  return credentials;
}

absl::Status ExplainFirstHandshake(const ClientCredentials& credentials,
                                   const absl::Status& handshake) {
  const std::optional<TlsFailure> failure = GetTlsFailure(handshake);
  if (!failure.has_value() || failure->kind != TlsFailure::Kind::kPinMismatch ||
      !credentials.known.has_value() ||
      credentials.tls.pinned_sha256 != credentials.known->fingerprint) {
    return handshake;
  }
  // Pinned by known_servers: say it as SSH does, with the line to edit.
  const KnownServer& known = *credentials.known;
  const std::string& file = credentials.known_servers_file;
  const std::string presented = failure->presented_fingerprint.empty()
                                    ? "no certificate"
                                    : failure->presented_fingerprint;
  return absl::UnauthenticatedError(absl::StrCat(
      "the certificate of ", credentials.server_key, " has CHANGED since it was recorded in \"",
      file, "\" line ", known.line, ": recorded ", known.fingerprint, ", presented ", presented,
      ". Someone may be impersonating the server, or its certificate was replaced; if you "
      "know it was replaced, delete line ", known.line, " of \"", file,
      "\" and connect again"));
}

absl::StatusOr<std::shared_ptr<TlsContext>> RecordFirstUse(ClientCredentials* credentials,
                                                           const TlsSessionInfo& session) {
  if (!credentials->first_use) return std::shared_ptr<TlsContext>();
  const std::string fingerprint =
      session.peer_certificate ? session.peer_certificate->sha256_fingerprint : std::string();
  absl::Status remembered =
      RememberServer(credentials->known_servers_file, credentials->server_key, fingerprint);
  if (!remembered.ok()) return remembered;
  LogInfo(absl::StrCat("first connection to ", credentials->server_key,
                       ": trusted its certificate ", fingerprint, " and recorded it in ",
                       credentials->known_servers_file));
  // Reconnections accept only the certificate just recorded.
  credentials->first_use = false;
  credentials->tls.trust_on_first_use = false;
  credentials->tls.pinned_sha256 = fingerprint;
  absl::StatusOr<std::shared_ptr<TlsContext>> pinned = TlsContext::Create(credentials->tls);
  if (!pinned.ok()) return pinned.status();
  return *std::move(pinned);
}

}  // namespace appwire
