// Turning a wolfSSL certificate object into our CertificateInfo.
#ifndef APPWIRE_TRANSPORT_INTERNAL_X509_NAMES_H_
#define APPWIRE_TRANSPORT_INTERNAL_X509_NAMES_H_

#include <string>

#include "appwire/transport/certificate_info.h"
#include "appwire/transport/internal/wolfssl.h"

namespace appwire::internal {

CertificateInfo DescribeX509(WOLFSSL_X509* x509);

// The names a certificate is valid for, joined for a message:
// "db.example.com', 'db" (the caller adds the outer quotes).
std::string DescribeNames(const CertificateInfo& info);

}  // namespace appwire::internal

#endif  // APPWIRE_TRANSPORT_INTERNAL_X509_NAMES_H_
