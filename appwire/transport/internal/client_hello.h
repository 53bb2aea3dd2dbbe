// Reading a TLS ClientHello before any session exists, for what the server
// must know to choose its context: the ALPN protocols offered (RFC 7301).
// (The SNI name is read by wolfSSL_SNI_GetFromBuffer.) Internal.
#ifndef APPWIRE_TRANSPORT_INTERNAL_CLIENT_HELLO_H_
#define APPWIRE_TRANSPORT_INTERNAL_CLIENT_HELLO_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace appwire::internal {

// The protocols of the application_layer_protocol_negotiation extension of
// the ClientHello at the start of `records` (TLS records as received), in
// the client's order. Empty when there is none, or when the bytes are not a
// whole ClientHello in its first record.
std::vector<std::string> ClientHelloAlpnProtocols(absl::string_view records);

}  // namespace appwire::internal

#endif  // APPWIRE_TRANSPORT_INTERNAL_CLIENT_HELLO_H_
