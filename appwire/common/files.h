// Small file helpers whose errors name the file and say what to do.
#ifndef APPWIRE_COMMON_FILES_H_
#define APPWIRE_COMMON_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace appwire {

// Reads a whole file. NotFound when it does not exist, PermissionDenied when
// it cannot be read; the message names `path`.
absl::StatusOr<std::string> ReadFile(const std::string& path);

bool FileExists(const std::string& path);

// What WriteFileAtomically does when `path` exists.
enum class ExistingFile {
  kReplace,
  // Leaves it as it is and fails with AlreadyExists ("PATH exists"), even
  // when it appears while writing (the file is put in place with link(2),
  // which never replaces): for private keys, never replaced unasked.
  kKeep,
};

// Writes `contents` to `path` atomically (temporary file in the same folder,
// fsync, rename) with the given permission bits, e.g. 0600 for private keys.
// The file never exists with wider permissions, not even briefly.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents, int mode,
                                 ExistingFile existing = ExistingFile::kReplace);

// Creates `path` and its parents if missing (mode 0755).
absl::Status MakeDirectories(const std::string& path);

// `dir` joined with `name`, with exactly one '/' between them.
std::string JoinPath(absl::string_view dir, absl::string_view name);

}  // namespace appwire

#endif  // APPWIRE_COMMON_FILES_H_
