// The hello exchange (docs/protocol.md, "Hello"): the first frame each end
// sends on a connection, on call id 0, with its protocol version, its
// software and the largest message it accepts. Both ends build theirs with
// HelloFrame and check the peer's with the function for their side; the
// version rule is written once, here.
#ifndef APPWIRE_RPC_HELLO_H_
#define APPWIRE_RPC_HELLO_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "appwire/v1/frame.pb.h"

namespace appwire {

// What one end says about itself in its hello.
struct HelloInfo {
  std::string software_name;
  std::string software_version;
  size_t max_message_bytes = 0;
};

// The hello frame for `self`, with this build's protocol version.
v1::FrameHeader HelloFrame(const HelloInfo& self);

// Client side: FailedPrecondition when the server's hello is of another
// protocol version; the client then closes the connection.
absl::Status CheckServerHello(const v1::Hello& hello);

// Server side: the first frame of a connection must be a hello on call id
// 0 of this protocol version (FailedPrecondition otherwise, naming the
// client's software and `server`'s).
absl::Status CheckClientHello(const v1::FrameHeader& first, const HelloInfo& server);

}  // namespace appwire

#endif  // APPWIRE_RPC_HELLO_H_
