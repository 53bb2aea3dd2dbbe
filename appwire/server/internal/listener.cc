#include "appwire/server/internal/listener.h"

#include "absl/strings/str_cat.h"
#include "appwire/transport/socket_errors.h"

namespace appwire::internal {

std::string AddressAndPort(absl::string_view address, int port) {
  if (address.find(':') != absl::string_view::npos) return absl::StrCat("[", address, "]:", port);
  return absl::StrCat(address, ":", port);
}

absl::Status Listen(asio::ip::tcp::acceptor& acceptor, const std::string& address, int port,
                    absl::string_view operation) {
  std::error_code error;
  const asio::ip::address ip = asio::ip::make_address(address, error);
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat("\"", address, "\" is not an IP address"));
  }
  const asio::ip::tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) return SocketErrorToStatus(error, operation, AddressAndPort(address, port));
  return absl::OkStatus();
}

}  // namespace appwire::internal
