// ServiceRegistry: the methods a Server answers, by full method name.
//
//   auto registry = std::make_shared<ServiceRegistry>();
//   registry->Register<notes::AddRequest, notes::AddResponse>(
//       "notes.Notes/Add",
//       [&](CallContext& context, const notes::AddRequest& request)
//           -> absl::StatusOr<notes::AddResponse> { ... });
//
// Streaming methods register the same way, with stream objects
// (appwire/server/server_stream.h):
//
//   registry->RegisterServerStreaming<WatchRequest, Item>("inv.Inventory/Watch",
//       [&](CallContext& context, const WatchRequest& request,
//           ServerWriter<Item>& writer) -> absl::Status { ... });
//
// Generated service base classes (protoc-gen-appwire) call these for you.
//
// Handlers run on the server's worker pool, never on an I/O thread, so a slow
// handler does not stall other connections; they may block. They must be
// thread-safe: many calls run at once. A handler's non-OK status reaches the
// client unchanged (code and message).
//
// Register everything before Server::Start(); afterwards the registry is
// frozen and Register() fails with FailedPrecondition.
#ifndef APPWIRE_SERVER_SERVICE_REGISTRY_H_
#define APPWIRE_SERVER_SERVICE_REGISTRY_H_

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "appwire/common/export.h"
#include "appwire/common/method_kind.h"
#include "appwire/server/call_context.h"
#include "appwire/server/server_stream.h"

namespace appwire {

// Takes the serialized request, returns the serialized response.
using RawHandler =
    std::function<absl::StatusOr<std::string>(CallContext&, absl::string_view request)>;

// Where a handler runs.
enum class HandlerThread {
  // The server's worker pool (default): the handler may block, take locks,
  // do I/O; other connections are not affected.
  kWorkerPool,
  // The connection's I/O thread, inline, saving a thread hand-off (about a
  // third of a small call's latency). Only for handlers that never block
  // and finish in microseconds; a slow one stalls every connection on that
  // thread. The built-in health, server-info and echo handlers use it.
  kIoThread,
};

// A streaming handler: reads and writes serialized messages through the
// stream. Returns the serialized response for client-streaming methods, and
// an empty string (or an error) for the others.
using RawStreamHandler =
    std::function<absl::StatusOr<std::string>(CallContext&, ServerStream&)>;

struct APPWIRE_EXPORT RegisteredMethod {
  MethodKind kind = MethodKind::kUnary;
  RawHandler handler;               // unary
  RawStreamHandler stream_handler;  // the streaming kinds
  HandlerThread thread = HandlerThread::kWorkerPool;
};

// Who may call a service or a method, decided before the handler runs. A
// call is allowed when the client's certificate matches any list entry or
// the callback says yes; an empty policy allows everyone. A refused call
// gets kPermissionDenied naming the identity; the connection stays.
struct APPWIRE_EXPORT AuthorizationPolicy {
  std::vector<std::string> allowed_common_names;
  std::vector<std::string> allowed_subject_alt_names;
  std::vector<std::string> allowed_fingerprints;  // "SHA256:..."
  // Called with the caller's identity (nullptr for a client without a
  // certificate); true allows the call.
  std::function<bool(const PeerIdentity* identity, const std::string& method)> callback;

  bool empty() const {
    return allowed_common_names.empty() && allowed_subject_alt_names.empty() &&
           allowed_fingerprints.empty() && !callback;
  }
  bool Allows(const PeerIdentity* identity, const std::string& method) const;
};

class APPWIRE_EXPORT ServiceRegistry {
 public:
  // `method` is "package.Service/Method". InvalidArgument when malformed,
  // AlreadyExists when taken, FailedPrecondition once frozen.
  absl::Status RegisterRaw(const std::string& method, RawHandler handler,
                           HandlerThread thread = HandlerThread::kWorkerPool);

  // Typed registration for protobuf messages. A request that does not parse
  // as `Request` gets InvalidArgument without reaching the handler.
  template <typename Request, typename Response>
  absl::Status Register(
      const std::string& method,
      std::function<absl::StatusOr<Response>(CallContext&, const Request&)> handler,
      HandlerThread thread = HandlerThread::kWorkerPool) {
    return RegisterRaw(
        method, [method, handler = std::move(handler)](
                    CallContext& context, absl::string_view bytes) -> absl::StatusOr<std::string> {
          Request request;
          if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            return InvalidRequest(method, request.GetTypeName());
          }
          absl::StatusOr<Response> response = handler(context, request);
          if (!response.ok()) return response.status();
          return response->SerializeAsString();
        },
        thread);
  }

  // A streaming method (`kind` is not kUnary); each call gets a thread of its own.
  absl::Status RegisterStreamRaw(const std::string& method, MethodKind kind,
                                 RawStreamHandler handler);

  template <typename Request, typename Response>
  absl::Status RegisterServerStreaming(
      const std::string& method,
      std::function<absl::Status(CallContext&, const Request&, ServerWriter<Response>&)> handler) {
    return RegisterStreamRaw(
        method, MethodKind::kServerStreaming,
        [method, handler = std::move(handler)](
            CallContext& context, ServerStream& stream) -> absl::StatusOr<std::string> {
          std::string bytes;
          Request request;
          if (!stream.Read(&bytes) || !request.ParseFromString(bytes)) {
            return InvalidRequest(method, request.GetTypeName());
          }
          ServerWriter<Response> writer(stream);
          absl::Status status = handler(context, request, writer);
          if (!status.ok()) return status;
          return std::string();
        });
  }

  template <typename Request, typename Response>
  absl::Status RegisterClientStreaming(
      const std::string& method,
      std::function<absl::StatusOr<Response>(CallContext&, ServerReader<Request>&)> handler) {
    return RegisterStreamRaw(
        method, MethodKind::kClientStreaming,
        [handler = std::move(handler)](
            CallContext& context, ServerStream& stream) -> absl::StatusOr<std::string> {
          ServerReader<Request> reader(stream);
          absl::StatusOr<Response> response = handler(context, reader);
          if (!response.ok()) return response.status();
          return response->SerializeAsString();
        });
  }

  template <typename Request, typename Response>
  absl::Status RegisterBidiStreaming(
      const std::string& method,
      std::function<absl::Status(CallContext&, ServerReaderWriter<Request, Response>&)> handler) {
    return RegisterStreamRaw(
        method, MethodKind::kBidiStreaming,
        [handler = std::move(handler)](
            CallContext& context, ServerStream& stream) -> absl::StatusOr<std::string> {
          ServerReaderWriter<Request, Response> reader_writer(stream);
          absl::Status status = handler(context, reader_writer);
          if (!status.ok()) return status;
          return std::string();
        });
  }

  // Restricts `scope`: a full method name ("package.Service/Method") or a
  // service ("package.Service"), whose policy covers all its methods unless
  // a method has its own. Same freezing rule as registration.
  absl::Status SetPolicy(const std::string& scope, AuthorizationPolicy policy);
  // OK, or PermissionDenied naming the identity and the method.
  absl::Status Authorize(const std::string& method, const PeerIdentity* identity) const;

  // nullptr when no such method.
  const RegisteredMethod* Find(absl::string_view method) const;
  std::vector<std::string> Methods() const;
  // Every service with at least one method ("package.Service"), sorted.
  std::vector<std::string> Services() const;

  // Called by Server::Start().
  void Freeze() { frozen_.store(true); }

 private:
  static absl::Status InvalidRequest(const std::string& method, const std::string& type) {
    return absl::InvalidArgumentError(
        absl::StrCat("the request to ", method, " is not a valid ", type));
  }
  absl::Status Add(const std::string& method, RegisteredMethod registered);

  std::map<std::string, RegisteredMethod, std::less<>> handlers_;
  std::map<std::string, AuthorizationPolicy, std::less<>> policies_;
  std::atomic<bool> frozen_{false};
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_SERVICE_REGISTRY_H_
