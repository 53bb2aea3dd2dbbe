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

struct SessionTicketKey {
  std::string bytes;  // kSessionTicketKeyBytes; secret: never log
  bool made = false;  // not read from the file: WriteSessionTicketKey it
};

// Reads `path`, or makes fresh random bytes when it does not exist (in
// memory: the server writes them once it could bind, so a failed start
// leaves no file). A file of the wrong size is refused with the fix.
absl::StatusOr<SessionTicketKey> LoadOrMakeSessionTicketKey(const std::string& path);

// Writes a key that was made (mode 0600), never over a file that appeared
// meanwhile (AlreadyExists).
absl::Status WriteSessionTicketKey(const std::string& path, const SessionTicketKey& key);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_SESSION_TICKET_KEY_H_
