// Text for protobuf `string` fields. proto3 refuses to parse a message
// whose string field is not UTF-8, so a frame header carrying such a
// status message does not decode at the other end, which then closes the
// whole connection (docs/protocol.md, section 4.2, rule 4).
//
//   response->set_status_message(ValidUtf8(status.message(), 4096));
//
// Thread-safe (no state).
#ifndef APPWIRE_COMMON_UTF8_H_
#define APPWIRE_COMMON_UTF8_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace appwire {

// `text` as well-formed UTF-8 (Unicode, table 3-7: no overlong forms, no
// surrogates, nothing above U+10FFFF) of at most `max_bytes` bytes: each
// byte that does not belong to a well-formed sequence becomes '?', and the
// text is cut before the first character that would not fit.
std::string ValidUtf8(absl::string_view text, size_t max_bytes = std::string::npos);

}  // namespace appwire

#endif  // APPWIRE_COMMON_UTF8_H_
