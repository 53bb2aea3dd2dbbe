// The server's settings, as `key = value` lines: the project folder's
// settings file (appwire.conf) and appwire-server's flags use the same keys.
//
//   # appwire.conf
//   port = 19813
//   bind = 0.0.0.0
//   min_tls = 1.2
//   ciphers = ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256
//
// The keys of database parameters, and how each writes its value, come from
// appwire/common/parameter_table.h; bind, client_ca and the passphrase keys set
// ServerOptions fields. docs/configuration.md lists every key with what it
// sets. Precedence: flags, then the settings file, then process-wide
// parameters.
#ifndef APPWIRE_SERVER_SETTINGS_FILE_H_
#define APPWIRE_SERVER_SETTINGS_FILE_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "appwire/common/project_folder.h"  // kSettingsFileName
#include "appwire/server/server.h"

namespace appwire {

// Applies one setting. InvalidArgument naming the key, the value and what
// is allowed; `options` is unchanged then.
absl::Status ApplySetting(absl::string_view key, absl::string_view value,
                          ServerOptions* options);

// Applies every line of the file at `path`; a missing file is not an error.
// Errors name the file and the line.
absl::Status ApplySettingsFile(const std::string& path, ServerOptions* options);

// The keys ApplySetting knows, for usage messages.
std::vector<std::string> SettingKeys();

// One key as appwire-server --help lists it.
struct SettingDescription {
  std::string key;            // "handshake_timeout_ms"
  std::string default_value;  // written as the file writes it ("10000", "1.3", "false"); "" for none
  std::string unit;           // "milliseconds", or what the value is; may be ""
};

// Every key of SettingKeys, in its order, with its default: what
// ApplySetting(key, default_value) leaves as it is.
std::vector<SettingDescription> DescribeSettings();

// What the settings read again (appwire-server on SIGHUP) change in a
// server started with others.
struct SettingsChange {
  // Database parameters whose value differs: Server::SetParameter applies
  // them to connections accepted from now on. A key removed from the file
  // comes back to its default.
  std::vector<std::pair<Parameter, ParameterValue>> parameters;
  // The keys that differ but are read only at start (bind, port,
  // client_ca, key_passphrase_file, key_passphrase_env): they take effect
  // at the next start.
  std::vector<std::string> need_restart;
};
// `running_value` is the running server's value of a parameter
// (Server::GetParameter), which may have changed since `running` started it.
SettingsChange CompareSettings(const ServerOptions& running, const ServerOptions& reread,
                               const std::function<ParameterValue(Parameter)>& running_value);

}  // namespace appwire

#endif  // APPWIRE_SERVER_SETTINGS_FILE_H_
