#include "appwire/rpc/response_status.h"

#include "absl/strings/str_cat.h"
#include "appwire/common/utf8.h"
#include "appwire/transport/frames.h"

namespace appwire {

absl::StatusCode StatusCodeFromWire(int code) {
  // absl's codes are 0 (OK) to 16 (UNAUTHENTICATED), as gRPC's.
  if (code < 0 || code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    return absl::StatusCode::kUnknown;
  }
  return static_cast<absl::StatusCode>(code);
}

void SetResponseStatus(const absl::Status& status, v1::ResponseHeader* response) {
  response->set_status_code(static_cast<int>(status.code()));
  response->set_status_message(ValidUtf8(status.message(), kMaxStatusMessageBytes));
}

absl::Status StatusFromResponse(const v1::ResponseHeader& response) {
  if (response.status_code() == 0) return absl::OkStatus();
  return absl::Status(StatusCodeFromWire(response.status_code()), response.status_message());
}

absl::Status StatusFromGoAway(const v1::GoAway& go_away) {
  return absl::Status(StatusCodeFromWire(go_away.status_code()),
                      absl::StrCat("the server closed the connection: ", go_away.status_message()));
}

}  // namespace appwire
