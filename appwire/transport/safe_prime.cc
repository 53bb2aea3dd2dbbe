#include "appwire/transport/safe_prime.h"

#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "appwire/transport/internal/errors.h"
#include "appwire/transport/internal/wolfssl.h"

#include <wolfssl/wolfcrypt/wolfmath.h>

namespace appwire {
namespace {

constexpr int kMinBits = 64;
constexpr int kMaxBits = 4096;  // SP_INT_BITS of the wolfSSL builds we link

// Sieving q and 2q + 1 by the odd primes below this bound leaves about 1 in
// 100 offsets for the expensive tests; a larger bound saves fewer tests than
// it costs.
constexpr uint32_t kSieveBound = 1 << 16;
// Offsets tried from one random start before taking a new one.
constexpr uint64_t kMaxOffset = uint64_t{12} << 22;

// The primes 5 <= s < kSieveBound (2 and 3 are handled by q ≡ 11 mod 12).
const std::vector<uint32_t>& SievePrimes() {
  static const std::vector<uint32_t>* primes = [] {
    std::vector<bool> composite(kSieveBound, false);
    auto* list = new std::vector<uint32_t>;
    for (uint32_t n = 2; n < kSieveBound; ++n) {
      if (composite[n]) continue;
      if (n >= 5) list->push_back(n);
      for (uint64_t m = uint64_t{n} * n; m < kSieveBound; m += n) composite[m] = true;
    }
    return list;
  }();
  return *primes;
}

// An mp_int that frees itself.
class Mp {
 public:
  Mp() { mp_init(&value_); }
  ~Mp() { mp_forcezero(&value_); }
  Mp(const Mp&) = delete;
  Mp& operator=(const Mp&) = delete;
  mp_int* get() { return &value_; }

 private:
  mp_int value_;
};

class Rng {
 public:
  Rng() { ok_ = wc_InitRng(&rng_) == 0; }
  ~Rng() {
    if (ok_) wc_FreeRng(&rng_);
  }
  Rng(const Rng&) = delete;
  Rng& operator=(const Rng&) = delete;
  bool ok() const { return ok_; }
  WC_RNG* get() { return &rng_; }

 private:
  WC_RNG rng_;
  bool ok_ = false;
};

absl::Status MathError(int ret, absl::string_view what) {
  return absl::InternalError(absl::StrCat(
      what, ": ", internal::WolfCryptErrorText(ret, internal::CodeTextStyle::kParenthesized)));
}

bool Cancelled(const std::atomic<bool>* cancel) {
  return cancel != nullptr && cancel->load(std::memory_order_relaxed);
}

// Miller-Rabin with `rounds` random bases, one round at a time so that a
// cancellation is seen between rounds. Trial division comes first (wolfCrypt
// does it in every call; it is cheap next to a modular exponentiation).
absl::StatusOr<bool> IsProbablePrime(mp_int* n, int rounds, WC_RNG* rng,
                                     const std::atomic<bool>* cancel) {
  for (int i = 0; i < rounds; ++i) {
    if (Cancelled(cancel)) return absl::CancelledError("safe prime generation cancelled");
    int result = MP_NO;
    int ret = mp_prime_is_prime_ex(n, 1, &result, rng);
    if (ret != MP_OKAY) return MathError(ret, "primality test");
    if (result != MP_YES) return false;
  }
  return true;
}

// One strong-probable-prime round to base 2: the cheap first screen, which
// nearly every composite fails.
absl::StatusOr<bool> PassesBase2(mp_int* n) {
  int result = MP_NO;
  int ret = mp_prime_is_prime(n, 1, &result);
  if (ret != MP_OKAY) return MathError(ret, "primality test");
  return result == MP_YES;
}

// Given that q = (p - 1) / 2 is prime and q > sqrt(p), Pocklington's
// criterion with a = 2 proves p prime exactly when 2^(p-1) ≡ 1 (mod p) and
// gcd(2^2 - 1, p) = 1, i.e. 3 does not divide p. One exponentiation instead
// of a second series of Miller-Rabin rounds.
absl::StatusOr<bool> PocklingtonGivenPrimeHalf(mp_int* p) {
  mp_digit mod3 = 0;
  int ret = mp_mod_d(p, 3, &mod3);
  if (ret != MP_OKAY) return MathError(ret, "p mod 3");
  if (mod3 == 0) return mp_cmp_d(p, 3) == MP_EQ;
  Mp two, p_minus_1, r;
  ret = mp_set(two.get(), 2);
  if (ret == MP_OKAY) ret = mp_sub_d(p, 1, p_minus_1.get());
  if (ret == MP_OKAY) ret = mp_exptmod(two.get(), p_minus_1.get(), p, r.get());
  if (ret != MP_OKAY) return MathError(ret, "2^(p-1) mod p");
  return mp_cmp_d(r.get(), 1) == MP_EQ;
}

absl::StatusOr<std::string> ToBigEndian(mp_int* n) {
  std::string out(static_cast<size_t>(mp_unsigned_bin_size(n)), '\0');
  int ret = mp_to_unsigned_bin(n, reinterpret_cast<byte*>(&out[0]));
  if (ret != MP_OKAY) return MathError(ret, "exporting a prime");
  return out;
}

}  // namespace

absl::StatusOr<std::string> GenerateSafePrime(const SafePrimeGeneration& generation) {
  const int bits = generation.bits;
  if (bits < kMinBits || bits > kMaxBits) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a safe prime of ", bits, " bits: use ", kMinBits, " to ", kMaxBits, " bits"));
  }
  internal::EnsureWolfSslInitialized();
  Rng rng;
  if (!rng.ok()) return absl::InternalError("cannot initialise wolfCrypt RNG");
  const std::vector<uint32_t>& primes = SievePrimes();
  std::vector<uint32_t> residues(primes.size());
  const int q_bits = bits - 1;
  std::vector<byte> random(static_cast<size_t>((q_bits + 7) / 8));
  int64_t tried = 0;
  Mp start, q, p;
  while (true) {
    // A random start q0 of exactly q_bits bits (top two set, as OpenSSL
    // does) with q0 ≡ 11 (mod 12): then p = 2q + 1 ≡ 23 (mod 24), so
    // neither q nor p is divisible by 2 or 3, and 2 generates the order-q
    // subgroup. Offsets step by 12 to keep that.
    if (Cancelled(generation.cancel)) {
      return absl::CancelledError("safe prime generation cancelled");
    }
    int ret = wc_RNG_GenerateBlock(rng.get(), random.data(), static_cast<word32>(random.size()));
    if (ret != 0) return MathError(ret, "random start");
    const int spare = static_cast<int>(random.size()) * 8 - q_bits;  // unused top bits
    random[0] &= static_cast<byte>(0xff >> spare);
    ret = mp_read_unsigned_bin(start.get(), random.data(), static_cast<word32>(random.size()));
    if (ret == MP_OKAY) ret = mp_set_bit(start.get(), q_bits - 1);
    if (ret == MP_OKAY) ret = mp_set_bit(start.get(), q_bits - 2);
    mp_digit mod12 = 0;
    if (ret == MP_OKAY) ret = mp_mod_d(start.get(), 12, &mod12);
    if (ret == MP_OKAY) ret = mp_add_d(start.get(), (11 + 12 - mod12) % 12, start.get());
    for (size_t i = 0; ret == MP_OKAY && i < primes.size(); ++i) {
      mp_digit r = 0;
      ret = mp_mod_d(start.get(), primes[i], &r);
      residues[i] = static_cast<uint32_t>(r);
    }
    if (ret != MP_OKAY) return MathError(ret, "sieve set-up");
    for (uint64_t offset = 0; offset < kMaxOffset; offset += 12) {
      // q = start + offset is divisible by s when (residue + offset) ≡ 0,
      // and p = 2q + 1 when (residue + offset) ≡ (s - 1) / 2 (mod s).
      bool sieved_out = false;
      for (size_t i = 0; i < primes.size(); ++i) {
        const uint32_t s = primes[i];
        const uint32_t r = static_cast<uint32_t>((residues[i] + offset) % s);
        if (r == 0 || r == (s - 1) / 2) {
          sieved_out = true;
          break;
        }
      }
      if (sieved_out) continue;
      if (Cancelled(generation.cancel)) {
        return absl::CancelledError("safe prime generation cancelled");
      }
      ret = mp_add_d(start.get(), static_cast<mp_digit>(offset), q.get());
      if (ret == MP_OKAY) ret = mp_mul_2(q.get(), p.get());
      if (ret == MP_OKAY) ret = mp_add_d(p.get(), 1, p.get());
      if (ret != MP_OKAY) return MathError(ret, "candidate");
      if (mp_count_bits(p.get()) != bits) break;  // ran past 2^bits: new start
      ++tried;
      // p first: wolfCrypt has assembly for exactly 2048-, 3072- and
      // 4096-bit moduli, which p has and q (one bit shorter) has not.
      absl::StatusOr<bool> p_maybe = PassesBase2(p.get());
      absl::StatusOr<bool> q_maybe = true;
      if (p_maybe.ok() && *p_maybe) q_maybe = PassesBase2(q.get());
      if (generation.progress) generation.progress(tried);
      if (!p_maybe.ok()) return p_maybe.status();
      if (!q_maybe.ok()) return q_maybe.status();
      if (!*p_maybe || !*q_maybe) continue;
      absl::StatusOr<bool> q_prime =
          IsProbablePrime(q.get(), kSafePrimeMillerRabinRounds, rng.get(), generation.cancel);
      if (!q_prime.ok()) return q_prime.status();
      if (!*q_prime) continue;
      absl::StatusOr<bool> p_prime = PocklingtonGivenPrimeHalf(p.get());
      if (!p_prime.ok()) return p_prime.status();
      if (*p_prime) return ToBigEndian(p.get());
    }
  }
}

absl::StatusOr<PrimeKind> ClassifyPrime(absl::string_view big_endian) {
  internal::EnsureWolfSslInitialized();
  size_t leading_zeros = 0;
  while (leading_zeros < big_endian.size() && big_endian[leading_zeros] == '\0') ++leading_zeros;
  big_endian.remove_prefix(leading_zeros);
  if (big_endian.size() * 8 > static_cast<size_t>(kMaxBits)) {
    return absl::InvalidArgumentError(
        absl::StrCat("a number of ", big_endian.size() * 8, " bits: at most ", kMaxBits));
  }
  Rng rng;
  if (!rng.ok()) return absl::InternalError("cannot initialise wolfCrypt RNG");
  Mp p, q;
  int ret = mp_read_unsigned_bin(p.get(), reinterpret_cast<const byte*>(big_endian.data()),
                                 static_cast<word32>(big_endian.size()));
  if (ret != MP_OKAY) return MathError(ret, "reading a number");
  if (mp_cmp_d(p.get(), 5) == MP_LT) {
    return mp_cmp_d(p.get(), 2) == MP_EQ || mp_cmp_d(p.get(), 3) == MP_EQ
               ? PrimeKind::kPrimeNotSafe
               : PrimeKind::kComposite;
  }
  if (mp_iseven(p.get())) return PrimeKind::kComposite;
  // Cheapest answers first: most non-primes fail one round on p.
  absl::StatusOr<bool> p_maybe = IsProbablePrime(p.get(), 1, rng.get(), nullptr);
  if (!p_maybe.ok()) return p_maybe.status();
  if (!*p_maybe) return PrimeKind::kComposite;
  ret = mp_copy(p.get(), q.get());
  if (ret == MP_OKAY) ret = mp_div_2(q.get(), q.get());  // (p - 1) / 2 for odd p
  if (ret != MP_OKAY) return MathError(ret, "(p - 1) / 2");
  absl::StatusOr<bool> q_prime =
      IsProbablePrime(q.get(), kSafePrimeMillerRabinRounds, rng.get(), nullptr);
  if (!q_prime.ok()) return q_prime.status();
  if (*q_prime) {
    absl::StatusOr<bool> p_prime = PocklingtonGivenPrimeHalf(p.get());
    if (!p_prime.ok()) return p_prime.status();
    return *p_prime ? PrimeKind::kSafePrime : PrimeKind::kComposite;
  }
  absl::StatusOr<bool> p_prime =
      IsProbablePrime(p.get(), kSafePrimeMillerRabinRounds, rng.get(), nullptr);
  if (!p_prime.ok()) return p_prime.status();
  return *p_prime ? PrimeKind::kPrimeNotSafe : PrimeKind::kComposite;
}

}  // namespace appwire
