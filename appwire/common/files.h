// Small file helpers whose errors name the file and say what to do. They
// work the same on POSIX and Windows (the platform calls are in
// internal/platform_files.cc, which says what the Windows forms lack).
// Paths are UTF-8.
#ifndef APPWIRE_COMMON_FILES_H_
#define APPWIRE_COMMON_FILES_H_

#include <optional>
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
  // or MoveFileExW without MOVEFILE_REPLACE_EXISTING, which never replace):
  // for private keys, never replaced unasked.
  kKeep,
};

// Writes `contents` to `path` atomically (temporary file in the same folder,
// fsync, rename) with the given permission bits, e.g. 0600 for private keys.
// The file never exists with wider permissions, not even briefly (on
// Windows, 0600 is a DACL giving only the owner access; other modes keep the
// folder's ACL).
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents, int mode,
                                 ExistingFile existing = ExistingFile::kReplace);

// Appends `line` (ending in '\n') to `path`, created with `mode` when
// missing, in one write on a file opened for appending: lines appended at
// once by several threads or processes never interleave. When the file's
// last byte is not '\n' (a file edited by hand), a '\n' goes first, so the
// new line is not glued to the last one.
absl::Status AppendLineToFile(const std::string& path, absl::string_view line, int mode);

// Creates `path` and its parents if missing (mode 0755).
absl::Status MakeDirectories(const std::string& path);

// `dir` joined with `name`, with exactly one '/' between them (on Windows
// a `dir` ending in a backslash gets none added).
std::string JoinPath(absl::string_view dir, absl::string_view name);

// The POSIX permission bits of `path` (0644, 0600, ...), or nullopt when
// they cannot be read, and always on Windows, where who may read a file is
// an ACL that permission bits do not describe.
std::optional<unsigned> PosixPermissionBits(const std::string& path);

}  // namespace appwire

#endif  // APPWIRE_COMMON_FILES_H_
