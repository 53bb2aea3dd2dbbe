#include "appwire/common/internal/platform_files.h"

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#include <sddl.h>
#ifdef _MSC_VER
#pragma comment(lib, "advapi32.lib")  // ConvertStringSecurityDescriptorToSecurityDescriptorW
#endif
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>

namespace appwire::internal {

std::filesystem::path NativePath(const std::string& utf8_path) {
  // Deprecated in C++20 (char8_t strings replace it) but the one spelling
  // that reads UTF-8 in C++17.
  return std::filesystem::u8path(utf8_path);
}

#ifdef _WIN32

namespace {

std::error_code LastError() {
  return std::error_code(static_cast<int>(::GetLastError()), std::system_category());
}

std::wstring Wide(const std::string& path) { return NativePath(path).wstring(); }

// Closes a HANDLE on every return path.
class Handle {
 public:
  explicit Handle(HANDLE handle) : handle_(handle) {}
  ~Handle() {
    if (ok()) ::CloseHandle(handle_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  bool ok() const { return handle_ != INVALID_HANDLE_VALUE; }
  HANDLE get() const { return handle_; }
  // Closes now; false (GetLastError set) if CloseHandle failed.
  bool Close() {
    HANDLE handle = handle_;
    handle_ = INVALID_HANDLE_VALUE;
    return ::CloseHandle(handle) != 0;
  }

 private:
  HANDLE handle_;
};

// The security attributes for a new file of `mode`: for an owner-only mode
// (no group or other bits, as 0600), a protected DACL ("P": nothing
// inherited) with one entry, full access ("FA") for the file's owner ("OW",
// the OWNER RIGHTS SID), given to CreateFileW so the file is never readable
// by others, not even briefly. Other modes: the folder's inherited ACL.
class NewFileSecurity {
 public:
  explicit NewFileSecurity(int mode) {
    attributes_.nLength = sizeof(attributes_);
    attributes_.bInheritHandle = FALSE;
    attributes_.lpSecurityDescriptor = nullptr;
    if ((mode & 077) != 0) return;
    if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(
            L"D:P(A;;FA;;;OW)", SDDL_REVISION_1, &descriptor_, nullptr)) {
      error_ = LastError();
      return;
    }
    attributes_.lpSecurityDescriptor = descriptor_;
  }
  ~NewFileSecurity() {
    if (descriptor_ != nullptr) ::LocalFree(descriptor_);
  }
  NewFileSecurity(const NewFileSecurity&) = delete;
  NewFileSecurity& operator=(const NewFileSecurity&) = delete;
  const std::error_code& error() const { return error_; }
  SECURITY_ATTRIBUTES* attributes() { return &attributes_; }

 private:
  SECURITY_ATTRIBUTES attributes_;
  PSECURITY_DESCRIPTOR descriptor_ = nullptr;
  std::error_code error_;
};

// WriteFile in pieces a DWORD can count.
bool WriteAll(HANDLE handle, absl::string_view bytes) {
  while (!bytes.empty()) {
    const DWORD chunk = static_cast<DWORD>(std::min<size_t>(bytes.size(), 1u << 30));
    DWORD written = 0;
    if (!::WriteFile(handle, bytes.data(), chunk, &written, nullptr)) return false;
    bytes.remove_prefix(written);
  }
  return true;
}

}  // namespace

FileErrorKind Classify(const std::error_code& error) {
  if (!error) return FileErrorKind::kNone;
  if (error.category() != std::system_category()) return FileErrorKind::kOther;
  switch (error.value()) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return FileErrorKind::kNotFound;
    case ERROR_ACCESS_DENIED:
      return FileErrorKind::kPermissionDenied;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS:
      return FileErrorKind::kExists;
    default:
      return FileErrorKind::kOther;
  }
}

long CurrentProcessId() { return static_cast<long>(::GetCurrentProcessId()); }

std::error_code ReadWholeFile(const std::string& path, std::string* contents) {
  Handle file(::CreateFileW(Wide(path).c_str(), GENERIC_READ,
                            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                            OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!file.ok()) return LastError();
  contents->clear();
  char buffer[16384];
  for (;;) {
    DWORD n = 0;
    if (!::ReadFile(file.get(), buffer, sizeof(buffer), &n, nullptr)) return LastError();
    if (n == 0) break;
    contents->append(buffer, n);
  }
  return {};
}

std::error_code WriteNewFile(const std::string& path, absl::string_view contents, int mode,
                             const char** failed_action) {
  *failed_action = "write";
  NewFileSecurity security(mode);
  if (security.error()) {
    *failed_action = "chmod";
    return security.error();
  }
  const std::wstring wide = Wide(path);
  // CREATE_NEW, so that the security descriptor applies (CreateFileW
  // ignores it when it opens an existing file): a stale file goes first.
  ::DeleteFileW(wide.c_str());
  Handle file(::CreateFileW(wide.c_str(), GENERIC_WRITE, 0, security.attributes(), CREATE_NEW,
                            FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!file.ok()) return LastError();
  std::error_code error;
  if (!WriteAll(file.get(), contents) || !::FlushFileBuffers(file.get())) error = LastError();
  if (!file.Close() && !error) error = LastError();
  if (error) ::DeleteFileW(wide.c_str());
  return error;
}

std::error_code ReplaceFile(const std::string& from, const std::string& to) {
  if (!::MoveFileExW(Wide(from).c_str(), Wide(to).c_str(),
                     MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return LastError();
  }
  return {};
}

std::error_code MoveFileIfAbsent(const std::string& from, const std::string& to) {
  if (!::MoveFileExW(Wide(from).c_str(), Wide(to).c_str(), MOVEFILE_WRITE_THROUGH)) {
    return LastError();
  }
  return {};
}

std::error_code AppendToFile(const std::string& path, absl::string_view text, int mode,
                             bool start_on_new_line) {
  NewFileSecurity security(mode);
  if (security.error()) return security.error();
  // FILE_APPEND_DATA without FILE_WRITE_DATA: every write goes to the end.
  Handle file(::CreateFileW(Wide(path).c_str(), FILE_APPEND_DATA | FILE_READ_DATA | SYNCHRONIZE,
                            FILE_SHARE_READ | FILE_SHARE_WRITE, security.attributes(),
                            OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!file.ok()) return LastError();
  std::string line;
  LARGE_INTEGER size;
  if (start_on_new_line && ::GetFileSizeEx(file.get(), &size) && size.QuadPart > 0) {
    OVERLAPPED at{};
    const unsigned long long last = static_cast<unsigned long long>(size.QuadPart) - 1;
    at.Offset = static_cast<DWORD>(last & 0xffffffffu);
    at.OffsetHigh = static_cast<DWORD>(last >> 32);
    char byte = '\n';
    DWORD n = 0;
    if (::ReadFile(file.get(), &byte, 1, &n, &at) && n == 1 && byte != '\n') line = "\n";
  }
  line.append(text.data(), text.size());
  if (!WriteAll(file.get(), line)) return LastError();
  if (!file.Close()) return LastError();
  return {};
}

std::error_code MakeDirectory(const std::string& path, int /*mode*/) {
  if (!::CreateDirectoryW(Wide(path).c_str(), nullptr)) return LastError();
  return {};
}

std::optional<unsigned> PosixPermissionBits(const std::string& /*path*/) { return std::nullopt; }

#else  // POSIX

namespace {

std::error_code Errno(int error) { return std::error_code(error, std::system_category()); }

// write(2) until done; EINTR retried.
bool WriteAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

FileErrorKind Classify(const std::error_code& error) {
  if (!error) return FileErrorKind::kNone;
  if (error.category() != std::system_category() && error.category() != std::generic_category()) {
    return FileErrorKind::kOther;
  }
  switch (error.value()) {
    case ENOENT:
      return FileErrorKind::kNotFound;
    case EACCES:
    case EPERM:
      return FileErrorKind::kPermissionDenied;
    case EEXIST:
      return FileErrorKind::kExists;
    default:
      return FileErrorKind::kOther;
  }
}

long CurrentProcessId() { return static_cast<long>(::getpid()); }

std::error_code ReadWholeFile(const std::string& path, std::string* contents) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno(errno);
  contents->clear();
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return Errno(error);
    }
    if (n == 0) break;
    contents->append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return {};
}

std::error_code WriteNewFile(const std::string& path, absl::string_view contents, int mode,
                             const char** failed_action) {
  *failed_action = "write";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                        static_cast<mode_t>(mode));
  if (fd < 0) return Errno(errno);
  // The umask may have narrowed `mode`; an explicit fchmod makes the result
  // exactly what the caller asked for (never wider: the file starts narrower).
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(path.c_str());
    *failed_action = "chmod";
    return Errno(error);
  }
  if (!WriteAll(fd, contents)) {
    const int error = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return Errno(error);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int error = errno;
    ::unlink(path.c_str());
    return Errno(error);
  }
  return {};
}

std::error_code ReplaceFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return Errno(errno);
  return {};
}

std::error_code MoveFileIfAbsent(const std::string& from, const std::string& to) {
  // link(2) fails with EEXIST instead of replacing, atomically.
  if (::link(from.c_str(), to.c_str()) != 0) return Errno(errno);
  ::unlink(from.c_str());
  return {};
}

std::error_code AppendToFile(const std::string& path, absl::string_view text, int mode,
                             bool start_on_new_line) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
                        static_cast<mode_t>(mode));
  if (fd < 0) return Errno(errno);
  std::string line;
  struct stat st;
  char last = '\n';
  if (start_on_new_line && ::fstat(fd, &st) == 0 && st.st_size > 0 &&
      ::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
    line = "\n";
  }
  line.append(text.data(), text.size());
  // One write(2): with O_APPEND it lands at the end as one piece. A short
  // write (a full disk) is a failure, not something to continue: another
  // writer's line could come between the pieces.
  ssize_t written;
  do {
    written = ::write(fd, line.data(), line.size());
  } while (written < 0 && errno == EINTR);
  const int error = written < 0 ? errno : ENOSPC;
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size())) return Errno(error);
  return {};
}

std::error_code MakeDirectory(const std::string& path, int mode) {
  if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) != 0) return Errno(errno);
  return {};
}

std::optional<unsigned> PosixPermissionBits(const std::string& path) {
  std::error_code error;
  const std::filesystem::perms perms = std::filesystem::status(path, error).permissions();
  if (error || perms == std::filesystem::perms::unknown) return std::nullopt;
  return static_cast<unsigned>(perms & std::filesystem::perms::mask);
}

#endif

}  // namespace appwire::internal
