// TLS protocol versions appwire can be configured with.
#ifndef APPWIRE_COMMON_TLS_VERSION_H_
#define APPWIRE_COMMON_TLS_VERSION_H_

#include "absl/strings/string_view.h"

namespace appwire {

// Values follow 4D's selector 105 constants (kTLSv1_2 = 3, kTLSv1_3 = 4).
// TLS 1.0 and 1.1 cannot be expressed: they are obsolete.
enum class TlsVersion : int { k1_2 = 3, k1_3 = 4 };

// "TLSv1.2" / "TLSv1.3".
inline absl::string_view TlsVersionName(TlsVersion version) {
  switch (version) {
    case TlsVersion::k1_2: return "TLSv1.2";
    case TlsVersion::k1_3: return "TLSv1.3";
  }
  return "unknown";
}

}  // namespace appwire

#endif  // APPWIRE_COMMON_TLS_VERSION_H_
