#include "appwire/transport/dh_params.h"

#include <deque>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "appwire/transport/internal/wolfssl.h"

#include <wolfssl/wolfcrypt/dh.h>

namespace appwire {
namespace {

void AppendLength(size_t length, std::string* out) {
  if (length < 0x80) {
    out->push_back(static_cast<char>(length));
  } else if (length < 0x100) {
    out->push_back('\x81');
    out->push_back(static_cast<char>(length));
  } else {
    out->push_back('\x82');
    out->push_back(static_cast<char>(length >> 8));
    out->push_back(static_cast<char>(length & 0xff));
  }
}

void AppendInteger(const byte* value, word32 size, std::string* out) {
  std::string bytes(reinterpret_cast<const char*>(value), size);
  // DER INTEGERs are signed: a set top bit needs a leading zero.
  if (!bytes.empty() && (static_cast<unsigned char>(bytes[0]) & 0x80)) bytes.insert(0, 1, '\0');
  out->push_back('\x02');
  AppendLength(bytes.size(), out);
  out->append(bytes);
}

// 1 < g < p - 1, comparing big-endian magnitudes.
bool GeneratorInRange(absl::string_view p, absl::string_view g) {
  auto strip = [](absl::string_view n) {
    while (!n.empty() && n[0] == '\0') n.remove_prefix(1);
    return n;
  };
  p = strip(p);
  g = strip(g);
  if (g.empty() || (g.size() == 1 && static_cast<unsigned char>(g[0]) <= 1)) return false;
  if (g.size() != p.size()) return g.size() < p.size();
  // Same length: compare with p - 1 (a leading zero byte keeps the length).
  std::string p_minus_1(p);
  for (size_t i = p_minus_1.size(); i-- > 0;) {
    if (p_minus_1[i] != '\0') {
      p_minus_1[i] = static_cast<char>(static_cast<unsigned char>(p_minus_1[i]) - 1);
      break;
    }
    p_minus_1[i] = '\xff';
  }
  return g < absl::string_view(p_minus_1);
}

// The primes already found safe in this process: a server checks the same
// dhparams.pem at every start and reload, and the primality tests cost a
// quarter of a second (2048 bits) to seconds (4096). A few entries suffice.
std::mutex known_safe_mu;
std::deque<std::string>& KnownSafePrimes() {
  static auto* primes = new std::deque<std::string>;  // never destroyed
  return *primes;
}

bool KnownSafePrime(absl::string_view p) {
  std::lock_guard<std::mutex> lock(known_safe_mu);
  for (const std::string& known : KnownSafePrimes()) {
    if (known == p) return true;
  }
  return false;
}

void RememberSafePrime(absl::string_view p) {
  std::lock_guard<std::mutex> lock(known_safe_mu);
  KnownSafePrimes().emplace_back(p);
  if (KnownSafePrimes().size() > 8) KnownSafePrimes().pop_front();
}

}  // namespace

std::string EncodeDhParamsPem(absl::string_view p, absl::string_view g) {
  // PKCS#3 DHParameter ::= SEQUENCE { prime INTEGER, base INTEGER }
  std::string body;
  AppendInteger(reinterpret_cast<const byte*>(p.data()), static_cast<word32>(p.size()), &body);
  AppendInteger(reinterpret_cast<const byte*>(g.data()), static_cast<word32>(g.size()), &body);
  std::string der = "\x30";
  AppendLength(body.size(), &der);
  der += body;
  std::string pem(der.size() * 2 + 128, '\0');
  int pem_size = wc_DerToPem(reinterpret_cast<const byte*>(der.data()),
                             static_cast<word32>(der.size()),
                             reinterpret_cast<byte*>(&pem[0]), static_cast<word32>(pem.size()),
                             DH_PARAM_TYPE);
  pem.resize(pem_size > 0 ? static_cast<size_t>(pem_size) : 0);
  return pem;
}

absl::StatusOr<std::string> GenerateDhParamsPem(const SafePrimeGeneration& generation) {
  const int bits = generation.bits;
  if (bits != 2048 && bits != 3072 && bits != 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("DH parameters of ", bits, " bits: use 2048, 3072 or 4096"));
  }
  // Not wc_DhGenerateParams: it makes DSA-style primes (p = kq + 1 with a
  // small q) and drops q, so `openssl dhparam -check` says "p is not a safe
  // prime" and peers cannot check the group. A safe prime needs no q.
  absl::StatusOr<std::string> p = GenerateSafePrime(generation);
  if (!p.ok()) return p.status();
  internal::EnsureWolfSslInitialized();
  std::string pem = EncodeDhParamsPem(*p, "\x02");
  if (pem.empty()) return absl::InternalError("encoding DH parameters as PEM failed");
  return pem;
}

absl::StatusOr<std::string> GenerateDhParamsPem(int bits) {
  SafePrimeGeneration generation;
  generation.bits = bits;
  return GenerateDhParamsPem(generation);
}

absl::StatusOr<int> CheckDhParamsPem(absl::string_view pem, absl::string_view source) {
  internal::EnsureWolfSslInitialized();
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", source, "\" ", why, "; delete it to have appwire-server generate new "
        "parameters, or replace it with: appwire dhparams --force --out ", source,
        " (or: openssl dhparam -out ", source, " 2048)"));
  };
  if (pem.find("BEGIN X9.42 DH PARAMETERS") != absl::string_view::npos) {
    return bad("holds X9.42 parameters (openssl dhparam -dsaparam), which wolfSSL does not "
               "read");
  }
  DerBuffer* buffer = nullptr;
  int der_size = wc_PemToDer(reinterpret_cast<const unsigned char*>(pem.data()),
                         static_cast<long>(pem.size()), DH_PARAM_TYPE, &buffer, nullptr, nullptr,
                         nullptr);
  if (der_size != 0 || buffer == nullptr) {
    if (buffer != nullptr) wc_FreeDer(&buffer);
    return bad("holds no PEM \"DH PARAMETERS\" block");
  }
  DhKey key;
  wc_InitDhKey(&key);
  word32 index = 0;
  int ret = wc_DhKeyDecode(buffer->buffer, &index, &key, buffer->length);
  wc_FreeDer(&buffer);
  byte p[1024], g[1024];
  word32 p_size = sizeof(p), g_size = sizeof(g);
  byte q[1024];
  word32 q_size = sizeof(q);
  if (ret == 0) ret = wc_DhExportParamsRaw(&key, p, &p_size, q, &q_size, g, &g_size);
  wc_FreeDhKey(&key);
  if (ret != 0) return bad("holds malformed DH parameters");
  int bits = static_cast<int>(p_size) * 8;
  if (p_size > 0) {
    for (int bit = 7; bit >= 0 && !(p[0] & (1 << bit)); --bit) --bits;
  }
  if (bits < kMinDhParamBits) {
    return bad(absl::StrCat("holds ", bits, "-bit DH parameters; at least ", kMinDhParamBits,
                            " bits are needed"));
  }
  if (bits > kMaxDhParamBits) {
    return bad(absl::StrCat("holds ", bits, "-bit DH parameters; at most ", kMaxDhParamBits,
                            " bits are supported"));
  }
  // The checks of OpenSSL's DH_check() for parameters without q, so that
  // what appwire accepts is what `openssl dhparam -check` calls ok: g in
  // 2..p-2, p prime, (p - 1) / 2 prime. For a safe prime every such g has
  // order q or 2q, so no small-subgroup confinement is possible.
  const absl::string_view p_bytes(reinterpret_cast<const char*>(p), p_size);
  const absl::string_view g_bytes(reinterpret_cast<const char*>(g), g_size);
  if (!GeneratorInRange(p_bytes, g_bytes)) {
    return bad("holds DH parameters whose generator g is not in 2..p-2");
  }
  if (KnownSafePrime(p_bytes)) return bits;
  absl::StatusOr<PrimeKind> kind = ClassifyPrime(p_bytes);
  if (!kind.ok()) return bad(absl::StrCat("cannot be checked (", kind.status().message(), ")"));
  if (*kind == PrimeKind::kComposite) return bad("holds DH parameters whose p is not prime");
  if (*kind == PrimeKind::kPrimeNotSafe) {
    return bad("holds DH parameters whose p is not a safe prime ((p-1)/2 is not prime)");
  }
  RememberSafePrime(p_bytes);
  return bits;
}

}  // namespace appwire
