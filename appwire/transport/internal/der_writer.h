// Writing DER (X.690): definite lengths and the few types appwire writes
// by hand (CRLs, RFC 5280 section 5, which wolfSSL 5.5 parses but cannot
// make; the TLS-ALPN-01 challenge certificate's acmeIdentifier extension,
// which it has no API for outside its ASN template engine). Internal.
#ifndef APPWIRE_TRANSPORT_INTERNAL_DER_WRITER_H_
#define APPWIRE_TRANSPORT_INTERNAL_DER_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace appwire::internal {

inline std::string DerLength(size_t size) {
  if (size < 0x80) return std::string(1, static_cast<char>(size));
  std::string bytes;
  for (; size > 0; size >>= 8) bytes.insert(bytes.begin(), static_cast<char>(size & 0xff));
  return static_cast<char>(0x80 | bytes.size()) + bytes;
}

inline std::string Der(unsigned char tag, absl::string_view content) {
  return absl::StrCat(std::string(1, static_cast<char>(tag)), DerLength(content.size()), content);
}

// An INTEGER from unsigned big-endian bytes.
inline std::string DerInteger(std::string bytes) {
  while (bytes.size() > 1 && bytes[0] == '\0') bytes.erase(0, 1);
  if (bytes.empty()) bytes = std::string(1, '\0');
  if (static_cast<unsigned char>(bytes[0]) & 0x80) bytes.insert(0, 1, '\0');
  return Der(0x02, bytes);
}

inline std::string DerInteger(int64_t value) {
  std::string bytes;
  for (uint64_t v = static_cast<uint64_t>(value); v > 0; v >>= 8) {
    bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
  }
  return DerInteger(bytes);
}

// UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 section 5.1.2.4).
inline std::string DerTime(absl::Time time) {
  const absl::CivilSecond utc = absl::ToCivilSecond(time, absl::UTCTimeZone());
  if (utc.year() < 2050) return Der(0x17, absl::FormatTime("%y%m%d%H%M%SZ", time, absl::UTCTimeZone()));
  return Der(0x18, absl::FormatTime("%Y%m%d%H%M%SZ", time, absl::UTCTimeZone()));
}

}  // namespace appwire::internal

#endif  // APPWIRE_TRANSPORT_INTERNAL_DER_WRITER_H_
