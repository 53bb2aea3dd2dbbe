#include "appwire/server/settings_file.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "appwire/common/files.h"
#include "appwire/server/acme_manager.h"
#include "appwire/common/parameter_table.h"

namespace appwire {
namespace {

// "1", "true", "yes" / "0", "false", "no"; nullopt for other words.
std::optional<bool> BoolWords(absl::string_view value) {
  if (value == "1" || value == "true" || value == "yes") return true;
  if (value == "0" || value == "false" || value == "no") return false;
  return std::nullopt;
}

// A ServerOptions switch from its value words.
absl::Status SetBool(absl::string_view key, absl::string_view value, bool* field) {
  std::optional<bool> on = BoolWords(value);
  if (!on.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, " = \"", value, "\": use true or false"));
  }
  *field = *on;
  return absl::OkStatus();
}

// Applies `set` to a copy of `options` and keeps it only when the copy
// still validates (the error names the value and what is allowed).
template <typename Set>
absl::Status SetIfValid(ServerOptions* options, Set set) {
  ServerOptions copy = *options;
  set(copy);
  if (copy.project_dir.empty()) copy.project_dir = ".";
  absl::Status status = copy.Validate();
  if (!status.ok()) return status;
  set(*options);
  return absl::OkStatus();
}

// The value words of the parameter's kind; the value itself is checked
// afterwards, as the parameter it sets.
absl::StatusOr<ParameterValue> Convert(const ParameterSpec& spec, absl::string_view value) {
  auto bad = [&](absl::string_view allowed) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec.settings_key, " = \"", value, "\": ", allowed));
  };
  switch (spec.kind) {
    case ParameterKind::kInt: {
      int64_t number = 0;
      if (!absl::SimpleAtoi(value, &number)) return bad("a whole number is expected");
      return ParameterValue(number);
    }
    case ParameterKind::kBool:
      if (std::optional<bool> on = BoolWords(value); on.has_value()) return ParameterValue(*on ? 1 : 0);
      return bad("use 1 or 0");
    case ParameterKind::kTlsVersion:
      // 1.0 and 1.1 map to their 4D codes so that the parameter check
      // explains they are obsolete.
      if (value == "1.0") return ParameterValue(1);
      if (value == "1.1") return ParameterValue(2);
      if (value == "1.2") return ParameterValue(kTLSv1_2);
      if (value == "1.3") return ParameterValue(kTLSv1_3);
      return bad("use 1.2 or 1.3");
    case ParameterKind::kClientCert:
      if (value == "none") return ParameterValue(kClientCertNone);
      if (value == "request") return ParameterValue(kClientCertRequest);
      if (value == "require") return ParameterValue(kClientCertRequire);
      return bad("use none, request or require");
    case ParameterKind::kString:
      return ParameterValue(value);
  }
  return bad("unsupported");
}

}  // namespace

namespace {

// "a, b,,c" -> {"a", "b", "c"}.
std::vector<std::string> CommaList(absl::string_view value) {
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(value, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.emplace_back(item);
  }
  return items;
}

absl::Status ApplyAcmeSetting(absl::string_view key, absl::string_view value,
                              AcmeOptions* acme) {
  const std::string text(value);
  if (key == "acme_domains") {
    acme->domains = CommaList(value);
    return CheckAcmeDomains(acme->domains, "acme_domains");
  } else if (key == "acme_allow") {
    acme->allow = CommaList(value);
  } else if (key == "acme_on_demand") {
    return SetBool(key, value, &acme->on_demand);
  } else if (key == "acme_staging") {
    return SetBool(key, value, &acme->staging);
  } else if (key == "acme_directory") {
    if (!text.empty() && !absl::StartsWith(text, "https://")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "acme_directory = \"", text, "\": an ACME directory is an https:// URL"));
    }
    acme->directory = text;
  } else if (key == "acme_email") {
    acme->email = text;
  } else if (key == "acme_ca_file") {
    acme->ca_file = text;
  } else if (key == "acme_eab_key_id") {
    acme->eab_key_id = text;
  } else if (key == "acme_eab_hmac_key") {
    acme->eab_hmac_key = text;
  } else if (key == "acme_http_port") {
    int port = 0;
    if (!absl::SimpleAtoi(value, &port) || port < 1 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(
          "acme_http_port = \"", value, "\": use the port that port 80 reaches, 1 to 65535"));
    }
    acme->http_port = port;
  } else if (key == "acme_on_demand_per_hour") {
    int count = 0;
    if (!absl::SimpleAtoi(value, &count) || count < 0 || count > 10000) {
      return absl::InvalidArgumentError(absl::StrCat(
          "acme_on_demand_per_hour = \"", value, "\": use a whole number from 0 to 10000"));
    }
    acme->on_demand_per_hour = count;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown setting \"", key, "\"; known settings: ", absl::StrJoin(SettingKeys(), ", ")));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> SettingKeys() {
  std::vector<std::string> keys;
  for (const SettingDescription& setting : DescribeSettings()) keys.push_back(setting.key);
  return keys;
}

namespace {

// The default of `spec` written as Convert reads it.
std::string DefaultWords(const ParameterSpec& spec) {
  switch (spec.kind) {
    case ParameterKind::kInt:
      return absl::StrCat(spec.default_int);
    case ParameterKind::kBool:
      return spec.default_int != 0 ? "true" : "false";
    case ParameterKind::kTlsVersion:
      return spec.default_int == kTLSv1_2 ? "1.2" : "1.3";
    case ParameterKind::kClientCert:
      if (spec.default_int == kClientCertRequest) return "request";
      return spec.default_int == kClientCertRequire ? "require" : "none";
    case ParameterKind::kString:
      return spec.default_string;
  }
  return "";
}

}  // namespace

std::vector<SettingDescription> DescribeSettings() {
  const ServerOptions defaults;
  std::vector<SettingDescription> settings = {
      {"bind", defaults.bind_address, "address to listen on (0.0.0.0 or :: for every interface)"}};
  for (const ParameterSpec& spec : ParameterTable()) {
    // The words of the value as a flag or file writes it (the table's unit
    // speaks of the parameter's numbers).
    std::string unit = spec.unit;
    switch (spec.kind) {
      case ParameterKind::kBool: unit = "true or false"; break;
      case ParameterKind::kTlsVersion: unit = "1.2 or 1.3"; break;
      case ParameterKind::kClientCert: unit = "none, request or require"; break;
      case ParameterKind::kString:
        if (unit.empty()) unit = "the built-in choice when empty";
        break;
      case ParameterKind::kInt: break;
    }
    if (spec.check == ParameterCheck::kNames) unit = absl::StrCat(spec.unit, "s, ':'-separated");
    settings.push_back({spec.settings_key, DefaultWords(spec), unit});
  }
  settings.push_back({"client_ca", "", "file of the CAs whose client certificates are accepted"});
  settings.push_back({"key_passphrase_file", "", "file whose first line decrypts key.pem"});
  settings.push_back({"key_passphrase_env", "", "environment variable that decrypts key.pem"});
  settings.push_back({"metrics_port", "", "Prometheus metrics on http://metrics_bind:PORT/metrics "
                                          "(0 picks a free port)"});
  settings.push_back({"metrics_bind", defaults.metrics_bind, "address of the metrics port"});
  settings.push_back({"access_log", "false", "true: one log line per call"});
  settings.push_back({"reflection", "true", "false: no appwire.v1.Reflection service"});
  settings.push_back({"stats", "false", "true: the metrics through appwire.v1.Stats (appwire stats)"});
  // AutoSSL (docs/configuration.md, section 5.10).
  settings.push_back({"acme_domains", "", "names whose certificates come from the ACME CA, ','-separated"});
  settings.push_back({"acme_on_demand", "false", "true: order certificates for allowed names on first use"});
  settings.push_back({"acme_allow", "", "on-demand name patterns (*.shop.example), ','-separated"});
  settings.push_back({"acme_directory", "", "ACME directory URL (empty: Let's Encrypt)"});
  settings.push_back({"acme_staging", "false", "true: Let's Encrypt's staging CA"});
  settings.push_back({"acme_email", "", "contact address of the ACME account"});
  settings.push_back({"acme_ca_file", "", "PEM root of a private ACME CA's own HTTPS"});
  settings.push_back({"acme_eab_key_id", "", "external account binding key id"});
  settings.push_back({"acme_eab_hmac_key", "", "external account binding HMAC key (base64url)"});
  settings.push_back({"acme_http_port", "", "answer HTTP-01 on this plain port instead of TLS-ALPN-01"});
  settings.push_back({"acme_on_demand_per_hour",
                      absl::StrCat(AcmeOptions().on_demand_per_hour), "new on-demand names an hour"});
  return settings;
}

SettingsChange CompareSettings(const ServerOptions& running, const ServerOptions& reread,
                               const std::function<ParameterValue(Parameter)>& running_value) {
  SettingsChange change;
  if (running.bind_address != reread.bind_address) change.need_restart.push_back("bind");
  if (running.port != reread.port) change.need_restart.push_back("port");
  if (running.client_ca_file != reread.client_ca_file) change.need_restart.push_back("client_ca");
  if (running.key_passphrase_file != reread.key_passphrase_file) {
    change.need_restart.push_back("key_passphrase_file");
  }
  if (running.key_passphrase_env != reread.key_passphrase_env) {
    change.need_restart.push_back("key_passphrase_env");
  }
  if (running.metrics_port != reread.metrics_port) change.need_restart.push_back("metrics_port");
  if (running.metrics_bind != reread.metrics_bind) change.need_restart.push_back("metrics_bind");
  if (running.access_log != reread.access_log) change.need_restart.push_back("access_log");
  if (running.reflection != reread.reflection) change.need_restart.push_back("reflection");
  if (running.stats != reread.stats) change.need_restart.push_back("stats");
  const AcmeOptions& a = running.acme;
  const AcmeOptions& b = reread.acme;
  if (a.domains != b.domains || a.on_demand != b.on_demand || a.allow != b.allow ||
      a.directory != b.directory || a.staging != b.staging || a.email != b.email ||
      a.ca_file != b.ca_file || a.eab_key_id != b.eab_key_id || a.eab_hmac_key != b.eab_hmac_key ||
      a.on_demand_per_hour != b.on_demand_per_hour || a.http_port != b.http_port) {
    change.need_restart.push_back("acme_*");
  }
  for (const ParameterSpec& spec : ParameterTable()) {
    if (spec.selector == Parameter::kClientServerPortId) continue;  // ServerOptions::port
    ParameterValue now = reread.parameters.Get(spec.selector);
    if (!(now == running_value(spec.selector))) {
      change.parameters.emplace_back(spec.selector, std::move(now));
    }
  }
  return change;
}

absl::Status ApplySetting(absl::string_view key, absl::string_view value,
                          ServerOptions* options) {
  if (key == "client_ca") {
    options->client_ca_file = std::string(value);
    return absl::OkStatus();
  }
  if (key == "key_passphrase_file") {
    options->key_passphrase_file = std::string(value);
    return absl::OkStatus();
  }
  if (key == "key_passphrase_env") {
    options->key_passphrase_env = std::string(value);
    return absl::OkStatus();
  }
  if (absl::StartsWith(key, "acme_")) return ApplyAcmeSetting(key, value, &options->acme);
  if (key == "reflection") return SetBool(key, value, &options->reflection);
  if (key == "stats") return SetBool(key, value, &options->stats);
  if (key == "access_log") return SetBool(key, value, &options->access_log);
  if (key == "metrics_port") {
    int port = 0;
    if (!absl::SimpleAtoi(value, &port) || port < 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metrics_port = \"", value, "\": use a port from 1 to 65535, or 0 for any free port"));
    }
    options->metrics_port = port;
    return absl::OkStatus();
  }
  if (key == "metrics_bind") {
    return SetIfValid(options, [&](ServerOptions& o) { o.metrics_bind = std::string(value); });
  }
  if (key == "bind") {
    return SetIfValid(options, [&](ServerOptions& o) { o.bind_address = std::string(value); });
  }
  if (const ParameterSpec* spec = FindParameterBySettingsKey(key)) {
    absl::StatusOr<ParameterValue> converted = Convert(*spec, value);
    if (!converted.ok()) return converted.status();
    if (spec->selector == Parameter::kClientServerPortId) {
      absl::Status status = ValidateParameter(spec->selector, *converted);
      if (!status.ok()) return status;
      options->port = static_cast<int>(converted->AsInt());
      return absl::OkStatus();
    }
    return options->parameters.Set(spec->selector, *converted);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown setting \"", key, "\"; known settings: ", absl::StrJoin(SettingKeys(), ", ")));
}

absl::Status ApplySettingsFile(const std::string& path, ServerOptions* options) {
  if (!FileExists(path)) return absl::OkStatus();
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  // LF, CRLF and bare CR line endings alike.
  const std::string lines = absl::StrReplaceAll(*text, {{"\r\n", "\n"}, {"\r", "\n"}});
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(lines, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    size_t equals = line.find('=');
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", path, "\" line ", line_number, ": \"", line, "\" is not \"key = value\""));
    }
    absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, equals));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(equals + 1));
    absl::Status status = ApplySetting(key, value, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", path, "\" line ", line_number, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace appwire
