// A call's status on the wire (docs/protocol.md, section 6): the response
// frame's status_code and status_message, and a GoAway's. The server
// encodes with SetResponseStatus; the client decodes with
// StatusFromResponse and StatusFromGoAway. A code outside absl's range
// (another implementation, or a hostile one) decodes as UNKNOWN, keeping
// the message.
#ifndef APPWIRE_RPC_RESPONSE_STATUS_H_
#define APPWIRE_RPC_RESPONSE_STATUS_H_

#include "absl/status/status.h"
#include "appwire/v1/frame.pb.h"

namespace appwire {

// Sets the code and the message, cut to valid UTF-8 of at most
// kMaxStatusMessageBytes (appwire/transport/frames.h): a handler's runaway or
// binary message must not make the header unparseable for the client.
void SetResponseStatus(const absl::Status& status, v1::ResponseHeader* response);

// The response's status (OK when status_code is 0).
absl::Status StatusFromResponse(const v1::ResponseHeader& response);

// "the server closed the connection: <its message>", with the GoAway's code.
absl::Status StatusFromGoAway(const v1::GoAway& go_away);

// The absl code for a code on the wire.
absl::StatusCode StatusCodeFromWire(int code);

}  // namespace appwire

#endif  // APPWIRE_RPC_RESPONSE_STATUS_H_
