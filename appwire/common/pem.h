// PEM text checks that need no crypto library: line endings and format
// detection, so every file error can say exactly what is wrong and how to
// fix it.
#ifndef APPWIRE_COMMON_PEM_H_
#define APPWIRE_COMMON_PEM_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace appwire {

enum class PemKind { kCertificate, kPrivateKey };

// Returns `contents` with CRLF and bare CR line endings turned into LF, when
// it holds at least one PEM block of the expected kind. Otherwise
// InvalidArgument naming `path`, saying what the file looks like instead (DER,
// PKCS#12, empty, another PEM type) and the openssl command that converts it.
absl::StatusOr<std::string> NormalizePem(absl::string_view contents,
                                         absl::string_view path, PemKind kind);

// ReadFile, then NormalizePem: a PEM file of the expected kind, with LF
// line endings. Errors name `path`.
absl::StatusOr<std::string> ReadPemFile(const std::string& path, PemKind kind);

}  // namespace appwire

#endif  // APPWIRE_COMMON_PEM_H_
