#include "appwire/server/metric_families.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "appwire/v1/builtin.pb.h"

namespace appwire {
namespace {

// A label value in double quotes, with the format's only escapes.
std::string Quoted(const std::string& value) {
  return absl::StrCat(
      "\"", absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}}), "\"");
}

// Whole numbers as integers (a counter of 1234567890 is not 1.23456789e+09);
// others with nine significant digits.
std::string Value(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  return absl::StrFormat("%.9g", value);
}

// HELP text: backslash and newline escaped.
std::string Help(const std::string& help) {
  return absl::StrReplaceAll(help, {{"\\", "\\\\"}, {"\n", "\\n"}});
}

}  // namespace

std::string FormatExposition(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const MetricFamily& family : families) {
    absl::StrAppend(&out, "# HELP ", family.name, " ", Help(family.help), "\n# TYPE ", family.name, " ",
                    family.type, "\n");
    for (const MetricSample& sample : family.samples) {
      out += sample.name;
      if (!sample.labels.empty()) {
        const char* separator = "{";
        for (const auto& [label, value] : sample.labels) {
          absl::StrAppend(&out, separator, label, "=", Quoted(value));
          separator = ",";
        }
        out += "}";
      }
      absl::StrAppend(&out, " ", Value(sample.value), "\n");
    }
  }
  return out;
}

v1::StatsResponse MetricFamiliesToProto(const std::vector<MetricFamily>& families) {
  v1::StatsResponse proto;
  for (const MetricFamily& family : families) {
    v1::MetricFamily* out = proto.add_families();
    out->set_name(family.name);
    out->set_type(family.type);
    out->set_help(family.help);
    for (const MetricSample& sample : family.samples) {
      v1::MetricSample* s = out->add_samples();
      s->set_name(sample.name);
      for (const auto& [label, value] : sample.labels) {
        v1::MetricLabel* l = s->add_labels();
        l->set_name(label);
        l->set_value(value);
      }
      s->set_value(sample.value);
    }
  }
  return proto;
}

std::vector<MetricFamily> MetricFamiliesFromProto(const v1::StatsResponse& proto) {
  std::vector<MetricFamily> families;
  for (const v1::MetricFamily& in : proto.families()) {
    MetricFamily family{in.name(), in.type(), in.help(), {}};
    for (const v1::MetricSample& s : in.samples()) {
      MetricSample sample{s.name(), {}, s.value()};
      for (const v1::MetricLabel& l : s.labels()) sample.labels.emplace_back(l.name(), l.value());
      family.samples.push_back(std::move(sample));
    }
    families.push_back(std::move(family));
  }
  return families;
}

}  // namespace appwire
