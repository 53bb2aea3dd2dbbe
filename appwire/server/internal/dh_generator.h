// What generates dhparams.pem when a project has none, replaceable by tests:
// the server's behaviour around the generation (background thread, low
// priority, progress, cancellation at Stop, writing and loading the file) is
// tested with a generator that takes no minutes of arithmetic. The real one
// is tested alone (appwire/transport/dh_params_test.cc, `appwire dhparams`).
#ifndef APPWIRE_SERVER_INTERNAL_DH_GENERATOR_H_
#define APPWIRE_SERVER_INTERNAL_DH_GENERATOR_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "appwire/transport/safe_prime.h"

namespace appwire::internal {

// Makes PEM DH parameters of generation.bits; must honour generation.cancel.
using DhParamsGenerator =
    std::function<absl::StatusOr<std::string>(const SafePrimeGeneration& generation)>;

// Servers started after this call use `generator`; an empty one restores
// GenerateDhParamsPem. Thread-safe. For tests only.
void SetDhParamsGeneratorForTesting(DhParamsGenerator generator);

}  // namespace appwire::internal

#endif  // APPWIRE_SERVER_INTERNAL_DH_GENERATOR_H_
