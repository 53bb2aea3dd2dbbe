#include "appwire/transport/certificate_store.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include <asio/ip/host_name.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "appwire/common/files.h"
#include "appwire/common/log.h"
#include "appwire/common/pem.h"
#include "appwire/common/project_folder.h"
#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/private_key.h"

namespace appwire {
namespace {

// A self-signed pair, in memory.
absl::StatusOr<ServerIdentity> Generate() {
  // Asio's host_name is gethostname(2) on POSIX and Winsock's on Windows.
  std::error_code host_error;
  std::string hostname = asio::ip::host_name(host_error);
  if (host_error) hostname.clear();
  CertificateSpec spec;
  spec.common_name = "localhost";
  spec.organization = "appwire self-signed";
  spec.dns_names = {"localhost"};
  if (!hostname.empty() && hostname != "localhost") spec.dns_names.push_back(hostname);
  spec.ip_addresses = {"127.0.0.1", "::1"};
  absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> cert = CreateSelfSignedCertificatePem(*key, spec);
  if (!cert.ok()) return cert.status();
  ServerIdentity identity;
  identity.certificate_chain_pem = *std::move(cert);
  identity.private_key_pem = *std::move(key);
  identity.generated = true;
  return identity;
}


// The certificates of a chain must each be issued by the next one.
absl::Status CheckChainOrder(const ServerIdentity& identity) {
  std::vector<std::string> blocks = SplitPemCertificates(identity.certificate_chain_pem);
  std::vector<CertificateInfo> chain;
  for (const std::string& block : blocks) {
    absl::StatusOr<CertificateInfo> info = DescribeCertificatePem(block, identity.certificate_path);
    if (!info.ok()) return info.status();
    chain.push_back(*std::move(info));
  }
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    if (chain[i].issuer != chain[i + 1].subject) {
      return absl::FailedPreconditionError(absl::StrCat(
          "\"", identity.certificate_path, "\" holds a chain in the wrong order (or with a "
          "certificate missing): certificate ", i + 1, " ('", chain[i].subject,
          "') is issued by '", chain[i].issuer, "', but certificate ", i + 2, " is '",
          chain[i + 1].subject, "'; put the server's own certificate first, then the "
          "certificate that issued it, and so on"));
    }
  }
  return absl::OkStatus();
}

// Reads the leaf and refuses an expired or not-yet-valid certificate.
absl::Status DescribeAndCheck(ServerIdentity* identity) {
  const std::string& cert_path = identity->certificate_path;
  absl::Status order = CheckChainOrder(*identity);
  if (!order.ok()) return order;
  absl::StatusOr<CertificateInfo> leaf =
      DescribeCertificatePem(identity->certificate_chain_pem, cert_path);
  if (!leaf.ok()) return leaf.status();
  identity->leaf = *std::move(leaf);
  const absl::Time now = absl::Now();
  if (identity->leaf.not_after < now) {
    return absl::FailedPreconditionError(absl::StrCat(
        "\"", cert_path, "\" expired on ", FormatUtc(identity->leaf.not_after),
        "; renew the certificate"));
  }
  if (identity->leaf.not_before > now) {
    return absl::FailedPreconditionError(absl::StrCat(
        "\"", cert_path, "\" is not valid before ", FormatUtc(identity->leaf.not_before),
        "; check this machine's clock"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadPassphrase(const IdentityLoadOptions& load,
                                           const std::string& key_path) {
  if (!load.passphrase_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile(load.passphrase_file);
    if (!text.ok()) {
      return absl::Status(text.status().code(),
                          absl::StrCat("the passphrase of \"", key_path,
                                       "\" cannot be read: ", text.status().message()));
    }
    return std::string(text->substr(0, text->find_first_of("\r\n")));
  }
  if (!load.passphrase_env.empty()) {
    const char* value = std::getenv(load.passphrase_env.c_str());
    if (value == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "\"", key_path, "\" is encrypted and its passphrase should come from the "
          "environment variable ", load.passphrase_env, ", which is not set"));
    }
    return std::string(value);
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "\"", key_path, "\" is encrypted; give its passphrase with key_passphrase_file or "
      "key_passphrase_env (appwire.conf or --key-passphrase-file / --key-passphrase-env for "
      "appwire-server, ChannelOptions for a client)"));
}

// A private key others on the machine can read is no longer private. It is
// served anyway (refusing would take the server down over a mode bit), but
// the operator hears about it at every start and reload.
std::string KeyPermissionWarning(const std::string& key_path) {
  // Mode bits only: on Windows, where access is an ACL, there are none to
  // check (the keys appwire writes there have an owner-only DACL).
  const std::optional<unsigned> mode = PosixPermissionBits(key_path);
  if (!mode.has_value() || (*mode & 044) == 0) return "";
  char octal[16];
  std::snprintf(octal, sizeof(octal), "%04o", *mode & 07777u);
  return absl::StrCat("key ", key_path, " is readable by group or others (mode ", octal,
                      "); run chmod 600 ", key_path);
}

absl::StatusOr<ServerIdentity> LoadIdentityFiles(const std::string& cert_path,
                                                 const std::string& key_path,
                                                 const IdentityLoadOptions& load) {
  ServerIdentity identity;
  absl::StatusOr<std::string> cert_pem = ReadPemFile(cert_path, PemKind::kCertificate);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::string> key_pem = ReadPemFile(key_path, PemKind::kPrivateKey);
  if (!key_pem.ok()) return key_pem.status();
  if (load.warn_readable_key) {
    const std::string warning = KeyPermissionWarning(key_path);
    if (!warning.empty()) LogWarning(warning);
  }
  if (IsEncryptedPrivateKeyPem(*key_pem)) {
    absl::StatusOr<std::string> passphrase = ReadPassphrase(load, key_path);
    if (!passphrase.ok()) return passphrase.status();
    key_pem = DecryptPrivateKeyPem(*key_pem, *passphrase, key_path);
    if (!key_pem.ok()) return key_pem.status();
  }
  identity.certificate_chain_pem = *std::move(cert_pem);
  identity.private_key_pem = *std::move(key_pem);
  identity.certificate_path = cert_path;
  identity.private_key_path = key_path;
  absl::Status checked = DescribeAndCheck(&identity);
  if (!checked.ok()) return checked;
  return identity;
}

absl::StatusOr<ServerIdentity> LoadOrMakeServerIdentity(const std::string& project_dir,
                                                        const IdentityLoadOptions& load) {
  const std::string cert_path = JoinPath(project_dir, kCertificateFileName);
  const std::string key_path = JoinPath(project_dir, kKeyFileName);
  const bool has_cert = FileExists(cert_path);
  const bool has_key = FileExists(key_path);
  if (!has_cert && !has_key) {
    if (!load.allow_generate) {
      return absl::FailedPreconditionError(absl::StrCat(
          "\"", cert_path, "\" and \"", key_path, "\" are gone; put them back"));
    }
    absl::StatusOr<ServerIdentity> generated = Generate();
    if (!generated.ok()) return generated.status();
    generated->certificate_path = cert_path;
    generated->private_key_path = key_path;
    absl::Status checked = DescribeAndCheck(&*generated);
    if (!checked.ok()) return checked;
    return generated;
  }
  if (has_cert != has_key) {
    const std::string& present = has_cert ? cert_path : key_path;
    const std::string& missing = has_cert ? key_path : cert_path;
    return absl::FailedPreconditionError(absl::StrCat(
        "\"", present, "\" exists but \"", missing, "\" does not; put the ",
        has_cert ? "private key of cert.pem" : "certificate of key.pem",
        " beside it, or remove \"", present,
        "\" to have appwire-server generate a self-signed pair"));
  }
  return LoadIdentityFiles(cert_path, key_path, load);
}

absl::Status WriteGeneratedIdentity(const ServerIdentity& identity) {
  std::string folder = std::filesystem::path(identity.private_key_path).parent_path().string();
  if (folder.empty()) folder = ".";
  absl::Status status = MakeDirectories(folder);
  if (status.ok()) {
    status = WriteFileAtomically(identity.private_key_path, identity.private_key_pem, 0600,
                                 ExistingFile::kKeep);
  }
  if (status.ok()) {
    status = WriteFileAtomically(identity.certificate_path, identity.certificate_chain_pem, 0644,
                                 ExistingFile::kKeep);
  }
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(absl::StrCat(
        status.message(), ", put there while the server started; the generated pair was not "
        "written over it: start the server again to use what is there"));
  }
  return status;
}

absl::StatusOr<std::vector<SniIdentity>> LoadSniIdentities(const std::string& project_dir,
                                                           const IdentityLoadOptions& load) {
  std::vector<SniIdentity> identities;
  const std::string folder = JoinPath(project_dir, kSniCertificatesFolderName);
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) return identities;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const bool crt = absl::EndsWith(name, ".crt");
    const bool key = absl::EndsWith(name, ".key");
    if (!crt && !key) continue;
    const std::string stem = name.substr(0, name.size() - 4);
    const std::string host = absl::AsciiStrToLower(stem);  // names match case-insensitively
    const std::string cert_path = JoinPath(folder, stem + ".crt");
    const std::string key_path = JoinPath(folder, stem + ".key");
    if (key) {
      if (!FileExists(cert_path)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "\"", key_path, "\" has no certificate beside it; add \"", cert_path,
            "\" or remove the key"));
      }
      continue;  // handled with its .crt
    }
    if (!FileExists(key_path)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "\"", cert_path, "\" has no private key beside it; add \"", key_path,
          "\" or remove the certificate"));
    }
    absl::StatusOr<ServerIdentity> identity = LoadIdentityFiles(cert_path, key_path, load);
    if (!identity.ok()) return identity.status();
    identities.push_back(SniIdentity{host, *std::move(identity)});
  }
  return identities;
}

}  // namespace appwire
