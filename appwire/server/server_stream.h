// Streams as a streaming handler sees them.
//
//   // rpc Watch(WatchRequest) returns (stream Item);
//   absl::Status Watch(CallContext& context, const WatchRequest& request,
//                      ServerWriter<Item>& writer) {
//     for (const Item& item : Items()) {
//       if (!writer.Write(item)) break;  // cancelled, or the client is gone
//     }
//     return absl::OkStatus();
//   }
//
// Write() blocks while the client's flow-control window is used up (the
// client reads slower than we write); Read() blocks until a message, the
// end of the client's messages, or the end of the call. Both return false
// once the call is over: cancelled (see CallContext), past its deadline, or
// its connection lost. Each streaming handler runs on a thread of its own
// (open streams never starve unary calls); Server::Drain waits for them.
#ifndef APPWIRE_SERVER_SERVER_STREAM_H_
#define APPWIRE_SERVER_SERVER_STREAM_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "appwire/common/export.h"

namespace appwire {

struct ServerCall;

// The untyped stream: serialized messages.
class APPWIRE_EXPORT ServerStream {
 public:
  explicit ServerStream(std::shared_ptr<ServerCall> call);
  // The next message from the client; false at the end of its messages or
  // of the call.
  bool Read(std::string* message);
  // Sends one message; false when the call is over or the message is over
  // the size limit (the call then ends with kResourceExhausted).
  bool Write(absl::string_view message);

 private:
  std::shared_ptr<ServerCall> call_;
};

template <typename Response>
class ServerWriter {
 public:
  explicit ServerWriter(ServerStream& stream) : stream_(stream) {}
  bool Write(const Response& response) { return stream_.Write(response.SerializeAsString()); }

 private:
  ServerStream& stream_;
};

// A message that does not parse as `Request` ends the reading (false).
template <typename Request>
class ServerReader {
 public:
  explicit ServerReader(ServerStream& stream) : stream_(stream) {}
  bool Read(Request* request) {
    std::string bytes;
    return stream_.Read(&bytes) && request->ParseFromString(bytes);
  }

 private:
  ServerStream& stream_;
};

template <typename Request, typename Response>
class ServerReaderWriter {
 public:
  explicit ServerReaderWriter(ServerStream& stream) : reader_(stream), writer_(stream) {}
  bool Read(Request* request) { return reader_.Read(request); }
  bool Write(const Response& response) { return writer_.Write(response); }

 private:
  ServerReader<Request> reader_;
  ServerWriter<Response> writer_;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_SERVER_STREAM_H_
