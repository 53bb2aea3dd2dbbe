#include "appwire/server/service_registry.h"

namespace appwire {

absl::Status ServiceRegistry::RegisterRaw(const std::string& method, RawHandler handler,
                                          HandlerThread thread) {
  if (!handler) {
    return absl::InvalidArgumentError(absl::StrCat("no handler given for ", method));
  }
  RegisteredMethod registered;
  registered.handler = std::move(handler);
  registered.thread = thread;
  return Add(method, std::move(registered));
}

absl::Status ServiceRegistry::RegisterStreamRaw(const std::string& method, MethodKind kind,
                                                RawStreamHandler handler) {
  if (!handler) {
    return absl::InvalidArgumentError(absl::StrCat("no handler given for ", method));
  }
  if (kind == MethodKind::kUnary) {
    return absl::InvalidArgumentError(
        absl::StrCat(method, ": RegisterStreamRaw is for streaming methods; use RegisterRaw"));
  }
  RegisteredMethod registered;
  registered.kind = kind;
  registered.stream_handler = std::move(handler);
  return Add(method, std::move(registered));
}

absl::Status ServiceRegistry::Add(const std::string& method, RegisteredMethod registered) {
  if (frozen_.load()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot register ", method, ": the server has started; register every "
        "method before Server::Start()"));
  }
  size_t slash = method.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == method.size() ||
      method.find('/', slash + 1) != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "method name \"", method, "\" must look like \"package.Service/Method\""));
  }
  if (!handlers_.emplace(method, std::move(registered)).second) {
    return absl::AlreadyExistsError(absl::StrCat(method, " is already registered"));
  }
  return absl::OkStatus();
}

bool AuthorizationPolicy::Allows(const PeerIdentity* identity, const std::string& method) const {
  if (empty()) return true;
  if (identity != nullptr) {
    for (const std::string& name : allowed_common_names) {
      if (name == identity->common_name) return true;
    }
    for (const std::string& san : allowed_subject_alt_names) {
      for (const std::string& own : identity->subject_alt_names) {
        if (san == own) return true;
      }
    }
    for (const std::string& fingerprint : allowed_fingerprints) {
      if (fingerprint == identity->sha256_fingerprint) return true;
    }
  }
  return callback && callback(identity, method);
}

absl::Status ServiceRegistry::SetPolicy(const std::string& scope, AuthorizationPolicy policy) {
  if (frozen_.load()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot set the policy of ", scope, ": the server has started; set policies before "
        "Server::Start()"));
  }
  if (scope.empty()) return absl::InvalidArgumentError("a policy needs a service or method name");
  policies_.insert_or_assign(scope, std::move(policy));
  return absl::OkStatus();
}

absl::Status ServiceRegistry::Authorize(const std::string& method,
                                        const PeerIdentity* identity) const {
  if (policies_.empty()) return absl::OkStatus();
  auto it = policies_.find(method);
  if (it == policies_.end()) it = policies_.find(method.substr(0, method.find('/')));
  if (it == policies_.end() || it->second.Allows(identity, method)) return absl::OkStatus();
  if (identity == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat(
        "a client without a certificate may not call ", method,
        "; this method needs a client certificate its policy allows"));
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "the client '", identity->subject, "' (", identity->sha256_fingerprint,
      ") may not call ", method, "; ask the server's operator to allow it"));
}

const RegisteredMethod* ServiceRegistry::Find(absl::string_view method) const {
  auto it = handlers_.find(method);
  return it == handlers_.end() ? nullptr : &it->second;
}

std::vector<std::string> ServiceRegistry::Services() const {
  std::vector<std::string> services;
  for (const auto& entry : handlers_) {
    std::string service = entry.first.substr(0, entry.first.find('/'));
    if (services.empty() || services.back() != service) services.push_back(std::move(service));
  }
  return services;  // handlers_ is sorted, so is this
}

std::vector<std::string> ServiceRegistry::Methods() const {
  std::vector<std::string> methods;
  for (const auto& entry : handlers_) methods.push_back(entry.first);
  return methods;
}

}  // namespace appwire
