#include "tools/appwire/client_flags.h"

#include "absl/strings/str_cat.h"

namespace appwire::cli {

std::vector<FlagSpec> ClientFlags() {
  return {{"ca"},          {"pin"},         {"client"}, {"system-trust", Kind::kSwitch},
          {"server-name"}, {"timeout"}};
}

absl::StatusOr<ChannelOptions> ChannelOptionsFromFlags(const Arguments& a,
                                                       const std::string& target,
                                                       absl::Duration fallback,
                                                       absl::Duration* timeout) {
  *timeout = fallback;
  if (a.Has("timeout") &&
      (!absl::ParseDuration(a.Get("timeout"), timeout) || *timeout <= absl::ZeroDuration())) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout ", a.Get("timeout"), ": give a duration such as 5s or 500ms"));
  }
  ChannelOptions options;
  options.target = target;
  options.server_name = a.Get("server-name");
  options.ca_file = a.Get("ca");
  options.pinned_sha256 = a.Get("pin");
  options.client_folder = a.Get("client");
  options.use_system_trust_store = a.Has("system-trust");
  if (options.ca_file.empty() && options.pinned_sha256.empty() && options.client_folder.empty() &&
      !options.use_system_trust_store) {
    return absl::InvalidArgumentError(
        "say how to trust the server: --ca FILE, --pin SHA256:..., --client DIR or "
        "--system-trust");
  }
  options.connect_timeout = *timeout;  // Connect() connects once and says why it could not
  return options;
}

}  // namespace appwire::cli
