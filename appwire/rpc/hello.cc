#include "appwire/rpc/hello.h"

#include "absl/strings/str_cat.h"
#include "appwire/common/version.h"

namespace appwire {

v1::FrameHeader HelloFrame(const HelloInfo& self) {
  v1::FrameHeader header;
  header.set_call_id(0);
  v1::Hello* hello = header.mutable_hello();
  hello->set_protocol_version(kProtocolVersion);
  hello->set_software_name(self.software_name);
  hello->set_software_version(self.software_version);
  hello->set_max_message_bytes(self.max_message_bytes);
  return header;
}

absl::Status CheckServerHello(const v1::Hello& hello) {
  if (hello.protocol_version() == kProtocolVersion) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "the server speaks appwire protocol version ", hello.protocol_version(),
      "; this client speaks version ", kProtocolVersion,
      "; use a client and server of the same protocol version"));
}

absl::Status CheckClientHello(const v1::FrameHeader& first, const HelloInfo& server) {
  if (!first.has_hello() || first.call_id() != 0) {
    return absl::FailedPreconditionError(
        "protocol error: the first frame on a connection must be a hello with "
        "call id 0 (docs/protocol.md)");
  }
  const v1::Hello& hello = first.hello();
  if (hello.protocol_version() == kProtocolVersion) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "the client speaks appwire protocol version ", hello.protocol_version(), " (",
      hello.software_name(), hello.software_version().empty() ? "" : " ",
      hello.software_version(), "); this server (", server.software_name, " ",
      server.software_version, ") speaks version ", kProtocolVersion,
      "; use a client and server of the same protocol version"));
}

}  // namespace appwire
