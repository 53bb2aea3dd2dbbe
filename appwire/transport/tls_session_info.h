// What one TLS connection negotiated, for CallContext, logs and tests.
#ifndef APPWIRE_TRANSPORT_TLS_SESSION_INFO_H_
#define APPWIRE_TRANSPORT_TLS_SESSION_INFO_H_

#include <optional>
#include <string>

#include "appwire/common/export.h"
#include "appwire/transport/certificate_info.h"

namespace appwire {

struct APPWIRE_EXPORT TlsSessionInfo {
  std::string peer_address;  // "127.0.0.1:53412"
  std::string version;       // "TLSv1.3"
  std::string cipher;        // IANA name, "TLS_AES_128_GCM_SHA256"
  std::string server_name;   // SNI the client sent; empty when none
  std::string alpn;          // "appwire/1"
  bool resumed = false;
  // The certificate the peer presented, if any.
  std::optional<CertificateInfo> peer_certificate;
};

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_TLS_SESSION_INFO_H_
