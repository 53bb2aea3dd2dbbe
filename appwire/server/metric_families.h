// Metrics as data: families of samples, as the server gathers them
// (ServerMetrics::Families), as appwire.v1.Stats/Get carries them, and as
// the Prometheus text exposition (format 0.0.4) prints them. The metrics
// endpoint and `appwire stats` print the same text from the same data.
//
//   std::vector<MetricFamily> families = metrics.Families(gauges);
//   std::string text = FormatExposition(families);
//   v1::StatsResponse proto = MetricFamiliesToProto(families);
//
// Internal.
#ifndef APPWIRE_SERVER_METRIC_FAMILIES_H_
#define APPWIRE_SERVER_METRIC_FAMILIES_H_

#include <string>
#include <utility>
#include <vector>

namespace appwire {

namespace v1 {
class StatsResponse;
}

// One line of a family: appwire_calls_total{method="a.B/C",code="OK"} 12.
struct MetricSample {
  // The family's name; a histogram's samples add _bucket, _sum or _count.
  std::string name;
  // In the order they are printed.
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

struct MetricFamily {
  std::string name;
  std::string type;  // "counter", "gauge" or "histogram"
  std::string help;
  std::vector<MetricSample> samples;
};

// The text exposition: "# HELP", "# TYPE", then the samples of each family.
// Label values are escaped as the format says (backslash, double quote,
// newline); whole numbers print as integers (counters stay exact to 2^53).
std::string FormatExposition(const std::vector<MetricFamily>& families);

// Both ways between the families and appwire.v1.StatsResponse.
v1::StatsResponse MetricFamiliesToProto(const std::vector<MetricFamily>& families);
std::vector<MetricFamily> MetricFamiliesFromProto(const v1::StatsResponse& proto);

}  // namespace appwire

#endif  // APPWIRE_SERVER_METRIC_FAMILIES_H_
