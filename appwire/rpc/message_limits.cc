#include "appwire/rpc/message_limits.h"

#include "absl/strings/str_cat.h"

namespace appwire {

absl::Status RequestTooLargeForServer(absl::string_view method, uint64_t bytes, size_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat(method, ": message of ", bytes,
                                                   " bytes exceeds the server's limit of ", limit,
                                                   " bytes (kMaxMessageSize)"));
}

absl::Status MessageTooLargeForSender(absl::string_view method, uint64_t bytes, size_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat(method, ": message of ", bytes,
                                                   " bytes exceeds the limit of ", limit,
                                                   " bytes (max message size)"));
}

absl::Status ReplyTooLargeForClient(uint64_t bytes, size_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat("the server's reply of ", bytes,
                                                   " bytes exceeds this client's limit of ", limit,
                                                   " bytes (kMaxMessageSize)"));
}

absl::Status StreamMessageTooLargeForClient(absl::string_view method, uint64_t bytes,
                                            size_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat(
      method, ": a message of ", bytes, " bytes from the server exceeds this client's limit of ",
      limit, " bytes (kMaxMessageSize)"));
}

absl::Status StreamMessageTooLargeForServer(absl::string_view method, uint64_t bytes,
                                            size_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat(method, ": a message of ", bytes,
                                                   " bytes exceeds the server's limit of ", limit,
                                                   " bytes (kMaxMessageSize)"));
}

absl::Status ReplyTooLargeForServer(uint64_t bytes, size_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat("the server's reply of ", bytes,
                                                   " bytes exceeds the limit of ", limit,
                                                   " bytes (kMaxMessageSize)"));
}

}  // namespace appwire
