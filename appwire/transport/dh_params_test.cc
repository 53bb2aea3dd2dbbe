#include "appwire/transport/dh_params.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Fixture(const std::string& name) {
  return ReadAll(absl::StrCat(APPWIRE_TEST_DATA_DIR, "/", name));
}

// A file under the test's temporary folder holding `contents`.
std::string WriteTemp(const std::string& name, const std::string& contents) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/", getpid(), "-", name);
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

// What `command` prints on stdout and stderr.
std::string Shell(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  char buffer[512];
  while (pipe != nullptr && fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  if (pipe != nullptr) pclose(pipe);
  return output;
}

std::string OpenSslCheck(const std::string& path) {
  return Shell(absl::StrCat("openssl dhparam -check -noout -in ", path));
}

std::string Fix(const std::string& source) {
  return absl::StrCat("; delete it to have appwire-server generate new parameters, or replace it "
                      "with: appwire dhparams --force --out ", source,
                      " (or: openssl dhparam -out ", source, " 2048)");
}

// The RFC 7919 ffdhe2048 prime, read back from the fixture.
std::string Ffdhe2048Prime() {
  const std::string text =
      Shell(absl::StrCat("openssl asn1parse -in ", APPWIRE_TEST_DATA_DIR, "/ffdhe2048.pem"));
  // "    4:d=1  hl=4 l= 257 prim: INTEGER           :FFFFFFFF..."
  const size_t colon = text.find("INTEGER");
  const size_t start = text.find(':', colon) + 1;
  return absl::HexStringToBytes(text.substr(start, text.find('\n', start) - start));
}

TEST(DhParamsTest, CheckAcceptsTheRfc7919Group) {
  absl::StatusOr<int> bits = CheckDhParamsPem(Fixture("ffdhe2048.pem"), "ffdhe2048.pem");
  ASSERT_TRUE(bits.ok()) << bits.status();
  EXPECT_EQ(*bits, 2048);
  ASSERT_EQ(Ffdhe2048Prime().size(), 256u);
}

// Regression: appwire used to generate these (wc_DhGenerateParams) and load
// them; `openssl dhparam -check` refuses them.
TEST(DhParamsTest, CheckRefusesWhatWolfCryptsGeneratorMade) {
  const std::string path = absl::StrCat(APPWIRE_TEST_DATA_DIR, "/dhparams-wolfcrypt-dsa-style.pem");
  EXPECT_THAT(OpenSslCheck(path), HasSubstr("not safe prime"));
  absl::StatusOr<int> bits = CheckDhParamsPem(ReadAll(path), path);
  ASSERT_FALSE(bits.ok());
  EXPECT_EQ(bits.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bits.status().message(),
            absl::StrCat("\"", path, "\" holds DH parameters whose p is not a safe prime "
                         "((p-1)/2 is not prime)", Fix(path)));
}

TEST(DhParamsTest, CheckRefusesAPrimeThatIsNotSafe) {
  // A random 2048-bit prime from openssl: safe with negligible probability.
  std::string hex = Shell("openssl prime -generate -bits 2048 -hex");
  hex.erase(hex.find_last_not_of("\n") + 1);
  ASSERT_EQ(hex.size(), 512u) << hex;
  const std::string path =
      WriteTemp("not-safe.pem", EncodeDhParamsPem(absl::HexStringToBytes(hex), "\x02"));
  EXPECT_THAT(OpenSslCheck(path), HasSubstr("not safe prime"));
  absl::StatusOr<int> bits = CheckDhParamsPem(ReadAll(path), "dhparams.pem");
  EXPECT_EQ(bits.status().message(),
            absl::StrCat("\"dhparams.pem\" holds DH parameters whose p is not a safe prime "
                         "((p-1)/2 is not prime)", Fix("dhparams.pem")));
}

TEST(DhParamsTest, CheckRefusesAPThatIsNotPrime) {
  const std::string path =
      WriteTemp("composite.pem", EncodeDhParamsPem(std::string(256, '\xff'), "\x02"));
  EXPECT_THAT(OpenSslCheck(path), HasSubstr("p not prime"));
  EXPECT_EQ(CheckDhParamsPem(ReadAll(path), "dhparams.pem").status().message(),
            absl::StrCat("\"dhparams.pem\" holds DH parameters whose p is not prime",
                         Fix("dhparams.pem")));
}

TEST(DhParamsTest, CheckRefusesAGeneratorOutsideTwoToPMinusTwo) {
  const std::string p = Ffdhe2048Prime();
  ASSERT_EQ(p.back(), '\xff');
  std::string p_minus_1 = p, p_minus_2 = p;
  p_minus_1.back() = '\xfe';
  p_minus_2.back() = '\xfd';
  for (const std::string& g : {std::string(1, '\0'), std::string(1, '\1'), p_minus_1, p}) {
    const std::string path = WriteTemp("bad-g.pem", EncodeDhParamsPem(p, g));
    EXPECT_THAT(OpenSslCheck(path), HasSubstr("generator")) << absl::BytesToHexString(g);
    EXPECT_EQ(CheckDhParamsPem(ReadAll(path), "dhparams.pem").status().message(),
              absl::StrCat("\"dhparams.pem\" holds DH parameters whose generator g is not in "
                           "2..p-2", Fix("dhparams.pem")));
  }
  for (const std::string& g : {std::string(1, '\2'), std::string(1, '\5'), p_minus_2}) {
    const std::string path = WriteTemp("good-g.pem", EncodeDhParamsPem(p, g));
    EXPECT_THAT(OpenSslCheck(path), HasSubstr("DH parameters appear to be ok."));
    EXPECT_TRUE(CheckDhParamsPem(ReadAll(path), "dhparams.pem").ok());
  }
}

TEST(DhParamsTest, CheckRefusesMoreBitsThanWolfSslHandles) {
  std::string p(6144 / 8, '\xff');
  absl::StatusOr<int> bits = CheckDhParamsPem(EncodeDhParamsPem(p, "\x02"), "dhparams.pem");
  EXPECT_EQ(bits.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bits.status().message()),
              HasSubstr("holds 6144-bit DH parameters; at most 4096 bits are supported"));
}

// The PEM encoding and the prime, checked by OpenSSL rather than by us: a
// small safe prime (fast), encoded as GenerateDhParamsPem does.
TEST(DhParamsTest, OpenSslFindsASmallGeneratedSafePrimeOk) {
  SafePrimeGeneration generation;
  generation.bits = 512;  // OpenSSL's DH_check minimum
  absl::StatusOr<std::string> p = GenerateSafePrime(generation);
  ASSERT_TRUE(p.ok()) << p.status();
  const std::string path = WriteTemp("small.pem", EncodeDhParamsPem(*p, "\x02"));
  EXPECT_THAT(OpenSslCheck(path), HasSubstr("DH parameters appear to be ok."));
  EXPECT_THAT(Shell(absl::StrCat("openssl dhparam -noout -text -in ", path)),
              HasSubstr("(512 bit)"));
}

TEST(DhParamsTest, GenerateOnlyMakesSizesForTls) {
  for (int bits : {512, 1024, 2047, 8192}) {
    EXPECT_EQ(GenerateDhParamsPem(bits).status().message(),
              absl::StrCat("DH parameters of ", bits, " bits: use 2048, 3072 or 4096"));
  }
}

TEST(DhParamsTest, GenerateStopsWhenCancelled) {
  std::atomic<bool> cancel{false};
  SafePrimeGeneration generation;
  generation.bits = 2048;
  generation.cancel = &cancel;
  generation.progress = [&cancel](int64_t) { cancel = true; };
  EXPECT_EQ(GenerateDhParamsPem(generation).status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace appwire
