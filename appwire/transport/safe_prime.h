// Safe primes for finite-field Diffie-Hellman: p = 2q + 1 with p and q both
// prime. wolfCrypt has no generator for them (wc_DhGenerateParams makes
// DSA-style primes whose q it then drops), so appwire has its own, built on
// wolfCrypt's multi-precision integers.
//
// Numbers cross this API as unsigned big-endian bytes, so no wolfSSL type
// appears here.
#ifndef APPWIRE_TRANSPORT_SAFE_PRIME_H_
#define APPWIRE_TRANSPORT_SAFE_PRIME_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace appwire {

// Miller-Rabin rounds with random bases for every "is prime" answer below:
// a composite passes with probability at most 4^-32 = 2^-64, even one chosen
// by an adversary.
inline constexpr int kSafePrimeMillerRabinRounds = 32;

struct SafePrimeGeneration {
  // Size of p in bits, exactly (its top bit is set). 64..4096; DH needs
  // 2048 or more, smaller sizes are for tests.
  int bits = 2048;
  // When it becomes true, generation stops within one primality round
  // (milliseconds) and returns Cancelled. Not owned; may be null.
  const std::atomic<bool>* cancel = nullptr;
  // Called on the generating thread after each candidate that survived the
  // sieve was tested, with the number tested so far. May be empty.
  std::function<void(int64_t candidates_tried)> progress;
};

// A random safe prime p with p ≡ 23 (mod 24), as big-endian bytes. For such a
// p, 2 is a quadratic residue and so generates the subgroup of prime order q
// (the choice `openssl dhparam` makes for generator 2). Takes seconds to
// minutes for 2048 bits: the number of candidates is random.
// InvalidArgument for a size out of range, Cancelled when cancelled.
absl::StatusOr<std::string> GenerateSafePrime(const SafePrimeGeneration& generation);

// What a number is, as far as DH cares.
enum class PrimeKind {
  kComposite,       // p is not prime
  kPrimeNotSafe,    // p is prime, (p - 1) / 2 is not
  kSafePrime,       // p and (p - 1) / 2 are both prime
};

// Classifies `big_endian` (at most 4096 bits). InvalidArgument when the
// number is too large for wolfCrypt's integers.
absl::StatusOr<PrimeKind> ClassifyPrime(absl::string_view big_endian);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_SAFE_PRIME_H_
