// Server::Impl: what a Server is made of, shared by server.cc (Create,
// Start, accept, accessors, ServerTestingPeer) and drain.cc (Drain). Each
// part is a unit of its own:
//   TlsConfiguration    appwire/server/tls_configuration.h  contexts, reload, DH, expiry
//   AcmeManager         appwire/server/acme_manager.h       certificates from an ACME CA
//   ConnectionRegistry  appwire/server/connection_registry.h open connections and their ticks
//   Dispatcher          appwire/server/dispatch.h           hello, requests, calls, deadlines
//   ServerParameters    appwire/server/server_parameters.h  this server's database parameters
// Internal: not installed, not for applications.
#ifndef APPWIRE_SERVER_INTERNAL_SERVER_IMPL_H_
#define APPWIRE_SERVER_INTERNAL_SERVER_IMPL_H_

#include <memory>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "absl/time/time.h"
#include "appwire/server/acme_manager.h"
#include "appwire/server/connection_registry.h"
#include "appwire/server/dispatch.h"
#include "appwire/server/http_endpoint.h"
#include "appwire/server/server.h"
#include "appwire/server/server_metrics.h"
#include "appwire/server/server_parameters.h"
#include "appwire/server/service_registry.h"
#include "appwire/server/tls_configuration.h"

namespace appwire {

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  // First: every timer, socket and acceptor below uses it, so it must be
  // destroyed after all of them (members are destroyed in reverse order).
  asio::io_context io{1};
  ServerOptions options;
  std::shared_ptr<ServiceRegistry> registry;
  std::shared_ptr<ServerParameters> parameters;
  std::unique_ptr<TlsConfiguration> tls;
  std::unique_ptr<AcmeManager> acme;  // when options.acme.enabled()
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<ConnectionRegistry> connections;
  const std::shared_ptr<ServerMetrics> metrics = std::make_shared<ServerMetrics>();
  std::unique_ptr<HttpEndpoint> metrics_endpoint;  // when options.metrics_port is set
  std::unique_ptr<HttpEndpoint> acme_http_endpoint;  // when options.acme.http_port is set

  std::unique_ptr<asio::ip::tcp::acceptor> acceptor;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread io_thread;
  // Accept failures (descriptors used up): the back-off and its log line.
  // I/O thread only.
  std::unique_ptr<asio::steady_timer> accept_timer;
  absl::Duration accept_backoff = absl::ZeroDuration();
  absl::Time accept_failures_logged = absl::InfinitePast();
  int accept_failures_unlogged = 0;
  int bound_port = 0;
  bool started = false;  // the owning thread only (Start, Drain)

  void Accept();
  void OnAccepted(asio::ip::tcp::socket socket);
  // The metrics, for appwire.v1.Stats/Get, and as the exposition a metrics
  // scrape gets (any thread: each source has its own lock).
  std::vector<MetricFamily> GatherMetrics() const;
  std::string RenderMetrics() const;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_INTERNAL_SERVER_IMPL_H_
