// The C API's streaming calls (appwire/c/appwire.h): a ClientStream behind
// a handle; reads keep the last message in the handle so that C gets a
// pointer without an allocation per message.
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "appwire/c/appwire.h"
#include "appwire/c/internal/handles.h"
#include "appwire/client/channel.h"
#include "appwire/common/method_kind.h"

using appwire::c_api::Guarded;
using appwire::c_api::NewReply;

extern "C" {

appwire_code appwire_stream_open(appwire_channel* channel, const char* method,
                                 appwire_method_kind kind, const void* request,
                                 size_t request_size, const appwire_call_options* options,
                                 appwire_stream** stream) {
  if (stream == nullptr) return APPWIRE_INVALID_ARGUMENT;
  *stream = nullptr;
  if (channel == nullptr || method == nullptr || (request == nullptr && request_size > 0) ||
      (kind != APPWIRE_SERVER_STREAMING && kind != APPWIRE_CLIENT_STREAMING &&
       kind != APPWIRE_BIDI_STREAMING)) {
    return APPWIRE_INVALID_ARGUMENT;
  }
  return Guarded([&] {
    appwire::CallOptions call;
    if (options != nullptr) call = options->options;
    if (options == nullptr || !options->timeout_set) call.timeout = channel->default_timeout;
    auto handle = std::make_unique<appwire_stream>();
    std::string bytes;
    if (request_size > 0) bytes.assign(static_cast<const char*>(request), request_size);
    handle->stream = channel->channel->OpenStream(method, static_cast<appwire::MethodKind>(kind),
                                                  std::move(bytes), call);
    *stream = handle.release();
    return APPWIRE_OK;
  });
}

appwire_code appwire_stream_read(appwire_stream* stream, const uint8_t** data, size_t* size) {
  if (data != nullptr) *data = nullptr;
  if (size != nullptr) *size = 0;
  if (stream == nullptr || data == nullptr || size == nullptr) return APPWIRE_INVALID_ARGUMENT;
  return Guarded([&] {
    if (!stream->stream->Read(&stream->message)) return APPWIRE_OUT_OF_RANGE;
    *data = reinterpret_cast<const uint8_t*>(stream->message.data());
    *size = stream->message.size();
    return APPWIRE_OK;
  });
}

appwire_code appwire_stream_write(appwire_stream* stream, const void* data, size_t size) {
  if (stream == nullptr || (data == nullptr && size > 0)) return APPWIRE_INVALID_ARGUMENT;
  return Guarded([&] {
    const absl::string_view message(size == 0 ? "" : static_cast<const char*>(data), size);
    return stream->stream->Write(message) ? APPWIRE_OK : APPWIRE_OUT_OF_RANGE;
  });
}

appwire_code appwire_stream_writes_done(appwire_stream* stream) {
  if (stream == nullptr) return APPWIRE_INVALID_ARGUMENT;
  return Guarded([&] { return stream->stream->WritesDone() ? APPWIRE_OK : APPWIRE_OUT_OF_RANGE; });
}

appwire_code appwire_stream_finish(appwire_stream* stream, appwire_reply** reply) {
  if (reply == nullptr) return APPWIRE_INVALID_ARGUMENT;
  *reply = nullptr;
  if (stream == nullptr) return APPWIRE_INVALID_ARGUMENT;
  return Guarded([&] {
    const absl::Status status = stream->stream->Finish();
    *reply = NewReply(status, stream->stream->response(), stream->stream->trailers());
    if (*reply == nullptr) return APPWIRE_RESOURCE_EXHAUSTED;
    return (*reply)->code;
  });
}

appwire_code appwire_stream_cancel(appwire_stream* stream) {
  if (stream == nullptr) return APPWIRE_INVALID_ARGUMENT;
  return Guarded([&] {
    stream->stream->Cancel();
    return APPWIRE_OK;
  });
}

void appwire_stream_free(appwire_stream* stream) { delete stream; }

}  // extern "C"
