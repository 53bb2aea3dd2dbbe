#include "tools/appwire/pem_conversion.h"

#include <cstring>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "appwire/transport/internal/errors.h"
#include "appwire/transport/internal/wolfssl.h"

#include <wolfssl/wolfcrypt/pkcs12.h>
#include <wolfssl/wolfcrypt/rsa.h>

namespace appwire {
namespace {

absl::StatusOr<std::string> ToPem(const byte* der, word32 size, int type) {
  std::string pem(size * 2 + 128, '\0');
  int written = wc_DerToPem(der, size, reinterpret_cast<byte*>(&pem[0]),
                            static_cast<word32>(pem.size()), type);
  if (written <= 0) return absl::InternalError("PEM encoding failed");
  pem.resize(static_cast<size_t>(written));
  return pem;
}

// The size of the private value of a traditional EC key (RFC 5915
// ECPrivateKey: SEQUENCE { INTEGER 1, OCTET STRING privateKey, ... }), its
// leading zero bytes left out; nullopt when `der` does not start like that.
std::optional<size_t> EcPrivateValueBytes(const byte* der, word32 size) {
  size_t i = 0;
  auto header = [&](byte tag, size_t* length) {
    if (i >= size || der[i++] != tag || i >= size) return false;
    const byte first = der[i++];
    size_t value = first;
    if (first & 0x80) {
      const size_t count = first & 0x7f;
      if (count == 0 || count > 4) return false;
      value = 0;
      for (size_t k = 0; k < count; ++k) {
        if (i >= size) return false;
        value = (value << 8) | der[i++];
      }
    }
    *length = value;
    return true;
  };
  size_t length = 0;
  if (!header(0x30, &length)) return std::nullopt;
  if (!header(0x02, &length) || length > size - i) return std::nullopt;
  i += length;  // version
  if (!header(0x04, &length) || length > size - i) return std::nullopt;
  while (length > 0 && der[i] == 0) {
    ++i;
    --length;
  }
  return length;
}

// PKCS#8 stays PKCS#8 (its algorithm identifier names the curve);
// traditional keys get the header of their kind.
absl::StatusOr<std::string> KeyToPem(const byte* der, word32 size) {
  std::vector<byte> copy(der, der + size);
  word32 offset = 0;
  if (wc_GetPkcs8TraditionalOffset(copy.data(), &offset, size) >= 0) {
    return ToPem(der, size, PKCS8_PRIVATEKEY_TYPE);
  }
  ecc_key ecc;
  wc_ecc_init(&ecc);
  word32 index = 0;
  if (wc_EccPrivateKeyDecode(der, &index, &ecc, size) == 0) {
    // wolfCrypt 5.5 decodes a private value longer than the curve's size,
    // then writes out of bounds when encoding it (wc_EccKeyToDer ->
    // wc_export_int): such a key is refused before.
    const std::optional<size_t> value_bytes = EcPrivateValueBytes(der, size);
    if (!value_bytes.has_value() || *value_bytes > static_cast<size_t>(wc_ecc_size(&ecc))) {
      wc_ecc_free(&ecc);
      return absl::InvalidArgumentError(
          "malformed EC private key: its private value does not fit its curve");
    }
    // Re-encoded: PKCS#12 files often carry EC keys without their curve,
    // which other tools then cannot read; wolfSSL writes it in.
    std::vector<byte> full(size + 64);
    int full_size = wc_EccKeyToDer(&ecc, full.data(), static_cast<word32>(full.size()));
    wc_ecc_free(&ecc);
    if (full_size <= 0) return absl::InternalError("re-encoding the EC key failed");
    absl::StatusOr<std::string> pem =
        ToPem(full.data(), static_cast<word32>(full_size), ECC_PRIVATEKEY_TYPE);
    std::memset(full.data(), 0, full.size());
    return pem;
  }
  wc_ecc_free(&ecc);
  RsaKey rsa;
  wc_InitRsaKey(&rsa, nullptr);
  index = 0;
  const bool is_rsa = wc_RsaPrivateKeyDecode(der, &index, &rsa, size) == 0;
  wc_FreeRsaKey(&rsa);
  if (is_rsa) return ToPem(der, size, PRIVATEKEY_TYPE);
  return absl::InvalidArgumentError("not a private key");
}

bool IsCertificate(const byte* der, word32 size) {
  WOLFSSL_X509* x509 =
      wolfSSL_X509_load_certificate_buffer(der, static_cast<int>(size), WOLFSSL_FILETYPE_ASN1);
  if (x509 == nullptr) return false;
  wolfSSL_X509_free(x509);
  return true;
}

}  // namespace

bool LooksLikePkcs12(absl::string_view data) {
  if (data.size() < 8 || static_cast<unsigned char>(data[0]) != 0x30) return false;
  size_t i = 1;
  unsigned char length = static_cast<unsigned char>(data[i]);
  i += (length & 0x80) ? 1 + (length & 0x7f) : 1;
  return i + 2 < data.size() && data[i] == 0x02 && data[i + 1] == 0x01 && data[i + 2] == 0x03;
}

absl::StatusOr<ConvertedPem> ConvertToPem(absl::string_view data, const std::string& password,
                                          absl::string_view source) {
  internal::EnsureWolfSslInitialized();
  const byte* der = reinterpret_cast<const byte*>(data.data());
  const word32 size = static_cast<word32>(data.size());
  ConvertedPem out;
  if (LooksLikePkcs12(data)) {
    WC_PKCS12* pkcs12 = wc_PKCS12_new();
    if (pkcs12 == nullptr) return absl::ResourceExhaustedError("out of memory");
    byte* key = nullptr;
    word32 key_size = 0;
    byte* cert = nullptr;
    word32 cert_size = 0;
    WC_DerCertList* chain = nullptr;
    int ret = wc_d2i_PKCS12(der, size, pkcs12);
    if (ret == 0) {
      ret = wc_PKCS12_parse(pkcs12, password.c_str(), &key, &key_size, &cert, &cert_size, &chain);
    }
    wc_PKCS12_free(pkcs12);
    if (ret != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot open the PKCS#12 file \"", source, "\": wrong password (--password-file, --password-env or "
          "--password), or a "
          "cipher this build does not have (", internal::WolfCryptErrorText(ret), ")"));
    }
    absl::Status status;
    if (key != nullptr) {
      absl::StatusOr<std::string> pem = KeyToPem(key, key_size);
      std::memset(key, 0, key_size);
      XFREE(key, nullptr, DYNAMIC_TYPE_PUBLIC_KEY);
      if (pem.ok()) out.private_key_pem = *std::move(pem);
      else status = pem.status();
    }
    if (cert != nullptr) {
      absl::StatusOr<std::string> pem = ToPem(cert, cert_size, CERT_TYPE);
      XFREE(cert, nullptr, DYNAMIC_TYPE_PKCS);
      if (pem.ok()) out.certificate_chain_pem = *std::move(pem);
    }
    while (chain != nullptr) {  // the issuers, after the leaf
      absl::StatusOr<std::string> pem = ToPem(chain->buffer, chain->bufferSz, CERT_TYPE);
      if (pem.ok()) out.certificate_chain_pem += *pem;
      WC_DerCertList* next = chain->next;
      XFREE(chain->buffer, nullptr, DYNAMIC_TYPE_PKCS);
      XFREE(chain, nullptr, DYNAMIC_TYPE_PKCS);
      chain = next;
    }
    if (!status.ok()) return status;
    return out;
  }
  if (size > 0 && der[0] == 0x30) {
    if (IsCertificate(der, size)) {
      absl::StatusOr<std::string> pem = ToPem(der, size, CERT_TYPE);
      if (!pem.ok()) return pem.status();
      out.certificate_chain_pem = *std::move(pem);
      return out;
    }
    absl::StatusOr<std::string> key = KeyToPem(der, size);
    if (key.ok()) {
      out.private_key_pem = *std::move(key);
      return out;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", source, "\" is neither PKCS#12 nor a DER certificate or private key",
      absl::string_view(data).find("-----BEGIN") != absl::string_view::npos
          ? " (it is PEM already: use it as it is)"
          : ""));
}

}  // namespace appwire
