#include "appwire/rpc/response_status.h"

#include <string>

#include "gtest/gtest.h"

namespace appwire {
namespace {

TEST(ResponseStatusTest, AStatusSurvivesTheWire) {
  v1::ResponseHeader response;
  SetResponseStatus(absl::NotFoundError("no note 7"), &response);
  EXPECT_EQ(response.status_code(), 5);
  absl::Status status = StatusFromResponse(response);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "no note 7");
  SetResponseStatus(absl::OkStatus(), &response);
  EXPECT_TRUE(StatusFromResponse(response).ok());
}

TEST(ResponseStatusTest, MessagesAreCutToValidUtf8Of4096Bytes) {
  v1::ResponseHeader response;
  // 4,095 bytes, then a two-byte character that would end past the limit,
  // and a byte that is not UTF-8.
  const std::string message = std::string(4095, 'a') + "\xc3\xa9" + "\xff";
  SetResponseStatus(absl::InternalError(message), &response);
  EXPECT_EQ(response.status_message(), std::string(4095, 'a'));
}

TEST(ResponseStatusTest, CodesOutsideTheKnownRangeBecomeUnknown) {
  v1::ResponseHeader response;
  response.set_status_code(17);
  response.set_status_message("from the future");
  EXPECT_EQ(StatusFromResponse(response).code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(StatusFromResponse(response).message(), "from the future");
  response.set_status_code(-1);
  EXPECT_EQ(StatusFromResponse(response).code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(StatusCodeFromWire(16), absl::StatusCode::kUnauthenticated);
}

TEST(ResponseStatusTest, AGoAwaySaysTheServerClosedTheConnection) {
  v1::GoAway go_away;
  go_away.set_status_code(static_cast<int>(absl::StatusCode::kResourceExhausted));
  go_away.set_status_message("too many connections");
  absl::Status status = StatusFromGoAway(go_away);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "the server closed the connection: too many connections");
}

}  // namespace
}  // namespace appwire
