// The one description of every database parameter (appwire/common/parameters.h):
// its selector, its name in messages, its appwire.conf key, how a settings
// file writes it, its default and the rule its values follow. Everything
// else is derived from this table: ParameterName, the defaults that
// GetDatabaseParameter and ParameterSnapshot start from, the checks of
// SetDatabaseParameter / ParameterOverrides::Set / ValidateParameter, the
// keys and value words of appwire/server/settings_file.cc. The enum in
// appwire/common/parameters.h (the public API, with 4D's selector numbers) and
// docs/configuration.md (sections 2.3 and 3.1) describe the same set for
// people; appwire/common/parameter_table_test.cc fails when either disagrees with
// the table.
//
//   const ParameterSpec* spec = FindParameter(Parameter::kMaxMessageSize);
//   spec->settings_key;  // "max_message_bytes"
//
// Immutable data: any thread may read it.
#ifndef APPWIRE_COMMON_PARAMETER_TABLE_H_
#define APPWIRE_COMMON_PARAMETER_TABLE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "appwire/common/parameters.h"

namespace appwire {

// How a value is written in appwire.conf and on appwire-server's command
// line. kString takes a string ParameterValue, every other kind an integer.
enum class ParameterKind {
  kInt,         // a decimal whole number
  kString,      // the text as written
  kTlsVersion,  // "1.2" or "1.3" (kTLSv1_2, kTLSv1_3); "1.0", "1.1" reach the check as 1, 2
  kClientCert,  // "none", "request" or "require" (kClientCertNone ...)
  kBool,        // "1", "true", "yes" or "0", "false", "no"
};

// The rule a value follows once its kind is right.
enum class ParameterCheck {
  kRange,               // min to max: "use MIN to MAX UNIT"
  kOneOf,               // one of `one_of`: "use 2048, 3072 or 4096 UNIT"
  kNames,               // ':'-separated names, each from `names`
  kLowestTlsVersion,    // kTLSv1_2 or kTLSv1_3, not above `partner`'s value
  kHighestTlsVersion,   // kTLSv1_2 or kTLSv1_3, not below `partner`'s value
  // Need the TLS library (the suites this build has): checked by
  // appwire/transport/parameter_checks.cc, which defines the validating functions.
  kTls12CipherList,     // suites this build has; one forward-secret unless `partner` is 1
  kTls13CipherSuites,   // names at least one TLS 1.3 suite this build has
};

struct ParameterSpec {
  Parameter selector;
  const char* name;          // "kMinTlsVersion": the enumerator, as messages say it
  const char* settings_key;  // "min_tls" in appwire.conf; the flag is --min-tls
  ParameterKind kind;
  int64_t default_int;         // the default, every kind but kString
  const char* default_string;  // the default of kString
  ParameterCheck check;
  int64_t min = 0;             // kRange: the smallest value allowed
  int64_t max = 0;             // kRange: the largest
  // What follows the numbers in a refusal: kRange "milliseconds" ("use 1 to
  // 600000 milliseconds"), kOneOf "bits"; kNames: what one name is ("group").
  const char* unit = "";
  absl::Span<const int64_t> one_of = {};  // kOneOf
  const char* names = "";                 // kNames: the names allowed, ':'-separated
  // The selector a cross-selector check reads (through the ParameterLookup
  // of where the value is being set): kLowestTlsVersion / kHighestTlsVersion
  // the other bound, kTls12CipherList kAllowNonForwardSecret.
  Parameter partner = selector;

  bool takes_string() const { return kind == ParameterKind::kString; }
};

// Every parameter, in the order appwire-server lists its settings keys.
absl::Span<const ParameterSpec> ParameterTable();

// nullptr when `selector` (or `settings_key`) is not a parameter's.
const ParameterSpec* FindParameter(Parameter selector);
const ParameterSpec* FindParameterBySettingsKey(absl::string_view settings_key);

// The position of `selector` in ParameterTable(), -1 when it is not one.
// Constant time, no lock: ParameterSnapshot indexes its values with it.
int ParameterIndex(Parameter selector);

// The spec's default as a value of its kind.
ParameterValue DefaultValue(const ParameterSpec& spec);

// Every check the table states except the two that need the TLS library
// (kTls12CipherList, kTls13CipherSuites pass here): the selector exists,
// the value has its kind, and follows its rule. `lookup` gives the other
// selectors' values where the value is being set. InvalidArgument with the
// words docs/configuration.md section 2.4 lists.
absl::Status CheckParameterAgainstTable(Parameter selector, const ParameterValue& value,
                                        const ParameterLookup& lookup);

// "kMinTlsVersion (105): 1 is not allowed; ALLOWED": the form every
// refusal of a value takes.
absl::Status ParameterNotAllowed(Parameter selector, const ParameterValue& value,
                                 absl::string_view allowed);

}  // namespace appwire

#endif  // APPWIRE_COMMON_PARAMETER_TABLE_H_
