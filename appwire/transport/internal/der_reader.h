// Reading DER (X.690) one TLV at a time: enough to find a field wolfSSL
// parses but does not hand out (a request's SubjectPublicKeyInfo, a
// certificate's subject Name, an encrypted key's ciphertext). Definite
// lengths only, as DER has them. Internal.
#ifndef APPWIRE_TRANSPORT_INTERNAL_DER_READER_H_
#define APPWIRE_TRANSPORT_INTERNAL_DER_READER_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace appwire::internal {

// The next TLV of `der` from `*pos` (its tag, length and content), moving
// `*pos` past it and `*content_start` to its content; empty when `der` ends
// or is malformed.
inline absl::string_view NextTlv(absl::string_view der, size_t* pos, size_t* content_start) {
  if (*pos + 2 > der.size()) return {};
  const size_t start = *pos;
  size_t index = start + 1;
  size_t length = static_cast<unsigned char>(der[index++]);
  if (length & 0x80) {
    const size_t count = length & 0x7f;
    if (count == 0 || count > 4 || index + count > der.size()) return {};
    length = 0;
    for (size_t i = 0; i < count; ++i) length = (length << 8) | static_cast<unsigned char>(der[index++]);
  }
  if (index + length > der.size()) return {};
  *content_start = index;
  *pos = index + length;
  return der.substr(start, *pos - start);
}

}  // namespace appwire::internal

#endif  // APPWIRE_TRANSPORT_INTERNAL_DER_READER_H_
