// The errors for a message over kMaxMessageSize, both ends' words in one
// place (tests and users match them). Each end accepts messages up to its
// own limit and sends at most the smaller of its own and the peer's (from
// the peer's hello). All are RESOURCE_EXHAUSTED; the call fails, the
// connection stays.
#ifndef APPWIRE_RPC_MESSAGE_LIMITS_H_
#define APPWIRE_RPC_MESSAGE_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace appwire {

// A request over the server's limit: refused by the client before sending
// (the limit from the server's hello), or by the server on receipt.
// "M: message of N bytes exceeds the server's limit of L bytes (kMaxMessageSize)"
absl::Status RequestTooLargeForServer(absl::string_view method, uint64_t bytes, size_t limit);

// A client message over the client's own limit, refused before sending.
// "M: message of N bytes exceeds the limit of L bytes (max message size)"
absl::Status MessageTooLargeForSender(absl::string_view method, uint64_t bytes, size_t limit);

// A reply over the client's limit.
absl::Status ReplyTooLargeForClient(uint64_t bytes, size_t limit);
// A stream message from the server over the client's limit.
absl::Status StreamMessageTooLargeForClient(absl::string_view method, uint64_t bytes,
                                            size_t limit);
// A stream message from the client over the server's limit.
absl::Status StreamMessageTooLargeForServer(absl::string_view method, uint64_t bytes,
                                            size_t limit);
// A handler's reply over what the server may send (its limit or the client's).
absl::Status ReplyTooLargeForServer(uint64_t bytes, size_t limit);

}  // namespace appwire

#endif  // APPWIRE_RPC_MESSAGE_LIMITS_H_
