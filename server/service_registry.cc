#include "server/service_registry.h"

namespace appwire {

absl::Status ServiceRegistry::RegisterRaw(const std::string& method, RawHandler handler,
                                          HandlerThread thread) {
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
  if (!handler) {
    return absl::InvalidArgumentError(absl::StrCat("no handler given for ", method));
  }
  if (!handlers_.emplace(method, RegisteredMethod{std::move(handler), thread}).second) {
    return absl::AlreadyExistsError(absl::StrCat(method, " is already registered"));
  }
  return absl::OkStatus();
}

const RegisteredMethod* ServiceRegistry::Find(absl::string_view method) const {
  auto it = handlers_.find(method);
  return it == handlers_.end() ? nullptr : &it->second;
}

std::vector<std::string> ServiceRegistry::Methods() const {
  std::vector<std::string> methods;
  for (const auto& entry : handlers_) methods.push_back(entry.first);
  return methods;
}

}  // namespace appwire
