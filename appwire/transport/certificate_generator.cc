#include "appwire/transport/certificate_generator.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include <asio/ip/address.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "appwire/transport/internal/der_reader.h"
#include "appwire/transport/internal/der_writer.h"
#include "appwire/transport/internal/wolfcrypt_keys.h"
#include "appwire/transport/internal/errors.h"
#include "appwire/transport/internal/wolfssl.h"
#include "appwire/transport/internal/x509_names.h"

#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/signature.h>

namespace appwire {
namespace {

using internal::CryptoError;
using internal::Der;
using internal::DerInteger;
using internal::DerTime;
using internal::DerToPem;
using internal::LoadKey;
using internal::PrivateKey;
using internal::Rng;

// `pem` into `key`, once wolfCrypt's holders (and the RNG that signs) are
// ready: the start of everything here that signs.
absl::Status LoadSigningKey(const std::string& pem, const Rng& rng, PrivateKey* key) {
  if (!rng.ok || !key->ok) return absl::InternalError("cannot initialise wolfCrypt");
  return LoadKey(pem, key);
}

// GeneralNames DER (the content of the subjectAltName OCTET STRING).
absl::StatusOr<std::string> EncodeAltNames(const CertificateSpec& spec) {
  std::string names;
  auto append = [&names](unsigned char tag, absl::string_view value) {
    names.push_back(static_cast<char>(tag));
    names.push_back(static_cast<char>(value.size()));
    names.append(value.data(), value.size());
  };
  for (const std::string& dns : spec.dns_names) {
    if (dns.empty() || dns.size() > 127) {
      return absl::InvalidArgumentError(absl::StrCat("bad DNS name \"", dns, "\""));
    }
    append(0x82, dns);  // [2] dNSName
  }
  for (const std::string& email : spec.email_addresses) append(0x81, email);  // [1]
  for (const std::string& uri : spec.uris) append(0x86, uri);                 // [6]
  for (const std::string& ip : spec.ip_addresses) {
    // Asio parses as inet_pton does (dotted quad, or IPv6 text), on every
    // platform; a scope ("fe80::1%eth0") has no place in a certificate.
    std::error_code parse_error;
    const asio::ip::address address = asio::ip::make_address(ip, parse_error);
    if (parse_error || ip.find('%') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad IP address \"", ip, "\""));
    }
    if (address.is_v4()) {
      const asio::ip::address_v4::bytes_type raw = address.to_v4().to_bytes();
      append(0x87, absl::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));  // [7]
    } else {
      const asio::ip::address_v6::bytes_type raw = address.to_v6().to_bytes();
      append(0x87, absl::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
    }
  }
  if (names.size() > 255) {
    // Long form length.
    std::string out = "\x30\x82";
    out.push_back(static_cast<char>(names.size() >> 8));
    out.push_back(static_cast<char>(names.size() & 0xff));
    return out + names;
  }
  if (names.size() > 127) {
    std::string out = "\x30\x81";
    out.push_back(static_cast<char>(names.size()));
    return out + names;
  }
  std::string out = "\x30";
  out.push_back(static_cast<char>(names.size()));
  return out + names;
}

absl::Status FillCert(const CertificateSpec& spec, PrivateKey* subject_key, Cert* cert) {
  if (wc_InitCert(cert) != 0) return absl::InternalError("wc_InitCert failed");
  std::strncpy(cert->subject.commonName, spec.common_name.c_str(), CTC_NAME_SIZE - 1);
  auto copy = [](char* field, const std::string& value) {
    if (!value.empty()) std::strncpy(field, value.c_str(), CTC_NAME_SIZE - 1);
  };
  copy(cert->subject.org, spec.organization);
  copy(cert->subject.country, spec.country);
  copy(cert->subject.state, spec.state);
  copy(cert->subject.locality, spec.locality);
  copy(cert->subject.unit, spec.organizational_unit);
  // wolfSSL dates notBefore one day back (clock skew) and notAfter
  // daysValid days ahead: the total would be one day more than asked, and
  // scanners flag certificates valid over 825 days.
  cert->daysValid = std::max(0, spec.days_valid - 1);
  cert->isCA = spec.is_ca ? 1 : 0;
  cert->sigType = CTC_SHA256wECDSA;  // set from the issuer's key when signing
  absl::StatusOr<std::string> alt_names = EncodeAltNames(spec);
  if (!alt_names.ok()) return alt_names.status();
  if (!spec.dns_names.empty() || !spec.ip_addresses.empty() || !spec.email_addresses.empty() ||
      !spec.uris.empty()) {
    if (alt_names->size() > sizeof(cert->altNames)) {
      return absl::InvalidArgumentError("too many subject alternative names");
    }
    std::memcpy(cert->altNames, alt_names->data(), alt_names->size());
    cert->altNamesSz = static_cast<int>(alt_names->size());
  }
  int ret = wc_SetSubjectKeyIdFromPublicKey_ex(cert, subject_key->type, subject_key->native());
  if (ret != 0) return CryptoError("subject key id", ret);
  ret = wc_SetKeyUsage(cert, spec.is_ca ? "keyCertSign,cRLSign,digitalSignature"
                        : subject_key->type == RSA_TYPE     ? "digitalSignature,keyEncipherment"
                        : subject_key->type == ED25519_TYPE ? "digitalSignature"  // signs only
                                                            : "digitalSignature,keyAgreement");
  if (ret != 0) return CryptoError("key usage", ret);
  if (!spec.is_ca) {
    ret = wc_SetExtKeyUsage(cert, "serverAuth,clientAuth");
    if (ret != 0) return CryptoError("extended key usage", ret);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SignAndEncode(Cert* cert, PrivateKey* subject_key,
                                          PrivateKey* issuer_key, Rng* rng) {
  std::vector<byte> der(16384);
  cert->sigType = issuer_key->signature_type();
  int ret = wc_MakeCert_ex(cert, der.data(), static_cast<word32>(der.size()),
                           subject_key->type, subject_key->native(), &rng->rng);
  if (ret < 0) return CryptoError("making the certificate", ret);
  ret = wc_SignCert_ex(cert->bodySz, cert->sigType, der.data(),
                       static_cast<word32>(der.size()), issuer_key->type, issuer_key->native(),
                       &rng->rng);
  if (ret < 0) return CryptoError("signing the certificate", ret);
  der.resize(static_cast<size_t>(ret));
  return DerToPem(der, CERT_TYPE);
}

}  // namespace

absl::StatusOr<std::string> GenerateRsaKeyPem(int bits) {
  if (bits < 2048 || bits > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RSA keys of ", bits, " bits: use 2048 to 4096 (below 2048 is not safe)"));
  }
  internal::EnsureWolfSslInitialized();
  Rng rng;
  PrivateKey key;
  if (!rng.ok || !key.ok) return absl::InternalError("cannot initialise wolfCrypt RNG");
  int ret = wc_MakeRsaKey(&key.rsa, bits, WC_RSA_EXPONENT, &rng.rng);
  if (ret != 0) return CryptoError("RSA key generation", ret);
  std::vector<byte> der(bits / 2 + 1024);
  int der_size = wc_RsaKeyToDer(&key.rsa, der.data(), static_cast<word32>(der.size()));
  if (der_size <= 0) return CryptoError("encoding the key", der_size);
  der.resize(static_cast<size_t>(der_size));
  absl::StatusOr<std::string> pem = DerToPem(der, PRIVATEKEY_TYPE);
  std::memset(der.data(), 0, der.size());
  return pem;
}

absl::StatusOr<std::string> GenerateEcdsaP256KeyPem() { return GenerateEcdsaKeyPem("P-256"); }

absl::StatusOr<std::string> PublicKeyPem(const std::string& private_key_pem) {
  internal::EnsureWolfSslInitialized();
  PrivateKey key;
  if (!key.ok) return absl::InternalError("cannot initialise wolfCrypt");
  absl::Status status = LoadKey(private_key_pem, &key);
  if (!status.ok()) return status;
  std::vector<byte> der(4096);
  const word32 capacity = static_cast<word32>(der.size());
  int size = key.type == ECC_TYPE       ? wc_EccPublicKeyToDer(&key.ecc, der.data(), capacity, 1)
             : key.type == ED25519_TYPE ? wc_Ed25519PublicKeyToDer(&key.ed25519, der.data(),
                                                                   capacity, 1)
                                        : wc_RsaKeyToPublicDer(&key.rsa, der.data(), capacity);
  if (size <= 0) return CryptoError("encoding the public key", size);
  der.resize(static_cast<size_t>(size));
  return DerToPem(der, PUBLICKEY_TYPE);
}

absl::StatusOr<std::string> GenerateEcdsaKeyPem(const std::string& curve) {
  int curve_id;
  int size;
  if (curve == "P-256") {
    curve_id = ECC_SECP256R1;
    size = 32;
  } else if (curve == "P-384") {
    curve_id = ECC_SECP384R1;
    size = 48;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("curve \"", curve, "\" is not offered; use P-256 or P-384"));
  }
  internal::EnsureWolfSslInitialized();
  Rng rng;
  PrivateKey key;
  if (!rng.ok || !key.ok) return absl::InternalError("cannot initialise wolfCrypt RNG");
  int ret = wc_ecc_make_key_ex(&rng.rng, size, &key.ecc, curve_id);
  if (ret != 0) return CryptoError(absl::StrCat("ECDSA ", curve, " key generation"), ret);
  std::vector<byte> der(512);
  int der_size = wc_EccKeyToDer(&key.ecc, der.data(), static_cast<word32>(der.size()));
  if (der_size <= 0) return CryptoError("encoding the key", der_size);
  der.resize(static_cast<size_t>(der_size));
  absl::StatusOr<std::string> pem = DerToPem(der, ECC_PRIVATEKEY_TYPE);
  // The DER copy held the secret too.
  std::memset(der.data(), 0, der.size());
  return pem;
}

absl::StatusOr<std::string> GenerateEd25519KeyPem() {
  internal::EnsureWolfSslInitialized();
  Rng rng;
  PrivateKey key;
  if (!rng.ok || !key.ok) return absl::InternalError("cannot initialise wolfCrypt RNG");
  int ret = wc_ed25519_make_key(&rng.rng, ED25519_KEY_SIZE, &key.ed25519);
  if (ret != 0) return CryptoError("Ed25519 key generation", ret);
  // PKCS#8 without the public key, as openssl writes it (RFC 8410).
  std::vector<byte> der(128);
  int der_size =
      wc_Ed25519PrivateKeyToDer(&key.ed25519, der.data(), static_cast<word32>(der.size()));
  if (der_size <= 0) return CryptoError("encoding the key", der_size);
  der.resize(static_cast<size_t>(der_size));
  absl::StatusOr<std::string> pem = DerToPem(der, PKCS8_PRIVATEKEY_TYPE);
  std::memset(der.data(), 0, der.size());
  return pem;
}

absl::StatusOr<std::string> GenerateKeyPem(const std::string& algorithm) {
  if (algorithm == "Ed25519") return GenerateEd25519KeyPem();
  if (algorithm == "P-256" || algorithm == "P-384") return GenerateEcdsaKeyPem(algorithm);
  return absl::InvalidArgumentError(absl::StrCat(
      "key type \"", algorithm, "\" is not offered; use P-256, P-384 or Ed25519"));
}

absl::StatusOr<std::string> CreateSelfSignedCertificatePem(
    const std::string& key_pem, CertificateSpec spec) {
  internal::EnsureWolfSslInitialized();
  Rng rng;
  PrivateKey key;
  absl::Status status = LoadSigningKey(key_pem, rng, &key);
  if (!status.ok()) return status;
  spec.is_ca = true;
  auto cert = std::make_unique<Cert>();
  status = FillCert(spec, &key, cert.get());
  if (!status.ok()) return status;
  return SignAndEncode(cert.get(), &key, &key, &rng);
}

namespace {

// `tbs` (a TBSCertificate, DER) with `extension` (a whole Extension TLV)
// appended to its extensions ([3], made when there are none).
absl::StatusOr<std::string> AppendExtension(absl::string_view tbs, const std::string& extension) {
  size_t pos = 0, content = 0;
  if (internal::NextTlv(tbs, &pos, &content).empty() || pos != tbs.size()) {
    return absl::InternalError("wolfSSL made a TBSCertificate that is not one DER SEQUENCE");
  }
  std::string fields;
  std::string extensions;
  for (size_t field = content; field < tbs.size();) {
    size_t field_content = 0;
    const absl::string_view tlv = internal::NextTlv(tbs, &field, &field_content);
    if (tlv.empty()) return absl::InternalError("wolfSSL made a malformed TBSCertificate");
    if (static_cast<unsigned char>(tlv[0]) != 0xA3) {
      absl::StrAppend(&fields, tlv);
      continue;
    }
    size_t inner = field_content, inner_content = 0;  // [3] { SEQUENCE OF Extension }
    if (internal::NextTlv(tbs, &inner, &inner_content).empty()) {
      return absl::InternalError("wolfSSL made malformed certificate extensions");
    }
    extensions = std::string(tbs.substr(inner_content, inner - inner_content));
  }
  return Der(0x30, fields + Der(0xA3, Der(0x30, extensions + extension)));
}

}  // namespace

absl::StatusOr<std::string> CreateAcmeChallengeCertificatePem(const std::string& key_pem,
                                                              const std::string& domain,
                                                              const std::string& key_authorization) {
  internal::EnsureWolfSslInitialized();
  Rng rng;
  PrivateKey key;
  absl::Status status = LoadSigningKey(key_pem, rng, &key);
  if (!status.ok()) return status;
  CertificateSpec spec;
  spec.common_name = domain;
  spec.dns_names = {domain};
  spec.days_valid = 7;
  auto cert = std::make_unique<Cert>();
  status = FillCert(spec, &key, cert.get());
  if (!status.ok()) return status;
  cert->sigType = key.signature_type();
  std::vector<byte> der(16384);
  int ret = wc_MakeCert_ex(cert.get(), der.data(), static_cast<word32>(der.size()), key.type,
                           key.native(), &rng.rng);
  if (ret < 0) return CryptoError("making the challenge certificate", ret);
  byte digest[WC_SHA256_DIGEST_SIZE];
  ret = wc_Sha256Hash(reinterpret_cast<const byte*>(key_authorization.data()),
                      static_cast<word32>(key_authorization.size()), digest);
  if (ret != 0) return CryptoError("hashing the key authorization", ret);
  // Extension { id-pe-acmeIdentifier, critical TRUE, OCTET STRING { OCTET STRING digest } }.
  const std::string acme_identifier = Der(
      0x30, absl::StrCat(absl::string_view("\x06\x08\x2b\x06\x01\x05\x05\x07\x01\x1f", 10),
                         absl::string_view("\x01\x01\xff", 3),
                         Der(0x04, Der(0x04, absl::string_view(reinterpret_cast<char*>(digest),
                                                               sizeof(digest))))));
  absl::StatusOr<std::string> tbs = AppendExtension(
      absl::string_view(reinterpret_cast<char*>(der.data()), cert->bodySz), acme_identifier);
  if (!tbs.ok()) return tbs.status();
  if (tbs->size() + 512 > der.size()) return absl::InternalError("challenge certificate too large");
  std::memcpy(der.data(), tbs->data(), tbs->size());
  ret = wc_SignCert_ex(static_cast<int>(tbs->size()), cert->sigType, der.data(),
                       static_cast<word32>(der.size()), key.type, key.native(), &rng.rng);
  if (ret < 0) return CryptoError("signing the challenge certificate", ret);
  der.resize(static_cast<size_t>(ret));
  return DerToPem(der, CERT_TYPE);
}

absl::StatusOr<std::string> CreateCertificateRequestPem(const std::string& key_pem,
                                                        const CertificateSpec& spec) {
  internal::EnsureWolfSslInitialized();
  if (!spec.country.empty() && spec.country.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "country \"", spec.country, "\" must be a two-letter code such as FR or US"));
  }
  Rng rng;
  PrivateKey key;
  absl::Status status = LoadSigningKey(key_pem, rng, &key);
  if (!status.ok()) return status;
  auto cert = std::make_unique<Cert>();
  status = FillCert(spec, &key, cert.get());
  if (!status.ok()) return status;
  cert->sigType = key.signature_type();
  std::vector<byte> der(16384);
  int ret = wc_MakeCertReq_ex(cert.get(), der.data(), static_cast<word32>(der.size()), key.type,
                              key.native());
  if (ret < 0) return CryptoError("making the request", ret);
  ret = wc_SignCert_ex(cert->bodySz, cert->sigType, der.data(), static_cast<word32>(der.size()),
                       key.type, key.native(), &rng.rng);
  if (ret < 0) return CryptoError("signing the request", ret);
  der.resize(static_cast<size_t>(ret));
  return DerToPem(der, CERTREQ_TYPE);
}

namespace {

// The CA's half of issuing: the issuer, the authority key id, the signature.
absl::StatusOr<std::string> SignAsCa(const CertificateSpec& spec, PrivateKey* subject_key,
                                     const std::string& issuer_cert_pem,
                                     const std::string& issuer_key_pem, Rng* rng) {
  PrivateKey issuer_key;
  if (!issuer_key.ok) return absl::InternalError("cannot initialise wolfCrypt");
  absl::Status status = LoadKey(issuer_key_pem, &issuer_key);
  if (!status.ok()) return status;
  auto cert = std::make_unique<Cert>();
  status = FillCert(spec, subject_key, cert.get());
  if (!status.ok()) return status;
  std::vector<byte> issuer_der(issuer_cert_pem.size());
  int issuer_der_size = wc_CertPemToDer(
      reinterpret_cast<const byte*>(issuer_cert_pem.data()),
      static_cast<int>(issuer_cert_pem.size()), issuer_der.data(),
      static_cast<int>(issuer_der.size()), CERT_TYPE);
  if (issuer_der_size <= 0) return CryptoError("reading the CA certificate", issuer_der_size);
  int ret = wc_SetIssuerBuffer(cert.get(), issuer_der.data(), issuer_der_size);
  if (ret != 0) return CryptoError("setting the issuer", ret);
  ret = wc_SetAuthKeyIdFromCert(cert.get(), issuer_der.data(), issuer_der_size);
  if (ret != 0) return CryptoError("setting the authority key id", ret);
  return SignAndEncode(cert.get(), subject_key, &issuer_key, rng);
}

}  // namespace

absl::StatusOr<std::string> IssueCertificatePem(
    const std::string& subject_key_pem, const CertificateSpec& spec,
    const std::string& issuer_cert_pem, const std::string& issuer_key_pem) {
  internal::EnsureWolfSslInitialized();
  Rng rng;
  PrivateKey subject_key;
  if (!rng.ok || !subject_key.ok) return absl::InternalError("cannot initialise wolfCrypt");
  absl::Status status = LoadKey(subject_key_pem, &subject_key);
  if (!status.ok()) return status;
  return SignAsCa(spec, &subject_key, issuer_cert_pem, issuer_key_pem, &rng);
}

absl::StatusOr<std::string> IssueCertificateForPublicKeyPem(const std::string& public_key_der,
                                                            const CertificateSpec& spec,
                                                            const std::string& issuer_cert_pem,
                                                            const std::string& issuer_key_pem) {
  internal::EnsureWolfSslInitialized();
  Rng rng;
  PrivateKey subject_key;  // its public half only: all a certificate needs
  if (!rng.ok || !subject_key.ok) return absl::InternalError("cannot initialise wolfCrypt");
  const byte* der = reinterpret_cast<const byte*>(public_key_der.data());
  const word32 size = static_cast<word32>(public_key_der.size());
  word32 index = 0;
  word32 ed25519_index = 0;
  if (wc_EccPublicKeyDecode(der, &index, &subject_key.ecc, size) == 0) {
    subject_key.type = ECC_TYPE;
  } else if (wc_Ed25519PublicKeyDecode(der, &ed25519_index, &subject_key.ed25519, size) == 0) {
    subject_key.type = ED25519_TYPE;
  } else {
    index = 0;
    if (wc_RsaPublicKeyDecode(der, &index, &subject_key.rsa, size) != 0) {
      return absl::InvalidArgumentError("the public key is not an ECDSA, RSA or Ed25519 key");
    }
    subject_key.type = RSA_TYPE;
    if (wc_RsaEncryptSize(&subject_key.rsa) * 8 < 2048) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the request's RSA key has ", wc_RsaEncryptSize(&subject_key.rsa) * 8,
          " bits: use 2048 to 4096 (below 2048 is not safe)"));
    }
  }
  return SignAsCa(spec, &subject_key, issuer_cert_pem, issuer_key_pem, &rng);
}

namespace {

using internal::NextTlv;

// The SubjectPublicKeyInfo (whole TLV) of a certificate request: the third
// field of its CertificationRequestInfo (after version and subject). wolfSSL
// keeps no key buffer for requests.
std::string RequestPublicKeyDer(absl::string_view request) {
  size_t pos = 0, content = 0, ignored = 0;
  if (NextTlv(request, &pos, &content).empty()) return "";
  pos = content;  // into CertificationRequest
  if (NextTlv(request, &pos, &content).empty()) return "";
  pos = content;  // into CertificationRequestInfo
  if (NextTlv(request, &pos, &ignored).empty() || NextTlv(request, &pos, &ignored).empty()) {
    return "";
  }
  return std::string(NextTlv(request, &pos, &ignored));
}

// What `x509` (a certificate or a request) says of its subject: its fields
// and names as a CertificateSpec, and its public key (SubjectPublicKeyInfo,
// DER; empty when wolfSSL cannot encode it).
CertificateRequest SubjectOf(WOLFSSL_X509* x509, bool with_public_key) {
  CertificateRequest result;
  if (with_public_key) {
    // The SubjectPublicKeyInfo as it was encoded (of any kind of key,
    // Ed25519 included, which wolfSSL 5.5's EVP_PKEY does not know).
    unsigned char spki[1024];
    int size = sizeof(spki);
    if (wolfSSL_X509_get_pubkey_buffer(x509, spki, &size) == WOLFSSL_SUCCESS && size > 0) {
      result.public_key_der.assign(reinterpret_cast<char*>(spki), static_cast<size_t>(size));
    }
  }
  const CertificateInfo info = internal::DescribeX509(x509);
  auto field = [x509](int nid) {
    char buffer[256] = {0};
    const int length = wolfSSL_X509_NAME_get_text_by_NID(wolfSSL_X509_get_subject_name(x509),
                                                         nid, buffer, sizeof(buffer));
    return length > 0 ? std::string(buffer, static_cast<size_t>(length)) : std::string();
  };
  result.spec.common_name = info.common_name;
  result.spec.organization = field(NID_organizationName);
  result.spec.organizational_unit = field(NID_organizationalUnitName);
  result.spec.country = field(NID_countryName);
  result.spec.state = field(NID_stateOrProvinceName);
  result.spec.locality = field(NID_localityName);
  result.spec.dns_names = info.dns_names;
  result.spec.ip_addresses = info.ip_addresses;
  result.spec.email_addresses = info.email_addresses;
  result.spec.uris = info.uris;
  return result;
}

}  // namespace

absl::StatusOr<CertificateRequest> ReadCertificateRequestPem(absl::string_view pem,
                                                             absl::string_view source) {
  internal::EnsureWolfSslInitialized();
  WOLFSSL_X509* request = wolfSSL_X509_REQ_load_certificate_buffer(
      reinterpret_cast<const unsigned char*>(pem.data()), static_cast<int>(pem.size()),
      WOLFSSL_FILETYPE_PEM);
  if (request == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", source, "\" holds no certificate request wolfSSL can parse; it should begin "
        "with -----BEGIN CERTIFICATE REQUEST----- (openssl req -in FILE -noout -text)"));
  }
  // wolfCrypt's parser checks a request's signature with the key it carries
  // (ECDSA, RSA and Ed25519 alike; wolfSSL_X509_REQ_verify knows no Ed25519).
  bool verified = false;
  std::vector<byte> der(pem.size());
  const int der_size =
      wc_CertPemToDer(reinterpret_cast<const byte*>(pem.data()), static_cast<int>(pem.size()),
                      der.data(), static_cast<int>(der.size()), CERTREQ_TYPE);
  if (der_size > 0) {
    DecodedCert decoded;
    wc_InitDecodedCert(&decoded, der.data(), static_cast<word32>(der_size), nullptr);
    verified = wc_ParseCert(&decoded, CERTREQ_TYPE, VERIFY, nullptr) == 0;
    wc_FreeDecodedCert(&decoded);
  }
  CertificateRequest result = SubjectOf(request, /*with_public_key=*/false);
  wolfSSL_X509_free(request);
  if (verified) {
    result.public_key_der = RequestPublicKeyDer(absl::string_view(
        reinterpret_cast<const char*>(der.data()), static_cast<size_t>(der_size)));
  }
  if (!verified || result.public_key_der.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the signature of the certificate request \"", source, "\" does not verify with the key "
        "it carries: it was altered, or it is not a request of that key's owner"));
  }
  return result;
}

absl::StatusOr<CertificateRequest> ReadCertificateSubjectPem(absl::string_view pem,
                                                             absl::string_view source) {
  internal::EnsureWolfSslInitialized();
  WOLFSSL_X509* cert = wolfSSL_X509_load_certificate_buffer(
      reinterpret_cast<const unsigned char*>(pem.data()), static_cast<int>(pem.size()),
      WOLFSSL_FILETYPE_PEM);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", source, "\" holds no certificate wolfSSL can parse; it should begin with "
        "-----BEGIN CERTIFICATE----- (appwire inspect FILE)"));
  }
  CertificateRequest result = SubjectOf(cert, /*with_public_key=*/true);
  const CertificateInfo info = internal::DescribeX509(cert);
  wolfSSL_X509_free(cert);
  if (result.public_key_der.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", source, "\" carries a public key wolfSSL cannot read"));
  }
  result.spec.is_ca = info.is_ca;
  // The lifetime it had, in whole days (at least one).
  result.spec.days_valid =
      std::max<int64_t>(1, absl::ToInt64Hours(info.not_after - info.not_before + absl::Hours(12)) / 24);
  return result;
}

}  // namespace appwire

namespace appwire {
namespace {

// The subject Name (whole TLV) of a certificate: the issuer of what it signs.
absl::StatusOr<std::string> SubjectNameDer(absl::string_view certificate) {
  size_t pos = 0, content = 0;
  if (NextTlv(certificate, &pos, &content).empty()) return absl::InvalidArgumentError("not DER");
  pos = content;  // into Certificate
  if (NextTlv(certificate, &pos, &content).empty()) return absl::InvalidArgumentError("not DER");
  pos = content;  // into TBSCertificate
  size_t ignored = 0;
  if (pos < certificate.size() && static_cast<unsigned char>(certificate[pos]) == 0xA0) {
    NextTlv(certificate, &pos, &ignored);  // [0] version
  }
  for (int field = 0; field < 4; ++field) {  // serial, signature, issuer, validity
    if (NextTlv(certificate, &pos, &ignored).empty()) return absl::InvalidArgumentError("short");
  }
  absl::string_view subject = NextTlv(certificate, &pos, &ignored);
  if (subject.empty()) return absl::InvalidArgumentError("no subject");
  return std::string(subject);
}

absl::StatusOr<std::string> SerialBytes(const std::string& serial) {
  std::string hex;
  for (char c : serial) {
    if (c != ':') hex.push_back(c);
  }
  std::string bytes;
  if (hex.size() % 2 == 1) hex.insert(0, 1, '0');
  for (size_t i = 0; i < hex.size(); i += 2) {
    int value = 0;
    for (size_t j = i; j < i + 2; ++j) {
      const char c = hex[j];
      const int digit = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
      if (digit < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("serial number \"", serial, "\" is not hexadecimal"));
      }
      value = value * 16 + digit;
    }
    bytes.push_back(static_cast<char>(value));
  }
  if (bytes.empty() || bytes.size() > 20) {
    return absl::InvalidArgumentError(
        absl::StrCat("serial number \"", serial, "\" must be 1 to 20 bytes (RFC 5280 4.1.2.2)"));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<std::string> CreateRevocationListPem(const std::vector<RevokedCertificate>& revoked,
                                                    int64_t number, absl::Time this_update,
                                                    int days_valid,
                                                    const std::string& issuer_cert_pem,
                                                    const std::string& issuer_key_pem) {
  internal::EnsureWolfSslInitialized();
  if (days_valid < 1) return absl::InvalidArgumentError("a revocation list is valid 1 day or more");
  Rng rng;
  PrivateKey key;
  absl::Status status = LoadSigningKey(issuer_key_pem, rng, &key);
  if (!status.ok()) return status;
  std::vector<byte> ca_der(issuer_cert_pem.size());
  const int ca_size = wc_CertPemToDer(reinterpret_cast<const byte*>(issuer_cert_pem.data()),
                                      static_cast<int>(issuer_cert_pem.size()), ca_der.data(),
                                      static_cast<int>(ca_der.size()), CERT_TYPE);
  if (ca_size <= 0) return CryptoError("reading the CA certificate", ca_size);
  const absl::string_view ca(reinterpret_cast<const char*>(ca_der.data()),
                             static_cast<size_t>(ca_size));
  absl::StatusOr<std::string> issuer = SubjectNameDer(ca);
  if (!issuer.ok()) return absl::InvalidArgumentError("the CA certificate has no readable subject");
  std::string key_id;
  {
    DecodedCert decoded;
    wc_InitDecodedCert(&decoded, ca_der.data(), static_cast<word32>(ca_size), nullptr);
    if (wc_ParseCert(&decoded, CERT_TYPE, NO_VERIFY, nullptr) == 0 && decoded.extSubjKeyIdSet) {
      key_id.assign(reinterpret_cast<const char*>(decoded.extSubjKeyId), KEYID_SIZE);
    }
    wc_FreeDecodedCert(&decoded);
  }

  // The signature algorithm follows the key: SHA-384 for P-384 (as for its
  // certificates), SHA-256 otherwise.
  // Ed25519 signs the message itself (RFC 8410: id-Ed25519, no parameters).
  const bool p384 = key.type == ECC_TYPE && wc_ecc_size(&key.ecc) == 48;
  const std::string algorithm =
      key.type == RSA_TYPE
          ? Der(0x30, absl::string_view("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b\x05\x00", 13))
      : key.type == ED25519_TYPE
          ? Der(0x30, absl::string_view("\x06\x03\x2b\x65\x70", 5))
          : Der(0x30, p384 ? absl::string_view("\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03", 10)
                           : absl::string_view("\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02", 10));

  std::string entries;
  for (const RevokedCertificate& entry : revoked) {
    absl::StatusOr<std::string> serial = SerialBytes(entry.serial);
    if (!serial.ok()) return serial.status();
    entries += Der(0x30, DerInteger(*serial) + DerTime(entry.revoked_at));
  }
  std::string extensions =
      Der(0x30, absl::StrCat(absl::string_view("\x06\x03\x55\x1d\x14", 5),
                             Der(0x04, DerInteger(number))));  // cRLNumber
  if (!key_id.empty()) {
    extensions += Der(0x30, absl::StrCat(absl::string_view("\x06\x03\x55\x1d\x23", 5),
                                         Der(0x04, Der(0x30, Der(0x80, key_id)))));
  }
  std::string tbs = DerInteger(1) + algorithm + *issuer + DerTime(this_update) +
                    DerTime(this_update + absl::Hours(24) * days_valid);
  if (!entries.empty()) tbs += Der(0x30, entries);  // absent when empty (5.1.2.6)
  tbs += Der(0xA0, Der(0x30, extensions));
  tbs = Der(0x30, tbs);

  if (key.type == ED25519_TYPE) {
    byte signature[ED25519_SIG_SIZE];
    word32 signature_size = sizeof(signature);
    int ret = wc_ed25519_sign_msg(reinterpret_cast<const byte*>(tbs.data()),
                                  static_cast<word32>(tbs.size()), signature, &signature_size,
                                  &key.ed25519);
    if (ret != 0) return CryptoError("signing the revocation list", ret);
    const std::string crl = Der(
        0x30, tbs + algorithm +
                  Der(0x03, std::string(1, '\0') +
                                std::string(reinterpret_cast<char*>(signature), signature_size)));
    return DerToPem(std::vector<byte>(crl.begin(), crl.end()), CRL_TYPE);
  }
  const auto hash = p384 ? WC_HASH_TYPE_SHA384 : WC_HASH_TYPE_SHA256;
  const auto signature_type = key.type == RSA_TYPE ? WC_SIGNATURE_TYPE_RSA_W_ENC
                                                   : WC_SIGNATURE_TYPE_ECC;
  const word32 key_size = key.type == RSA_TYPE ? sizeof(key.rsa) : sizeof(key.ecc);
  int max_size = wc_SignatureGetSize(signature_type, key.native(), key_size);
  if (max_size <= 0) return CryptoError("sizing the signature", max_size);
  std::string signature(static_cast<size_t>(max_size), '\0');
  word32 signature_size = static_cast<word32>(max_size);
  int ret = wc_SignatureGenerate(hash, signature_type, reinterpret_cast<const byte*>(tbs.data()),
                                 static_cast<word32>(tbs.size()),
                                 reinterpret_cast<byte*>(&signature[0]), &signature_size,
                                 key.native(), key_size, &rng.rng);
  if (ret != 0) return CryptoError("signing the revocation list", ret);
  signature.resize(signature_size);
  const std::string crl = Der(0x30, tbs + algorithm + Der(0x03, std::string(1, '\0') + signature));
  return DerToPem(std::vector<byte>(crl.begin(), crl.end()), CRL_TYPE);
}

}  // namespace appwire
