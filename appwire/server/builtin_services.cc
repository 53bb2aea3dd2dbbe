#include "appwire/server/builtin_services.h"

#include <algorithm>
#include <set>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include "absl/strings/str_cat.h"
#include "appwire/server/server.h"
#include "appwire/v1/builtin.pb.h"

namespace appwire {
namespace {

// The length of EchoRequest.payload, read from the serialized request
// without copying it: field 1, wire type 2 (tag 0x0a), then a varint length.
// -1 when the request does not start that way (empty payloads are omitted
// on the wire, which reads as 0).
int64_t PayloadLength(absl::string_view bytes) {
  if (bytes.empty()) return 0;
  if (static_cast<unsigned char>(bytes[0]) != 0x0a) return -1;
  uint64_t length = 0;
  for (size_t i = 1; i < bytes.size() && i < 11; ++i) {
    unsigned char b = static_cast<unsigned char>(bytes[i]);
    length |= static_cast<uint64_t>(b & 0x7f) << (7 * (i - 1));
    if ((b & 0x80) == 0) return static_cast<int64_t>(length);
  }
  return -1;
}

namespace pb = ::google::protobuf;

// `file` after every file it imports, each once (dependencies first, as a
// DescriptorPool builds them).
void AppendWithDependencies(const pb::FileDescriptor* file, std::set<const pb::FileDescriptor*>* seen,
                            v1::FileContainingResponse* response) {
  if (!seen->insert(file).second) return;
  for (int i = 0; i < file->dependency_count(); ++i) {
    AppendWithDependencies(file->dependency(i), seen, response);
  }
  pb::FileDescriptorProto proto;
  file->CopyTo(&proto);
  response->add_file_descriptor_protos(proto.SerializeAsString());
}

// The descriptors of the registered services, from the program's own
// generated code (DescriptorPool::generated_pool): only services that are
// registered, and only those whose .proto was compiled in full (not lite).
absl::StatusOr<v1::FileContainingResponse> FileContaining(const ServiceRegistry& registry,
                                                          const std::string& symbol) {
  const pb::DescriptorPool& pool = *pb::DescriptorPool::generated_pool();
  const std::vector<std::string> services = registry.Services();
  const std::string service_name = symbol.substr(0, symbol.find('/'));
  const pb::FileDescriptor* file = nullptr;
  if (std::find(services.begin(), services.end(), service_name) != services.end()) {
    if (const pb::ServiceDescriptor* service = pool.FindServiceByName(service_name)) {
      file = service->file();
    } else {
      return absl::NotFoundError(absl::StrCat(
          service_name, " is served, but this server was built without its .proto descriptor "
          "(a lite or raw registration): call it with appwire call --proto FILE"));
    }
  } else {
    // A message, reachable from a registered service's file.
    for (const std::string& name : services) {
      const pb::ServiceDescriptor* service = pool.FindServiceByName(name);
      if (service == nullptr) continue;
      const pb::Descriptor* message = pool.FindMessageTypeByName(symbol);
      if (message == nullptr) break;
      std::set<const pb::FileDescriptor*> reachable;
      std::vector<const pb::FileDescriptor*> pending = {service->file()};
      while (!pending.empty() && file == nullptr) {
        const pb::FileDescriptor* next = pending.back();
        pending.pop_back();
        if (!reachable.insert(next).second) continue;
        if (next == message->file()) file = next;
        for (int i = 0; i < next->dependency_count(); ++i) pending.push_back(next->dependency(i));
      }
      if (file != nullptr) break;
    }
  }
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "this server serves no service and no message named ", symbol,
        " (appwire.v1.Reflection/ListServices lists the services)"));
  }
  v1::FileContainingResponse response;
  std::set<const pb::FileDescriptor*> seen;
  AppendWithDependencies(file, &seen, &response);
  return response;
}

}  // namespace

absl::Status RegisterReflection(ServiceRegistry& registry) {
  const ServiceRegistry* served = &registry;  // outlives its handlers
  absl::Status status = registry.Register<v1::ListServicesRequest, v1::ListServicesResponse>(
      "appwire.v1.Reflection/ListServices",
      [served](CallContext&, const v1::ListServicesRequest&)
          -> absl::StatusOr<v1::ListServicesResponse> {
        v1::ListServicesResponse response;
        for (const std::string& service : served->Services()) response.add_services(service);
        return response;
      });
  if (!status.ok()) return status;
  return registry.Register<v1::FileContainingRequest, v1::FileContainingResponse>(
      "appwire.v1.Reflection/FileContaining",
      [served](CallContext&, const v1::FileContainingRequest& request) {
        return FileContaining(*served, request.symbol());
      });
}

absl::Status RegisterStats(ServiceRegistry& registry,
                           std::function<absl::StatusOr<std::vector<MetricFamily>>()> gather) {
  return registry.Register<v1::StatsRequest, v1::StatsResponse>(
      "appwire.v1.Stats/Get",
      [gather](CallContext&, const v1::StatsRequest&) -> absl::StatusOr<v1::StatsResponse> {
        absl::StatusOr<std::vector<MetricFamily>> families = gather();
        if (!families.ok()) return families.status();
        return MetricFamiliesToProto(*families);
      });
}

absl::Status RegisterBuiltinServices(ServiceRegistry& registry,
                                     const ServerOptions& options,
                                     std::function<BuiltinTlsSettings()> tls_settings) {
  absl::Status status = registry.Register<v1::HealthCheckRequest, v1::HealthCheckResponse>(
      "appwire.v1.Health/Check",
      [](CallContext&, const v1::HealthCheckRequest&) -> absl::StatusOr<v1::HealthCheckResponse> {
        v1::HealthCheckResponse response;
        response.set_status(v1::HealthCheckResponse::SERVING);
        return response;
      },
      HandlerThread::kIoThread);
  if (!status.ok()) return status;

  v1::ServerInfoResponse info;
  info.set_software_name(options.software_name);
  info.set_software_version(options.software_version);
  info.set_protocol_version(kProtocolVersion);
  info.set_alpn("appwire/1");
  status = registry.Register<v1::ServerInfoRequest, v1::ServerInfoResponse>(
      "appwire.v1.ServerInfo/Get",
      [info, tls_settings](CallContext& context, const v1::ServerInfoRequest&)
          -> absl::StatusOr<v1::ServerInfoResponse> {
        v1::ServerInfoResponse response = info;
        const BuiltinTlsSettings settings = tls_settings();
        response.set_min_tls_version(std::string(TlsVersionName(settings.min_version)));
        response.set_max_tls_version(std::string(TlsVersionName(settings.max_version)));
        response.set_tls13_cipher_suites(settings.tls13_cipher_suites);
        response.set_max_message_bytes(settings.max_message_bytes);
        response.set_certificate_subject(settings.certificate.subject);
        response.set_certificate_not_after(FormatUtc(settings.certificate.not_after));
        response.set_certificate_sha256(settings.certificate.sha256_fingerprint);
        response.set_negotiated_tls_version(context.tls_version());
        response.set_negotiated_cipher(context.cipher());
        return response;
      },
      HandlerThread::kIoThread);
  if (!status.ok()) return status;

  // Raw as well: EchoRequest and EchoResponse share their layout.
  status = registry.RegisterStreamRaw(
      "appwire.v1.Echo/EchoStream", MethodKind::kBidiStreaming,
      [](CallContext&, ServerStream& stream) -> absl::StatusOr<std::string> {
        std::string message;
        while (stream.Read(&message)) {
          if (!stream.Write(message)) break;
        }
        return std::string();
      });
  if (!status.ok()) return status;

  // Raw, to avoid a parse and a copy of large payloads on the hot path.
  return registry.RegisterRaw(
      "appwire.v1.Echo/Echo",
      [](CallContext&, absl::string_view bytes) -> absl::StatusOr<std::string> {
        const int64_t payload_length = PayloadLength(bytes);
        if (payload_length < 0 || payload_length <= static_cast<int64_t>(kEchoLargeRequestBytes)) {
          // EchoRequest and EchoResponse share their layout (bytes payload = 1),
          // so the serialized request is the serialized response.
          v1::EchoRequest request;
          if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            return absl::InvalidArgumentError(
                "the request to appwire.v1.Echo/Echo is not a valid appwire.v1.EchoRequest");
          }
          return std::string(bytes);
        }
        v1::EchoResponse response;
        response.set_payload(std::string(kEchoLargeReplyBytes, 'k'));
        return response.SerializeAsString();
      },
      // Microseconds of work at most (a copy of up to 64 KiB, or a 16-byte
      // reply): cheaper inline than a thread hand-off.
      HandlerThread::kIoThread);
}

}  // namespace appwire
