// ClientCredentials: how a channel trusts its server and proves who it is,
// resolved once at Channel::Connect from ChannelOptions, the client folder
// (appwire/client/client_folder.h) and its known_servers file (trust on first use,
// as SSH does).
//
//   absl::StatusOr<ClientCredentials> credentials =
//       LoadClientCredentials(options, target, *parameters);
//   ... TlsContext::Create(credentials->tls), first handshake ...
//   absl::Status said = ExplainFirstHandshake(*credentials, handshake_status);
//   absl::StatusOr<std::shared_ptr<TlsContext>> pinned = RecordFirstUse(*credentials, info);
//
// Explicit options win over the folder: the folder's ca.pem only when
// ca_file is empty, its key.pem + cert.pem only when neither file is given,
// and a known_servers fingerprint only when nothing else says whom to trust.
// Errors name the file and the fix. Pure functions of their inputs and the
// files; any thread.
#ifndef APPWIRE_CLIENT_CREDENTIALS_H_
#define APPWIRE_CLIENT_CREDENTIALS_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "appwire/client/channel.h"
#include "appwire/client/client_folder.h"
#include "appwire/client/target.h"
#include "appwire/common/parameters.h"
#include "appwire/transport/tls_context.h"
#include "appwire/transport/tls_options.h"
#include "appwire/transport/tls_session_info.h"

namespace appwire {

struct ClientCredentials {
  // The client's TLS options: roots, pin, identity (decrypted), and this
  // channel's TLS parameters.
  TlsOptions tls;
  // "host:port": the server's name in known_servers.
  std::string server_key;
  // Empty without a client folder.
  std::string known_servers_file;
  // The server's line in known_servers, when it has one.
  std::optional<KnownServer> known;
  // Nothing vouches for the server and trust_on_first_use is on: accept
  // its certificate this once and record it (RecordFirstUse).
  bool first_use = false;
};

// `parameters`: the channel's snapshot (its overrides on the process-wide
// values), for the TLS versions, suites, groups and handshake timeout.
absl::StatusOr<ClientCredentials> LoadClientCredentials(const ChannelOptions& options,
                                                        const Target& target,
                                                        const ParameterSnapshot& parameters);

// The first handshake's status as the app should see it: a server whose
// certificate no longer matches the one recorded in known_servers gets
// SSH's "has CHANGED" warning with the line to delete (kUnauthenticated),
// found from the status's TlsFailure payload (appwire/transport/tls_failure.h),
// not its words. Anything else is returned as it is.
absl::Status ExplainFirstHandshake(const ClientCredentials& credentials,
                                   const absl::Status& handshake);

// After a first handshake accepted on first use: records the certificate
// `session` saw in known_servers, logs it, and returns the TLS context for
// reconnections, which accept only that certificate (credentials->tls is
// updated to match). Null when credentials.first_use is false.
absl::StatusOr<std::shared_ptr<TlsContext>> RecordFirstUse(ClientCredentials* credentials,
                                                           const TlsSessionInfo& session);

}  // namespace appwire

#endif  // APPWIRE_CLIENT_CREDENTIALS_H_
