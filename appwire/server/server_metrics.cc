#include "appwire/server/server_metrics.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "appwire/transport/tls_failure.h"

namespace appwire {
namespace {

constexpr std::array<HandshakeFailureReason, 5> kReasons = {
    HandshakeFailureReason::kTimeout, HandshakeFailureReason::kClosed,
    HandshakeFailureReason::kCertificate, HandshakeFailureReason::kProtocol,
    HandshakeFailureReason::kOther};

std::string Number(double value) { return absl::StrFormat("%.9g", value); }

}  // namespace

const char* HandshakeFailureReasonLabel(HandshakeFailureReason reason) {
  switch (reason) {
    case HandshakeFailureReason::kTimeout: return "timeout";
    case HandshakeFailureReason::kClosed: return "closed";
    case HandshakeFailureReason::kCertificate: return "certificate";
    case HandshakeFailureReason::kProtocol: return "protocol";
    case HandshakeFailureReason::kOther: return "other";
  }
  return "other";
}

HandshakeFailureReason ClassifyHandshakeFailure(const absl::Status& status) {
  if (std::optional<TlsFailure> failure = GetTlsFailure(status); failure.has_value()) {
    switch (failure->kind) {
      case TlsFailure::Kind::kPinMismatch:
      case TlsFailure::Kind::kPeerRefusedCertificate:
        return HandshakeFailureReason::kCertificate;
      case TlsFailure::Kind::kClosedBeforeHello:
        return HandshakeFailureReason::kClosed;
      case TlsFailure::Kind::kNoApplicationProtocol:
        return HandshakeFailureReason::kProtocol;
    }
  }
  switch (status.code()) {
    case absl::StatusCode::kDeadlineExceeded: return HandshakeFailureReason::kTimeout;
    case absl::StatusCode::kUnavailable: return HandshakeFailureReason::kClosed;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied: return HandshakeFailureReason::kCertificate;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kInvalidArgument: return HandshakeFailureReason::kProtocol;
    default: return HandshakeFailureReason::kOther;
  }
}

const std::vector<double>& ServerMetrics::LatencyBuckets() {
  static const std::vector<double>* const buckets = new std::vector<double>{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
  return *buckets;
}

void ServerMetrics::RecordCall(absl::string_view method, absl::StatusCode code,
                               absl::Duration duration) {
  const double seconds = std::max(0.0, absl::ToDoubleSeconds(duration));
  const std::vector<double>& bounds = LatencyBuckets();
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
  std::lock_guard<std::mutex> lock(mu_);
  ++calls_[{std::string(method), static_cast<int>(code)}];
  Latency& latency = latency_[std::string(method)];
  if (latency.buckets.empty()) latency.buckets.assign(bounds.size(), 0);
  if (bucket < bounds.size()) ++latency.buckets[bucket];  // else only +Inf (the count)
  ++latency.count;
  latency.sum_seconds += seconds;
}

void ServerMetrics::RecordRefusedCall(absl::StatusCode code) {
  std::lock_guard<std::mutex> lock(mu_);
  ++refused_[static_cast<int>(code)];
}

void ServerMetrics::RecordHandshakeFailure(HandshakeFailureReason reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++handshake_failures_[static_cast<size_t>(reason)];
}

std::vector<MetricFamily> ServerMetrics::Families(const Gauges& gauges) const {
  std::vector<MetricFamily> families;
  // A family of one unlabelled sample.
  auto single = [&families](const char* name, const char* type, const char* help,
                            double value) {
    families.push_back({name, type, help, {{name, {}, value}}});
  };
  // A family whose samples `add` appends.
  auto family = [&families](const char* name, const char* type, const char* help) {
    families.push_back({name, type, help, {}});
    return &families.back().samples;
  };
  single("appwire_connections_accepted_total", "counter",
         "TCP connections accepted since the server started.",
         static_cast<double>(gauges.connections_accepted));
  single("appwire_connections_open", "gauge", "Connections open now.",
         static_cast<double>(gauges.connections_open));
  single("appwire_probes_total", "counter",
         "Connections that were health checks or scans: closed without sending a byte, or a "
         "TLS handshake without ALPN appwire/1.",
         static_cast<double>(gauges.probes));
  single("appwire_message_bytes_received_total", "counter",
         "Payload bytes of the frames received, all connections.",
         static_cast<double>(gauges.message_bytes_received));
  single("appwire_message_bytes_sent_total", "counter",
         "Payload bytes of the frames sent, all connections.",
         static_cast<double>(gauges.message_bytes_sent));

  std::lock_guard<std::mutex> lock(mu_);
  std::vector<MetricSample>* samples =
      family("appwire_handshakes_failed_total", "counter",
             "TLS handshakes that did not complete, by reason (health checks are in "
             "appwire_probes_total instead).");
  for (HandshakeFailureReason reason : kReasons) {
    samples->push_back({"appwire_handshakes_failed_total",
                        {{"reason", HandshakeFailureReasonLabel(reason)}},
                        static_cast<double>(handshake_failures_[static_cast<size_t>(reason)])});
  }
  samples = family("appwire_calls_total", "counter",
                   "Calls answered after reaching their handler, by method and status code.");
  for (const auto& [key, count] : calls_) {
    samples->push_back(
        {"appwire_calls_total",
         {{"method", key.first},
          {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(key.second))}},
         static_cast<double>(count)});
  }
  samples = family("appwire_calls_refused_total", "counter",
                   "Requests refused before any handler (unknown method, limits, draining), by "
                   "status code.");
  for (const auto& [code, count] : refused_) {
    samples->push_back({"appwire_calls_refused_total",
                        {{"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(code))}},
                        static_cast<double>(count)});
  }
  samples = family("appwire_call_duration_seconds", "histogram",
                   "Time from a call's request to its response, by method.");
  const std::vector<double>& bounds = LatencyBuckets();
  for (const auto& [method, latency] : latency_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds.size(); ++i) {
      cumulative += latency.buckets[i];
      samples->push_back({"appwire_call_duration_seconds_bucket",
                          {{"method", method}, {"le", Number(bounds[i])}},
                          static_cast<double>(cumulative)});
    }
    samples->push_back({"appwire_call_duration_seconds_bucket",
                        {{"method", method}, {"le", "+Inf"}},
                        static_cast<double>(latency.count)});
    samples->push_back(
        {"appwire_call_duration_seconds_sum", {{"method", method}}, latency.sum_seconds});
    samples->push_back({"appwire_call_duration_seconds_count",
                        {{"method", method}},
                        static_cast<double>(latency.count)});
  }
  samples = family("appwire_certificate_expiry_timestamp_seconds", "gauge",
                   "When each served certificate expires (Unix time), by SNI name; name=\"\" "
                   "is the default certificate.");
  for (const auto& [name, not_after] : gauges.certificate_expiry) {
    samples->push_back({"appwire_certificate_expiry_timestamp_seconds",
                        {{"name", name}},
                        static_cast<double>(absl::ToUnixSeconds(not_after))});
  }
  samples = family("appwire_dh_params", "gauge",
                   "The DH parameters of TLS 1.2 DHE suites: 1 for the state they are in.");
  for (const char* state : {"loaded", "generating", "none"}) {
    samples->push_back(
        {"appwire_dh_params", {{"state", state}}, gauges.dh_params_state == state ? 1.0 : 0.0});
  }
  return families;
}

std::string ServerMetrics::Exposition(const Gauges& gauges) const {
  return FormatExposition(Families(gauges));
}

}  // namespace appwire
