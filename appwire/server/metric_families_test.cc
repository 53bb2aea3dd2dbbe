#include "appwire/server/metric_families.h"

#include <limits>
#include <string>
#include <vector>

#include "appwire/v1/builtin.pb.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

std::vector<MetricFamily> Example() {
  return {
      {"appwire_calls_total",
       "counter",
       "Calls, by method\nand code \\ status.",
       {{"appwire_calls_total", {{"method", "a.B/C"}, {"code", "OK"}}, 1234567890123.0},
        {"appwire_calls_total", {{"method", "odd\"name\\\n"}, {"code", "OK"}}, 0}}},
      {"appwire_call_duration_seconds",
       "histogram",
       "Durations.",
       {{"appwire_call_duration_seconds_bucket", {{"le", "+Inf"}}, 2},
        {"appwire_call_duration_seconds_sum", {}, 0.000123456789},
        {"appwire_call_duration_seconds_count", {}, 2}}},
      {"appwire_odd", "gauge", "Limits.",
       {{"appwire_odd", {}, std::numeric_limits<double>::infinity()},
        {"appwire_odd", {}, -3}}},
  };
}

// Counters stay whole numbers (no 1.23456789e+12), label values and HELP
// are escaped as the text format says, samples follow their TYPE line.
TEST(MetricFamiliesTest, TheTextExpositionIsExactAndEscaped) {
  EXPECT_EQ(FormatExposition(Example()),
            "# HELP appwire_calls_total Calls, by method\\nand code \\\\ status.\n"
            "# TYPE appwire_calls_total counter\n"
            "appwire_calls_total{method=\"a.B/C\",code=\"OK\"} 1234567890123\n"
            "appwire_calls_total{method=\"odd\\\"name\\\\\\n\",code=\"OK\"} 0\n"
            "# HELP appwire_call_duration_seconds Durations.\n"
            "# TYPE appwire_call_duration_seconds histogram\n"
            "appwire_call_duration_seconds_bucket{le=\"+Inf\"} 2\n"
            "appwire_call_duration_seconds_sum 0.000123456789\n"
            "appwire_call_duration_seconds_count 2\n"
            "# HELP appwire_odd Limits.\n"
            "# TYPE appwire_odd gauge\n"
            "appwire_odd +Inf\n"
            "appwire_odd -3\n");
}

TEST(MetricFamiliesTest, TheProtoCarriesEverythingBothWays) {
  const std::vector<MetricFamily> families = Example();
  const v1::StatsResponse proto = MetricFamiliesToProto(families);
  ASSERT_EQ(proto.families_size(), 3);
  EXPECT_EQ(proto.families(0).samples(0).labels(1).name(), "code");
  v1::StatsResponse reparsed;
  ASSERT_TRUE(reparsed.ParseFromString(proto.SerializeAsString()));
  EXPECT_EQ(FormatExposition(MetricFamiliesFromProto(reparsed)), FormatExposition(families));
}

}  // namespace
}  // namespace appwire
