// Socket errors as absl::Status, for every layer that opens sockets (the
// server's acceptor, the client's resolver and connect, TlsStream):
//
//   if (error) return SocketErrorToStatus(error, "connecting", "notes.example:19813");
//   // UNAVAILABLE "connecting with notes.example:19813 failed: connection refused;
//   //              is appwire-server running on that address and port? (...)"
//
// The words are made in appwire/transport/internal/errors.cc, the one place library
// codes become text (peer closed and refused -> kUnavailable, timed out ->
// kDeadlineExceeded, cancelled -> kCancelled). Thread-safe.
#ifndef APPWIRE_TRANSPORT_SOCKET_ERRORS_H_
#define APPWIRE_TRANSPORT_SOCKET_ERRORS_H_

#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace appwire {

// `operation`: what was being done ("connecting", "listening", "read");
// `peer_address`: with whom, or where.
absl::Status SocketErrorToStatus(const std::error_code& error, absl::string_view operation,
                                 absl::string_view peer_address);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_SOCKET_ERRORS_H_
