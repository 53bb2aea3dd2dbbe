#include "server/server.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <condition_variable>
#include <future>
#include <limits>
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
#include "common/utf8.h"
#include "common/version.h"
#include "server/builtin_services.h"
#include "rpc/call_id_window.h"
#include "server/internal/testing_peer.h"
#include "server/internal/dh_generator.h"
#include "server/server_call.h"
#include "server/worker_pool.h"
#include "transport/frame_codec.h"
#include "transport/memory_stream.h"
#include "transport/metadata_wire.h"
#include "transport/session_ticket_key.h"
#include "common/files.h"
#include "common/pem.h"
#include "transport/certificate_store.h"
#include "transport/dh_params.h"
#include "transport/connection.h"
#include "transport/receive_budget.h"
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
  // Written on the I/O thread; read by the tick (also the I/O thread) and
  // by Drain.
  std::atomic<bool> hello_received{false};
  // When the TLS handshake finished: the hello is due kHelloTimeout later.
  absl::Time handshake_done = absl::InfiniteFuture();  // I/O thread only
  // Which call ids this connection used (I/O thread only).
  CallIdWindow call_ids;
  std::shared_ptr<const TlsSessionInfo> session;
  // The largest message the client accepts (its hello); 0 until known.
  size_t peer_max_message_bytes = 0;
  // Calls accepted and whose handler has not returned: a connection with
  // calls running is never idle, however long a handler takes.
  std::atomic<int> active_calls{0};

  std::mutex mu;
  // Calls that frames from the client may still refer to (cancel, stream
  // messages, window updates). Inline (kIoThread) calls are never here.
  std::unordered_map<uint64_t, std::shared_ptr<ServerCall>> calls;
  // A graceful GoAway went out (Drain): new calls are refused.
  bool draining = false;
  // The highest call id received when draining began: what every GoAway
  // of this connection says from then on.
  uint64_t drain_last_call_id = 0;
};

// The name protocol.md gives each frame kind in its messages.
const char* FrameKindName(v1::FrameHeader::KindCase kind) {
  switch (kind) {
    case v1::FrameHeader::kHello: return "hello";
    case v1::FrameHeader::kRequest: return "request";
    case v1::FrameHeader::kResponse: return "response";
    case v1::FrameHeader::kGoAway: return "go_away";
    case v1::FrameHeader::kMessage: return "message";
    case v1::FrameHeader::kHalfClose: return "half_close";
    case v1::FrameHeader::kCancel: return "cancel";
    case v1::FrameHeader::kWindowUpdate: return "window_update";
    case v1::FrameHeader::kPing: return "ping";
    case v1::FrameHeader::KIND_NOT_SET: break;
  }
  return "empty";
}

// The payload's size, read or skipped.
uint64_t PayloadBytes(const DecodedFrame& frame) {
  return frame.payload.size() + frame.oversized_payload_bytes;
}

// timeout_micros is unsigned and may be anything up to 2^64 - 1. A deadline
// more than 100 years away is no deadline (docs/protocol.md, section 11):
// besides meaning nothing, such a time point overflows the standard
// clocks' nanosecond counts when a wait converts it (UBSan found that).
absl::Time DeadlineFromTimeout(uint64_t timeout_micros) {
  constexpr uint64_t kNoDeadlineAbove = uint64_t{100} * 366 * 24 * 3600 * 1000000;
  if (timeout_micros == 0 || timeout_micros > kNoDeadlineAbove) return absl::InfiniteFuture();
  return absl::Now() + absl::Microseconds(static_cast<int64_t>(timeout_micros));
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  // First: every timer, socket and acceptor below uses it, so it must be
  // destroyed after all of them (members are destroyed in reverse order).
  asio::io_context io{1};
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
  bool client_ca_named = false;  // client_ca_path came from ServerOptions
  std::string crl_pem;  // crl.pem: revoked client certificates
  std::string crl_path;
  std::string dh_params_path;
  std::thread dh_thread;
  std::atomic<bool> dh_cancel{false};  // set by Drain: the generation stops
  internal::DhParamsGenerator dh_generator;  // GenerateDhParamsPem unless a test replaced it
  std::unique_ptr<asio::steady_timer> expiry_timer;

  std::unique_ptr<asio::ip::tcp::acceptor> acceptor;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread io_thread;
  std::unique_ptr<WorkerPool> workers;
  // Streaming handlers: a thread each while they run, kMaxConcurrentStreams
  // at most across all connections.
  StreamExecutor streams;
  // Memory for frames being received, all connections together
  // (kMaxReceiveMemory).
  std::shared_ptr<ReceiveBudget> receive_budget = std::make_shared<ReceiveBudget>(256u << 20);
  // Accept failures (descriptors used up): the back-off and its log line.
  std::unique_ptr<asio::steady_timer> accept_timer;
  absl::Duration accept_backoff = absl::ZeroDuration();
  absl::Time accept_failures_logged = absl::InfinitePast();
  int accept_failures_unlogged = 0;
  int bound_port = 0;

  mutable std::mutex mu;
  std::condition_variable calls_done;
  struct OpenConnection {
    std::shared_ptr<Connection> connection;
    std::shared_ptr<ConnectionState> state;
  };
  std::unordered_map<Connection*, OpenConnection> connections;
  std::unique_ptr<asio::steady_timer> idle_timer;
  std::string session_ticket_key;  // session-ticket.key; empty: wolfSSL's per-context key
  // Calls with a deadline, earliest first; the timer cancels them on time.
  std::mutex deadlines_mu;
  std::multimap<absl::Time, std::weak_ptr<ServerCall>> deadlines;
  absl::Time deadline_timer_armed_for = absl::InfiniteFuture();
  std::unique_ptr<asio::steady_timer> deadline_timer;
  int calls_in_flight = 0;
  bool started = false;
  bool drained = false;
  // The server's ends of connections made by ServerTestingPeer (guarded by
  // mu): Drain closes them before the I/O thread stops, so that none keeps
  // a read pending on a stopped io_context.
  std::vector<std::weak_ptr<MemoryStream>> memory_streams;
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
  // Serves one connection over `stream` (a TlsStream from OnAccepted, or a
  // MemoryStream from ServerTestingPeer): handshake, Hello, dispatch.
  void Serve(std::shared_ptr<ByteStream> stream, const FrameLimits& limits);
  void OnFrame(const std::shared_ptr<Connection>& connection,
               const std::shared_ptr<ConnectionState>& state, DecodedFrame& frame);
  // Every second, or faster with short keepalive settings: idle
  // connections, keepalive pings.
  void Tick();
  void HandleRequest(const std::shared_ptr<Connection>& connection,
                     const std::shared_ptr<ConnectionState>& state, DecodedFrame& frame);
  void HandleCallFrame(const std::shared_ptr<Connection>& connection, ConnectionState& state,
                       DecodedFrame& frame);
  // Answers a call that never reached a handler.
  // `not_processed`: the client may send the call again elsewhere.
  void Refuse(const std::shared_ptr<Connection>& connection, uint64_t call_id,
              const absl::Status& status, bool not_processed = false);
  void RunUnary(const std::shared_ptr<ServerCall>& call,
                const std::shared_ptr<ConnectionState>& state, const RawHandler& handler,
                absl::string_view request);
  void RunStream(const std::shared_ptr<ServerCall>& call,
                 const std::shared_ptr<ConnectionState>& state, const RawStreamHandler& handler);
  // The handler returned: answers the call unless something else did, and
  // forgets it.
  void FinishCall(const std::shared_ptr<ServerCall>& call, ConnectionState& state,
                  absl::StatusOr<std::string> result);
  void SendStatus(const ServerCall& call, const absl::StatusOr<std::string>& result,
                  bool not_processed = false);
  void TrackDeadline(const std::shared_ptr<ServerCall>& call);
  void ArmDeadlineTimer();
  void OnDeadlineTimer();
  // Cancels `call` with `reason` and answers it with that status, unless it
  // was answered already.
  void CancelAndAnswer(const std::shared_ptr<ServerCall>& call, const absl::Status& reason);
};

Server::Server(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Drain(absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<Server>> Server::Create(
    ServerOptions options, std::shared_ptr<ServiceRegistry> registry) {
  absl::Status status = options.Validate();
  if (!status.ok()) return status;
  if (registry == nullptr) registry = std::make_shared<ServiceRegistry>();
  auto impl = std::make_shared<Impl>();

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
  // Tickets that survive restarts (transport/session_ticket_key.h). Without
  // the file (a read-only folder), clients just do full handshakes.
  absl::StatusOr<std::string> ticket_key =
      LoadOrCreateSessionTicketKey(JoinPath(options.project_dir, "session-ticket.key"));
  if (ticket_key.ok()) {
    impl->session_ticket_key = *std::move(ticket_key);
  } else {
    LogWarning(absl::StrCat("TLS session resumption across restarts is off: ",
                            ticket_key.status().message()));
  }
  // dhparams.pem beside key.pem and cert.pem: used when present and valid,
  // generated in the background by Start() when absent, never replaced.
  impl->dh_params_path = JoinPath(options.project_dir, "dhparams.pem");
  impl->client_ca_named = !options.client_ca_file.empty();
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
  options.session_ticket_key = session_ticket_key;
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
  if (!FileExists(client_ca_path)) {
    // client-ca.pem is optional; a file the operator named is not: a typo
    // must not quietly leave client certificates unchecked.
    if (!client_ca_named) return std::string();
    return absl::NotFoundError(absl::StrCat(
        "the client CA file \"", client_ca_path,
        "\" (client_ca / --client-ca) does not exist; fix the path, or remove the setting to "
        "use client-ca.pem in the project folder"));
  }
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

namespace {

std::mutex dh_generator_mu;

// Empty unless a test set one. Never destroyed: no exit-time destructor.
internal::DhParamsGenerator& DhParamsGeneratorForTesting() {
  static auto* generator = new internal::DhParamsGenerator;
  return *generator;
}

internal::DhParamsGenerator CurrentDhParamsGenerator() {
  std::lock_guard<std::mutex> lock(dh_generator_mu);
  if (DhParamsGeneratorForTesting()) return DhParamsGeneratorForTesting();
  return [](const SafePrimeGeneration& generation) { return GenerateDhParamsPem(generation); };
}

// The calling thread only, at nice 19: a safe prime takes a core for
// seconds to minutes, and serving calls matters more. On Linux each thread
// has its own nice value.
void LowerThisThreadsPriority() {
#ifdef __linux__
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19) != 0) {
    LogWarning(absl::StrCat("DH parameter generation keeps normal priority: setpriority: ",
                            std::strerror(errno)));
  }
#endif
}

}  // namespace

void internal::SetDhParamsGeneratorForTesting(DhParamsGenerator generator) {
  std::lock_guard<std::mutex> lock(dh_generator_mu);
  DhParamsGeneratorForTesting() = std::move(generator);
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
  absl::StatusOr<std::unique_ptr<WorkerPool>> workers = WorkerPool::Create(threads);
  if (!workers.ok()) return workers.status();
  s.workers = *std::move(workers);
  s.work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      s.io.get_executor());
  s.Accept();
  s.CheckExpiry();
  // On the I/O thread: it takes `mu`, which Start holds.
  asio::post(s.io, [&s] { s.Tick(); });
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
    s.dh_generator = CurrentDhParamsGenerator();
    s.dh_thread = std::thread([&s, bits] { s.GenerateDhParams(bits); });
  }
  s.started = true;
  return absl::OkStatus();
}

void Server::Impl::GenerateDhParams(int bits) {
  LowerThisThreadsPriority();
  LogInfo(absl::StrCat("generating ", bits, "-bit DH parameters into ", dh_params_path,
                       " for TLS 1.2 DHE suites (a safe prime: this could take several "
                       "minutes); TLS 1.3 is served meanwhile"));
  const absl::Time start = absl::Now();
  absl::Time next_report = start + absl::Seconds(5);
  SafePrimeGeneration generation;
  generation.bits = bits;
  generation.cancel = &dh_cancel;
  generation.progress = [&](int64_t tried) {
    const absl::Time now = absl::Now();
    if (now < next_report) return;
    next_report = now + absl::Seconds(5);
    LogInfo(absl::StrCat("still generating DH parameters (",
                         absl::FormatDuration(absl::Trunc(now - start, absl::Seconds(1))), ", ",
                         tried, " candidates tried)"));
  };
  absl::StatusOr<std::string> pem = dh_generator(generation);
  if (absl::IsCancelled(pem.status())) {
    LogInfo(absl::StrCat("DH parameter generation stopped: the server is stopping; ",
                         dh_params_path, " is generated at the next start"));
    return;
  }
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

void Server::Impl::Tick() {
  int64_t idle_timeout_s, keepalive_interval_ms, keepalive_timeout_ms, hello_timeout_ms,
      stall_timeout_ms;
  {
    std::lock_guard<std::mutex> lock(settings_mu);
    // kIdleConnectionsTimeout (4D's selector 54) may change while the server runs.
    idle_timeout_s = overrides.Get(Parameter::kIdleConnectionsTimeout).AsInt();
    keepalive_interval_ms = overrides.Get(Parameter::kKeepaliveInterval).AsInt();
    keepalive_timeout_ms = overrides.Get(Parameter::kKeepaliveTimeout).AsInt();
    hello_timeout_ms = overrides.Get(Parameter::kHelloTimeout).AsInt();
    stall_timeout_ms = overrides.Get(Parameter::kWriteStallTimeout).AsInt();
  }
  const absl::Duration hello_timeout = absl::Milliseconds(hello_timeout_ms);
  const absl::Duration stall_timeout = absl::Milliseconds(stall_timeout_ms);
  const absl::Time now = absl::Now();
  std::vector<std::shared_ptr<Connection>> open;
  std::vector<std::shared_ptr<Connection>> idle;
  std::vector<std::shared_ptr<Connection>> silent;
  std::vector<std::shared_ptr<Connection>> stalled;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [key, entry] : connections) {
      const Connection& connection = *entry.connection;
      if (connection.state() != Connection::State::kOpen) continue;
      open.push_back(entry.connection);
      if (!entry.state->hello_received.load(std::memory_order_relaxed) &&
          now - entry.state->handshake_done >= hello_timeout) {
        silent.push_back(entry.connection);
      } else if (connection.write_stalled_for() >= stall_timeout) {
        stalled.push_back(entry.connection);
      } else if (idle_timeout_s > 0 &&
                 entry.state->active_calls.load(std::memory_order_relaxed) == 0 &&
                 connection.idle_for() >= absl::Seconds(idle_timeout_s)) {
        idle.push_back(entry.connection);
      }
    }
  }
  for (auto& connection : silent) {
    connection->Close(absl::FailedPreconditionError(absl::StrCat(
        "protocol error: no hello from ", connection->peer_address(), " within ",
        absl::FormatDuration(hello_timeout),
        " after the TLS handshake (kHelloTimeout); the first frame on a connection must be a "
        "hello (docs/protocol.md)")));
  }
  for (auto& connection : stalled) {
    connection->CloseNow(absl::ResourceExhaustedError(absl::StrCat(
                             "the client at ", connection->peer_address(),
                             " did not read its replies for ", absl::FormatDuration(stall_timeout),
                             " (kWriteStallTimeout); closing the connection")),
                         absl::Seconds(2));
  }
  for (auto& connection : idle) {
    connection->Close(absl::UnavailableError(absl::StrCat(
        "the server closed the connection after ", idle_timeout_s,
        " s without activity (kIdleConnectionsTimeout)")));
  }
  for (auto& connection : open) connection->CheckKeepalive();
  // A quarter of the shortest time being watched, between 5 ms and 1 s.
  int64_t period_ms = std::min<int64_t>({1000, hello_timeout_ms, stall_timeout_ms}) / 4;
  if (keepalive_interval_ms > 0) {
    period_ms = std::min(period_ms, std::min(keepalive_interval_ms, keepalive_timeout_ms) / 4);
  }
  period_ms = std::clamp<int64_t>(period_ms, 5, 1000);
  if (idle_timer == nullptr) idle_timer = std::make_unique<asio::steady_timer>(io);
  idle_timer->expires_after(std::chrono::milliseconds(period_ms));
  idle_timer->async_wait([this](const std::error_code& error) {
    if (!error) Tick();
  });
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
  std::shared_ptr<const ContextSet> set = CurrentContexts(&limits);
  absl::StatusOr<std::shared_ptr<TlsStream>> stream = TlsStream::CreateServer(
      std::move(socket),
      [set](const std::string& server_name) { return set->Select(server_name); },
      set->default_context->options().handshake_timeout);
  if (!stream.ok()) {
    LogWarning(stream.status().message());
    return;
  }
  Serve(*std::move(stream), limits);
}

void Server::Impl::Serve(std::shared_ptr<ByteStream> stream, const FrameLimits& limits) {
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
    state->handshake_done = absl::Now();
  };
  callbacks.on_frame = [this, state](const std::shared_ptr<Connection>& connection,
                                     DecodedFrame& frame) { OnFrame(connection, state, frame); };
  callbacks.on_closed = [this, state](const std::shared_ptr<Connection>& connection,
                                      const absl::Status& reason) {
    // Handlers still running on this connection see it as a cancellation.
    std::unordered_map<uint64_t, std::shared_ptr<ServerCall>> calls;
    {
      std::lock_guard<std::mutex> lock(state->mu);
      calls.swap(state->calls);
    }
    for (auto& [id, call] : calls) {
      call->Cancel(absl::UnavailableError(absl::StrCat(
          "the connection with ", connection->peer_address(), " closed: ", reason.message())));
    }
    std::lock_guard<std::mutex> lock(mu);
    connections.erase(connection.get());
    if (!reason.ok() && reason.code() != absl::StatusCode::kUnavailable &&
        connection->session_info().version.size() > 0) {
      LogWarning(absl::StrCat("closed connection with ", connection->peer_address(), ": ",
                              reason.message()));
    }
  };
  std::shared_ptr<Connection> connection =
      Connection::Create(std::move(stream), limits, std::move(callbacks));
  {
    std::lock_guard<std::mutex> lock(settings_mu);
    connection->SetKeepalive(
        absl::Milliseconds(overrides.Get(Parameter::kKeepaliveInterval).AsInt()),
        absl::Milliseconds(overrides.Get(Parameter::kKeepaliveTimeout).AsInt()));
    const size_t write_queue = static_cast<size_t>(overrides.Get(Parameter::kMaxWriteQueue).AsInt());
    connection->SetWriteQueueLimits(write_queue, write_queue + limits.max_message_bytes);
    receive_budget->SetLimit(static_cast<size_t>(overrides.Get(Parameter::kMaxReceiveMemory).AsInt()));
  }
  connection->SetReceiveBudget(receive_budget);
  connection->RequireHelloFirst();
  {
    std::lock_guard<std::mutex> lock(mu);
    connections.emplace(connection.get(), OpenConnection{connection, state});
    ++stats.connections_accepted;
    // Accepted while Drain closes the acceptor: it serves no call.
    state->draining = drained;
  }
  connection->Start();
}

void Server::Impl::OnFrame(const std::shared_ptr<Connection>& connection,
                           const std::shared_ptr<ConnectionState>& state, DecodedFrame& frame) {
  const v1::FrameHeader& header = frame.header;
  if (CarriesNoPayload(header.kind_case()) && PayloadBytes(frame) > 0) {
    connection->Close(absl::InvalidArgumentError(absl::StrCat(
        "protocol error: a ", FrameKindName(header.kind_case()),
        " frame carries no payload; this one has ", PayloadBytes(frame), " bytes (call id ",
        header.call_id(), ")")));
    return;
  }
  if (!state->hello_received.load(std::memory_order_relaxed)) {
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
    state->hello_received.store(true, std::memory_order_relaxed);
    connection->PeerHelloReceived();  // pings are answered from now on
    state->peer_max_message_bytes = header.hello().max_message_bytes();
    v1::FrameHeader reply;
    reply.set_call_id(0);
    v1::Hello* hello = reply.mutable_hello();
    hello->set_protocol_version(kProtocolVersion);
    hello->set_software_name(options.software_name);
    hello->set_software_version(options.software_version);
    hello->set_max_message_bytes(connection->limits().max_message_bytes);
    connection->Send(reply, "").IgnoreError();
    return;
  }
  switch (header.kind_case()) {
    case v1::FrameHeader::kRequest:
      HandleRequest(connection, state, frame);
      return;
    case v1::FrameHeader::kMessage:
    case v1::FrameHeader::kHalfClose:
    case v1::FrameHeader::kCancel:
    case v1::FrameHeader::kWindowUpdate:
      HandleCallFrame(connection, *state, frame);
      return;
    case v1::FrameHeader::kGoAway:
      // A graceful GoAway from a client means nothing in version 1: the
      // server starts no calls (docs/protocol.md, section 10.2).
      if (header.go_away().graceful()) return;
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

void Server::Impl::Refuse(const std::shared_ptr<Connection>& connection, uint64_t call_id,
                          const absl::Status& status, bool not_processed) {
  ServerCall call;
  call.id = call_id;
  call.connection = connection;
  SendStatus(call, status, not_processed);
}

void Server::Impl::HandleRequest(const std::shared_ptr<Connection>& connection,
                                 const std::shared_ptr<ConnectionState>& state,
                                 DecodedFrame& frame) {
  const uint64_t call_id = frame.header.call_id();
  if (call_id == 0 || call_id % 2 == 0) {
    connection->Close(absl::InvalidArgumentError(absl::StrCat(
        "protocol error: request with call id ", call_id,
        "; clients use odd call ids (docs/protocol.md)")));
    return;
  }
  const CallIdWindow::Verdict verdict = state->call_ids.Use(call_id);
  if (verdict != CallIdWindow::Verdict::kNew) {
    bool running = false;
    if (verdict == CallIdWindow::Verdict::kUsed) {
      std::lock_guard<std::mutex> lock(state->mu);
      running = state->calls.count(call_id) > 0;
    }
    connection->Close(absl::InvalidArgumentError(
        running ? absl::StrCat("protocol error: request with call id ", call_id,
                               ", which is already in use on this connection "
                               "(docs/protocol.md)")
                : absl::StrCat("protocol error: request with call id ", call_id,
                               ", which was already used on this connection (or is more than ",
                               CallIdWindow::kSpan, " below the highest call id received, ",
                               state->call_ids.highest(), ") (docs/protocol.md)")));
    return;
  }
  const v1::RequestHeader& request = frame.header.request();
  const std::string& method = request.method();
  const RegisteredMethod* registered = registry->Find(method);
  if (registered == nullptr) {
    Refuse(connection, call_id,
           absl::UnimplementedError(absl::StrCat(
               "method \"", method, "\" is not registered on this server (",
               options.software_name, "); check the service and method name")));
    return;
  }
  const auto kind = static_cast<MethodKind>(request.kind());
  if (kind != registered->kind) {
    Refuse(connection, call_id,
           absl::InvalidArgumentError(absl::StrCat(
               method, " is a ", MethodKindName(registered->kind),
               " method; the client called it as ", MethodKindName(kind),
               "; regenerate the client's stubs from the same .proto file")));
    return;
  }
  if ((kind == MethodKind::kClientStreaming || kind == MethodKind::kBidiStreaming) &&
      PayloadBytes(frame) > 0) {
    Refuse(connection, call_id,
           absl::InvalidArgumentError(absl::StrCat(
               "protocol error: ", method, " is a ", MethodKindName(kind),
               " method; its request frame carries no payload, this one has ",
               PayloadBytes(frame), " bytes")));
    return;
  }
  if (frame.oversized_payload_bytes > 0) {
    Refuse(connection, call_id,
           absl::ResourceExhaustedError(absl::StrCat(
               method, ": message of ", frame.oversized_payload_bytes,
               " bytes exceeds the server's limit of ", connection->limits().max_message_bytes,
               " bytes (kMaxMessageSize)")));
    return;
  }
  int64_t max_calls, max_metadata, max_streams;
  {
    std::lock_guard<std::mutex> lock(settings_mu);
    max_calls = overrides.Get(Parameter::kMaxConcurrentCalls).AsInt();
    max_metadata = overrides.Get(Parameter::kMaxMetadataSize).AsInt();
    max_streams = overrides.Get(Parameter::kMaxConcurrentStreams).AsInt();
  }
  auto call = std::make_shared<ServerCall>();
  call->id = call_id;
  call->method = method;
  call->kind = kind;
  call->session = state->session;
  call->connection = connection;
  call->peer_max_message_bytes = state->peer_max_message_bytes;
  if (request.metadata_size() > 0) {
    call->metadata = MetadataFromWire(request.metadata());
    absl::Status valid = ValidateMetadata(call->metadata, static_cast<size_t>(max_metadata),
                                          absl::StrCat("the request headers of ", method));
    if (!valid.ok()) {
      Refuse(connection, call_id, valid);
      return;
    }
  }
  call->deadline = DeadlineFromTimeout(request.timeout_micros());
  const int running = state->active_calls.load(std::memory_order_relaxed);
  if (running >= max_calls) {
    Refuse(connection, call_id,
           absl::ResourceExhaustedError(absl::StrCat(
               method, " refused: ", running, " calls are already running on this connection, "
               "the limit is ", max_calls, " (kMaxConcurrentCalls); retry when some finish")));
    return;
  }
  // Authorisation before the handler: refused calls get a status, the
  // connection stays.
  absl::Status allowed = registry->Authorize(
      method, state->session->peer_certificate ? &*state->session->peer_certificate : nullptr);
  if (!allowed.ok()) {
    Refuse(connection, call_id, allowed);
    LogWarning(absl::StrCat("refused ", method, " from ", connection->peer_address(), ": ",
                            allowed.message()));
    return;
  }
  // A streaming handler holds a thread for as long as its call lives: the
  // server-wide limit is taken before the call is published, so a refusal
  // leaves nothing behind.
  StreamExecutor::Slot stream_slot;
  if (kind != MethodKind::kUnary) {
    int streams_running = 0;
    stream_slot = streams.TryReserve(static_cast<int>(max_streams), &streams_running);
    if (!stream_slot) {
      Refuse(connection, call_id,
             absl::ResourceExhaustedError(absl::StrCat(
                 method, " refused: ", streams_running,
                 " streaming calls are already running on this server, the limit is ",
                 max_streams, " (kMaxConcurrentStreams); retry when some finish")));
      return;
    }
  }
  const bool inline_call =
      kind == MethodKind::kUnary && registered->thread == HandlerThread::kIoThread;
  // Before the call is published: a cancel may reach it at once.
  if (kind != MethodKind::kUnary) {
    call->stream = std::make_unique<CallStream>(call->deadline, method);
    if (kind == MethodKind::kServerStreaming) {
      call->stream->DeliverUncounted(std::string(frame.payload));
      call->stream->DeliverEnd();
    }
  }
  {
    std::lock_guard<std::mutex> lock(state->mu);
    if (state->draining) {
      Refuse(connection, call_id,
             absl::UnavailableError(absl::StrCat(
                 method, " was not processed: the server is shutting down; retry on a new "
                 "connection")),
             /*not_processed=*/true);
      return;
    }
    if (!inline_call) state->calls.emplace(call_id, call);
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    ++calls_in_flight;
  }
  state->active_calls.fetch_add(1, std::memory_order_relaxed);
  if (call->deadline != absl::InfiniteFuture() && !inline_call) TrackDeadline(call);
  if (inline_call) {
    RunUnary(call, state, registered->handler, frame.payload);
    return;
  }
  if (kind != MethodKind::kUnary) {
    const RawStreamHandler* handler = &registered->stream_handler;
    // A stream may wait on its client for as long as it lives: a thread of
    // its own (within the limit), so open streams never starve unary calls
    // or each other.
    absl::Status started = streams.Run(
        std::move(stream_slot),
        [self = shared_from_this(), call, state, handler] { self->RunStream(call, state, *handler); });
    if (!started.ok()) {
      LogWarning(absl::StrCat("streaming call ", method, " from ", connection->peer_address(),
                              " refused: ", started.message()));
      FinishCall(call, *state,
                 absl::ResourceExhaustedError(absl::StrCat(
                     method, " refused: the server ", started.message(), "; retry later")));
    }
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
  const RawHandler* handler = &registered->handler;
  // A large request keeps its share of the receive budget until its
  // handler is done with it (kMaxReceiveMemory).
  std::shared_ptr<const void> charge = std::move(frame.memory_charge);
  workers->Post([self = shared_from_this(), call, state, handler, storage, offset, length,
                 charge] {
    self->RunUnary(call, state, *handler, absl::string_view(*storage).substr(offset, length));
  });
}

void Server::Impl::HandleCallFrame(const std::shared_ptr<Connection>& connection,
                                   ConnectionState& state, DecodedFrame& frame) {
  const v1::FrameHeader& header = frame.header;
  std::shared_ptr<ServerCall> call;
  {
    std::lock_guard<std::mutex> lock(state.mu);
    auto it = state.calls.find(header.call_id());
    // Unknown: the call already ended (its status is on the way); what the
    // client sent meanwhile is dropped.
    if (it == state.calls.end()) return;
    call = it->second;
  }
  switch (header.kind_case()) {
    case v1::FrameHeader::kCancel:
      // The client stopped waiting: no reply, and a late one is dropped.
      call->Claim();
      call->Cancel(absl::CancelledError(
          absl::StrCat(call->method, " was cancelled by the client")));
      return;
    case v1::FrameHeader::kWindowUpdate:
      if (call->stream != nullptr) call->stream->AddCredit(header.window_update().bytes());
      return;
    case v1::FrameHeader::kHalfClose:
      if (call->stream != nullptr) call->stream->DeliverEnd();
      return;
    case v1::FrameHeader::kMessage: {
      absl::Status delivered;
      if (call->stream == nullptr || call->kind == MethodKind::kServerStreaming) {
        delivered = absl::InvalidArgumentError(absl::StrCat(
            "protocol error: ", call->method, " takes no stream of requests"));
      } else if (frame.oversized_payload_bytes > 0) {
        delivered = absl::ResourceExhaustedError(absl::StrCat(
            call->method, ": a message of ", frame.oversized_payload_bytes,
            " bytes exceeds the server's limit of ", connection->limits().max_message_bytes,
            " bytes (kMaxMessageSize)"));
      } else {
        delivered = call->stream->Deliver(std::string(frame.payload), frame.memory_charge);
      }
      if (!delivered.ok()) CancelAndAnswer(call, delivered);
      return;
    }
    default:
      return;
  }
}

namespace {

// Runs a handler unless the call was cancelled (or expired) while it
// waited; a thrown exception becomes INTERNAL with its text.
absl::StatusOr<std::string> InvokeHandler(
    const ServerCall& call, CallContext& context,
    const std::function<absl::StatusOr<std::string>()>& handler) {
  // Nobody waits for a call whose deadline passed while it waited for a
  // worker: it is not run (docs/protocol.md, section 8).
  if (call.deadline_passed()) return call.DeadlineExceeded();
  if (context.cancelled()) return context.cancel_reason();
  try {
    return handler();
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("the handler of ", context.method(), " threw: ", e.what()));
  } catch (...) {
    return absl::InternalError(
        absl::StrCat("the handler of ", context.method(), " threw a non-standard exception"));
  }
}

}  // namespace

void Server::Impl::RunUnary(const std::shared_ptr<ServerCall>& call,
                            const std::shared_ptr<ConnectionState>& state,
                            const RawHandler& handler, absl::string_view request) {
  CallContext context(call);
  FinishCall(call, *state,
             InvokeHandler(*call, context, [&] { return handler(context, request); }));
}

void Server::Impl::RunStream(const std::shared_ptr<ServerCall>& call,
                             const std::shared_ptr<ConnectionState>& state,
                             const RawStreamHandler& handler) {
  CallContext context(call);
  ServerStream stream(call);
  FinishCall(call, *state, InvokeHandler(*call, context, [&] { return handler(context, stream); }));
}

void Server::Impl::FinishCall(const std::shared_ptr<ServerCall>& call, ConnectionState& state,
                              absl::StatusOr<std::string> result) {
  if (call->Claim()) {
    // A stream that ended early (an oversized message) says why.
    absl::Status cancelled;
    {
      std::lock_guard<std::mutex> lock(call->mu);
      cancelled = call->cancel_reason;
    }
    if (!cancelled.ok()) result = cancelled;
    // Once the deadline has passed, the answer is DEADLINE_EXCEEDED, even
    // when the handler returned at the same moment (the client has given
    // up, and it must not see a success it already reported as a failure).
    if (call->deadline_passed()) result = call->DeadlineExceeded();
    SendStatus(*call, result);
  }
  {
    std::lock_guard<std::mutex> lock(state.mu);
    auto it = state.calls.find(call->id);
    if (it != state.calls.end() && it->second == call) state.calls.erase(it);
  }
  if (call->deadline != absl::InfiniteFuture()) {
    std::lock_guard<std::mutex> lock(deadlines_mu);
    auto range = deadlines.equal_range(call->deadline);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second.lock() == call) {
        deadlines.erase(it);
        break;
      }
    }
  }
  state.active_calls.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu);
  ++stats.calls_completed;
  if (--calls_in_flight == 0) calls_done.notify_all();
}

void Server::Impl::SendStatus(const ServerCall& call, const absl::StatusOr<std::string>& result,
                              bool not_processed) {
  v1::FrameHeader header;
  header.set_call_id(call.id);
  v1::ResponseHeader* response = header.mutable_response();
  response->set_not_processed(not_processed);
  Metadata trailers;
  {
    std::lock_guard<std::mutex> lock(call.mu);
    trailers = call.trailers;
  }
  absl::Status status = result.status();
  if (!trailers.empty()) {
    int64_t max_metadata;
    {
      std::lock_guard<std::mutex> lock(settings_mu);
      max_metadata = overrides.Get(Parameter::kMaxMetadataSize).AsInt();
    }
    absl::Status valid = ValidateMetadata(trailers, static_cast<size_t>(max_metadata),
                                          absl::StrCat("the response trailers of ", call.method));
    if (valid.ok()) {
      MetadataToWire(trailers, response->mutable_trailers());
      if (header.ByteSizeLong() > call.connection->limits().max_header_bytes) {
        valid = absl::ResourceExhaustedError(absl::StrCat(
            "the response trailers of ", call.method, " make a frame header of ",
            header.ByteSizeLong(), " bytes, over the limit of ",
            call.connection->limits().max_header_bytes, " bytes"));
        response->clear_trailers();
      }
    }
    if (!valid.ok()) {
      LogWarning(valid.message());
      status = valid;
    }
  }
  if (status.ok()) {
    const size_t limit = call.max_send_bytes();
    if (result->size() > limit) {
      status = absl::ResourceExhaustedError(absl::StrCat(
          "the server's reply of ", result->size(), " bytes exceeds the limit of ", limit,
          " bytes (kMaxMessageSize)"));
    } else {
      absl::Status sent = call.connection->Send(header, *result);
      if (sent.code() != absl::StatusCode::kResourceExhausted) return;
      status = absl::ResourceExhaustedError(
          absl::StrCat("the server's reply was refused: ", sent.message()));
    }
    response->clear_trailers();
  }
  response->set_status_code(static_cast<int>(status.code()));
  // Status messages are for people; a runaway one must not break the frame
  // header limit, and one that is not UTF-8 (a handler's bytes, a bad
  // trailer key quoted, a cut inside a character) would make the header
  // unparseable for the client (common/utf8.h).
  response->set_status_message(ValidUtf8(status.message(), 4096));
  call.connection->Send(header, "").IgnoreError();
}

void Server::Impl::CancelAndAnswer(const std::shared_ptr<ServerCall>& call,
                                   const absl::Status& reason) {
  call->Cancel(reason);
  if (call->Claim()) SendStatus(*call, reason);
}

void Server::Impl::TrackDeadline(const std::shared_ptr<ServerCall>& call) {
  bool arm = false;
  {
    std::lock_guard<std::mutex> lock(deadlines_mu);
    deadlines.emplace(call->deadline, call);
    if (call->deadline < deadline_timer_armed_for) {
      deadline_timer_armed_for = call->deadline;
      arm = true;
    }
  }
  if (arm) asio::post(io, [this] { ArmDeadlineTimer(); });
}

void Server::Impl::ArmDeadlineTimer() {
  absl::Time next;
  {
    std::lock_guard<std::mutex> lock(deadlines_mu);
    if (deadlines.empty()) {
      deadline_timer_armed_for = absl::InfiniteFuture();
      return;
    }
    next = deadlines.begin()->first;
    deadline_timer_armed_for = next;
  }
  if (deadline_timer == nullptr) deadline_timer = std::make_unique<asio::steady_timer>(io);
  deadline_timer->expires_after(std::chrono::microseconds(
      std::max<int64_t>(0, absl::ToInt64Microseconds(next - absl::Now()))));
  deadline_timer->async_wait([this](const std::error_code& error) {
    if (!error) OnDeadlineTimer();
  });
}

void Server::Impl::OnDeadlineTimer() {
  std::vector<std::shared_ptr<ServerCall>> expired;
  const absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(deadlines_mu);
    while (!deadlines.empty() && deadlines.begin()->first <= now) {
      if (auto call = deadlines.begin()->second.lock()) expired.push_back(std::move(call));
      deadlines.erase(deadlines.begin());
    }
  }
  for (auto& call : expired) {
    // The client gives up at the same moment; the status is for the record.
    CancelAndAnswer(call, call->DeadlineExceeded());
  }
  ArmDeadlineTimer();
}

void Server::Drain(absl::Duration timeout) {
  Impl& s = *impl_;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    if (!s.started || s.drained) return;
    s.drained = true;
  }
  s.dh_cancel = true;  // joined below; stops within milliseconds
  {
    // Closed on the I/O thread, and waited for: no connection accepted
    // after the snapshot below escapes the drain.
    std::promise<void> closed;
    asio::post(s.io, [&s, &closed] {
      std::error_code ignored;
      s.acceptor->close(ignored);
      closed.set_value();
    });
    closed.get_future().wait_for(std::chrono::seconds(5));
  }
  std::vector<Impl::OpenConnection> open;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (auto& entry : s.connections) open.push_back(entry.second);
  }
  // First the go-away: clients start no new calls here, and reconnect
  // (elsewhere, or here later) for their next ones.
  for (auto& entry : open) {
    uint64_t last_call_id;
    {
      // Together with the flag: a request received after this read sees the
      // flag and is refused as not processed, so ids above last_call_id
      // were never started.
      std::lock_guard<std::mutex> lock(entry.state->mu);
      entry.state->draining = true;
      last_call_id = entry.connection->highest_request_id();
      entry.state->drain_last_call_id = last_call_id;
    }
    v1::FrameHeader header;
    header.set_call_id(0);
    v1::GoAway* go_away = header.mutable_go_away();
    go_away->set_status_code(static_cast<int>(absl::StatusCode::kUnavailable));
    go_away->set_status_message("the server is shutting down");
    go_away->set_graceful(true);
    go_away->set_last_call_id(last_call_id);
    entry.connection->Send(header, "").IgnoreError();
  }
  bool all_done;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    all_done = s.calls_done.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                     [&s] { return s.calls_in_flight == 0; });
    open.clear();
    for (auto& entry : s.connections) open.push_back(entry.second);
  }
  std::vector<std::string> stuck;  // methods whose handlers ignore their cancellation
  if (!all_done) {
    // Calls still running get their status now; what their handlers
    // return later is dropped.
    for (auto& entry : open) {
      std::vector<std::shared_ptr<ServerCall>> calls;
      {
        std::lock_guard<std::mutex> lock(entry.state->mu);
        for (auto& [id, call] : entry.state->calls) calls.push_back(call);
      }
      for (auto& call : calls) {
        s.CancelAndAnswer(call, absl::UnavailableError(absl::StrCat(
                                    call->method, " was cancelled: the server shut down and "
                                    "the call was still running after the drain timeout of ",
                                    absl::FormatDuration(timeout))));
      }
    }
    // Handlers that honour cancellation return now. One that does not
    // cannot hold the shutdown: after a short grace it is abandoned.
    std::unique_lock<std::mutex> lock(s.mu);
    if (!s.calls_done.wait_for(lock, std::chrono::seconds(2),
                               [&s] { return s.calls_in_flight == 0; })) {
      for (auto& entry : open) {
        std::lock_guard<std::mutex> calls_lock(entry.state->mu);
        for (auto& [id, call] : entry.state->calls) stuck.push_back(call->method);
      }
    }
  }
  for (auto& entry : open) {
    // The final GoAway names the same last call as the graceful one: calls
    // refused since then were not processed either, even if their refusal
    // never got out.
    v1::FrameHeader header;
    header.set_call_id(0);
    v1::GoAway* go_away = header.mutable_go_away();
    go_away->set_status_code(static_cast<int>(absl::StatusCode::kUnavailable));
    go_away->set_status_message("the server is shutting down");
    {
      std::lock_guard<std::mutex> lock(entry.state->mu);
      go_away->set_last_call_id(entry.state->drain_last_call_id);
    }
    entry.connection->Send(header, "").IgnoreError();
    entry.connection->Close(absl::UnavailableError("the server is shutting down"),
                            /*send_go_away=*/false);
  }
  open.clear();
  // Give posted closes a moment to run, then stop the I/O thread: after
  // that nothing posts to the worker pool any more.
  s.work.reset();
  std::promise<void> finished;
  std::future<void> done = finished.get_future();
  asio::post(s.io, [&finished] { finished.set_value(); });
  done.wait_for(std::chrono::seconds(1));
  std::vector<std::weak_ptr<MemoryStream>> memory_streams;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    memory_streams.swap(s.memory_streams);
  }
  if (!memory_streams.empty()) {
    for (auto& weak : memory_streams) {
      if (auto stream = weak.lock()) stream->Close();
    }
    // Their pending reads complete (as errors) on the I/O thread.
    std::promise<void> closed;
    asio::post(s.io, [&closed] { closed.set_value(); });
    closed.get_future().wait_for(std::chrono::seconds(1));
  }
  s.io.stop();
  if (s.io_thread.joinable()) s.io_thread.join();
  if (s.dh_thread.joinable()) s.dh_thread.join();
  // Handlers still running finish against closed connections (their
  // replies are dropped). Those abandoned above keep running in the
  // background: their tasks hold the server's state, so nothing they touch
  // goes away under them.
  const absl::Duration grace = stuck.empty() ? absl::Seconds(5) : absl::ZeroDuration();
  int abandoned = s.workers->Shutdown(grace) + s.streams.Shutdown(grace);
  if (abandoned > 0 || !stuck.empty()) {
    LogWarning(absl::StrCat(
        "shutdown: ", std::max<size_t>(abandoned, stuck.size()),
        " handler(s) still running 2 s after their cancellation were abandoned (their results "
        "are dropped): ", absl::StrJoin(stuck, ", "),
        "; handlers should return when CallContext::cancelled() becomes true"));
  }
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

std::shared_ptr<ByteStream> ServerTestingPeer::ConnectInMemory(Server& server,
                                                                asio::io_context& client_io,
                                                                const std::string& client_name) {
  Server::Impl& impl = *server.impl_;
  // No TLS in memory: the version says so (transport/memory_stream.h).
  TlsSessionInfo client_side;
  client_side.peer_address = "appwire-server (in memory)";
  client_side.version = "none (in memory)";
  client_side.alpn = "appwire/1";
  TlsSessionInfo server_side = client_side;
  server_side.peer_address = client_name;
  MemoryStream::Pair pair =
      MemoryStream::CreatePair(client_io, std::move(client_side), impl.io, std::move(server_side));
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    if (impl.drained) {  // its I/O thread may be stopped already
      pair.second->Close();  // the client reads the end of the stream
      return std::move(pair.first);
    }
  }
  // On the I/O thread, as OnAccepted: Drain's snapshot of the connections
  // then sees this one or refuses it.
  auto served = std::make_shared<std::promise<void>>();  // may outlive a timed-out wait
  std::future<void> serving = served->get_future();
  asio::post(impl.io, [&impl, served, stream = pair.second] {
    bool drained;
    {
      std::lock_guard<std::mutex> lock(impl.mu);
      drained = impl.drained;
      if (!drained) {
        // Bounded by the connections open: ended ones are forgotten.
        auto& streams = impl.memory_streams;
        streams.erase(std::remove_if(streams.begin(), streams.end(),
                                     [](const std::weak_ptr<MemoryStream>& weak) {
                                       return weak.expired();
                                     }),
                      streams.end());
        streams.push_back(stream);
      }
    }
    if (drained) {
      stream->Close();  // the client reads the end of the stream
    } else {
      FrameLimits limits;
      impl.CurrentContexts(&limits);
      impl.Serve(stream, limits);
    }
    served->set_value();
  });
  if (serving.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    pair.second->Close();  // the I/O thread is gone: a stopped server
  }
  return std::move(pair.first);
}

}  // namespace appwire
