// The client folder: where a desktop app keeps its TLS files, as 4D keeps
// key.pem and cert.pem in the client database folder.
//
//   <folder>/key.pem, cert.pem   this client's identity (mutual TLS)
//   <folder>/ca.pem              roots trusted for servers
//   <folder>/known_servers       fingerprints pinned on first use (TOFU)
//   <folder>/<host>/...          the same files, for that server only
//
// known_servers holds one line per server, "host:port SHA256:AB:CD:...";
// lines starting with '#' are comments.
#ifndef APPWIRE_CLIENT_CLIENT_FOLDER_H_
#define APPWIRE_CLIENT_CLIENT_FOLDER_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "appwire/common/export.h"

namespace appwire {

struct APPWIRE_EXPORT ClientFolderFiles {
  std::string certificate_file;  // empty when absent
  std::string private_key_file;
  std::string ca_file;
  std::string known_servers_file;  // always set (may not exist yet)
};

// The files to use for `host`: <folder>/<host>/X when present, else
// <folder>/X when present. A host that is no folder name ("..", ".", "",
// anything with a '/') has no per-server folder: only <folder>/X is used,
// never a file outside the folder.
APPWIRE_EXPORT ClientFolderFiles ResolveClientFolder(const std::string& folder, const std::string& host);

struct APPWIRE_EXPORT KnownServer {
  std::string fingerprint;  // "SHA256:..."
  int line = 0;
};

// The recorded fingerprint of `server` ("host:port"), if any.
absl::StatusOr<std::optional<KnownServer>> FindKnownServer(const std::string& known_servers_file,
                                                           const std::string& server);

// Appends "server fingerprint" to the file (created 0644 if missing).
absl::Status RememberServer(const std::string& known_servers_file, const std::string& server,
                            const std::string& fingerprint);

}  // namespace appwire

#endif  // APPWIRE_CLIENT_CLIENT_FOLDER_H_
