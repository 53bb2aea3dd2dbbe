// Server: the appwire application server as a library. appwire-server is a
// thin main() around it; apps with their own services embed it directly.
//
//   auto registry = std::make_shared<ServiceRegistry>();
//   RegisterBuiltinServices(*registry, ...);  // optional
//   ServerOptions options;
//   options.project_dir = "/srv/myproject";   // key.pem, cert.pem live here
//   auto server = Server::Create(options, registry);
//   if (!server.ok()) { LogError(server.status().message()); return 1; }
//   absl::Status started = (*server)->Start();
//   ...
//   (*server)->Drain(absl::Seconds(30));
//
// Threads: Start/Drain from the owning thread; everything else is
// thread-safe. Handlers run on a worker pool (see ServiceRegistry).
#ifndef APPWIRE_SERVER_SERVER_H_
#define APPWIRE_SERVER_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/tls_version.h"
#include "common/version.h"
#include "server/service_registry.h"
#include "transport/certificate_info.h"

namespace appwire {

struct ServerOptions {
  // Folder holding key.pem and cert.pem; a self-signed pair is generated
  // there when both are absent. Required.
  std::string project_dir;
  // Address to listen on. Default 127.0.0.1: nothing is exposed to the
  // network until the operator says so ("0.0.0.0", "::", or one address).
  std::string bind_address = "127.0.0.1";
  // TCP port; 0 picks a free one (see Server::port()). Default 19813.
  int port = kDefaultPort;
  // Lowest/highest TLS version accepted. Default TLS 1.3 only.
  TlsVersion min_tls_version = TlsVersion::k1_3;
  TlsVersion max_tls_version = TlsVersion::k1_3;
  // TLS 1.3 suites, colon-separated IANA names; empty = default.
  std::string tls13_cipher_suites;
  // Largest request or response message, in bytes. Default 16 MiB.
  size_t max_message_bytes = 16u << 20;
  // A TLS handshake must finish within this. Default 10 s.
  absl::Duration handshake_timeout = absl::Seconds(10);
  // Handler threads; 0 = max(4, hardware threads).
  int worker_threads = 0;
  // Offer appwire.v1.Health/Check, appwire.v1.ServerInfo/Get and
  // appwire.v1.Echo/Echo (see builtin_services.h). Default on.
  bool builtin_services = true;
  // Sent in the hello frame.
  std::string software_name = "appwire-server";
  std::string software_version = kSoftwareVersion;

  absl::Status Validate() const;
};

class Server {
 public:
  // Validates options, loads (or creates) the certificate and builds the TLS
  // configuration. Errors name the file or option and the fix.
  static absl::StatusOr<std::unique_ptr<Server>> Create(
      ServerOptions options, std::shared_ptr<ServiceRegistry> registry);
  ~Server();  // Drain(0) if still running.

  // Binds and starts serving. Freezes the registry.
  absl::Status Start();

  // Stops accepting, lets calls in flight finish for up to `timeout`, then
  // tells every client (GoAway) and closes TLS cleanly. Idempotent.
  void Drain(absl::Duration timeout = absl::Seconds(30));

  // The bound port (useful with port 0) and "127.0.0.1:19813".
  int port() const;
  std::string listen_address() const;
  // The default certificate being served, and whether Create() generated it.
  const CertificateInfo& certificate() const;
  bool certificate_generated() const;
  const ServerOptions& options() const;

  struct Stats {
    uint64_t connections_accepted = 0;
    uint64_t handshakes_failed = 0;
    uint64_t calls_completed = 0;
    int open_connections = 0;
  };
  Stats stats() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_SERVER_H_
