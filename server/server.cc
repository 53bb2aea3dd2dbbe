#include "server/server.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "appwire/v1/frame.pb.h"
#include "common/log.h"
#include "common/version.h"
#include "server/builtin_services.h"
#include "server/worker_pool.h"
#include "common/files.h"
#include "common/pem.h"
#include "transport/certificate_store.h"
#include "transport/dh_params.h"
#include "transport/connection.h"
#include "transport/internal/errors.h"
#include "transport/tls_context.h"
#include "transport/tls_stream.h"

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
  if (worker_threads < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("worker_threads ", worker_threads, " is negative; use 0 for automatic"));
  }
  return absl::OkStatus();
}

namespace {

// The TLS configurations new connections choose from: the default (key.pem,
// cert.pem) and one per SNI certificate. Immutable once built; replaced as a
// whole when settings or files change.
struct ContextSet {
  std::shared_ptr<const TlsContext> default_context;
  std::map<std::string, std::shared_ptr<const TlsContext>> by_name;

  // Exact name first, then a wildcard for its first label; else the default.
  std::shared_ptr<const TlsContext> Select(const std::string& requested) const {
    if (requested.empty() || by_name.empty()) return default_context;
    const std::string name = absl::AsciiStrToLower(requested);
    auto exact = by_name.find(name);
    if (exact != by_name.end()) return exact->second;
    size_t dot = name.find('.');
    if (dot != std::string::npos) {
      auto wildcard = by_name.find(absl::StrCat("*", name.substr(dot)));
      if (wildcard != by_name.end()) return wildcard->second;
    }
    return default_context;
  }
};

// What the server remembers about one connection, owned by its callbacks.
struct ConnectionState {
  bool hello_received = false;
  std::shared_ptr<const TlsSessionInfo> session;
  // Calls accepted and not yet answered: a connection with calls running
  // is never idle, however long a handler takes.
  std::atomic<int> active_calls{0};
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::shared_ptr<ServiceRegistry> registry;
  ServerIdentity identity;

  // The settings new connections get, rebuilt when a parameter changed.
  mutable std::mutex settings_mu;
  ParameterOverrides overrides;
  uint64_t overrides_generation = 1;
  uint64_t built_global_generation = 0;
  uint64_t built_overrides_generation = 0;
  std::vector<SniIdentity> sni_identities;
  std::shared_ptr<const ContextSet> contexts;
  FrameLimits limits;
  std::string watched_files;  // what the files looked like at the last (re)load
  std::unique_ptr<asio::steady_timer> watch_timer;
  std::string dh_params_pem;  // empty until dhparams.pem is loaded or generated
  std::string client_ca_pem;  // client-ca.pem, for kClientCertificateMode
  std::string client_ca_path;
  std::string crl_pem;  // crl.pem: revoked client certificates
  std::string crl_path;
  std::string dh_params_path;
  std::thread dh_thread;
  std::unique_ptr<asio::steady_timer> expiry_timer;

  asio::io_context io{1};
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread io_thread;
  std::unique_ptr<WorkerPool> workers;
  int bound_port = 0;

  mutable std::mutex mu;
  std::condition_variable calls_done;
  struct OpenConnection {
    std::shared_ptr<Connection> connection;
    std::shared_ptr<ConnectionState> state;
  };
  std::unordered_map<Connection*, OpenConnection> connections;
  std::unique_ptr<asio::steady_timer> idle_timer;
  int calls_in_flight = 0;
  bool started = false;
  bool drained = false;
  Stats stats;

  // The TLS context and limits for a connection accepted now. Rebuilds them
  // first when a database parameter changed; a failed rebuild keeps the last
  // good configuration and logs why.
  std::shared_ptr<const ContextSet> CurrentContexts(FrameLimits* limits);
  absl::Status RebuildLocked();
  // client-ca.pem when present (normalised PEM), else "".
  absl::StatusOr<std::string> LoadClientCa() const;
  absl::Status Reload();
  std::string DescribeWatchedFiles() const;
  void WatchFiles();
  void GenerateDhParams(int bits);
  void CheckExpiry();
  void Accept();
  void OnAccepted(asio::ip::tcp::socket socket);
  void OnFrame(const std::shared_ptr<Connection>& connection, ConnectionState& state,
               DecodedFrame& frame);
  void HandleRequest(const std::shared_ptr<Connection>& connection,
                     ConnectionState& state, DecodedFrame& frame);
  void CloseIdleConnections();
  void RunCall(ConnectionState* state, const std::shared_ptr<Connection>& connection,
               uint64_t call_id,
               const RawHandler& handler, CallContext& context, absl::string_view request);
  void SendResponse(const std::shared_ptr<Connection>& connection, uint64_t call_id,
                    const absl::StatusOr<std::string>& result);
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Drain(absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<Server>> Server::Create(
    ServerOptions options, std::shared_ptr<ServiceRegistry> registry) {
  absl::Status status = options.Validate();
  if (!status.ok()) return status;
  if (registry == nullptr) registry = std::make_shared<ServiceRegistry>();
  auto impl = std::make_unique<Impl>();

  IdentityLoadOptions load;
  load.passphrase_file = options.key_passphrase_file;
  load.passphrase_env = options.key_passphrase_env;
  absl::StatusOr<ServerIdentity> identity = LoadOrCreateServerIdentity(options.project_dir, load);
  if (!identity.ok()) return identity.status();
  impl->identity = *std::move(identity);
  absl::StatusOr<std::vector<SniIdentity>> sni = LoadSniIdentities(options.project_dir, load);
  if (!sni.ok()) return sni.status();
  impl->sni_identities = *std::move(sni);

  impl->overrides = options.parameters;
  // dhparams.pem beside key.pem and cert.pem: used when present and valid,
  // generated in the background by Start() when absent, never replaced.
  impl->dh_params_path = JoinPath(options.project_dir, "dhparams.pem");
  impl->client_ca_path = options.client_ca_file.empty()
                             ? JoinPath(options.project_dir, "client-ca.pem")
                             : options.client_ca_file;
  absl::StatusOr<std::string> client_ca = impl->LoadClientCa();
  if (!client_ca.ok()) return client_ca.status();
  impl->client_ca_pem = *std::move(client_ca);
  impl->crl_path = JoinPath(options.project_dir, "crl.pem");
  if (FileExists(impl->crl_path)) {
    absl::StatusOr<std::string> crl = ReadFile(impl->crl_path);
    if (!crl.ok()) return crl.status();
    impl->crl_pem = *std::move(crl);
  }
  if (FileExists(impl->dh_params_path)) {
    absl::StatusOr<std::string> dh = ReadFile(impl->dh_params_path);
    if (!dh.ok()) return dh.status();
    absl::StatusOr<int> bits = CheckDhParamsPem(*dh, impl->dh_params_path);
    if (!bits.ok()) return bits.status();
    impl->dh_params_pem = *std::move(dh);
  }
  {
    std::lock_guard<std::mutex> lock(impl->settings_mu);
    status = impl->RebuildLocked();
    if (!status.ok()) return status;
  }

  if (options.builtin_services) {
    Impl* raw = impl.get();
    status = RegisterBuiltinServices(*registry, options, [raw] {
      // The settings new connections get now (rebuilt first if a parameter
      // changed), so ServerInfo never lags behind SetParameter.
      FrameLimits current_limits;
      std::shared_ptr<const ContextSet> set = raw->CurrentContexts(&current_limits);
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
  impl->options = std::move(options);
  impl->registry = std::move(registry);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

absl::Status Server::Impl::RebuildLocked() {
  TlsOptions options;
  options.role = TlsRole::kServer;
  ApplyParameters(overrides, &options);
  options.dh_params_pem = dh_params_pem;
  options.trusted_ca_pem = client_ca_pem;
  options.trusted_ca_source = client_ca_path;
  options.crl_pem = crl_pem;
  options.crl_source = crl_path;
  auto build = [&options](const ServerIdentity& id) {
    TlsOptions with_identity = options;
    with_identity.certificate_chain_pem = id.certificate_chain_pem;
    with_identity.private_key_pem = id.private_key_pem;
    with_identity.certificate_source = id.certificate_path;
    with_identity.private_key_source = id.private_key_path;
    return TlsContext::Create(with_identity);
  };
  auto set = std::make_shared<ContextSet>();
  absl::StatusOr<std::shared_ptr<TlsContext>> context = build(identity);
  if (!context.ok()) return context.status();
  set->default_context = *std::move(context);
  for (const SniIdentity& sni : sni_identities) {
    context = build(sni.identity);
    if (!context.ok()) return context.status();
    set->by_name[sni.host_name] = *std::move(context);
  }
  contexts = std::move(set);
  limits.max_message_bytes =
      static_cast<size_t>(overrides.Get(Parameter::kMaxMessageSize).AsInt());
  built_global_generation = DatabaseParametersGeneration();
  built_overrides_generation = overrides_generation;
  return absl::OkStatus();
}

absl::StatusOr<std::string> Server::Impl::LoadClientCa() const {
  if (!FileExists(client_ca_path)) return std::string();
  return ReadPemFile(client_ca_path, PemKind::kCertificate);
}

std::shared_ptr<const ContextSet> Server::Impl::CurrentContexts(FrameLimits* current_limits) {
  std::lock_guard<std::mutex> lock(settings_mu);
  if (built_global_generation != DatabaseParametersGeneration() ||
      built_overrides_generation != overrides_generation) {
    absl::Status status = RebuildLocked();
    if (!status.ok()) {
      LogError(absl::StrCat("new TLS settings not applied, keeping the previous ones: ",
                            status.message()));
      built_global_generation = DatabaseParametersGeneration();
      built_overrides_generation = overrides_generation;
    }
  }
  *current_limits = limits;
  return contexts;
}

absl::Status Server::Impl::Reload() {
  // Everything is read and checked before anything is replaced: a bad new
  // file leaves the last good configuration serving.
  IdentityLoadOptions load;
  load.allow_generate = false;
  load.passphrase_file = options.key_passphrase_file;
  load.passphrase_env = options.key_passphrase_env;
  absl::StatusOr<ServerIdentity> new_identity =
      LoadOrCreateServerIdentity(options.project_dir, load);
  absl::Status status = new_identity.status();
  absl::StatusOr<std::vector<SniIdentity>> new_sni = LoadSniIdentities(options.project_dir, load);
  if (status.ok()) status = new_sni.status();
  absl::StatusOr<std::string> new_client_ca = LoadClientCa();
  if (status.ok()) status = new_client_ca.status();
  std::string new_crl;
  if (status.ok() && FileExists(crl_path)) {
    absl::StatusOr<std::string> crl = ReadFile(crl_path);
    status = crl.status();
    if (status.ok()) new_crl = *std::move(crl);
  }
  std::string new_dh;
  if (status.ok() && FileExists(dh_params_path)) {
    absl::StatusOr<std::string> dh = ReadFile(dh_params_path);
    status = dh.status();
    if (status.ok()) status = CheckDhParamsPem(*dh, dh_params_path).status();
    if (status.ok()) new_dh = *std::move(dh);
  }
  std::lock_guard<std::mutex> lock(settings_mu);
  watched_files = DescribeWatchedFiles();
  if (status.ok()) {
    ServerIdentity old_identity = identity;
    std::vector<SniIdentity> old_sni = sni_identities;
    std::string old_dh = dh_params_pem;
    std::string old_client_ca = client_ca_pem;
    std::string old_crl = crl_pem;
    client_ca_pem = *std::move(new_client_ca);
    crl_pem = std::move(new_crl);
    identity = *std::move(new_identity);
    sni_identities = *std::move(new_sni);
    if (!new_dh.empty()) dh_params_pem = std::move(new_dh);
    status = RebuildLocked();
    if (!status.ok()) {
      identity = std::move(old_identity);
      sni_identities = std::move(old_sni);
      dh_params_pem = std::move(old_dh);
      client_ca_pem = std::move(old_client_ca);
      crl_pem = std::move(old_crl);
    }
  }
  if (!status.ok()) {
    LogError(absl::StrCat(
        "certificate reload failed, still serving the previous certificates and settings: ",
        status.message()));
    return status;
  }
  LogInfo(absl::StrCat("certificates reloaded: ", identity.certificate_path, " (",
                       identity.leaf.subject, ", ", identity.leaf.sha256_fingerprint, ")",
                       sni_identities.empty() ? "" : absl::StrCat(" and ", sni_identities.size(),
                                                                  " SNI certificate(s)")));
  return absl::OkStatus();
}

// mtime and size of every file a reload reads: a change means "reload".
std::string Server::Impl::DescribeWatchedFiles() const {
  std::vector<std::string> paths = {JoinPath(options.project_dir, "cert.pem"),
                                    JoinPath(options.project_dir, "key.pem"), dh_params_path,
                                    client_ca_path, crl_path};
  std::error_code error;
  const std::string folder = JoinPath(options.project_dir, "certificates");
  if (std::filesystem::is_directory(folder, error)) {
    for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
      paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::string description;
  for (const std::string& path : paths) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;
    absl::StrAppend(&description, path, ":", st.st_size, ":", st.st_mtim.tv_sec, ".",
                    st.st_mtim.tv_nsec, ";");
  }
  return description;
}

void Server::Impl::WatchFiles() {
  if (options.certificate_check_interval <= absl::ZeroDuration()) return;
  if (watch_timer == nullptr) watch_timer = std::make_unique<asio::steady_timer>(io);
  watch_timer->expires_after(
      std::chrono::milliseconds(absl::ToInt64Milliseconds(options.certificate_check_interval)));
  watch_timer->async_wait([this](const std::error_code& error) {
    if (error) return;
    bool changed;
    {
      std::lock_guard<std::mutex> lock(settings_mu);
      changed = DescribeWatchedFiles() != watched_files;
    }
    if (changed) {
      LogInfo("certificate files changed on disk; reloading");
      Reload().IgnoreError();  // logged; the last good configuration stays
    }
    WatchFiles();
  });
}

absl::Status Server::ReloadCertificates() { return impl_->Reload(); }

absl::Status Server::SetParameter(Parameter selector, ParameterValue value) {
  std::lock_guard<std::mutex> lock(impl_->settings_mu);
  absl::Status status = impl_->overrides.Set(selector, std::move(value));
  if (status.ok()) ++impl_->overrides_generation;
  return status;
}

ParameterValue Server::GetParameter(Parameter selector) const {
  std::lock_guard<std::mutex> lock(impl_->settings_mu);
  return impl_->overrides.Get(selector);
}

Server::TlsSettings Server::tls_settings() const {
  FrameLimits limits;
  std::shared_ptr<const ContextSet> set = impl_->CurrentContexts(&limits);
  const TlsContext& tls = *set->default_context;
  TlsSettings settings;
  settings.min_version = tls.options().min_version;
  settings.max_version = tls.options().max_version;
  settings.tls13_cipher_suites = tls.tls13_cipher_suites();
  settings.tls12_cipher_list = tls.tls12_cipher_list();
  settings.max_message_bytes = limits.max_message_bytes;
  return settings;
}

absl::Status Server::Start() {
  Impl& s = *impl_;
  if (s.started) return absl::FailedPreconditionError("the server is already started");
  std::lock_guard<std::mutex> lock(s.mu);
  const int port = s.options.port.has_value()
                       ? *s.options.port
                       : static_cast<int>(GetParameter(Parameter::kClientServerPortId).AsInt());
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address(s.options.bind_address),
                                   static_cast<unsigned short>(port));
  const std::string where =
      s.options.bind_address.find(':') != std::string::npos
          ? absl::StrCat("[", s.options.bind_address, "]:", port)
          : absl::StrCat(s.options.bind_address, ":", port);
  auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(s.io);
  std::error_code error;
  acceptor->open(endpoint.protocol(), error);
  if (!error) acceptor->set_option(asio::ip::tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor->bind(endpoint, error);
  if (!error) acceptor->listen(asio::socket_base::max_listen_connections, error);
  if (error) return internal::AsioErrorToStatus(error, "listening", where);
  s.bound_port = acceptor->local_endpoint().port();
  s.acceptor = std::move(acceptor);
  s.registry->Freeze();
  int threads = s.options.worker_threads;
  if (threads == 0) threads = std::max(4, static_cast<int>(std::thread::hardware_concurrency()));
  s.workers = std::make_unique<WorkerPool>(threads);
  s.work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      s.io.get_executor());
  s.Accept();
  s.CheckExpiry();
  // On the I/O thread: it takes `mu`, which Start holds.
  asio::post(s.io, [&s] { s.CloseIdleConnections(); });
  {
    std::lock_guard<std::mutex> settings_lock(s.settings_mu);
    s.watched_files = s.DescribeWatchedFiles();
  }
  s.WatchFiles();
  s.io_thread = std::thread([&s] { s.io.run(); });
  bool need_dh;
  int bits;
  {
    std::lock_guard<std::mutex> settings_lock(s.settings_mu);
    need_dh = s.dh_params_pem.empty();
    bits = static_cast<int>(s.overrides.Get(Parameter::kDhParamBits).AsInt());
  }
  if (need_dh) {
    s.dh_thread = std::thread([&s, bits] { s.GenerateDhParams(bits); });
  }
  s.started = true;
  return absl::OkStatus();
}

void Server::Impl::GenerateDhParams(int bits) {
  LogInfo(absl::StrCat("generating ", bits, "-bit DH parameters into ", dh_params_path,
                       " for TLS 1.2 DHE suites; TLS 1.3 is served meanwhile"));
  const absl::Time start = absl::Now();
  std::future<absl::StatusOr<std::string>> generated =
      std::async(std::launch::async, [bits] { return GenerateDhParamsPem(bits); });
  while (generated.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    LogInfo(absl::StrCat("still generating DH parameters (",
                         absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Seconds(1))),
                         ")"));
  }
  absl::StatusOr<std::string> pem = generated.get();
  absl::Status status = pem.status();
  // Written atomically: a crash leaves no half file for the next start. A
  // file the operator put there meanwhile wins: it is never replaced.
  if (status.ok() && FileExists(dh_params_path)) {
    LogInfo(absl::StrCat(dh_params_path, " appeared while generating; using it instead"));
    return;  // the file watcher loads it
  }
  if (status.ok()) status = WriteFileAtomically(dh_params_path, *pem, 0644);
  if (!status.ok()) {
    LogError(absl::StrCat("DH parameters not generated, TLS 1.2 DHE suites stay off: ",
                          status.message()));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(settings_mu);
    dh_params_pem = *std::move(pem);
    ++overrides_generation;  // new connections pick them up
    // The file watcher will see dhparams.pem appear and reload once: not
    // refreshing its snapshot here keeps it from missing a certificate
    // change made meanwhile.
  }
  LogInfo(absl::StrCat("DH parameters ready in ", dh_params_path, " (",
                       absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(1))),
                       "); TLS 1.2 DHE suites are offered from now on"));
}

void Server::Impl::CheckExpiry() {
  // At start and then once a day, as long as the server runs.
  std::vector<ServerIdentity> identities;
  {
    std::lock_guard<std::mutex> lock(settings_mu);
    identities.push_back(identity);
    for (const SniIdentity& sni : sni_identities) identities.push_back(sni.identity);
  }
  for (const ServerIdentity& id : identities) {
    const absl::Duration left = id.leaf.not_after - absl::Now();
    if (left < absl::Hours(24 * 30)) {
      LogWarning(absl::StrCat("certificate ", id.certificate_path, " expires on ",
                              FormatUtc(id.leaf.not_after), " (in ",
                              absl::ToInt64Hours(left) / 24, " days); renew it"));
    }
  }
  if (expiry_timer == nullptr) expiry_timer = std::make_unique<asio::steady_timer>(io);
  expiry_timer->expires_after(std::chrono::hours(24));
  expiry_timer->async_wait([this](const std::error_code& error) {
    if (!error) CheckExpiry();
  });
}

void Server::Impl::CloseIdleConnections() {
  // Once a second: kIdleConnectionsTimeout (4D's selector 54) may change
  // while the server runs.
  const int64_t timeout_s = [this] {
    std::lock_guard<std::mutex> lock(settings_mu);
    return overrides.Get(Parameter::kIdleConnectionsTimeout).AsInt();
  }();
  if (timeout_s > 0) {
    std::vector<std::shared_ptr<Connection>> idle;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& [key, open] : connections) {
        if (open.state->active_calls.load(std::memory_order_relaxed) == 0 &&
            open.connection->state() == Connection::State::kOpen &&
            open.connection->idle_for() >= absl::Seconds(timeout_s)) {
          idle.push_back(open.connection);
        }
      }
    }
    for (auto& connection : idle) {
      connection->Close(absl::UnavailableError(absl::StrCat(
          "the server closed the connection after ", timeout_s,
          " s without activity (kIdleConnectionsTimeout)")));
    }
  }
  if (idle_timer == nullptr) idle_timer = std::make_unique<asio::steady_timer>(io);
  idle_timer->expires_after(std::chrono::seconds(1));
  idle_timer->async_wait([this](const std::error_code& error) {
    if (!error) CloseIdleConnections();
  });
}

void Server::Impl::Accept() {
  acceptor->async_accept([this](const std::error_code& error, asio::ip::tcp::socket socket) {
    if (error) {
      if (error == asio::error::operation_aborted || !acceptor->is_open()) return;
      LogWarning(absl::StrCat("accept failed: ", error.message()));
    } else {
      OnAccepted(std::move(socket));
    }
    Accept();
  });
}

void Server::Impl::OnAccepted(asio::ip::tcp::socket socket) {
  FrameLimits limits;
  std::shared_ptr<const ContextSet> set = CurrentContexts(&limits);
  absl::StatusOr<std::shared_ptr<TlsStream>> stream = TlsStream::CreateServer(
      std::move(socket),
      [set](const std::string& server_name) { return set->Select(server_name); },
      set->default_context->options().handshake_timeout);
  if (!stream.ok()) {
    LogWarning(stream.status().message());
    return;
  }
  auto state = std::make_shared<ConnectionState>();
  Connection::Callbacks callbacks;
  callbacks.on_handshake = [this, state](const std::shared_ptr<Connection>& connection,
                                         const absl::Status& status) {
    if (!status.ok()) {
      LogWarning(status.message());
      std::lock_guard<std::mutex> lock(mu);
      ++stats.handshakes_failed;
      return;
    }
    state->session = std::make_shared<const TlsSessionInfo>(connection->session_info());
  };
  callbacks.on_frame = [this, state](const std::shared_ptr<Connection>& connection,
                                     DecodedFrame& frame) { OnFrame(connection, *state, frame); };
  callbacks.on_closed = [this](const std::shared_ptr<Connection>& connection,
                               const absl::Status& reason) {
    std::lock_guard<std::mutex> lock(mu);
    connections.erase(connection.get());
    if (!reason.ok() && reason.code() != absl::StatusCode::kUnavailable &&
        connection->session_info().version.size() > 0) {
      LogWarning(absl::StrCat("closed connection with ", connection->peer_address(), ": ",
                              reason.message()));
    }
  };
  std::shared_ptr<Connection> connection =
      Connection::Create(*std::move(stream), limits, std::move(callbacks));
  {
    std::lock_guard<std::mutex> lock(mu);
    connections.emplace(connection.get(), OpenConnection{connection, state});
    ++stats.connections_accepted;
  }
  connection->Start();
}

void Server::Impl::OnFrame(const std::shared_ptr<Connection>& connection,
                           ConnectionState& state, DecodedFrame& frame) {
  const v1::FrameHeader& header = frame.header;
  if (!state.hello_received) {
    if (!header.has_hello() || header.call_id() != 0) {
      connection->Close(absl::FailedPreconditionError(
          "protocol error: the first frame on a connection must be a hello with "
          "call id 0 (docs/protocol.md)"));
      return;
    }
    if (header.hello().protocol_version() != kProtocolVersion) {
      connection->Close(absl::FailedPreconditionError(absl::StrCat(
          "the client speaks appwire protocol version ", header.hello().protocol_version(),
          " (", header.hello().software_name(),
          header.hello().software_version().empty() ? "" : " ",
          header.hello().software_version(), "); this server (", options.software_name, " ", options.software_version,
          ") speaks version ", kProtocolVersion, "; use a client and server of the same "
          "protocol version")));
      return;
    }
    state.hello_received = true;
    v1::FrameHeader reply;
    reply.set_call_id(0);
    v1::Hello* hello = reply.mutable_hello();
    hello->set_protocol_version(kProtocolVersion);
    hello->set_software_name(options.software_name);
    hello->set_software_version(options.software_version);
    connection->Send(reply, "").IgnoreError();
    return;
  }
  switch (header.kind_case()) {
    case v1::FrameHeader::kRequest:
      HandleRequest(connection, state, frame);
      return;
    case v1::FrameHeader::kGoAway:
      // The client is leaving; nothing more will come.
      connection->Close(absl::OkStatus(), /*send_go_away=*/false);
      return;
    default:
      connection->Close(absl::InvalidArgumentError(absl::StrCat(
          "protocol error: a client may not send a ",
          header.has_hello() ? "second hello" : "response or empty frame",
          " (call id ", header.call_id(), ")")));
      return;
  }
}

void Server::Impl::HandleRequest(const std::shared_ptr<Connection>& connection,
                                 ConnectionState& state, DecodedFrame& frame) {
  const uint64_t call_id = frame.header.call_id();
  if (call_id == 0 || call_id % 2 == 0) {
    connection->Close(absl::InvalidArgumentError(absl::StrCat(
        "protocol error: request with call id ", call_id,
        "; clients use odd call ids (docs/protocol.md)")));
    return;
  }
  const std::string& method = frame.header.request().method();
  const RegisteredMethod* registered = registry->Find(method);
  if (registered == nullptr) {
    SendResponse(connection, call_id,
                 absl::UnimplementedError(absl::StrCat(
                     "method \"", method, "\" is not registered on this server (",
                     options.software_name, "); check the service and method name")));
    return;
  }
  const uint64_t timeout_micros = frame.header.request().timeout_micros();
  absl::Time deadline = timeout_micros == 0
                            ? absl::InfiniteFuture()
                            : absl::Now() + absl::Microseconds(timeout_micros);
  {
    std::lock_guard<std::mutex> lock(mu);
    ++calls_in_flight;
  }
  // The connection (held by the call) keeps its callbacks and so `state`
  // alive until RunCall is done.
  ConnectionState* call_state = &state;
  call_state->active_calls.fetch_add(1, std::memory_order_relaxed);
  // Authorisation before the handler: refused calls get a status, the
  // connection stays.
  absl::Status allowed = registry->Authorize(
      method, state.session->peer_certificate ? &*state.session->peer_certificate : nullptr);
  if (!allowed.ok()) {
    SendResponse(connection, call_id, allowed);
    LogWarning(absl::StrCat("refused ", method, " from ", connection->peer_address(), ": ",
                            allowed.message()));
    call_state->active_calls.fetch_sub(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu);
    if (--calls_in_flight == 0) calls_done.notify_all();
    return;
  }
  const RawHandler* handler = &registered->handler;
  if (registered->thread == HandlerThread::kIoThread) {
    CallContext context(method, state.session, deadline);
    RunCall(call_state, connection, call_id, *handler, context, frame.payload);
    return;
  }
  // The payload points into the read buffer: the worker needs its own
  // bytes. A large payload that ends the buffer takes the buffer itself.
  std::shared_ptr<std::string> storage;
  size_t offset = 0;
  const size_t length = frame.payload.size();
  if (frame.buffer != nullptr && length >= 64 * 1024) {
    offset = static_cast<size_t>(frame.payload.data() - frame.buffer->data());
    storage = std::make_shared<std::string>(std::move(*frame.buffer));
  } else {
    storage = std::make_shared<std::string>(frame.payload);
  }
  workers->Post([this, call_state, connection, call_id, handler, storage, offset, length,
                 context = CallContext(method, state.session, deadline)]() mutable {
    RunCall(call_state, connection, call_id, *handler, context,
            absl::string_view(*storage).substr(offset, length));
  });
}

void Server::Impl::RunCall(ConnectionState* state, const std::shared_ptr<Connection>& connection,
                           uint64_t call_id,
                           const RawHandler& handler, CallContext& context,
                           absl::string_view request) {
  absl::StatusOr<std::string> result;
  if (context.deadline_passed()) {
    result = absl::DeadlineExceededError(absl::StrCat(
        "the deadline of ", context.method(), " passed before a worker could start it"));
  } else {
    try {
      result = handler(context, request);
    } catch (const std::exception& e) {
      result = absl::InternalError(
          absl::StrCat("the handler of ", context.method(), " threw: ", e.what()));
    } catch (...) {
      result = absl::InternalError(
          absl::StrCat("the handler of ", context.method(), " threw a non-standard exception"));
    }
  }
  SendResponse(connection, call_id, result);
  state->active_calls.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu);
  ++stats.calls_completed;
  if (--calls_in_flight == 0) calls_done.notify_all();
}

void Server::Impl::SendResponse(const std::shared_ptr<Connection>& connection,
                                uint64_t call_id, const absl::StatusOr<std::string>& result) {
  v1::FrameHeader header;
  header.set_call_id(call_id);
  v1::ResponseHeader* response = header.mutable_response();
  if (result.ok()) {
    absl::Status sent = connection->Send(header, *result);
    if (sent.code() != absl::StatusCode::kResourceExhausted) return;
    // The reply is over the limit: the client still gets an answer.
    response->set_status_code(static_cast<int>(sent.code()));
    response->set_status_message(absl::StrCat("the server's reply was refused: ", sent.message()));
  } else {
    response->set_status_code(static_cast<int>(result.status().code()));
    // Status messages are for people; a runaway one must not break the frame
    // header limit.
    response->set_status_message(std::string(result.status().message().substr(0, 4096)));
  }
  connection->Send(header, "").IgnoreError();
}

void Server::Drain(absl::Duration timeout) {
  Impl& s = *impl_;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    if (!s.started || s.drained) return;
    s.drained = true;
  }
  asio::post(s.io, [&s] {
    std::error_code ignored;
    s.acceptor->close(ignored);
  });
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    s.calls_done.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                          [&s] { return s.calls_in_flight == 0; });
    for (auto& entry : s.connections) open.push_back(entry.second.connection);
  }
  for (auto& connection : open) {
    connection->Close(absl::UnavailableError("the server is shutting down"));
  }
  open.clear();
  // Give posted closes a moment to run, then stop the I/O thread: after
  // that nothing posts to the worker pool any more.
  s.work.reset();
  std::promise<void> finished;
  std::future<void> done = finished.get_future();
  asio::post(s.io, [&finished] { finished.set_value(); });
  done.wait_for(std::chrono::seconds(1));
  s.io.stop();
  if (s.io_thread.joinable()) s.io_thread.join();
  if (s.dh_thread.joinable()) s.dh_thread.join();
  // Handlers still running finish against closed connections (their
  // replies are refused), then the pool joins.
  s.workers.reset();
  std::lock_guard<std::mutex> lock(s.mu);
  s.connections.clear();
}

int Server::port() const { return impl_->bound_port; }

std::string Server::listen_address() const {
  const std::string& address = impl_->options.bind_address;
  if (address.find(':') != std::string::npos) {
    return absl::StrCat("[", address, "]:", impl_->bound_port);
  }
  return absl::StrCat(address, ":", impl_->bound_port);
}

CertificateInfo Server::certificate() const {
  std::lock_guard<std::mutex> lock(impl_->settings_mu);
  return impl_->identity.leaf;
}
bool Server::certificate_generated() const { return impl_->identity.generated; }
const ServerOptions& Server::options() const { return impl_->options; }

Server::Stats Server::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stats stats = impl_->stats;
  stats.open_connections = static_cast<int>(impl_->connections.size());
  return stats;
}

}  // namespace appwire
