#include "appwire/transport/safe_prime.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

// The remainder of a big-endian number divided by a small one.
uint32_t Mod(const std::string& big_endian, uint32_t m) {
  uint64_t r = 0;
  for (unsigned char byte : big_endian) r = (r * 256 + byte) % m;
  return static_cast<uint32_t>(r);
}

std::string FromHex(const std::string& hex) { return absl::HexStringToBytes(hex); }

TEST(SafePrimeTest, GeneratesASafePrimeOfExactlyTheBitsAskedThatIs23Mod24) {
  for (int bits : {64, 256, 512}) {
    SafePrimeGeneration generation;
    generation.bits = bits;
    absl::StatusOr<std::string> p = GenerateSafePrime(generation);
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_EQ(p->size(), static_cast<size_t>(bits / 8));
    EXPECT_GE(static_cast<unsigned char>((*p)[0]), 0x80) << "top bit set: exactly " << bits;
    EXPECT_EQ(Mod(*p, 24), 23u);  // 2 then generates the order-q subgroup
    absl::StatusOr<PrimeKind> kind = ClassifyPrime(*p);
    ASSERT_TRUE(kind.ok()) << kind.status();
    EXPECT_EQ(*kind, PrimeKind::kSafePrime) << absl::BytesToHexString(*p);
  }
}

TEST(SafePrimeTest, ReportsEachCandidateTried) {
  std::vector<int64_t> seen;
  SafePrimeGeneration generation;
  generation.bits = 256;
  generation.progress = [&seen](int64_t tried) { seen.push_back(tried); };
  ASSERT_TRUE(GenerateSafePrime(generation).ok());
  ASSERT_FALSE(seen.empty());
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<int64_t>(i + 1));
}

TEST(SafePrimeTest, StopsWhenCancelled) {
  std::atomic<bool> cancel{true};
  SafePrimeGeneration generation;
  generation.bits = 2048;
  generation.cancel = &cancel;
  absl::StatusOr<std::string> p = GenerateSafePrime(generation);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kCancelled) << p.status();

  // Cancelled while it runs: no candidate is tried after the flag is set.
  cancel = false;
  int64_t last = 0;
  generation.progress = [&](int64_t tried) {
    last = tried;
    if (tried == 3) cancel = true;
  };
  p = GenerateSafePrime(generation);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kCancelled) << p.status();
  EXPECT_EQ(last, 3);
}

TEST(SafePrimeTest, RefusesSizesItCannotMake) {
  for (int bits : {0, 63, 4097}) {
    SafePrimeGeneration generation;
    generation.bits = bits;
    EXPECT_EQ(GenerateSafePrime(generation).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(SafePrimeTest, ClassifiesSmallAndKnownNumbers) {
  auto kind = [](const std::string& n) { return *ClassifyPrime(n); };
  EXPECT_EQ(kind(std::string(1, 23)), PrimeKind::kSafePrime);     // 23 = 2*11 + 1
  EXPECT_EQ(kind(std::string(1, 5)), PrimeKind::kSafePrime);      // 5 = 2*2 + 1
  EXPECT_EQ(kind(std::string(1, 13)), PrimeKind::kPrimeNotSafe);  // 6 is not prime
  EXPECT_EQ(kind(std::string(1, 15)), PrimeKind::kComposite);
  EXPECT_EQ(kind(std::string(1, 2)), PrimeKind::kPrimeNotSafe);
  EXPECT_EQ(kind(std::string(1, 1)), PrimeKind::kComposite);
  EXPECT_EQ(kind(""), PrimeKind::kComposite);
  // 2^127 - 1 is prime; 2^126 - 1 is divisible by 3.
  EXPECT_EQ(kind(FromHex("7fffffffffffffffffffffffffffffff")), PrimeKind::kPrimeNotSafe);
  // 2^255 - 19 is prime, (2^255 - 20) / 2 = 2^254 - 10 is even.
  EXPECT_EQ(kind(FromHex("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed")),
            PrimeKind::kPrimeNotSafe);
  // A Carmichael number (561 = 3*11*17) passes Fermat tests, not Miller-Rabin.
  EXPECT_EQ(kind(std::string("\x02\x31", 2)), PrimeKind::kComposite);
  // The RFC 3526 1536-bit MODP group's prime is safe.
  EXPECT_EQ(kind(FromHex("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
                         "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
                         "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
                         "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
                         "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
                         "9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF")),
            PrimeKind::kSafePrime);
}

TEST(SafePrimeTest, RefusesToClassifyNumbersOverFourThousandNinetySixBits) {
  EXPECT_EQ(ClassifyPrime(std::string(513, '\xff')).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Leading zero bytes do not count.
  EXPECT_TRUE(ClassifyPrime(std::string(600, '\0') + "\x17").ok());
}

}  // namespace
}  // namespace appwire
