// Server: the façade. Create assembles the units (appwire/server/internal/
// server_impl.h lists them), Start binds and starts the I/O thread, the
// acceptor hands each socket to the connection registry; Drain is in
// drain.cc.
#include "appwire/server/server.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include <asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "appwire/common/log.h"
#include "appwire/server/builtin_services.h"
#include "appwire/server/internal/listener.h"
#include "appwire/server/internal/server_impl.h"
#include "appwire/server/internal/testing_peer.h"
#include "appwire/transport/memory_stream.h"
#include "appwire/transport/tls_stream.h"

namespace appwire {

absl::Status ServerOptions::Validate() const {
  if (project_dir.empty()) {
    return absl::InvalidArgumentError(
        "project_dir is empty; give the folder that holds (or will hold) key.pem and cert.pem");
  }
  if (port.has_value() && (*port < 0 || *port > 65535)) {
    return absl::InvalidArgumentError(
        absl::StrCat("port ", *port, " is out of range; use 1-65535, or 0 for any free port"));
  }
  std::error_code error;
  asio::ip::make_address(bind_address, error);
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bind address \"", bind_address,
        "\" is not an IP address; use e.g. 127.0.0.1, ::1, 0.0.0.0 or ::"));
  }
  if (metrics_port.has_value() && (*metrics_port < 0 || *metrics_port > 65535)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics_port ", *metrics_port, " is out of range; use 1-65535, or 0 for any free port"));
  }
  asio::ip::make_address(metrics_bind, error);
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics bind address \"", metrics_bind,
        "\" is not an IP address; use 127.0.0.1 (the default) or the address Prometheus reaches"));
  }
  absl::Status domains = CheckAcmeDomains(acme.domains, "acme.domains");
  if (!domains.ok()) return domains;
  if (acme.http_port.has_value() && (*acme.http_port < 1 || *acme.http_port > 65535)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "acme.http_port ", *acme.http_port, " is out of range; use the port that port 80 reaches"));
  }
  if (acme.on_demand_per_hour < 0 || acme.check_interval <= absl::ZeroDuration() ||
      acme.retry_backoff <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "acme: on_demand_per_hour must not be negative, check_interval and retry_backoff must "
        "be positive");
  }
  if (worker_threads < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("worker_threads ", worker_threads, " is negative; use 0 for automatic"));
  }
  return absl::OkStatus();
}

Server::Server(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Drain(absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<Server>> Server::Create(
    ServerOptions options, std::shared_ptr<ServiceRegistry> registry) {
  absl::Status status = options.Validate();
  if (!status.ok()) return status;
  if (registry == nullptr) registry = std::make_shared<ServiceRegistry>();
  auto impl = std::make_shared<Impl>();
  impl->parameters = std::make_shared<ServerParameters>(options.parameters);
  absl::StatusOr<std::unique_ptr<TlsConfiguration>> tls =
      TlsConfiguration::Load(options, impl->parameters);
  if (!tls.ok()) return tls.status();
  impl->tls = *std::move(tls);
  if (options.acme.enabled()) {
    TlsConfiguration* configuration = impl->tls.get();
    impl->acme = std::make_unique<AcmeManager>(options, [configuration] {
      return configuration->Reload();
    });
  }

  if (options.builtin_services) {
    TlsConfiguration* configuration = impl->tls.get();
    status = RegisterBuiltinServices(*registry, options, [configuration] {
      // The settings new connections get now (rebuilt first if a parameter
      // changed), so ServerInfo never lags behind SetParameter.
      FrameLimits current_limits;
      std::shared_ptr<const ContextSet> set = configuration->Current(&current_limits);
      const TlsContext& tls = *set->default_context;
      BuiltinTlsSettings settings;
      settings.min_version = tls.options().min_version;
      settings.max_version = tls.options().max_version;
      settings.tls13_cipher_suites = tls.tls13_cipher_suites();
      if (tls.certificate() != nullptr) settings.certificate = *tls.certificate();
      settings.max_message_bytes = current_limits.max_message_bytes;
      return settings;
    });
    if (!status.ok()) return status;
  }
  if (options.builtin_services && options.reflection) {
    status = RegisterReflection(*registry);
    if (!status.ok()) return status;
  }
  if (options.builtin_services && options.stats) {
    // The registry may outlive the server (it is the caller's too).
    std::weak_ptr<const Impl> weak_impl = impl;
    status = RegisterStats(*registry, [weak_impl]() -> absl::StatusOr<std::vector<MetricFamily>> {
      std::shared_ptr<const Impl> impl = weak_impl.lock();
      if (impl == nullptr || impl->connections == nullptr) {
        return absl::UnavailableError("the server is shutting down");
      }
      return impl->GatherMetrics();
    });
    if (!status.ok()) return status;
  }
  impl->dispatcher = std::make_unique<Dispatcher>(
      impl->io, Clock::Real(), options.software_name, options.software_version, registry,
      impl->parameters);
  impl->dispatcher->SetKeepAlive(impl);
  impl->dispatcher->SetMetrics(impl->metrics);
  impl->dispatcher->SetAccessLog(options.access_log);
  Dispatcher* dispatcher = impl->dispatcher.get();
  impl->connections = std::make_unique<ConnectionRegistry>(
      impl->io, Clock::Real(), impl->parameters,
      [dispatcher](const std::shared_ptr<Connection>& connection,
                   const std::shared_ptr<ConnectionState>& state,
                   DecodedFrame& frame) { dispatcher->OnFrame(connection, state, frame); });
  impl->connections->SetMetrics(impl->metrics);
  impl->options = std::move(options);
  impl->registry = std::move(registry);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

absl::Status Server::Start() {
  Impl& s = *impl_;
  if (s.started) return absl::FailedPreconditionError("the server is already started");
  auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(s.io);
  absl::Status listening =
      internal::Listen(*acceptor, s.options.bind_address, ConfiguredPort(), "listening");
  if (!listening.ok()) return listening;
  if (s.options.metrics_port.has_value()) {
    Impl* impl = &s;
    absl::StatusOr<std::unique_ptr<HttpEndpoint>> metrics = HttpEndpoint::Start(
        s.io, s.options.metrics_bind, *s.options.metrics_port, "listening for metrics scrapes",
        [impl](const std::string& path) {
          HttpReply reply;
          if (path != "/metrics") {
            reply.body = "not found: the metrics are at /metrics\n";
            return reply;
          }
          reply.status = "200 OK";
          reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
          reply.body = impl->RenderMetrics();
          return reply;
        });
    if (!metrics.ok()) return metrics.status();
    s.metrics_endpoint = *std::move(metrics);
  }
  if (s.acme != nullptr && s.options.acme.http_port.has_value()) {
    AcmeManager* acme = s.acme.get();
    absl::StatusOr<std::unique_ptr<HttpEndpoint>> http01 = HttpEndpoint::Start(
        s.io, s.options.bind_address, *s.options.acme.http_port,
        "listening for ACME HTTP-01 validations (acme_http_port)",
        [acme](const std::string& path) { return acme->Http01Reply(path); });
    if (!http01.ok()) {
      s.metrics_endpoint.reset();
      return http01.status();
    }
    s.acme_http_endpoint = *std::move(http01);
  }
  // The generated files only now that the ports are ours: a start that
  // fails (a port taken) leaves the project folder as it was.
  absl::Status written = s.tls->WriteGeneratedFiles();
  if (!written.ok()) {
    s.metrics_endpoint.reset();
    return written;
  }
  s.bound_port = acceptor->local_endpoint().port();
  s.acceptor = std::move(acceptor);
  s.registry->Freeze();
  int threads = s.options.worker_threads;
  if (threads == 0) threads = std::max(4, static_cast<int>(std::thread::hardware_concurrency()));
  absl::Status workers = s.dispatcher->StartWorkers(threads);
  if (!workers.ok()) return workers;
  s.work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      s.io.get_executor());
  s.Accept();
  s.tls->StartTimers(s.io);
  s.connections->StartTicks();
  s.io_thread = std::thread([&s] { s.io.run(); });
  s.tls->StartDhGeneration();
  if (s.acme != nullptr) s.acme->Start();
  s.started = true;
  return absl::OkStatus();
}

void Server::Impl::Accept() {
  acceptor->async_accept([this](const std::error_code& error, asio::ip::tcp::socket socket) {
    if (!error) {
      accept_backoff = absl::ZeroDuration();
      OnAccepted(std::move(socket));
      Accept();
      return;
    }
    if (error == asio::error::operation_aborted || !acceptor->is_open()) return;
    // Descriptors (or memory) used up: retrying at once would spin. Back
    // off, keep serving the connections that are open, and try again.
    accept_backoff = std::clamp(accept_backoff * 2, absl::Milliseconds(10), absl::Seconds(1));
    ++accept_failures_unlogged;
    const absl::Time now = absl::Now();
    if (now - accept_failures_logged >= absl::Seconds(10)) {
      LogWarning(absl::StrCat(
          "accept failed ", accept_failures_unlogged, " times in the last 10 s (",
          error.message(), "); open connections are still served; raise the descriptor "
          "limit (ulimit -n) if this goes on"));
      accept_failures_logged = now;
      accept_failures_unlogged = 0;
    }
    if (accept_timer == nullptr) accept_timer = std::make_unique<asio::steady_timer>(io);
    accept_timer->expires_after(
        std::chrono::microseconds(absl::ToInt64Microseconds(accept_backoff)));
    accept_timer->async_wait([this](const std::error_code& timer_error) {
      if (!timer_error && acceptor->is_open()) Accept();
    });
  });
}

void Server::Impl::OnAccepted(asio::ip::tcp::socket socket) {
  FrameLimits limits;
  std::shared_ptr<const ContextSet> set = tls->Current(&limits);
  AcmeManager* autossl = acme.get();
  absl::StatusOr<std::shared_ptr<TlsStream>> stream = TlsStream::CreateServer(
      std::move(socket),
      [set, autossl](const TlsStream::ClientHello& hello) {
        if (autossl == nullptr) return set->Select(hello.server_name);
        // An ACME validation of a pending challenge gets its certificate;
        // a name no certificate has may start an order (on demand) and,
        // meanwhile, gets the base one.
        if (auto challenge = autossl->ChallengeContext(hello)) return challenge;
        std::shared_ptr<const TlsContext> chosen = set->Select(hello.server_name);
        if (chosen == set->default_context && !hello.server_name.empty()) {
          autossl->OnUnknownName(hello.server_name);
        }
        return chosen;
      },
      set->default_context->options().handshake_timeout);
  if (!stream.ok()) {
    LogWarning(stream.status().message());
    return;
  }
  connections->Serve(*std::move(stream), limits);
}

absl::Status Server::ReloadCertificates() { return impl_->tls->Reload(); }

absl::Status Server::SetParameter(Parameter selector, ParameterValue value) {
  return impl_->parameters->Set(selector, std::move(value));
}

ParameterValue Server::GetParameter(Parameter selector) const {
  return impl_->parameters->Get(selector);
}

Server::TlsSettings Server::tls_settings() const {
  FrameLimits limits;
  std::shared_ptr<const ContextSet> set = impl_->tls->Current(&limits);
  const TlsContext& tls = *set->default_context;
  TlsSettings settings;
  settings.min_version = tls.options().min_version;
  settings.max_version = tls.options().max_version;
  settings.tls13_cipher_suites = tls.tls13_cipher_suites();
  settings.tls12_cipher_list = tls.tls12_cipher_list();
  settings.max_message_bytes = limits.max_message_bytes;
  return settings;
}

int Server::port() const { return impl_->bound_port; }

int Server::metrics_port() const {
  return impl_->metrics_endpoint != nullptr ? impl_->metrics_endpoint->port() : 0;
}

std::string Server::Impl::RenderMetrics() const { return FormatExposition(GatherMetrics()); }

std::vector<MetricFamily> Server::Impl::GatherMetrics() const {
  ServerMetrics::Gauges gauges;
  gauges.connections_accepted = connections->connections_accepted();
  gauges.connections_open = connections->open_connections();
  gauges.probes = connections->probes();
  const ConnectionRegistry::MessageBytes bytes = connections->message_bytes();
  gauges.message_bytes_received = bytes.received;
  gauges.message_bytes_sent = bytes.sent;
  gauges.certificate_expiry = tls->CertificateExpiries();
  gauges.dh_params_state = tls->DhParamsState();
  return metrics->Families(gauges);
}

int Server::ConfiguredPort() const {
  return impl_->options.port.has_value()
             ? *impl_->options.port
             : static_cast<int>(GetParameter(Parameter::kClientServerPortId).AsInt());
}

std::string Server::listen_address() const {
  return internal::AddressAndPort(impl_->options.bind_address,
                                  impl_->started ? impl_->bound_port : ConfiguredPort());
}

CertificateInfo Server::certificate() const { return impl_->tls->certificate(); }
bool Server::certificate_generated() const { return impl_->tls->certificate_generated(); }
const ServerOptions& Server::options() const { return impl_->options; }

Server::Stats Server::stats() const {
  Stats stats;
  stats.connections_accepted = impl_->connections->connections_accepted();
  stats.handshakes_failed = impl_->connections->handshakes_failed();
  stats.probes = impl_->connections->probes();
  stats.calls_completed = impl_->dispatcher->calls_completed();
  stats.open_connections = impl_->connections->open_connections();
  return stats;
}

MemoryStream::Pair ServerTestingPeer::CreateInMemoryPair(asio::io_context& client_io,
                                                         asio::io_context& server_io,
                                                         const std::string& client_name) {
  // No TLS in memory: the version says so (appwire/transport/memory_stream.h).
  TlsSessionInfo client_side;
  client_side.peer_address = "appwire-server (in memory)";
  client_side.version = "none (in memory)";
  client_side.alpn = "appwire/1";
  TlsSessionInfo server_side = client_side;
  server_side.peer_address = client_name;
  return MemoryStream::CreatePair(client_io, std::move(client_side), server_io,
                                  std::move(server_side));
}

std::shared_ptr<ByteStream> ServerTestingPeer::ConnectInMemory(Server& server,
                                                                asio::io_context& client_io,
                                                                const std::string& client_name) {
  Server::Impl& impl = *server.impl_;
  MemoryStream::Pair pair = CreateInMemoryPair(client_io, impl.io, client_name);
  if (impl.connections->draining()) {  // its I/O thread may be stopped already
    pair.second->Close();  // the client reads the end of the stream
    return std::move(pair.first);
  }
  // On the I/O thread, as OnAccepted: Drain's snapshot of the connections
  // then sees this one or refuses it.
  auto served = std::make_shared<std::promise<void>>();  // may outlive a timed-out wait
  std::future<void> serving = served->get_future();
  asio::post(impl.io, [&impl, served, stream = pair.second] {
    if (!impl.connections->AddMemoryStream(stream)) {
      stream->Close();  // the client reads the end of the stream
    } else {
      FrameLimits limits;
      impl.tls->Current(&limits);
      impl.connections->Serve(stream, limits);
    }
    served->set_value();
  });
  if (serving.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    pair.second->Close();  // the I/O thread is gone: a stopped server
  }
  return std::move(pair.first);
}

}  // namespace appwire
