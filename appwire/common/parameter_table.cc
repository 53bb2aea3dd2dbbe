#include "appwire/common/parameter_table.h"

#include <algorithm>
#include <array>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "appwire/common/version.h"

namespace appwire {
namespace {

// Row builders, so that each row of the table reads as one sentence.
constexpr ParameterSpec Range(Parameter selector, const char* name, const char* key,
                              ParameterKind kind, int64_t default_value, int64_t min,
                              int64_t max, const char* unit) {
  ParameterSpec spec{selector, name, key, kind, default_value, "", ParameterCheck::kRange};
  spec.min = min;
  spec.max = max;
  spec.unit = unit;
  return spec;
}

constexpr ParameterSpec TlsVersionBound(Parameter selector, const char* name, const char* key,
                                        ParameterCheck check, Parameter other_bound) {
  ParameterSpec spec{selector, name, key, ParameterKind::kTlsVersion, kTLSv1_3, "", check};
  spec.partner = other_bound;
  return spec;
}

constexpr ParameterSpec Text(Parameter selector, const char* name, const char* key,
                             const char* default_value, ParameterCheck check) {
  return ParameterSpec{selector, name, key, ParameterKind::kString, 0, default_value, check};
}

constexpr int64_t kDhParamBitsAllowed[] = {2048, 3072, 4096};

// The order is the one of appwire-server's "known settings" list
// (docs/configuration.md section 3.3 quotes it).
constexpr ParameterSpec kTable[] = {
    Range(Parameter::kClientServerPortId, "kClientServerPortId", "port", ParameterKind::kInt,
          kDefaultPort, 0, 65535, "(0 picks a free port)"),
    TlsVersionBound(Parameter::kMinTlsVersion, "kMinTlsVersion", "min_tls",
                    ParameterCheck::kLowestTlsVersion, Parameter::kMaxTlsVersion),
    TlsVersionBound(Parameter::kMaxTlsVersion, "kMaxTlsVersion", "max_tls",
                    ParameterCheck::kHighestTlsVersion, Parameter::kMinTlsVersion),
    [] {
      ParameterSpec spec = Text(Parameter::kSslCipherList, "kSslCipherList", "ciphers", "",
                                ParameterCheck::kTls12CipherList);
      spec.partner = Parameter::kAllowNonForwardSecret;
      return spec;
    }(),
    Text(Parameter::kTls13CipherSuites, "kTls13CipherSuites", "tls13_ciphers", "",
         ParameterCheck::kTls13CipherSuites),
    [] {
      ParameterSpec spec = Text(Parameter::kKeyExchangeGroups, "kKeyExchangeGroups", "groups",
                                "P-256:X25519:P-384", ParameterCheck::kNames);
      spec.names = "P-256:P-384:P-521:X25519:ffdhe2048:ffdhe3072";
      spec.unit = "group";
      return spec;
    }(),
    Range(Parameter::kClientCertificateMode, "kClientCertificateMode", "client_cert",
          ParameterKind::kClientCert, kClientCertNone, 0, 2,
          "(kClientCertNone 0, kClientCertRequest 1, kClientCertRequire 2)"),
    Range(Parameter::kHandshakeTimeout, "kHandshakeTimeout", "handshake_timeout_ms",
          ParameterKind::kInt, 10000, 1, 600000, "milliseconds"),
    Range(Parameter::kMaxMessageSize, "kMaxMessageSize", "max_message_bytes", ParameterKind::kInt,
          int64_t{16} << 20, 1, int64_t{1} << 30, "bytes"),
    [] {
      ParameterSpec spec{Parameter::kDhParamBits, "kDhParamBits", "dh_param_bits",
                         ParameterKind::kInt, 2048, "", ParameterCheck::kOneOf};
      spec.one_of = kDhParamBitsAllowed;
      spec.unit = "bits";
      return spec;
    }(),
    Range(Parameter::kIdleConnectionsTimeout, "kIdleConnectionsTimeout", "idle_timeout_s",
          ParameterKind::kInt, 0, 0, 7 * 24 * 3600, "seconds (0 = never)"),
    Range(Parameter::kAllowNonForwardSecret, "kAllowNonForwardSecret", "allow_non_forward_secret",
          ParameterKind::kBool, 0, 0, 1, "(0 or 1)"),
    Range(Parameter::kKeepaliveInterval, "kKeepaliveInterval", "keepalive_interval_ms",
          ParameterKind::kInt, 30000, 0, 86400000, "milliseconds (0 turns pings off)"),
    Range(Parameter::kKeepaliveTimeout, "kKeepaliveTimeout", "keepalive_timeout_ms",
          ParameterKind::kInt, 10000, 1, 3600000, "milliseconds"),
    Range(Parameter::kMaxConcurrentCalls, "kMaxConcurrentCalls", "max_concurrent_calls",
          ParameterKind::kInt, 1000, 1, 1000000, "calls"),
    // Metadata travels in a frame header, which is at most 64 KiB.
    Range(Parameter::kMaxMetadataSize, "kMaxMetadataSize", "max_metadata_bytes",
          ParameterKind::kInt, 8192, 0, 32768, "bytes"),
    Range(Parameter::kMaxWriteQueue, "kMaxWriteQueue", "max_write_queue_bytes",
          ParameterKind::kInt, int64_t{4} << 20, int64_t{64} << 10, int64_t{1} << 30, "bytes"),
    Range(Parameter::kWriteStallTimeout, "kWriteStallTimeout", "write_stall_timeout_ms",
          ParameterKind::kInt, 30000, 100, 3600000, "milliseconds"),
    Range(Parameter::kMaxConcurrentStreams, "kMaxConcurrentStreams", "max_concurrent_streams",
          ParameterKind::kInt, 256, 1, 100000, "streaming calls"),
    Range(Parameter::kHelloTimeout, "kHelloTimeout", "hello_timeout_ms", ParameterKind::kInt,
          10000, 1, 600000, "milliseconds"),
    Range(Parameter::kMaxReceiveMemory, "kMaxReceiveMemory", "max_receive_memory_bytes",
          ParameterKind::kInt, int64_t{256} << 20, int64_t{16} << 20, int64_t{64} << 30,
          "bytes"),
};

constexpr int kMaxSelector = [] {
  int max = 0;
  for (const ParameterSpec& spec : kTable) {
    if (static_cast<int>(spec.selector) > max) max = static_cast<int>(spec.selector);
  }
  return max;
}();

// Selector number -> position in kTable (-1: none). About 1 KiB, built by
// the compiler, so a lookup is one load and needs no initialisation guard.
constexpr std::array<int8_t, kMaxSelector + 1> kIndex = [] {
  std::array<int8_t, kMaxSelector + 1> index{};
  for (int8_t& slot : index) slot = -1;
  for (size_t i = 0; i < sizeof(kTable) / sizeof(kTable[0]); ++i) {
    index[static_cast<size_t>(kTable[i].selector)] = static_cast<int8_t>(i);
  }
  return index;
}();
static_assert(sizeof(kTable) / sizeof(kTable[0]) < 128, "kIndex holds int8_t positions");

absl::Status CheckTlsVersion(Parameter selector, const ParameterValue& value) {
  if (value.AsInt() == 1 || value.AsInt() == 2) {
    return ParameterNotAllowed(
        selector, value,
        absl::StrCat("TLS ", value.AsInt() == 1 ? "1.0" : "1.1",
                     " is obsolete and insecure, and appwire does not offer it; "
                     "use kTLSv1_2 (3) or kTLSv1_3 (4)"));
  }
  if (value.AsInt() != kTLSv1_2 && value.AsInt() != kTLSv1_3) {
    return ParameterNotAllowed(selector, value, "use kTLSv1_2 (3) or kTLSv1_3 (4)");
  }
  return absl::OkStatus();
}

// "2048, 3072 or 4096".
std::string OneOfText(absl::Span<const int64_t> allowed) {
  if (allowed.size() < 2) return absl::StrJoin(allowed, "");
  return absl::StrCat(absl::StrJoin(allowed.subspan(0, allowed.size() - 1), ", "), " or ",
                      allowed.back());
}

}  // namespace

absl::Span<const ParameterSpec> ParameterTable() { return kTable; }

int ParameterIndex(Parameter selector) {
  const int number = static_cast<int>(selector);
  return number >= 0 && number <= kMaxSelector ? kIndex[static_cast<size_t>(number)] : -1;
}

const ParameterSpec* FindParameter(Parameter selector) {
  const int index = ParameterIndex(selector);
  return index >= 0 ? &kTable[index] : nullptr;
}

const ParameterSpec* FindParameterBySettingsKey(absl::string_view settings_key) {
  for (const ParameterSpec& spec : kTable) {
    if (settings_key == spec.settings_key) return &spec;
  }
  return nullptr;
}

ParameterValue DefaultValue(const ParameterSpec& spec) {
  return spec.takes_string() ? ParameterValue(spec.default_string)
                             : ParameterValue(spec.default_int);
}

absl::Status ParameterNotAllowed(Parameter selector, const ParameterValue& value,
                                 absl::string_view allowed) {
  return absl::InvalidArgumentError(absl::StrCat(
      ParameterName(selector), ": ", value.ToString(), " is not allowed; ", allowed));
}

absl::Status CheckParameterAgainstTable(Parameter selector, const ParameterValue& value,
                                        const ParameterLookup& lookup) {
  const ParameterSpec* spec = FindParameter(selector);
  if (spec == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "selector ", static_cast<int>(selector), " is not an appwire parameter; see "
        "docs/configuration.md for the list"));
  }
  if (value.is_int() == spec->takes_string()) {
    return absl::InvalidArgumentError(absl::StrCat(
        ParameterName(selector), " takes ", spec->takes_string() ? "a string" : "an integer",
        ", got ", value.ToString()));
  }
  switch (spec->check) {
    case ParameterCheck::kRange:
      if (value.AsInt() < spec->min || value.AsInt() > spec->max) {
        return ParameterNotAllowed(
            selector, value, absl::StrCat("use ", spec->min, " to ", spec->max, " ", spec->unit));
      }
      return absl::OkStatus();
    case ParameterCheck::kOneOf:
      for (int64_t allowed : spec->one_of) {
        if (value.AsInt() == allowed) return absl::OkStatus();
      }
      return ParameterNotAllowed(
          selector, value, absl::StrCat("use ", OneOfText(spec->one_of), " ", spec->unit));
    case ParameterCheck::kNames: {
      const std::vector<absl::string_view> names = absl::StrSplit(spec->names, ':');
      for (absl::string_view name : absl::StrSplit(value.AsString(), ':', absl::SkipEmpty())) {
        if (std::find(names.begin(), names.end(), name) == names.end()) {
          return ParameterNotAllowed(
              selector, value,
              absl::StrCat("unknown ", spec->unit, " \"", name, "\"; use ':'-separated ",
                           absl::StrJoin(names, ", ")));
        }
      }
      return absl::OkStatus();
    }
    case ParameterCheck::kLowestTlsVersion: {
      absl::Status status = CheckTlsVersion(selector, value);
      if (!status.ok()) return status;
      const int64_t max = lookup(spec->partner).AsInt();
      if (value.AsInt() > max) {
        const char* other = FindParameter(spec->partner)->name;
        return ParameterNotAllowed(
            selector, value,
            absl::StrCat("it is above ", other, " (", max, "); raise ", other, " first"));
      }
      return absl::OkStatus();
    }
    case ParameterCheck::kHighestTlsVersion: {
      absl::Status status = CheckTlsVersion(selector, value);
      if (!status.ok()) return status;
      const int64_t min = lookup(spec->partner).AsInt();
      if (value.AsInt() < min) {
        const char* other = FindParameter(spec->partner)->name;
        return ParameterNotAllowed(
            selector, value,
            absl::StrCat("it is below ", other, " (", min, "); lower ", other, " first"));
      }
      return absl::OkStatus();
    }
    case ParameterCheck::kTls12CipherList:
    case ParameterCheck::kTls13CipherSuites:
      return absl::OkStatus();  // appwire/transport/parameter_checks.cc
  }
  return absl::OkStatus();
}

}  // namespace appwire
