// What the C API's opaque handles (appwire/c/appwire.h) are: each struct
// holds the C++ objects it stands for, and the helpers turn absl::Status
// into codes, errors and replies in one place. For appwire/c/*.cc only.
#ifndef APPWIRE_C_INTERNAL_HANDLES_H_
#define APPWIRE_C_INTERNAL_HANDLES_H_

#include <functional>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "appwire/c/appwire.h"
#include "appwire/client/cancellation.h"
#include "appwire/client/channel.h"
#include "appwire/client/client_stream.h"
#include "appwire/common/metadata.h"

struct appwire_error {
  appwire_code code = APPWIRE_OK;
  std::string message;
};

struct appwire_options {
  appwire::ChannelOptions options;
  // Calls whose options set no timeout get this one.
  absl::Duration default_timeout = absl::InfiniteDuration();
  // The first setter that refused a value: appwire_connect fails with it.
  absl::Status first_refusal;
};

struct appwire_task {
  std::function<void()> run;
};

struct appwire_channel {
  // The only owner: freeing the handle destroys the Channel, with the
  // guarantees of ~Channel (appwire/client/channel.h).
  std::shared_ptr<appwire::Channel> channel;
  absl::Duration default_timeout = absl::InfiniteDuration();
};

struct appwire_call_options {
  appwire::CallOptions options;
  bool timeout_set = false;
};

struct appwire_cancel {
  std::shared_ptr<appwire::CancellationToken> token;
};

// Indexed, as C reads entries by position.
struct appwire_metadata {
  std::vector<std::pair<std::string, std::string>> entries;
};

struct appwire_reply {
  appwire_code code = APPWIRE_OK;
  std::string message;
  std::string data;
  appwire_metadata trailers;
};

struct appwire_stream {
  std::unique_ptr<appwire::ClientStream> stream;
  // The last message read: what appwire_stream_read's pointer shows.
  std::string message;
};

namespace appwire::c_api {

inline appwire_code ToCode(absl::StatusCode code) {
  const int number = static_cast<int>(code);
  return number >= 0 && number <= APPWIRE_UNAUTHENTICATED ? static_cast<appwire_code>(number)
                                                          : APPWIRE_UNKNOWN;
}
inline appwire_code ToCode(const absl::Status& status) { return ToCode(status.code()); }

// Sets *error (when error is not null) to a new error for `status`, or
// to null when it is OK; returns the code.
appwire_code Report(const absl::Status& status, appwire_error** error);

appwire_metadata ToCMetadata(const Metadata& metadata);
// A new reply for a call's outcome (null when allocation failed).
appwire_reply* NewReply(const absl::Status& status, std::string data, const Metadata& trailers);

// Runs `body` (which returns an appwire_code) and keeps exceptions, such as
// std::bad_alloc, from crossing into C: none may leave the library.
template <typename Body>
appwire_code Guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return APPWIRE_RESOURCE_EXHAUSTED;
  } catch (...) {
    return APPWIRE_INTERNAL;
  }
}

inline absl::Status NullArgument(const char* function, const char* argument) {
  return absl::InvalidArgumentError(
      std::string(function) + ": " + argument + " is NULL");
}

}  // namespace appwire::c_api

#endif  // APPWIRE_C_INTERNAL_HANDLES_H_
