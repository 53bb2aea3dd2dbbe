// TlsConfiguration: what a server serves TLS with, and keeping it current.
//
// It loads the project folder's identity (key.pem, cert.pem), the SNI
// identities (certificates/), the client CA, the CRL, the DH parameters and
// the session ticket key, and builds from them and the server's parameters
// a ContextSet: the TLS contexts new connections choose from by SNI. The set
// is rebuilt when a parameter changes (Current), when the files change
// (Reload; the file watcher calls it) and when background DH generation
// finishes; a rebuild that fails keeps the last good set. Open connections
// keep the context they were accepted with.
//
// Owned by Server::Impl. Threads: Current, Reload and the accessors are
// thread-safe; StartTimers and StartDhGeneration are called once by
// Server::Start, StopDhGeneration by Drain (or the destructor). The timers
// run on the server's I/O thread; the DH generation on a thread of its own.
#ifndef APPWIRE_SERVER_TLS_CONFIGURATION_H_
#define APPWIRE_SERVER_TLS_CONFIGURATION_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "appwire/common/project_folder.h"
#include "appwire/server/internal/dh_generator.h"
#include "appwire/server/server.h"
#include "appwire/server/server_parameters.h"
#include "appwire/transport/certificate_store.h"
#include "appwire/transport/frame_codec.h"
#include "appwire/transport/tls_context.h"

namespace asio {
class io_context;
}

namespace appwire {

// The TLS configurations new connections choose from: the default (key.pem,
// cert.pem) and one per SNI certificate. Immutable once built; replaced as a
// whole when settings or files change.
struct ContextSet {
  std::shared_ptr<const TlsContext> default_context;
  // Lower-case host names ("api.example.com", "*.example.com").
  std::map<std::string, std::shared_ptr<const TlsContext>> by_name;

  // For the name a client asked for (SNI, any case): that name's context,
  // else the wildcard for its first label ("*.example.com" for
  // "api.example.com", not for "a.b.example.com"), else the default.
  std::shared_ptr<const TlsContext> Select(const std::string& requested) const;
};

class TlsConfiguration {
 public:
  // Loads every file (making, in memory, a self-signed pair when key.pem
  // and cert.pem are both absent, and a session ticket key when there is
  // none) and builds the contexts. Writes nothing: WriteGeneratedFiles
  // does, so a server that never starts (a check, a port taken) leaves the
  // folder as it was. Errors name the file and the fix.
  static absl::StatusOr<std::unique_ptr<TlsConfiguration>> Load(
      const ServerOptions& options, std::shared_ptr<ServerParameters> parameters);
  ~TlsConfiguration();  // StopDhGeneration()
  TlsConfiguration(const TlsConfiguration&) = delete;
  TlsConfiguration& operator=(const TlsConfiguration&) = delete;

  // The contexts and frame limits for a connection accepted now. Rebuilds
  // them first when a database parameter changed; a failed rebuild keeps
  // the last good configuration and logs why.
  std::shared_ptr<const ContextSet> Current(FrameLimits* limits);

  // Reads every file again and, when all are good, serves them to
  // connections opened from now on. A bad file keeps the last good
  // configuration; the error is logged and returned.
  absl::Status Reload();

  // Checks the certificates' expiry now and then daily, and (unless the
  // interval is zero) the files every certificate_check_interval, reloading
  // when they changed. Timers on `io`, which must outlive this object's
  // timers (it does: Server::Impl's io_context is destroyed last).
  void StartTimers(asio::io_context& io);
  // When no DH parameters were loaded: generates them on a low-priority
  // thread, writes dhparams.pem and serves TLS 1.2 DHE suites from then on.
  void StartDhGeneration();
  // Stops a running generation (within milliseconds). CancelDhGeneration
  // only asks; StopDhGeneration also waits for the thread. Idempotent.
  void CancelDhGeneration();
  void StopDhGeneration();

  // Writes what Load made instead of read: the generated key.pem and
  // cert.pem (an error stops the start) and a new session-ticket.key (a
  // failure only turns resumption across restarts off, logged, as an
  // unreadable file does). Server::Start calls it once the port is bound.
  // Idempotent.
  absl::Status WriteGeneratedFiles();

  // When each served certificate expires: ("", the default's notAfter),
  // then each SNI name's. For the metrics.
  std::vector<std::pair<std::string, absl::Time>> CertificateExpiries() const;
  // "loaded", "generating" or "none": the DH parameters, for the metrics.
  std::string DhParamsState() const;

  // The default identity's leaf certificate, and whether Load generated it.
  CertificateInfo certificate() const;
  bool certificate_generated() const { return generated_; }

 private:
  TlsConfiguration(const ServerOptions& options, std::shared_ptr<ServerParameters> parameters);
  absl::Status RebuildLocked();
  // client-ca.pem when present (normalised PEM), else "".
  absl::StatusOr<std::string> LoadClientCa() const;
  // mtime and size of every file a reload reads: a change means "reload".
  std::string DescribeWatchedFiles() const;
  void WatchFiles();
  void CheckExpiry();
  void GenerateDhParams(int bits);

  const ProjectFolder folder_;
  const std::string key_passphrase_file_;
  const std::string key_passphrase_env_;
  const absl::Duration check_interval_;
  const std::shared_ptr<ServerParameters> parameters_;
  bool generated_ = false;  // set by Load
  // Made by Load, not yet written by WriteGeneratedFiles (guarded by mu_).
  bool identity_unwritten_ = false;
  bool ticket_key_unwritten_ = false;

  mutable std::mutex mu_;
  // What the contexts are built from (guarded by mu_).
  ServerIdentity identity_;
  std::vector<SniIdentity> sni_identities_;
  std::string dh_params_pem_;  // empty until dhparams.pem is loaded or generated
  std::string client_ca_pem_;  // for kClientCertificateMode
  std::string crl_pem_;  // revoked client certificates
  std::string session_ticket_key_;  // empty: wolfSSL's per-context key
  // What was built (guarded by mu_).
  std::shared_ptr<const ContextSet> contexts_;
  FrameLimits limits_;
  uint64_t built_global_generation_ = 0;
  uint64_t built_parameters_generation_ = 0;
  bool rebuild_ = false;  // DH parameters arrived
  std::string watched_files_;  // what the files looked like at the last (re)load

  // The timers' state: the I/O thread only. Opaque here to keep Asio out of
  // this header.
  struct Timers;
  std::unique_ptr<Timers> timers_;

  std::thread dh_thread_;
  std::atomic<bool> dh_cancel_{false};
  std::atomic<bool> dh_generating_{false};  // the thread is at work
  internal::DhParamsGenerator dh_generator_;  // GenerateDhParamsPem unless a test replaced it
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_TLS_CONFIGURATION_H_
