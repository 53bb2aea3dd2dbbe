// The key a server encrypts TLS session tickets with.
//
// A client that reconnects offers the ticket it got on its last connection
// and skips the certificate exchange and signature (a resumed handshake).
// wolfSSL's default key is random per TLS context, so every restart and
// every certificate reload would make all tickets useless. appwire keeps
// one key per project folder instead, in session-ticket.key (mode 0600,
// never logged): a restarted server resumes the sessions of the clients it
// served before. Delete the file to invalidate every ticket.
#ifndef APPWIRE_TRANSPORT_SESSION_TICKET_KEY_H_
#define APPWIRE_TRANSPORT_SESSION_TICKET_KEY_H_

#include <string>

#include "absl/status/statusor.h"

namespace appwire {

// 16-byte key name followed by a 32-byte ChaCha20-Poly1305 key.
inline constexpr size_t kSessionTicketKeyBytes = 48;

// Reads `path`, or creates it with fresh random bytes (mode 0600) when it
// does not exist. A file of the wrong size is refused with the fix.
absl::StatusOr<std::string> LoadOrCreateSessionTicketKey(const std::string& path);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_SESSION_TICKET_KEY_H_
