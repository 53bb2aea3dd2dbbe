#include "appwire/common/metadata.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace appwire {

bool IsBinaryMetadataKey(absl::string_view key) { return absl::EndsWith(key, "-bin"); }

size_t MetadataSize(const Metadata& metadata) {
  size_t size = 0;
  for (const auto& [key, value] : metadata) size += key.size() + value.size();
  return size;
}

absl::Status ValidateMetadata(const Metadata& metadata, size_t limit, absl::string_view what) {
  for (const auto& [key, value] : metadata) {
    bool key_ok = !key.empty();
    for (char c : key) {
      key_ok = key_ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                          c == '_' || c == '.');
    }
    if (!key_ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": metadata key \"", key,
          "\" is not allowed; use lower-case letters, digits, '-', '_' and '.'"));
    }
    if (IsBinaryMetadataKey(key)) continue;
    for (char c : value) {
      if (c < 0x20 || c > 0x7e) {
        return absl::InvalidArgumentError(absl::StrCat(
            what, ": the value of metadata key \"", key,
            "\" has a byte that is not printable ASCII; binary values need a key ending "
            "in \"-bin\""));
      }
    }
  }
  const size_t size = MetadataSize(metadata);
  if (size > limit) {
    return absl::ResourceExhaustedError(absl::StrCat(
        what, ": metadata of ", size, " bytes exceeds the limit of ", limit,
        " bytes (kMaxMetadataSize)"));
  }
  return absl::OkStatus();
}

}  // namespace appwire
