// Opening a listening socket, for the appwire port (Server::Start) and the
// metrics port (HttpEndpoint::Start): one sequence and one way to word
// its errors. Internal.
#ifndef APPWIRE_SERVER_INTERNAL_LISTENER_H_
#define APPWIRE_SERVER_INTERNAL_LISTENER_H_

#include <string>

#include <asio/ip/tcp.hpp>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace appwire::internal {

// "127.0.0.1:19813", "[::1]:19813": an address and a port as people write
// them (brackets around IPv6).
std::string AddressAndPort(absl::string_view address, int port);

// Opens `acceptor`, binds it to `address`:`port` (SO_REUSEADDR) and
// listens. `address` must be an IP address (InvalidArgument otherwise);
// socket errors say `operation` ("listening"), where, and the fix
// (SocketErrorToStatus).
absl::Status Listen(asio::ip::tcp::acceptor& acceptor, const std::string& address, int port,
                    absl::string_view operation);

}  // namespace appwire::internal

#endif  // APPWIRE_SERVER_INTERNAL_LISTENER_H_
