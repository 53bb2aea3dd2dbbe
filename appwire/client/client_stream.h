// Streaming calls on the client.
//
//   // rpc Watch(WatchRequest) returns (stream Item);   server streaming
//   std::unique_ptr<ClientReader<Item>> watch = stub.Watch(request);
//   Item item;
//   while (watch->Read(&item)) Show(item);
//   absl::Status status = watch->Finish();
//
//   // rpc Upload(stream Chunk) returns (UploadReply);   client streaming
//   auto upload = stub.Upload();
//   for (const Chunk& chunk : chunks) if (!upload->Write(chunk)) break;
//   absl::StatusOr<UploadReply> reply = upload->Finish();  // ends writing too
//
// Write() blocks while the server's flow-control window is used up (it
// reads slower than we write), so memory stays bounded on both ends.
// Read() blocks for the next message. Both return false once the call is
// over; Finish() then says how it ended (the server's status, the deadline,
// a cancel, a lost connection). Destroying an unfinished stream cancels the
// call. One thread may read while another writes.
#ifndef APPWIRE_CLIENT_CLIENT_STREAM_H_
#define APPWIRE_CLIENT_CLIENT_STREAM_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "appwire/common/export.h"
#include "appwire/common/metadata.h"

namespace appwire {

struct ClientStreamState;

// The untyped stream: serialized messages.
class APPWIRE_EXPORT ClientStream {
 public:
  explicit ClientStream(std::shared_ptr<ClientStreamState> state);
  ~ClientStream();
  ClientStream(const ClientStream&) = delete;
  ClientStream& operator=(const ClientStream&) = delete;

  // Sends one message (client and bidirectional streaming).
  bool Write(absl::string_view message);
  // No more messages from us (client and bidirectional streaming).
  bool WritesDone();
  // The next message from the server; false at the end of its messages.
  bool Read(std::string* message);
  // Ends writing if not done yet, waits for the call's status, and returns
  // it. For client-streaming calls response() then holds the reply.
  absl::Status Finish();
  const std::string& response() const;
  // The server's trailers, once Finish() returned.
  const Metadata& trailers() const;
  // Abandons the call: the server's handler is cancelled, Finish() gives
  // kCancelled. Thread-safe.
  void Cancel();

 private:
  std::shared_ptr<ClientStreamState> state_;
};

namespace internal {

// Typed reads for ClientReader and ClientReaderWriter: a message that does
// not parse ends the reading and the call, and Finish() says so.
template <typename Response>
class TypedReads {
 public:
  bool Read(ClientStream& stream, Response* response) {
    std::string bytes;
    if (!stream.Read(&bytes)) return false;
    if (response->ParseFromString(bytes)) return true;
    parse_error_ = absl::InternalError(
        absl::StrCat("a message from the server is not a valid ", response->GetTypeName()));
    stream.Cancel();
    return false;
  }
  absl::Status Finish(ClientStream& stream) {
    absl::Status status = stream.Finish();
    return parse_error_.ok() ? status : parse_error_;
  }

 private:
  absl::Status parse_error_;
};

}  // namespace internal

template <typename Response>
class ClientReader {
 public:
  explicit ClientReader(std::unique_ptr<ClientStream> stream) : stream_(std::move(stream)) {}
  // False at the end, or when a message does not parse as `Response`
  // (Finish() then says so).
  bool Read(Response* response) { return reads_.Read(*stream_, response); }
  absl::Status Finish() { return reads_.Finish(*stream_); }
  void Cancel() { stream_->Cancel(); }
  const Metadata& trailers() const { return stream_->trailers(); }

 private:
  std::unique_ptr<ClientStream> stream_;
  internal::TypedReads<Response> reads_;
};

template <typename Request, typename Response>
class ClientWriter {
 public:
  explicit ClientWriter(std::unique_ptr<ClientStream> stream) : stream_(std::move(stream)) {}
  bool Write(const Request& request) { return stream_->Write(request.SerializeAsString()); }
  bool WritesDone() { return stream_->WritesDone(); }
  // Ends writing, waits for the reply.
  absl::StatusOr<Response> Finish() {
    absl::Status status = stream_->Finish();
    if (!status.ok()) return status;
    Response response;
    if (!response.ParseFromString(stream_->response())) {
      return absl::InternalError(
          absl::StrCat("the reply is not a valid ", response.GetTypeName()));
    }
    return response;
  }
  void Cancel() { stream_->Cancel(); }
  const Metadata& trailers() const { return stream_->trailers(); }

 private:
  std::unique_ptr<ClientStream> stream_;
};

template <typename Request, typename Response>
class ClientReaderWriter {
 public:
  explicit ClientReaderWriter(std::unique_ptr<ClientStream> stream)
      : stream_(std::move(stream)) {}
  bool Write(const Request& request) { return stream_->Write(request.SerializeAsString()); }
  bool WritesDone() { return stream_->WritesDone(); }
  // False at the end, or when a message does not parse as `Response`
  // (Finish() then says so).
  bool Read(Response* response) { return reads_.Read(*stream_, response); }
  absl::Status Finish() { return reads_.Finish(*stream_); }
  void Cancel() { stream_->Cancel(); }
  const Metadata& trailers() const { return stream_->trailers(); }

 private:
  std::unique_ptr<ClientStream> stream_;
  internal::TypedReads<Response> reads_;
};

}  // namespace appwire

#endif  // APPWIRE_CLIENT_CLIENT_STREAM_H_
