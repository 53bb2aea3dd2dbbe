#include "appwire/server/builtin_services.h"

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

}  // namespace

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
