// Database-style parameters: how 4D developers configure networking
// (SET DATABASE PARAMETER(selector; value)), kept for appwire.
//
//   appwire::SetDatabaseParameter(appwire::Parameter::kMinTlsVersion, appwire::kTLSv1_2);
//   int64_t v = appwire::GetDatabaseParameter(appwire::Parameter::kMinTlsVersion).AsInt();
//
// Values are process-wide defaults. A Server or a client Channel can
// override any of them in its own options (ParameterOverrides), as 4D's
// webServer objects do. A change applies to every connection opened after
// the call, on running servers and clients alike; connections already open
// keep what they negotiated. docs/configuration.md lists every selector.
//
// An invalid value is refused with InvalidArgument naming the selector, the
// value and what is allowed, and nothing changes. Thread-safe.
#ifndef APPWIRE_COMMON_PARAMETERS_H_
#define APPWIRE_COMMON_PARAMETERS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "appwire/common/export.h"
#include "appwire/common/tls_version.h"

namespace appwire {

// Selector numbers: 4D's where 4D has the setting, above 1000 otherwise.
// Each comment ends with the default as GetDatabaseParameter returns it;
// appwire/common/parameter_table.cc holds the names, defaults, settings-file keys
// and allowed values (appwire/common/parameter_table_test.cc checks that these
// comments and docs/configuration.md agree with it).
enum class Parameter : int {
  kClientServerPortId = 35,       // int: TCP port, 0 = any free port; default 19813
  kIdleConnectionsTimeout = 54,   // int: seconds of inactivity before a connection
                                  //      is closed, 0 = never; default 0
  kSslCipherList = 64,            // string: TLS 1.2 suites, OpenSSL names, ':'-separated;
                                  //         default "" (appwire's forward-secret list)
  kMinTlsVersion = 105,           // int: kTLSv1_2 (3) or kTLSv1_3 (4); default 4 (kTLSv1_3)
  kMaxTlsVersion = 1001,          // int: kTLSv1_2 or kTLSv1_3; default 4 (kTLSv1_3)
  kTls13CipherSuites = 1002,      // string: IANA names, ':'-separated;
                                  //         default "" (all three TLS 1.3 suites)
  kKeyExchangeGroups = 1003,      // string: ':'-separated, preferred first;
                                  //         default "P-256:X25519:P-384"
  kClientCertificateMode = 1004,  // int: kClientCertNone, kClientCertRequest or
                                  //      kClientCertRequire; default 0 (kClientCertNone)
  kHandshakeTimeout = 1005,       // int: milliseconds; default 10000
  kMaxMessageSize = 1006,         // int: bytes, 1 to 1 GiB; default 16777216 (16 MiB)
  kDhParamBits = 1007,            // int: 2048, 3072 or 4096; default 2048
  kAllowNonForwardSecret = 1008,  // int: 0 or 1: allow a kSslCipherList without
                                  //      forward secrecy; default 0
  kKeepaliveInterval = 1009,      // int: milliseconds without incoming data before a
                                  //      ping is sent, 0 = no pings; default 30000
  kKeepaliveTimeout = 1010,       // int: milliseconds a ping may go unanswered before
                                  //      the connection is closed; default 10000
  kMaxConcurrentCalls = 1011,     // int: calls one connection may have running on the
                                  //      server; default 1000
  kMaxMetadataSize = 1012,        // int: bytes of request headers or response trailers
                                  //      per call; default 8192
  kMaxWriteQueue = 1013,          // int: bytes a server connection may have queued for
                                  //      sending before the server stops reading from
                                  //      it; default 4194304 (4 MiB)
  kWriteStallTimeout = 1014,      // int: milliseconds a connection may stay over
                                  //      kMaxWriteQueue before it is closed; default 30000
  kMaxConcurrentStreams = 1015,   // int: streaming calls running on the whole server;
                                  //      default 256
  kHelloTimeout = 1016,           // int: milliseconds after the TLS handshake within
                                  //      which the client must send its hello; default 10000
  kMaxReceiveMemory = 1017,       // int: bytes the server may hold for partly received
                                  //      frames and large waiting requests, all
                                  //      connections together; default 268435456 (256 MiB)
};

// 4D's value constants for kMinTlsVersion / kMaxTlsVersion.
inline constexpr int64_t kTLSv1_2 = 3;
inline constexpr int64_t kTLSv1_3 = 4;
// Values of kClientCertificateMode.
inline constexpr int64_t kClientCertNone = 0;
inline constexpr int64_t kClientCertRequest = 1;
inline constexpr int64_t kClientCertRequire = 2;

// "kMinTlsVersion (105)".
APPWIRE_EXPORT std::string ParameterName(Parameter selector);

// An integer or a string, as the selector takes.
class APPWIRE_EXPORT ParameterValue {
 public:
  ParameterValue(int64_t v) : value_(v) {}  // NOLINT: implicit by design
  ParameterValue(int v) : value_(static_cast<int64_t>(v)) {}  // NOLINT
  ParameterValue(TlsVersion v) : value_(static_cast<int64_t>(v)) {}  // NOLINT
  ParameterValue(std::string v) : value_(std::move(v)) {}  // NOLINT
  ParameterValue(const char* v) : value_(std::string(v)) {}  // NOLINT
  ParameterValue(absl::string_view v) : value_(std::string(v)) {}  // NOLINT

  bool is_int() const { return std::holds_alternative<int64_t>(value_); }
  // 0 / "" when the value is of the other kind.
  int64_t AsInt() const { return is_int() ? std::get<int64_t>(value_) : 0; }
  std::string AsString() const { return is_int() ? std::string() : std::get<std::string>(value_); }
  std::string ToString() const;
  bool operator==(const ParameterValue& other) const { return value_ == other.value_; }

 private:
  std::variant<int64_t, std::string> value_;
};

// Where the checks live: SetDatabaseParameter, ValidateParameter and
// ParameterOverrides::Set are defined in appwire/transport/parameter_checks.cc
// (library appwire_transport, which every Server and Channel links), not in
// appwire/common/: two checks, the cipher lists', need the TLS library. They are
// called directly, not registered at start-up, so what is accepted never
// depends on what got linked; without appwire_transport these functions do
// not link.

// Sets a process-wide default.
APPWIRE_EXPORT absl::Status SetDatabaseParameter(Parameter selector, ParameterValue value);
// The process-wide value in force (the default when never set).
APPWIRE_EXPORT ParameterValue GetDatabaseParameter(Parameter selector);
// Restores every process-wide value to its default (for tests and tools).
APPWIRE_EXPORT void ResetDatabaseParameters();

// Increases with every successful change of a process-wide value: cheap to
// read per new connection to notice that settings changed.
APPWIRE_EXPORT uint64_t DatabaseParametersGeneration();

// Looks up the value another selector has where a value is being set (an
// override or the process-wide value), for checks that span selectors.
using ParameterLookup = std::function<ParameterValue(Parameter)>;

// Checks a value for a selector without setting it, against the process-wide
// values of the other selectors.
APPWIRE_EXPORT absl::Status ValidateParameter(Parameter selector, const ParameterValue& value);

// Per-Server or per-Channel values that take precedence over the
// process-wide ones. Not thread-safe by itself; Server and Channel guard it.
class APPWIRE_EXPORT ParameterOverrides {
 public:
  // Checked as SetDatabaseParameter checks (against this object's view of
  // the other selectors); InvalidArgument and no change when refused.
  absl::Status Set(Parameter selector, ParameterValue value);
  void Clear(Parameter selector) { values_.erase(selector); }
  bool Has(Parameter selector) const { return values_.count(selector) > 0; }
  // The override when set, else the process-wide value.
  ParameterValue Get(Parameter selector) const;
  const std::map<Parameter, ParameterValue>& values() const { return values_; }

 private:
  std::map<Parameter, ParameterValue> values_;
};

// Every selector's value in force at one moment, for one Server, Channel or
// connection: the process-wide values with that object's overrides on top.
// Immutable once taken, so any thread may read it without a lock; hot paths
// (per call, per frame) read the snapshot their connection holds instead of
// the process-wide values, which sit behind a mutex. Take a new one to see
// later changes (a connection takes one when it opens, a Server or Channel
// when one of its parameters or DatabaseParametersGeneration() changes).
//
//   std::shared_ptr<const ParameterSnapshot> params = ParameterSnapshot::Take(overrides);
//   size_t limit = static_cast<size_t>(params->Int(Parameter::kMaxMetadataSize));
class APPWIRE_EXPORT ParameterSnapshot {
 public:
  // The process-wide values (read under their lock once) with `overrides`
  // on top. `overrides` is only read; the caller keeps it from changing
  // meanwhile, as for ParameterOverrides::Get.
  static std::shared_ptr<const ParameterSnapshot> Take(const ParameterOverrides& overrides);

  // The value of `selector`; an int 0 for a number that is not a selector
  // (as GetDatabaseParameter). Lock-free; the reference lives as long as
  // the snapshot.
  const ParameterValue& Get(Parameter selector) const;
  int64_t Int(Parameter selector) const { return Get(selector).AsInt(); }
  // DatabaseParametersGeneration() when the snapshot was taken: a holder
  // compares it with the current generation to notice process-wide changes.
  uint64_t generation() const { return generation_; }

 private:
  ParameterSnapshot() = default;

  std::vector<ParameterValue> values_;  // indexed by ParameterIndex (appwire/common/parameter_table.h)
  uint64_t generation_ = 0;
};

namespace internal {

using ParameterCheckFunction = absl::Status (*)(Parameter selector, const ParameterValue& value,
                                                const ParameterLookup& lookup);

// SetDatabaseParameter's store, for appwire/transport/parameter_checks.cc (which
// defines SetDatabaseParameter) only: runs `check` against the process-wide
// values, then stores the value, as one change. Changes are made one at a
// time, so that a check spanning selectors (min <= max) sees the values the
// new one is stored against.
// Exported although internal: with every other function that touches the
// process-wide values public, libappwire_server.so takes them all from
// libappwire_client.so, and a process has one set of database parameters
// (tests/downstream/ checks that the server library holds no copy).
APPWIRE_EXPORT absl::Status SetDatabaseParameterIfAccepted(Parameter selector, ParameterValue value,
                                            ParameterCheckFunction check);

}  // namespace internal

}  // namespace appwire

#endif  // APPWIRE_COMMON_PARAMETERS_H_
