// ServerMetrics: the server's counters and latency histograms, and their
// Prometheus text exposition (format 0.0.4), which the metrics endpoint
// serves (http_endpoint.h).
//
//   metrics.RecordCall("pkg.Svc/Method", absl::StatusCode::kOk, absl::Milliseconds(2));
//   std::string text = metrics.Exposition(gauges);  // FormatExposition(Families(gauges))
//
// Label values are bounded by construction: methods are the registered ones
// (calls to other names are refused before they reach RecordCall and are
// counted by code only), codes are the 17 status codes, handshake failure
// reasons a fixed set. A hostile client cannot grow the tables. Thread-safe;
// one mutex, taken once per call, handshake failure or scrape. Internal.
#ifndef APPWIRE_SERVER_SERVER_METRICS_H_
#define APPWIRE_SERVER_SERVER_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "appwire/server/metric_families.h"

namespace appwire {

// Why a TLS handshake did not complete, as the metrics label it.
enum class HandshakeFailureReason {
  kTimeout,      // the handshake timeout passed
  kClosed,       // the peer closed the connection midway
  kCertificate,  // a certificate was refused (either side's)
  kProtocol,     // versions, suites, ALPN, malformed records
  kOther,
};
const char* HandshakeFailureReasonLabel(HandshakeFailureReason reason);
// The reason of a failed handshake's status (its TlsFailure kind and code).
HandshakeFailureReason ClassifyHandshakeFailure(const absl::Status& status);

class ServerMetrics {
 public:
  // The upper bounds of the latency histogram buckets, in seconds (100 µs
  // to 10 s); +Inf is implied.
  static const std::vector<double>& LatencyBuckets();

  // A call that reached its handler, with its final status and how long it
  // took from the request to the response.
  void RecordCall(absl::string_view method, absl::StatusCode code, absl::Duration duration);
  // A request refused before any handler (unknown method, limits, drain).
  void RecordRefusedCall(absl::StatusCode code);
  void RecordHandshakeFailure(HandshakeFailureReason reason);

  // What the server knows at the moment of a scrape.
  struct Gauges {
    uint64_t connections_accepted = 0;
    int64_t connections_open = 0;
    uint64_t probes = 0;
    uint64_t message_bytes_received = 0;
    uint64_t message_bytes_sent = 0;
    // Served certificates: (name, notAfter), "" for the default one.
    std::vector<std::pair<std::string, absl::Time>> certificate_expiry;
    // "loaded", "generating" or "none": the DH parameters of TLS 1.2 DHE.
    std::string dh_params_state;
  };
  // Everything, as data (what appwire.v1.Stats/Get sends) ...
  std::vector<MetricFamily> Families(const Gauges& gauges) const;
  // ... and as the Prometheus text exposition (version 0.0.4).
  std::string Exposition(const Gauges& gauges) const;

 private:
  struct Latency {
    std::vector<uint64_t> buckets;  // one per LatencyBuckets() entry, not cumulative
    uint64_t count = 0;
    double sum_seconds = 0;
  };

  mutable std::mutex mu_;
  // (method, code) -> calls; method -> latency.
  std::map<std::pair<std::string, int>, uint64_t> calls_;  // guarded by mu_
  std::map<std::string, Latency> latency_;                  // guarded by mu_
  std::map<int, uint64_t> refused_;                         // guarded by mu_
  std::array<uint64_t, 5> handshake_failures_{};            // guarded by mu_
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_SERVER_METRICS_H_
