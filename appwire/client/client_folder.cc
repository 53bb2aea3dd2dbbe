#include "appwire/client/client_folder.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "appwire/common/files.h"

namespace appwire {

namespace {

// Whether `host` names one folder inside the client folder. Host names and
// IP addresses do; "..", "." or anything with a '/' would lead elsewhere
// (outside the folder, for "..") and get no per-server folder.
bool IsFolderName(absl::string_view host) {
  return !host.empty() && host != "." && host != ".." &&
         host.find_first_of(absl::string_view("/\0", 2)) == absl::string_view::npos;
}

}  // namespace

ClientFolderFiles ResolveClientFolder(const std::string& folder, const std::string& host) {
  ClientFolderFiles files;
  const std::string lower = absl::AsciiStrToLower(host);
  const bool has_per_server = IsFolderName(lower);
  const std::string per_server = has_per_server ? JoinPath(folder, lower) : std::string();
  auto pick = [&](const char* name) {
    if (has_per_server) {
      std::string specific = JoinPath(per_server, name);
      if (FileExists(specific)) return specific;
    }
    std::string general = JoinPath(folder, name);
    return FileExists(general) ? general : std::string();
  };
  // The identity is a pair: both files from the per-server folder when it
  // has either, else both from the folder itself.
  const bool own_identity = has_per_server && (FileExists(JoinPath(per_server, "cert.pem")) ||
                                               FileExists(JoinPath(per_server, "key.pem")));
  const std::string& identity_folder = own_identity ? per_server : folder;
  auto existing = [&](const char* name) {
    std::string path = JoinPath(identity_folder, name);
    return FileExists(path) ? path : std::string();
  };
  files.certificate_file = existing("cert.pem");
  files.private_key_file = existing("key.pem");
  files.ca_file = pick("ca.pem");
  files.known_servers_file = JoinPath(folder, "known_servers");
  return files;
}

absl::StatusOr<std::optional<KnownServer>> FindKnownServer(const std::string& known_servers_file,
                                                           const std::string& server) {
  if (!FileExists(known_servers_file)) return std::optional<KnownServer>();
  absl::StatusOr<std::string> text = ReadFile(known_servers_file);
  if (!text.ok()) return text.status();
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() == 2 && fields[0] == server) {
      return std::optional<KnownServer>(KnownServer{std::string(fields[1]), line_number});
    }
  }
  return std::optional<KnownServer>();
}

absl::Status RememberServer(const std::string& known_servers_file, const std::string& server,
                            const std::string& fingerprint) {
  // One appended line (O_APPEND on POSIX, FILE_APPEND_DATA on Windows), so
  // that two apps recording servers at once keep both lines; a file edited
  // by hand that lacks its final newline gets one first, so the new line is
  // not glued to the last one (which would lose both entries).
  absl::Status appended =
      AppendLineToFile(known_servers_file, absl::StrCat(server, " ", fingerprint, "\n"), 0644);
  if (!appended.ok()) {
    return absl::Status(appended.code(), absl::StrCat("cannot record the server's fingerprint: ",
                                                      appended.message()));
  }
  return absl::OkStatus();
}

}  // namespace appwire
