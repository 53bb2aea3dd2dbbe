#include "appwire/transport/certificate_info.h"

#include <cstring>
#include <ctime>

#include <asio/ip/address.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "appwire/transport/internal/der_reader.h"
#include "appwire/transport/internal/errors.h"
#include "appwire/transport/internal/wolfssl.h"
#include "appwire/transport/internal/x509_names.h"
#include "appwire/transport/tls_options.h"

namespace appwire {

std::vector<std::string> SplitPemCertificates(absl::string_view pem) {
  static constexpr absl::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr absl::string_view kEnd = "-----END CERTIFICATE-----";
  std::vector<std::string> blocks;
  size_t pos = 0;
  while ((pos = pem.find(kBegin, pos)) != absl::string_view::npos) {
    size_t end = pem.find(kEnd, pos);
    if (end == absl::string_view::npos) break;
    end += kEnd.size();
    blocks.push_back(absl::StrCat(pem.substr(pos, end - pos), "\n"));
    pos = end;
  }
  return blocks;
}

std::string FormatUtc(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

namespace {

// Why wolfSSL cannot parse the first certificate of `pem`: its error code,
// 0 when it can.
int CertificateParseError(absl::string_view pem) {
  std::string der(pem.size(), '\0');
  const int size = wc_CertPemToDer(reinterpret_cast<const unsigned char*>(pem.data()),
                                   static_cast<int>(pem.size()),
                                   reinterpret_cast<unsigned char*>(&der[0]),
                                   static_cast<int>(der.size()), CERT_TYPE);
  if (size <= 0) return size;
  DecodedCert cert;
  wc_InitDecodedCert(&cert, reinterpret_cast<const unsigned char*>(der.data()),
                     static_cast<word32>(size), nullptr);
  const int ret = wc_ParseCert(&cert, CERT_TYPE, NO_VERIFY, nullptr);
  wc_FreeDecodedCert(&cert);
  return ret;
}

}  // namespace

absl::StatusOr<CertificateInfo> DescribeCertificatePem(absl::string_view pem,
                                                       absl::string_view source) {
  internal::EnsureWolfSslInitialized();
  WOLFSSL_X509* x509 = wolfSSL_X509_load_certificate_buffer(
      reinterpret_cast<const unsigned char*>(pem.data()),
      static_cast<int>(pem.size()), WOLFSSL_FILETYPE_PEM);
  if (x509 == nullptr) {
    if (CertificateParseError(pem) == ASN_VERSION_E) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", source, "\" holds ", internal::kVersion1WithExtensions));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", source, "\" holds no certificate wolfSSL can parse; check that "
        "it is an X.509 certificate in PEM (openssl x509 -in FILE -noout -text)"));
  }
  CertificateInfo info = internal::DescribeX509(x509);
  wolfSSL_X509_free(x509);
  return info;
}

namespace internal {

CertificateInfo DescribeX509(WOLFSSL_X509* x509) {
  CertificateInfo info;
  char buffer[1024];
  auto one_line = [&buffer](WOLFSSL_X509_NAME* name) {
    if (name == nullptr) return std::string();
    char* text = wolfSSL_X509_NAME_oneline(name, buffer, sizeof(buffer));
    if (text == nullptr) return std::string();
    // "/CN=localhost/O=appwire" -> "CN=localhost, O=appwire"
    absl::string_view view(text);
    if (!view.empty() && view.front() == '/') view.remove_prefix(1);
    return absl::StrReplaceAll(view, {{"/", ", "}});
  };
  info.subject = one_line(wolfSSL_X509_get_subject_name(x509));
  info.issuer = one_line(wolfSSL_X509_get_issuer_name(x509));
  int cn_length = wolfSSL_X509_NAME_get_text_by_NID(
      wolfSSL_X509_get_subject_name(x509), NID_commonName, buffer,
      sizeof(buffer));
  if (cn_length > 0) info.common_name.assign(buffer, static_cast<size_t>(cn_length));
  while (char* name = wolfSSL_X509_get_next_altname(x509)) {
    info.subject_alt_names.emplace_back(name);
  }
  auto* names = static_cast<WOLFSSL_GENERAL_NAMES*>(
      wolfSSL_X509_get_ext_d2i(x509, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    const int count = wolfSSL_sk_GENERAL_NAME_num(names);
    for (int i = 0; i < count; ++i) {
      WOLFSSL_GENERAL_NAME* name = wolfSSL_sk_GENERAL_NAME_value(names, i);
      if (name == nullptr || name->d.ia5 == nullptr || name->d.ia5->data == nullptr) continue;
      std::string value(name->d.ia5->data, static_cast<size_t>(name->d.ia5->length));
      switch (name->type) {
        case ASN_DNS_TYPE: info.dns_names.push_back(std::move(value)); break;
        case ASN_RFC822_TYPE: info.email_addresses.push_back(std::move(value)); break;
        case ASN_URI_TYPE: info.uris.push_back(std::move(value)); break;
        case ASN_IP_TYPE: {
          // 4 bytes for IPv4, 16 for IPv6 (RFC 5280 4.2.1.6); other sizes
          // are no address and are left out. Asio formats as inet_ntop.
          if (value.size() == 4) {
            asio::ip::address_v4::bytes_type raw;
            std::memcpy(raw.data(), value.data(), raw.size());
            info.ip_addresses.push_back(asio::ip::address_v4(raw).to_string());
          } else if (value.size() == 16) {
            asio::ip::address_v6::bytes_type raw;
            std::memcpy(raw.data(), value.data(), raw.size());
            info.ip_addresses.push_back(asio::ip::address_v6(raw).to_string());
          }
          break;
        }
        default: break;
      }
    }
    wolfSSL_GENERAL_NAMES_free(names);
  }
  struct tm tm_value;
  if (wolfSSL_ASN1_TIME_to_tm(wolfSSL_X509_get_notBefore(x509), &tm_value) ==
      WOLFSSL_SUCCESS) {
    info.not_before = absl::FromTM(tm_value, absl::UTCTimeZone());
  }
  if (wolfSSL_ASN1_TIME_to_tm(wolfSSL_X509_get_notAfter(x509), &tm_value) ==
      WOLFSSL_SUCCESS) {
    info.not_after = absl::FromTM(tm_value, absl::UTCTimeZone());
  }
  unsigned char serial[64];
  int serial_size = sizeof(serial);
  if (wolfSSL_X509_get_serial_number(x509, serial, &serial_size) == WOLFSSL_SUCCESS) {
    static const char kHex[] = "0123456789ABCDEF";
    for (int i = 0; i < serial_size; ++i) {
      if (i > 0) info.serial.push_back(':');
      info.serial.push_back(kHex[serial[i] >> 4]);
      info.serial.push_back(kHex[serial[i] & 15]);
    }
  }
  int der_size = 0;
  const unsigned char* der = wolfSSL_X509_get_der(x509, &der_size);
  if (der != nullptr && der_size > 0) {
    info.der.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(der_size));
    unsigned char digest[WC_SHA256_DIGEST_SIZE];
    wc_Sha256Hash(der, static_cast<word32>(der_size), digest);
    info.sha256_fingerprint = FormatSha256Fingerprint(
        absl::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
  }
  if (WOLFSSL_EVP_PKEY* key = wolfSSL_X509_get_pubkey(x509); key != nullptr) {
    const int bits = wolfSSL_EVP_PKEY_bits(key);
    switch (wolfSSL_EVP_PKEY_base_id(key)) {
      case EVP_PKEY_RSA: info.public_key = absl::StrCat("RSA ", bits); break;
      case EVP_PKEY_EC: info.public_key = absl::StrCat("ECDSA P-", bits); break;
      default: info.public_key = absl::StrCat("another kind of key, ", bits, " bits"); break;
    }
    wolfSSL_EVP_PKEY_free(key);
  } else if (wolfSSL_X509_get_pubkey_type(x509) == ED25519k) {
    info.public_key = "Ed25519";  // wolfSSL 5.5's EVP_PKEY knows no Ed25519
  }
  info.is_ca = wolfSSL_X509_get_isCA(x509) == 1;
  return info;
}

std::string DescribeNames(const CertificateInfo& info) {
  std::vector<std::string> names;
  if (!info.common_name.empty()) names.push_back(info.common_name);
  for (const std::string& san : info.subject_alt_names) {
    if (san != info.common_name) names.push_back(san);
  }
  if (names.empty()) return "(no names)";
  return absl::StrJoin(names, "', '");
}

}  // namespace internal
absl::StatusOr<std::string> AcmeRenewalCertificateId(absl::string_view der) {
  using internal::NextTlv;
  const absl::Status malformed = absl::InvalidArgumentError("the certificate is not DER");
  size_t pos = 0, content = 0;
  if (NextTlv(der, &pos, &content).empty()) return malformed;
  pos = content;  // into Certificate
  const absl::string_view tbs = NextTlv(der, &pos, &content);
  if (tbs.empty()) return malformed;
  const size_t tbs_end = pos;
  pos = content;  // into TBSCertificate
  size_t ignored = 0;
  if (pos < der.size() && static_cast<unsigned char>(der[pos]) == 0xA0) {
    NextTlv(der, &pos, &ignored);  // [0] version
  }
  size_t serial_content = 0;
  const absl::string_view serial = NextTlv(der, &pos, &serial_content);
  if (serial.empty() || serial[0] != 0x02) return malformed;
  const absl::string_view serial_octets = der.substr(serial_content, pos - serial_content);
  // The extensions, [3], are the TBSCertificate's last field.
  std::string key_id;
  while (pos < tbs_end) {
    size_t field_content = 0;
    const absl::string_view field = NextTlv(der, &pos, &field_content);
    if (field.empty()) return malformed;
    if (static_cast<unsigned char>(field[0]) != 0xA3) continue;
    size_t list = field_content, list_content = 0;
    if (NextTlv(der, &list, &list_content).empty()) return malformed;
    for (size_t at = list_content; at < list;) {
      size_t extension_content = 0;
      if (NextTlv(der, &at, &extension_content).empty()) return malformed;
      size_t inner = extension_content, oid_content = 0;
      const absl::string_view oid = NextTlv(der, &inner, &oid_content);
      if (oid != absl::string_view("\x06\x03\x55\x1d\x23", 5)) continue;  // 2.5.29.35
      size_t value_content = 0;
      absl::string_view value = NextTlv(der, &inner, &value_content);
      if (!value.empty() && value[0] == 0x01) value = NextTlv(der, &inner, &value_content);
      size_t aki = value_content, aki_content = 0;
      if (value.empty() || NextTlv(der, &aki, &aki_content).empty()) return malformed;
      size_t member = aki_content, member_content = 0;
      const absl::string_view first = NextTlv(der, &member, &member_content);
      if (!first.empty() && static_cast<unsigned char>(first[0]) == 0x80) {
        key_id = std::string(der.substr(member_content, member - member_content));
      }
    }
  }
  if (key_id.empty()) {
    return absl::InvalidArgumentError(
        "the certificate has no authority key identifier (self-signed?): no CA renews it");
  }
  std::string id, serial_b64;
  absl::WebSafeBase64Escape(key_id, &id);
  absl::WebSafeBase64Escape(serial_octets, &serial_b64);
  return absl::StrCat(id, ".", serial_b64);
}

}  // namespace appwire
