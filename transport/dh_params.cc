#include "transport/dh_params.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "transport/internal/wolfssl.h"

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

}  // namespace

absl::StatusOr<std::string> GenerateDhParamsPem(int bits) {
  if (bits != 2048 && bits != 3072 && bits != 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("DH parameters of ", bits, " bits: use 2048, 3072 or 4096"));
  }
  internal::EnsureWolfSslInitialized();
  WC_RNG rng;
  if (wc_InitRng(&rng) != 0) return absl::InternalError("cannot initialise wolfCrypt RNG");
  DhKey key;
  wc_InitDhKey(&key);
  int ret = wc_DhGenerateParams(&rng, bits, &key);
  std::vector<byte> p(bits / 8 + 8), q(bits / 8 + 8), g(bits / 8 + 8);
  word32 p_size = static_cast<word32>(p.size());
  word32 q_size = static_cast<word32>(q.size());
  word32 g_size = static_cast<word32>(g.size());
  if (ret == 0) {
    ret = wc_DhExportParamsRaw(&key, p.data(), &p_size, q.data(), &q_size, g.data(), &g_size);
  }
  wc_FreeDhKey(&key);
  wc_FreeRng(&rng);
  if (ret != 0) {
    return absl::InternalError(absl::StrCat("DH parameter generation failed: wolfCrypt error ",
                                            ret, " (", wc_GetErrorString(ret), ")"));
  }
  // PKCS#3 DHParameter ::= SEQUENCE { prime INTEGER, base INTEGER }
  std::string body;
  AppendInteger(p.data(), p_size, &body);
  AppendInteger(g.data(), g_size, &body);
  std::string der = "\x30";
  AppendLength(body.size(), &der);
  der += body;
  std::string pem(der.size() * 2 + 128, '\0');
  int pem_size = wc_DerToPem(reinterpret_cast<const byte*>(der.data()),
                             static_cast<word32>(der.size()),
                             reinterpret_cast<byte*>(&pem[0]), static_cast<word32>(pem.size()),
                             DH_PARAM_TYPE);
  if (pem_size <= 0) return absl::InternalError("encoding DH parameters as PEM failed");
  pem.resize(static_cast<size_t>(pem_size));
  return pem;
}

absl::StatusOr<int> CheckDhParamsPem(absl::string_view pem, absl::string_view source) {
  internal::EnsureWolfSslInitialized();
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", source, "\" ", why, "; delete it to have appwire-server generate new "
        "parameters, or make some with: openssl dhparam -out dhparams.pem 2048"));
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
  return bits;
}

}  // namespace appwire
