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

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "appwire/common/export.h"
#include "appwire/common/parameters.h"
#include "appwire/common/tls_version.h"
#include "appwire/common/version.h"
#include "appwire/server/service_registry.h"
#include "appwire/transport/certificate_info.h"

namespace appwire {

// Certificates from an ACME CA (Let's Encrypt, or a private one), as
// NetTalk and X4B's AutoSSL get them: for the names listed, from the start,
// and on demand for names a handshake asks for. Each lands in
// certificates/<name>.crt and .key (0600), which the server serves by SNI
// at once; the base certificate (cert.pem) is served whenever no issued
// one applies. docs/configuration.md, "AutoSSL", says more.
struct APPWIRE_EXPORT AcmeOptions {
  // Managed from start: issued when missing, renewed when due.
  std::vector<std::string> domains;
  // On demand: the first handshake naming an allowed name that has no
  // certificate starts an order (that handshake gets the base
  // certificate; later ones the new one). Allowed: a name matching one of
  // `allow` ("*.shop.example" matches one label, "pos-*.example" a label's
  // prefix) or accepted by `allow_name` (called on the issuing thread, never
  // during a handshake). Neither set: nothing is allowed.
  bool on_demand = false;
  std::vector<std::string> allow;
  std::function<bool(const std::string& name)> allow_name;
  // The CA's directory. Empty: Let's Encrypt (its staging server when
  // `staging`).
  std::string directory;
  bool staging = false;
  // The account's contact address (optional) and the CA's own TLS root
  // for private CAs (PEM file; empty: the system trust store).
  std::string email;
  std::string ca_file;
  // External account binding, for CAs that require one.
  std::string eab_key_id;
  std::string eab_hmac_key;
  // HTTP-01 (RFC 8555 section 8.3) instead of TLS-ALPN-01: the CA fetches
  // http://NAME/.well-known/acme-challenge/TOKEN on port 80, which must
  // reach this plain HTTP port (80 itself, or where port 80 is forwarded),
  // bound to bind_address. For setups where port 443 does not reach the
  // server directly (NetTalk's way). Unset: TLS-ALPN-01 on the server's own
  // port.
  std::optional<int> http_port;
  // How often certificates are checked for renewal (and failed issuances
  // retried once their backoff has passed).
  absl::Duration check_interval = absl::Hours(1);
  // A certificate is due for renewal when less than this remains, or a
  // third of its lifetime, whichever comes first.
  absl::Duration renew_before = absl::Hours(24 * 30);
  // Bounds on orders: at most this many new names per hour on demand, and
  // after a failure a name waits retry_backoff, doubling to a day.
  int on_demand_per_hour = 20;
  absl::Duration retry_backoff = absl::Minutes(1);

  // Told each issuance's outcome, on the issuing thread: the name and OK
  // (the certificate is saved and served), or why it failed. For apps that
  // show it, and `appwire acme issue`.
  std::function<void(const std::string& name, const absl::Status& result)> on_result;

  bool enabled() const { return !domains.empty() || on_demand; }
};

struct APPWIRE_EXPORT ServerOptions {
  // Folder holding key.pem and cert.pem; a self-signed pair is generated
  // there when both are absent. Required.
  std::string project_dir;
  // Address to listen on. Default 127.0.0.1: nothing is exposed to the
  // network until the operator says so ("0.0.0.0", "::", or one address).
  std::string bind_address = "127.0.0.1";
  // TCP port; 0 picks a free one (see Server::port()). Unset: the
  // kClientServerPortId parameter (default 19813). Read by Start().
  std::optional<int> port;
  // This server's values of database parameters (TLS versions, cipher
  // suites, groups, limits, timeouts); unset ones follow the process-wide
  // values (SetDatabaseParameter). Changeable while running with
  // Server::SetParameter.
  ParameterOverrides parameters;
  // The CAs trusted for client certificates (kClientCertificateMode).
  // Default: client-ca.pem in the project folder.
  std::string client_ca_file;
  // Where the passphrase of an encrypted key.pem (or SNI key) comes from:
  // a file whose first line is the passphrase, or an environment variable.
  std::string key_passphrase_file;
  std::string key_passphrase_env;
  // A Prometheus scrape target: GET /metrics on a plain HTTP port of its
  // own (0 picks a free one, see Server::metrics_port()). Unset: none.
  // Plain HTTP, so bound to 127.0.0.1 unless metrics_bind says otherwise:
  // the numbers say how busy the server is and which methods it has.
  // docs/operations.md lists the metrics. Read by Start().
  std::optional<int> metrics_port;
  std::string metrics_bind = "127.0.0.1";
  // One log event per answered call (an access log): peer, identity (the
  // client certificate's subject, "-" without one), method, status,
  // duration_us, bytes_in, bytes_out. Off by default.
  bool access_log = false;
  // Serve appwire.v1.Reflection (the services and their .proto
  // descriptors, for tools such as appwire list and appwire call). Default
  // on, like the other built-in services; false keeps what is served private.
  bool reflection = true;
  // Serve appwire.v1.Stats/Get: the metrics of the metrics endpoint through
  // the appwire port, for `appwire stats` where metrics_port cannot be
  // reached. Default off: anyone who may connect would see how busy the
  // server is.
  bool stats = false;
  // How often the certificate files are checked for changes (then
  // reloaded). Default 5 s; zero turns the check off.
  absl::Duration certificate_check_interval = absl::Seconds(5);
  // Handler threads; 0 = max(4, hardware threads).
  int worker_threads = 0;
  // Offer appwire.v1.Health/Check, appwire.v1.ServerInfo/Get,
  // appwire.v1.Echo/Echo and Echo/EchoStream (see builtin_services.h).
  // Default on.
  bool builtin_services = true;
  // Certificates from an ACME CA (AutoSSL). Default: none.
  AcmeOptions acme;
  // Sent in the hello frame.
  std::string software_name = "appwire-server";
  std::string software_version = kSoftwareVersion;

  absl::Status Validate() const;
};

class APPWIRE_EXPORT Server {
 public:
  // Validates options, loads the project folder's files (or makes a
  // self-signed pair when key.pem and cert.pem are both absent) and builds
  // the TLS configuration, exactly as a start would. Writes nothing: a
  // server created and never started is a check of the configuration, and
  // leaves the folder as it was. Errors name the file or option and the fix.
  static absl::StatusOr<std::unique_ptr<Server>> Create(
      ServerOptions options, std::shared_ptr<ServiceRegistry> registry);
  ~Server();  // Drain(0) if still running.

  // Binds, then writes what Create made (the generated key.pem, 0600, and
  // cert.pem; session-ticket.key), then starts serving. Freezes the
  // registry. A start that fails to bind writes nothing.
  absl::Status Start();

  // Reads key.pem, cert.pem, certificates/, dhparams.pem and client-ca.pem
  // again and, when
  // all are good, serves them to connections opened from now on (open ones
  // are never dropped). A bad file keeps the last good configuration and is
  // returned (and logged). appwire-server calls this on SIGHUP; the server
  // also calls it when the files change (certificate_check_interval).
  absl::Status ReloadCertificates();

  // Overrides a database parameter for this server. Like
  // SetDatabaseParameter, it applies to connections accepted after the call
  // and leaves open ones as they are. InvalidArgument (naming the selector,
  // the value and what is allowed) and no change when the value is refused.
  absl::Status SetParameter(Parameter selector, ParameterValue value);
  // The value in force for this server (its override, else process-wide).
  ParameterValue GetParameter(Parameter selector) const;

  // Stops accepting, tells every client to start no new calls here (a
  // graceful GoAway; clients reconnect elsewhere or later), lets calls in
  // flight finish for up to `timeout`, cancels the ones still running and
  // answers them kUnavailable, then closes TLS cleanly. Requests that cross
  // the GoAway get kUnavailable "... was not processed". Bounded whatever
  // handlers do: a handler still running 2 s after its cancellation is
  // abandoned (its result is dropped; it finishes in the background) and
  // logged. So Drain returns within about `timeout` + 3 s. Idempotent.
  void Drain(absl::Duration timeout = absl::Seconds(30));

  // The bound port (useful with port 0) and "127.0.0.1:19813".
  int port() const;
  // The port of the metrics endpoint (ServerOptions::metrics_port); 0 when
  // there is none.
  int metrics_port() const;
  // "127.0.0.1:19813", "[::1]:19813": where it listens once started; before
  // Start(), where it will (the configured port, 0 for any free one).
  std::string listen_address() const;
  // The TLS settings new connections get now.
  struct TlsSettings {
    TlsVersion min_version;
    TlsVersion max_version;
    std::string tls13_cipher_suites;
    std::string tls12_cipher_list;  // empty when TLS 1.2 is not allowed
    size_t max_message_bytes;
  };
  TlsSettings tls_settings() const;
  // The default certificate being served, and whether Create() generated it
  // (written by Start()).
  CertificateInfo certificate() const;
  bool certificate_generated() const;
  const ServerOptions& options() const;

  struct Stats {
    uint64_t connections_accepted = 0;
    uint64_t handshakes_failed = 0;
    // Connections that closed without sending a byte, or finished a TLS
    // handshake without ALPN "appwire/1": health checks and scanners, not
    // clients. Not in handshakes_failed; only the first of each kind is
    // logged.
    uint64_t probes = 0;
    uint64_t calls_completed = 0;
    int open_connections = 0;
  };
  Stats stats() const;

  struct APPWIRE_HIDDEN Impl;

 private:
  friend class ServerTestingPeer;  // appwire/server/internal/testing_peer.h
  explicit Server(std::shared_ptr<Impl> impl);
  // ServerOptions::port, else the kClientServerPortId parameter.
  int ConfiguredPort() const;
  // Shared with the tasks running handlers: a handler abandoned by Drain
  // (it ignored its cancellation) keeps what it touches alive.
  std::shared_ptr<Impl> impl_;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_SERVER_H_
