// Metadata: the request headers a client sends with a call and the response
// trailers a server sends with its status, as in gRPC.
//
//   CallOptions options;
//   options.metadata.emplace("x-request-id", "42");
//   options.metadata.emplace("session-token-bin", binary_bytes);
//
// Keys are lower-case ASCII letters, digits, '-', '_' and '.'. A key ending
// in "-bin" carries any bytes; other keys carry printable ASCII (space to
// '~'). A key may repeat. The total size (keys plus values) is bounded by
// kMaxMetadataSize (default 8 KiB) on both ends.
#ifndef APPWIRE_COMMON_METADATA_H_
#define APPWIRE_COMMON_METADATA_H_

#include <cstddef>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "appwire/common/export.h"

namespace appwire {

using Metadata = std::multimap<std::string, std::string>;

// Whether `key` names a binary value ("...-bin").
APPWIRE_EXPORT bool IsBinaryMetadataKey(absl::string_view key);

// Keys plus values, in bytes: what kMaxMetadataSize bounds.
APPWIRE_EXPORT size_t MetadataSize(const Metadata& metadata);

// InvalidArgument naming the bad key or value; ResourceExhausted with both
// sizes when over `limit`. `what` is e.g. "the request headers of a.B/C".
APPWIRE_EXPORT absl::Status ValidateMetadata(const Metadata& metadata, size_t limit, absl::string_view what);

}  // namespace appwire

#endif  // APPWIRE_COMMON_METADATA_H_
