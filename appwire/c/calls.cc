// The C API's calls (appwire/c/appwire.h): call options, cancellation
// tokens, replies and their metadata, blocking and async unary calls.
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "appwire/c/appwire.h"
#include "appwire/c/internal/handles.h"
#include "appwire/client/channel.h"

using appwire::c_api::Guarded;
using appwire::c_api::NewReply;
using appwire::c_api::ToCode;

namespace appwire::c_api {

appwire_metadata ToCMetadata(const Metadata& metadata) {
  appwire_metadata out;
  out.entries.assign(metadata.begin(), metadata.end());
  return out;
}

appwire_reply* NewReply(const absl::Status& status, std::string data, const Metadata& trailers) {
  try {
    auto reply = std::make_unique<appwire_reply>();
    reply->code = ToCode(status);
    reply->message = std::string(status.message());
    reply->data = std::move(data);
    reply->trailers = ToCMetadata(trailers);
    return reply.release();
  } catch (...) {
    return nullptr;
  }
}

}  // namespace appwire::c_api

namespace {

std::string Bytes(const void* data, size_t size) {
  return size == 0 ? std::string() : std::string(static_cast<const char*>(data), size);
}

// The C++ options of one call: the caller's, with the channel's default
// timeout when they set none. Copied, so the caller may change or free
// theirs once the call started.
appwire::CallOptions CallOptionsFor(const appwire_channel& channel,
                                    const appwire_call_options* options) {
  appwire::CallOptions call;
  if (options != nullptr) call = options->options;
  if (options == nullptr || !options->timeout_set) call.timeout = channel.default_timeout;
  return call;
}

}  // namespace

extern "C" {

appwire_code appwire_call_options_new(appwire_call_options** options) {
  if (options == nullptr) return APPWIRE_INVALID_ARGUMENT;
  *options = nullptr;
  return Guarded([&] {
    *options = new appwire_call_options();
    return APPWIRE_OK;
  });
}

void appwire_call_options_free(appwire_call_options* options) { delete options; }

appwire_code appwire_call_options_set_timeout_ms(appwire_call_options* options,
                                                 int64_t milliseconds) {
  if (options == nullptr || milliseconds < 0) return APPWIRE_INVALID_ARGUMENT;
  options->timeout_set = milliseconds > 0;
  options->options.timeout =
      milliseconds > 0 ? absl::Milliseconds(milliseconds) : absl::InfiniteDuration();
  return APPWIRE_OK;
}

appwire_code appwire_call_options_set_fail_fast(appwire_call_options* options, int fail_fast) {
  if (options == nullptr) return APPWIRE_INVALID_ARGUMENT;
  options->options.fail_fast = fail_fast != 0;
  return APPWIRE_OK;
}

appwire_code appwire_call_options_add_metadata(appwire_call_options* options, const char* key,
                                               const void* value, size_t value_size) {
  if (options == nullptr || key == nullptr || (value == nullptr && value_size > 0)) {
    return APPWIRE_INVALID_ARGUMENT;
  }
  return Guarded([&] {
    options->options.metadata.emplace(key, Bytes(value, value_size));
    return APPWIRE_OK;
  });
}

appwire_code appwire_call_options_clear_metadata(appwire_call_options* options) {
  if (options == nullptr) return APPWIRE_INVALID_ARGUMENT;
  options->options.metadata.clear();
  return APPWIRE_OK;
}

appwire_code appwire_call_options_set_cancel(appwire_call_options* options,
                                             appwire_cancel* cancel) {
  if (options == nullptr) return APPWIRE_INVALID_ARGUMENT;
  options->options.cancellation = cancel == nullptr ? nullptr : cancel->token;
  return APPWIRE_OK;
}

appwire_code appwire_cancel_new(appwire_cancel** cancel) {
  if (cancel == nullptr) return APPWIRE_INVALID_ARGUMENT;
  *cancel = nullptr;
  return Guarded([&] {
    *cancel = new appwire_cancel{appwire::CancellationToken::Create()};
    return APPWIRE_OK;
  });
}

appwire_code appwire_cancel_cancel(appwire_cancel* cancel) {
  if (cancel == nullptr) return APPWIRE_INVALID_ARGUMENT;
  return Guarded([&] {
    cancel->token->Cancel();
    return APPWIRE_OK;
  });
}

int appwire_cancel_is_cancelled(const appwire_cancel* cancel) {
  return cancel != nullptr && cancel->token->cancelled() ? 1 : 0;
}

void appwire_cancel_free(appwire_cancel* cancel) { delete cancel; }

appwire_code appwire_reply_code(const appwire_reply* reply) {
  return reply == nullptr ? APPWIRE_INVALID_ARGUMENT : reply->code;
}

const char* appwire_reply_message(const appwire_reply* reply) {
  return reply == nullptr ? "" : reply->message.c_str();
}

const uint8_t* appwire_reply_data(const appwire_reply* reply, size_t* size) {
  if (size != nullptr) *size = reply == nullptr ? 0 : reply->data.size();
  if (reply == nullptr) return nullptr;
  return reinterpret_cast<const uint8_t*>(reply->data.data());
}

const appwire_metadata* appwire_reply_trailers(const appwire_reply* reply) {
  return reply == nullptr ? nullptr : &reply->trailers;
}

void appwire_reply_free(appwire_reply* reply) { delete reply; }

size_t appwire_metadata_count(const appwire_metadata* metadata) {
  return metadata == nullptr ? 0 : metadata->entries.size();
}

appwire_code appwire_metadata_get(const appwire_metadata* metadata, size_t index,
                                  const char** key, const uint8_t** value, size_t* value_size) {
  if (metadata == nullptr) return APPWIRE_INVALID_ARGUMENT;
  if (index >= metadata->entries.size()) return APPWIRE_OUT_OF_RANGE;
  const auto& [k, v] = metadata->entries[index];
  if (key != nullptr) *key = k.c_str();
  if (value != nullptr) *value = reinterpret_cast<const uint8_t*>(v.c_str());
  if (value_size != nullptr) *value_size = v.size();
  return APPWIRE_OK;
}

appwire_code appwire_metadata_find(const appwire_metadata* metadata, const char* key,
                                   const uint8_t** value, size_t* value_size) {
  if (metadata == nullptr || key == nullptr) return APPWIRE_INVALID_ARGUMENT;
  for (const auto& [k, v] : metadata->entries) {
    if (k != key) continue;
    if (value != nullptr) *value = reinterpret_cast<const uint8_t*>(v.c_str());
    if (value_size != nullptr) *value_size = v.size();
    return APPWIRE_OK;
  }
  return APPWIRE_NOT_FOUND;
}

appwire_code appwire_call(appwire_channel* channel, const char* method, const void* request,
                          size_t request_size, const appwire_call_options* options,
                          appwire_reply** reply) {
  if (reply == nullptr) return APPWIRE_INVALID_ARGUMENT;
  *reply = nullptr;
  if (channel == nullptr || method == nullptr || (request == nullptr && request_size > 0)) {
    absl::Status refused = absl::InvalidArgumentError(
        "appwire_call: the channel and the method are required, and a request of nonzero "
        "size needs its bytes");
    *reply = NewReply(refused, "", {});
    return APPWIRE_INVALID_ARGUMENT;
  }
  return Guarded([&] {
    appwire::Metadata trailers;
    appwire::CallOptions call = CallOptionsFor(*channel, options);
    call.trailers = &trailers;
    absl::StatusOr<std::string> response =
        channel->channel->CallRaw(method, Bytes(request, request_size), call);
    *reply = NewReply(response.status(), response.ok() ? *std::move(response) : std::string(),
                      trailers);
    if (*reply == nullptr) return APPWIRE_RESOURCE_EXHAUSTED;
    return (*reply)->code;
  });
}

appwire_code appwire_call_async(appwire_channel* channel, const char* method,
                                const void* request, size_t request_size,
                                const appwire_call_options* options, appwire_call_callback done,
                                void* user_data) {
  if (channel == nullptr || method == nullptr || done == nullptr ||
      (request == nullptr && request_size > 0)) {
    return APPWIRE_INVALID_ARGUMENT;
  }
  return Guarded([&] {
    appwire::CallOptions call = CallOptionsFor(*channel, options);
    // The trailers live with the completion until it runs: the C++ call
    // fills them before it calls it.
    auto trailers = std::make_shared<appwire::Metadata>();
    call.trailers = trailers.get();
    // Nothing after this may touch `channel`: the completion may run inline
    // and free it.
    channel->channel->CallRawAsync(
        method, Bytes(request, request_size), call,
        [done, user_data, trailers](absl::StatusOr<std::string> response) {
          appwire_reply* reply = NewReply(
              response.status(), response.ok() ? *std::move(response) : std::string(), *trailers);
          done(user_data, reply);
        });
    return APPWIRE_OK;
  });
}

}  // extern "C"
