#include "appwire/common/files.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "appwire/common/internal/platform_files.h"

namespace appwire {
namespace {

using internal::FileErrorKind;
using internal::kPathSeparators;

absl::Status FileErrorStatus(const std::error_code& error, absl::string_view action,
                             absl::string_view path) {
  std::string message = absl::StrCat(action, " \"", path, "\": ", error.message());
  switch (internal::Classify(error)) {
    case FileErrorKind::kNotFound:
      return absl::NotFoundError(message);
    case FileErrorKind::kPermissionDenied:
      return absl::PermissionDeniedError(
          absl::StrCat(message, "; check the file's owner and permissions"));
    default:
      return absl::InternalError(message);
  }
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::string contents;
  const std::error_code error = internal::ReadWholeFile(path, &contents);
  if (error) return FileErrorStatus(error, "read", path);
  return contents;
}

bool FileExists(const std::string& path) {
  std::error_code error;
  return std::filesystem::exists(internal::NativePath(path), error);
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents, int mode,
                                 ExistingFile existing) {
  const std::string temp = absl::StrCat(path, ".tmp.", internal::CurrentProcessId());
  const char* action = "write";
  std::error_code error = internal::WriteNewFile(temp, contents, mode, &action);
  if (error) return FileErrorStatus(error, action, temp);
  std::error_code ignored;
  if (existing == ExistingFile::kKeep) {
    error = internal::MoveFileIfAbsent(temp, path);
    if (!error) return absl::OkStatus();
    std::filesystem::remove(internal::NativePath(temp), ignored);
    if (internal::Classify(error) == FileErrorKind::kExists) {
      return absl::AlreadyExistsError(absl::StrCat(path, " exists"));
    }
    return FileErrorStatus(error, "link to", path);
  }
  error = internal::ReplaceFile(temp, path);
  if (error) {
    std::filesystem::remove(internal::NativePath(temp), ignored);
    return FileErrorStatus(error, "rename to", path);
  }
  return absl::OkStatus();
}

absl::Status AppendLineToFile(const std::string& path, absl::string_view line, int mode) {
  const std::error_code error =
      internal::AppendToFile(path, line, mode, /*start_on_new_line=*/true);
  if (error) return FileErrorStatus(error, "append to", path);
  return absl::OkStatus();
}

absl::Status MakeDirectories(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  // Each prefix in turn, as mkdir -p, so that every folder made gets 0755
  // (std::filesystem::create_directories would give 0777 less the umask).
  std::string partial;
  size_t start = 0;
  while (start <= path.size()) {
    size_t separator = path.find_first_of(kPathSeparators, start);
    if (separator == std::string::npos) separator = path.size();
    partial = path.substr(0, separator);
    if (!partial.empty()) {
      const std::error_code error = internal::MakeDirectory(partial, 0755);
      if (error && internal::Classify(error) != FileErrorKind::kExists) {
        // A drive ("C:") or a network share's root cannot be made; what
        // matters is whether the whole path ends up a folder.
        std::error_code ignored;
        if (!std::filesystem::is_directory(internal::NativePath(partial), ignored)) {
          return FileErrorStatus(error, "create folder", partial);
        }
      }
    }
    start = separator + 1;
  }
  return absl::OkStatus();
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (dir.empty()) return std::string(name);
  if (absl::string_view(kPathSeparators).find(dir.back()) != absl::string_view::npos) {
    return absl::StrCat(dir, name);
  }
  return absl::StrCat(dir, "/", name);
}

std::optional<unsigned> PosixPermissionBits(const std::string& path) {
  return internal::PosixPermissionBits(path);
}

}  // namespace appwire
