// The file operations whose POSIX and Windows forms differ in a property
// appwire relies on (a key that is never readable by others, fsync, atomic
// replace, atomic appends). appwire/common/files.cc builds the helpers of
// files.h on them; nothing else includes this header. Both branches live in
// platform_files.cc (#ifdef _WIN32), so no other file needs a platform
// #ifdef for files. What std::filesystem does well (existence, sizes, times,
// directory walks) is not here: use it directly.
//
// Paths are UTF-8 strings, as everywhere in appwire (on Windows they are
// converted to UTF-16 for the wide API). Each function returns an empty
// std::error_code on success, else the system's own code (errno on POSIX,
// GetLastError() on Windows) in std::system_category(), so that message()
// is the system's wording; Classify() says what kind of failure it is.
// Thread-safe (no shared state).
#ifndef APPWIRE_COMMON_INTERNAL_PLATFORM_FILES_H_
#define APPWIRE_COMMON_INTERNAL_PLATFORM_FILES_H_

#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

#include "absl/strings/string_view.h"

namespace appwire::internal {

// The characters that separate folders in a path: '/' everywhere, and the
// backslash too on Windows.
#ifdef _WIN32
inline constexpr char kPathSeparators[] = "/\\";
#else
inline constexpr char kPathSeparators[] = "/";
#endif

enum class FileErrorKind { kNone, kNotFound, kPermissionDenied, kExists, kOther };

// ENOENT / ERROR_FILE_NOT_FOUND and ERROR_PATH_NOT_FOUND -> kNotFound;
// EACCES, EPERM / ERROR_ACCESS_DENIED -> kPermissionDenied;
// EEXIST / ERROR_ALREADY_EXISTS, ERROR_FILE_EXISTS -> kExists.
FileErrorKind Classify(const std::error_code& error);

// `utf8_path` as a std::filesystem::path (a plain std::string would be read
// in the ANSI code page on Windows).
std::filesystem::path NativePath(const std::string& utf8_path);

// The id of this process, for names of temporary files.
long CurrentProcessId();

// Reads the whole file into *contents.
std::error_code ReadWholeFile(const std::string& path, std::string* contents);

// Creates `path` (replacing a stale file of that name) holding `contents`,
// flushed to the disk before it returns (fsync; FlushFileBuffers), with the
// permission bits `mode` from the moment it exists.
//   POSIX: open(O_CREAT, mode), which the umask can only narrow, then
//   fchmod(mode) so the result is exactly `mode`.
//   Windows: a mode without group or other bits (0600) creates the file
//   with a protected DACL (nothing inherited from the folder) whose one
//   entry gives its owner full access. Lacks: any other mode keeps the
//   folder's inherited ACL (no group/other distinction), and
//   administrators can still take ownership.
// On failure, *failed_action is "write" or "chmod" and `path` is removed.
std::error_code WriteNewFile(const std::string& path, absl::string_view contents, int mode,
                             const char** failed_action);

// Moves `from` to `to`, atomically replacing `to` if it exists.
//   POSIX: rename(2). Windows: MoveFileExW(MOVEFILE_REPLACE_EXISTING |
//   MOVEFILE_WRITE_THROUGH). Lacks: it fails (ERROR_ACCESS_DENIED) while
//   another process holds `to` open without FILE_SHARE_DELETE.
std::error_code ReplaceFile(const std::string& from, const std::string& to);

// Moves `from` to `to` only if `to` does not exist, atomically: a file that
// appears at `to` meanwhile is never replaced (kExists). `from` is gone
// after a success and still there after a failure.
//   POSIX: link(2), then unlink(from). Windows: MoveFileExW without
//   MOVEFILE_REPLACE_EXISTING.
std::error_code MoveFileIfAbsent(const std::string& from, const std::string& to);

// Appends `text` to `path` (created with `mode`, as WriteNewFile, when
// missing) in one write on a file opened for appending. When
// `start_on_new_line` and the file's last byte is not '\n' (a file edited
// by hand), a '\n' goes first.
//   POSIX: O_APPEND: each write lands at the end of the file as one piece,
//   so texts appended at once by several threads or processes never
//   overwrite or interleave with each other.
//   Windows: FILE_APPEND_DATA without FILE_WRITE_DATA, under which every
//   WriteFile goes to the end of the file: the same property on local NTFS.
// Lacks on both: the check of the last byte and the append are two steps,
// so a writer in between can still be followed without a '\n' (only for a
// file whose last line has no '\n', which appwire never writes).
std::error_code AppendToFile(const std::string& path, absl::string_view text, int mode,
                             bool start_on_new_line);

// Creates one folder. POSIX: mkdir(path, mode) (narrowed by the umask).
// Windows: CreateDirectoryW; the folder inherits its parent's ACL (`mode`
// is not applied).
std::error_code MakeDirectory(const std::string& path, int mode);

// The POSIX permission bits of `path` (0644, 0600, ...); nullopt when they
// cannot be read, and always on Windows, where who may read a file is an
// ACL that the bits std::filesystem reports (only "read-only" or not) do
// not describe.
std::optional<unsigned> PosixPermissionBits(const std::string& path);

}  // namespace appwire::internal

#endif  // APPWIRE_COMMON_INTERNAL_PLATFORM_FILES_H_
