// Services every appwire-server offers: a health check, the server's
// version and TLS settings, and an echo for diagnostics and benchmarks.
//
//   appwire.v1.Health/Check    HealthCheckRequest  -> HealthCheckResponse
//   appwire.v1.ServerInfo/Get  ServerInfoRequest   -> ServerInfoResponse
//   appwire.v1.Echo/Echo       EchoRequest         -> EchoResponse
//   appwire.v1.Echo/EchoStream stream EchoRequest  -> stream EchoResponse
//   appwire.v1.Reflection/ListServices, /FileContaining  (RegisterReflection)
//   appwire.v1.Stats/Get       StatsRequest        -> StatsResponse (RegisterStats)
//
// Echo returns the request payload, except that a payload over 64 KiB gets a
// 16-byte reply, so upload benchmarks measure one direction. EchoStream sends
// every message back as it is.
#ifndef APPWIRE_SERVER_BUILTIN_SERVICES_H_
#define APPWIRE_SERVER_BUILTIN_SERVICES_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "appwire/common/tls_version.h"
#include "appwire/server/metric_families.h"
#include "appwire/server/service_registry.h"
#include "appwire/transport/certificate_info.h"

namespace appwire {

struct ServerOptions;

inline constexpr size_t kEchoLargeRequestBytes = 64 * 1024;
inline constexpr size_t kEchoLargeReplyBytes = 16;

// What ServerInfo reports about TLS: the settings in force when it is
// called (they change with database parameters).
struct BuiltinTlsSettings {
  TlsVersion min_version = TlsVersion::k1_3;
  TlsVersion max_version = TlsVersion::k1_3;
  std::string tls13_cipher_suites;
  size_t max_message_bytes = 0;
  CertificateInfo certificate;  // the default certificate
};

// appwire.v1.Reflection: the services `registry` serves and their .proto
// descriptors (from the program's generated code), for appwire list,
// describe and call without --proto. ServerOptions::reflection (default on).
absl::Status RegisterReflection(ServiceRegistry& registry);

// appwire.v1.Stats/Get: the metrics `gather` returns, as the metrics
// endpoint has them (ServerOptions::stats, default off: they say how busy
// the server is to anyone who may connect).
absl::Status RegisterStats(ServiceRegistry& registry,
                           std::function<absl::StatusOr<std::vector<MetricFamily>>()> gather);

absl::Status RegisterBuiltinServices(ServiceRegistry& registry,
                                     const ServerOptions& options,
                                     std::function<BuiltinTlsSettings()> tls_settings);

}  // namespace appwire

#endif  // APPWIRE_SERVER_BUILTIN_SERVICES_H_
