// Where the database parameters' checks that need the TLS library live, and
// therefore where the validating functions of appwire/common/parameters.h are
// defined: SetDatabaseParameter, ValidateParameter and
// ParameterOverrides::Set (parameter_checks.cc).
//
// Why here and not in appwire/common/: whether a cipher list names suites "this
// build supports" is a question only wolfSSL can answer, and appwire/common/ must
// not depend on appwire/transport/ (transport reads parameters: TlsOptions'
// ApplyParameters). Calling the checks directly, instead of letting
// transport register them into appwire/common/ from a static initialiser, means
// the values SetDatabaseParameter accepts cannot depend on which objects
// got linked: a program that calls it without linking appwire_transport
// does not link at all. Every Server and Channel links appwire_transport.
//
// Thread-safe: the checks keep no state.
#ifndef APPWIRE_TRANSPORT_PARAMETER_CHECKS_H_
#define APPWIRE_TRANSPORT_PARAMETER_CHECKS_H_

#include "absl/status/status.h"
#include "appwire/common/parameters.h"

namespace appwire {

// The checks the table (appwire/common/parameter_table.h) leaves to the TLS library:
// ParameterCheck::kTls12CipherList (kSslCipherList: suites this build has,
// one forward-secret unless kAllowNonForwardSecret is 1 in `lookup`) and
// kTls13CipherSuites (names a TLS 1.3 suite this build has). OK for every
// other selector. InvalidArgument "NAME (SELECTOR): REASON" otherwise.
absl::Status CheckTlsParameter(Parameter selector, const ParameterValue& value,
                               const ParameterLookup& lookup);

// Every check of a value: the table's (CheckParameterAgainstTable), then the
// TLS library's. What SetDatabaseParameter, ValidateParameter and
// ParameterOverrides::Set run.
absl::Status CheckParameter(Parameter selector, const ParameterValue& value,
                            const ParameterLookup& lookup);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_PARAMETER_CHECKS_H_
