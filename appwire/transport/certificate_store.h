// The server's identity, from its project folder: `key.pem` and `cert.pem`
// (leaf first, then intermediates), as 4D keeps them beside the project.
//
// When both files are absent, a self-signed ECDSA P-256 certificate is made
// for localhost, this machine's host name, 127.0.0.1 and ::1; key.pem is
// written with mode 0600. Anything else that is wrong (one file missing,
// unreadable, not PEM, key not matching the certificate, certificate expired)
// is an error that names the file and the fix; nothing is overwritten.
#ifndef APPWIRE_TRANSPORT_CERTIFICATE_STORE_H_
#define APPWIRE_TRANSPORT_CERTIFICATE_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "appwire/transport/certificate_info.h"

namespace appwire {

struct ServerIdentity {
  std::string certificate_chain_pem;
  std::string private_key_pem;  // secret: never log
  std::string certificate_path;
  std::string private_key_path;
  CertificateInfo leaf;
  // True when this call generated the pair.
  bool generated = false;
};

// How identities are loaded.
struct IdentityLoadOptions {
  // False when reloading: missing files are then an error (the running
  // server keeps its certificate) rather than a reason to make new ones.
  bool allow_generate = true;
  // Where the passphrase of an encrypted private key comes from: a file
  // (its first line) or an environment variable. Empty: none.
  std::string passphrase_file;
  std::string passphrase_env;
  // Log KeyPermissionWarning's warning when the key is readable by group
  // or others. `appwire check` reports it itself instead.
  bool warn_readable_key = true;
};

// The warning for a private key file that group or others can read: "key
// FILE is readable by group or others (mode 0644); run chmod 600 FILE".
// Empty when only its owner can read it (or it cannot be examined, as on
// Windows, where access is an ACL rather than mode bits). The
// server logs it at every start and reload; `appwire check` reports it.
std::string KeyPermissionWarning(const std::string& key_path);

// The project folder's key.pem and cert.pem: loaded and checked when both
// exist; made when both are absent (`generated`, a self-signed pair for
// localhost, this host's name, 127.0.0.1 and ::1), in memory only:
// WriteGeneratedIdentity writes them, which the server does once it could
// bind its port, so a start that fails and a configuration check leave
// nothing behind. Only one of the two present is refused with the fix.
absl::StatusOr<ServerIdentity> LoadOrMakeServerIdentity(const std::string& project_dir,
                                                        const IdentityLoadOptions& load = {});

// Writes a pair LoadOrMakeServerIdentity generated: the folder (created
// when missing), key.pem with mode 0600, then cert.pem. Never over a file
// that appeared meanwhile (AlreadyExists: someone put a pair there; start
// again to use it).
absl::Status WriteGeneratedIdentity(const ServerIdentity& identity);

// Extra certificates chosen by SNI, as NetTalk does: for each
// certificates/<host>.crt in the project folder, certificates/<host>.key is
// its key. <host> may be a wildcard ("*.example.com"). No folder: none.
struct SniIdentity {
  std::string host_name;  // lower case, as in the file name
  ServerIdentity identity;
};
absl::StatusOr<std::vector<SniIdentity>> LoadSniIdentities(
    const std::string& project_dir, const IdentityLoadOptions& load = {});

// The passphrase of an encrypted key from `load`'s file (its first line) or
// environment variable; FailedPrecondition naming `key_path` and the
// settings to use when neither is given.
absl::StatusOr<std::string> ReadPassphrase(const IdentityLoadOptions& load,
                                           const std::string& key_path);

// Loads and checks one certificate/key pair: PEM rules, chain order (leaf
// first, each certificate issued by the next), expiry, encrypted keys.
absl::StatusOr<ServerIdentity> LoadIdentityFiles(const std::string& certificate_path,
                                                 const std::string& private_key_path,
                                                 const IdentityLoadOptions& load = {});

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_CERTIFICATE_STORE_H_
