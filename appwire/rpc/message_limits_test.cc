#include "appwire/rpc/message_limits.h"

#include "gtest/gtest.h"

namespace appwire {
namespace {

TEST(MessageLimitsTest, EveryErrorIsResourceExhaustedAndNamesTheSizeAndTheLimit) {
  const std::string method = "/notes.Notes/Put";
  struct Case {
    absl::Status status;
    const char* words;
  } cases[] = {
      {RequestTooLargeForServer(method, 2048, 1024),
       "/notes.Notes/Put: message of 2048 bytes exceeds the server's limit of 1024 bytes "
       "(kMaxMessageSize)"},
      {MessageTooLargeForSender(method, 2048, 1024),
       "/notes.Notes/Put: message of 2048 bytes exceeds the limit of 1024 bytes (max message "
       "size)"},
      {ReplyTooLargeForClient(2048, 1024),
       "the server's reply of 2048 bytes exceeds this client's limit of 1024 bytes "
       "(kMaxMessageSize)"},
      {StreamMessageTooLargeForClient(method, 2048, 1024),
       "/notes.Notes/Put: a message of 2048 bytes from the server exceeds this client's limit "
       "of 1024 bytes (kMaxMessageSize)"},
      {StreamMessageTooLargeForServer(method, 2048, 1024),
       "/notes.Notes/Put: a message of 2048 bytes exceeds the server's limit of 1024 bytes "
       "(kMaxMessageSize)"},
      {ReplyTooLargeForServer(2048, 1024),
       "the server's reply of 2048 bytes exceeds the limit of 1024 bytes (kMaxMessageSize)"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), absl::StatusCode::kResourceExhausted) << c.words;
    EXPECT_EQ(c.status.message(), c.words);
  }
}

TEST(MessageLimitsTest, SizesAtTheLimitsOfTheirIntegers) {
  EXPECT_EQ(ReplyTooLargeForClient(UINT64_MAX, SIZE_MAX).message(),
            "the server's reply of 18446744073709551615 bytes exceeds this client's limit of "
            "18446744073709551615 bytes (kMaxMessageSize)");
}

}  // namespace
}  // namespace appwire
