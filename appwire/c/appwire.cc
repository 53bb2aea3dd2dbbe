// The C API (appwire/c/appwire.h): the library's names, errors, connect
// options and the channel. Calls are in calls.cc, streams in streams.cc;
// the handles' insides in appwire/c/internal/handles.h.
#include "appwire/c/appwire.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "appwire/c/internal/handles.h"
#include "appwire/client/channel.h"
#include "appwire/common/method_kind.h"
#include "appwire/common/parameters.h"
#include "appwire/common/version.h"

using appwire::c_api::Guarded;
using appwire::c_api::NullArgument;
using appwire::c_api::Report;
using appwire::c_api::ToCode;

// The C numbers are the C++ ones: conversions are casts, and a change on
// either side fails here.
static_assert(APPWIRE_OK == static_cast<int>(absl::StatusCode::kOk));
static_assert(APPWIRE_CANCELLED == static_cast<int>(absl::StatusCode::kCancelled));
static_assert(APPWIRE_UNKNOWN == static_cast<int>(absl::StatusCode::kUnknown));
static_assert(APPWIRE_INVALID_ARGUMENT == static_cast<int>(absl::StatusCode::kInvalidArgument));
static_assert(APPWIRE_DEADLINE_EXCEEDED ==
              static_cast<int>(absl::StatusCode::kDeadlineExceeded));
static_assert(APPWIRE_NOT_FOUND == static_cast<int>(absl::StatusCode::kNotFound));
static_assert(APPWIRE_ALREADY_EXISTS == static_cast<int>(absl::StatusCode::kAlreadyExists));
static_assert(APPWIRE_PERMISSION_DENIED ==
              static_cast<int>(absl::StatusCode::kPermissionDenied));
static_assert(APPWIRE_RESOURCE_EXHAUSTED ==
              static_cast<int>(absl::StatusCode::kResourceExhausted));
static_assert(APPWIRE_FAILED_PRECONDITION ==
              static_cast<int>(absl::StatusCode::kFailedPrecondition));
static_assert(APPWIRE_ABORTED == static_cast<int>(absl::StatusCode::kAborted));
static_assert(APPWIRE_OUT_OF_RANGE == static_cast<int>(absl::StatusCode::kOutOfRange));
static_assert(APPWIRE_UNIMPLEMENTED == static_cast<int>(absl::StatusCode::kUnimplemented));
static_assert(APPWIRE_INTERNAL == static_cast<int>(absl::StatusCode::kInternal));
static_assert(APPWIRE_UNAVAILABLE == static_cast<int>(absl::StatusCode::kUnavailable));
static_assert(APPWIRE_DATA_LOSS == static_cast<int>(absl::StatusCode::kDataLoss));
static_assert(APPWIRE_UNAUTHENTICATED == static_cast<int>(absl::StatusCode::kUnauthenticated));
static_assert(APPWIRE_STATE_IDLE == static_cast<int>(appwire::ChannelState::kIdle));
static_assert(APPWIRE_STATE_CONNECTING == static_cast<int>(appwire::ChannelState::kConnecting));
static_assert(APPWIRE_STATE_READY == static_cast<int>(appwire::ChannelState::kReady));
static_assert(APPWIRE_STATE_TRANSIENT_FAILURE ==
              static_cast<int>(appwire::ChannelState::kTransientFailure));
static_assert(APPWIRE_STATE_SHUTDOWN == static_cast<int>(appwire::ChannelState::kShutdown));
static_assert(APPWIRE_UNARY == static_cast<int>(appwire::MethodKind::kUnary));
static_assert(APPWIRE_SERVER_STREAMING == static_cast<int>(appwire::MethodKind::kServerStreaming));
static_assert(APPWIRE_CLIENT_STREAMING == static_cast<int>(appwire::MethodKind::kClientStreaming));
static_assert(APPWIRE_BIDI_STREAMING == static_cast<int>(appwire::MethodKind::kBidiStreaming));
static_assert(APPWIRE_TLS_1_2 == appwire::kTLSv1_2 && APPWIRE_TLS_1_3 == appwire::kTLSv1_3);

namespace appwire::c_api {

appwire_code Report(const absl::Status& status, appwire_error** error) {
  if (error != nullptr) {
    *error = nullptr;
    if (!status.ok()) {
      *error = new appwire_error{ToCode(status), std::string(status.message())};
    }
  }
  return ToCode(status);
}

}  // namespace appwire::c_api

namespace {

std::string OrEmpty(const char* text) { return text == nullptr ? std::string() : text; }

// A setter's refusal: remembered for appwire_connect, which reports the
// first one with its words (a caller may check only the connect).
appwire_code Refuse(appwire_options* options, absl::Status status) {
  if (options->first_refusal.ok()) options->first_refusal = status;
  return ToCode(status);
}

// The setters that only store a string: nothing to check until connect.
template <typename Apply>
appwire_code SetOption(appwire_options* options, Apply apply) {
  if (options == nullptr) return APPWIRE_INVALID_ARGUMENT;
  return Guarded([&] {
    apply(options->options);
    return APPWIRE_OK;
  });
}

appwire_code SetParameter(appwire_options* options, int selector,
                          appwire::ParameterValue value) {
  if (options == nullptr) return APPWIRE_INVALID_ARGUMENT;
  return Guarded([&] {
    absl::Status status =
        options->options.parameters.Set(static_cast<appwire::Parameter>(selector), value);
    return status.ok() ? APPWIRE_OK : Refuse(options, status);
  });
}

}  // namespace

extern "C" {

const char* appwire_version(void) { return appwire::kSoftwareVersion; }

const char* appwire_code_name(appwire_code code) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",          "UNKNOWN",         "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",  "ALREADY_EXISTS",  "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",       "UNAVAILABLE",     "DATA_LOSS",
      "UNAUTHENTICATED"};
  const int number = static_cast<int>(code);
  return number >= 0 && number <= APPWIRE_UNAUTHENTICATED ? kNames[number] : "UNKNOWN";
}

const char* appwire_state_name(appwire_state state) {
  switch (state) {
    case APPWIRE_STATE_IDLE: return "idle";
    case APPWIRE_STATE_CONNECTING: return "connecting";
    case APPWIRE_STATE_READY: return "ready";
    case APPWIRE_STATE_TRANSIENT_FAILURE: return "transient failure";
    case APPWIRE_STATE_SHUTDOWN: return "shut down";
  }
  return "unknown";
}

appwire_code appwire_error_code(const appwire_error* error) {
  return error == nullptr ? APPWIRE_OK : error->code;
}

const char* appwire_error_message(const appwire_error* error) {
  return error == nullptr ? "" : error->message.c_str();
}

void appwire_error_free(appwire_error* error) { delete error; }

appwire_code appwire_options_new(appwire_options** options) {
  if (options == nullptr) return APPWIRE_INVALID_ARGUMENT;
  *options = nullptr;
  return Guarded([&] {
    *options = new appwire_options();
    return APPWIRE_OK;
  });
}

void appwire_options_free(appwire_options* options) { delete options; }

appwire_code appwire_options_set_target(appwire_options* options, const char* target) {
  return SetOption(options, [&](appwire::ChannelOptions& o) { o.target = OrEmpty(target); });
}

appwire_code appwire_options_set_server_name(appwire_options* options, const char* server_name) {
  return SetOption(options,
                   [&](appwire::ChannelOptions& o) { o.server_name = OrEmpty(server_name); });
}

appwire_code appwire_options_set_ca_file(appwire_options* options, const char* path) {
  return SetOption(options, [&](appwire::ChannelOptions& o) { o.ca_file = OrEmpty(path); });
}

appwire_code appwire_options_set_use_system_trust_store(appwire_options* options, int use) {
  return SetOption(options,
                   [&](appwire::ChannelOptions& o) { o.use_system_trust_store = use != 0; });
}

appwire_code appwire_options_set_pinned_sha256(appwire_options* options,
                                               const char* fingerprint) {
  return SetOption(options,
                   [&](appwire::ChannelOptions& o) { o.pinned_sha256 = OrEmpty(fingerprint); });
}

appwire_code appwire_options_set_client_folder(appwire_options* options, const char* path) {
  return SetOption(options,
                   [&](appwire::ChannelOptions& o) { o.client_folder = OrEmpty(path); });
}

appwire_code appwire_options_set_trust_on_first_use(appwire_options* options, int trust) {
  return SetOption(options,
                   [&](appwire::ChannelOptions& o) { o.trust_on_first_use = trust != 0; });
}

appwire_code appwire_options_set_certificate(appwire_options* options,
                                             const char* certificate_file,
                                             const char* private_key_file) {
  if (options == nullptr) return APPWIRE_INVALID_ARGUMENT;
  return Guarded([&] {
    if ((certificate_file == nullptr) != (private_key_file == nullptr)) {
      return Refuse(options, absl::InvalidArgumentError(
                                 "appwire_options_set_certificate: a client certificate needs "
                                 "both the certificate file and the private key file"));
    }
    options->options.certificate_file = OrEmpty(certificate_file);
    options->options.private_key_file = OrEmpty(private_key_file);
    return APPWIRE_OK;
  });
}

appwire_code appwire_options_set_key_passphrase_file(appwire_options* options,
                                                     const char* path) {
  return SetOption(options,
                   [&](appwire::ChannelOptions& o) { o.key_passphrase_file = OrEmpty(path); });
}

appwire_code appwire_options_set_key_passphrase_env(appwire_options* options,
                                                    const char* variable) {
  return SetOption(
      options, [&](appwire::ChannelOptions& o) { o.key_passphrase_env = OrEmpty(variable); });
}

appwire_code appwire_options_set_min_tls_version(appwire_options* options,
                                                 appwire_tls_version version) {
  return SetParameter(options, static_cast<int>(appwire::Parameter::kMinTlsVersion),
                      static_cast<int64_t>(version));
}

appwire_code appwire_options_set_max_tls_version(appwire_options* options,
                                                 appwire_tls_version version) {
  return SetParameter(options, static_cast<int>(appwire::Parameter::kMaxTlsVersion),
                      static_cast<int64_t>(version));
}

appwire_code appwire_options_set_parameter_int(appwire_options* options, int selector,
                                               int64_t value) {
  return SetParameter(options, selector, value);
}

appwire_code appwire_options_set_parameter_string(appwire_options* options, int selector,
                                                  const char* value) {
  if (options == nullptr) return APPWIRE_INVALID_ARGUMENT;
  if (value == nullptr) {  // back to the process-wide value
    options->options.parameters.Clear(static_cast<appwire::Parameter>(selector));
    return APPWIRE_OK;
  }
  return SetParameter(options, selector, std::string(value));
}

appwire_code appwire_options_set_connect_timeout_ms(appwire_options* options,
                                                    int64_t milliseconds) {
  if (options == nullptr) return APPWIRE_INVALID_ARGUMENT;
  if (milliseconds <= 0) {
    return Refuse(options, absl::InvalidArgumentError(absl::StrCat(
                               "the connect timeout must be positive, got ", milliseconds,
                               " ms")));
  }
  options->options.connect_timeout = absl::Milliseconds(milliseconds);
  return APPWIRE_OK;
}

appwire_code appwire_options_set_default_timeout_ms(appwire_options* options,
                                                    int64_t milliseconds) {
  if (options == nullptr) return APPWIRE_INVALID_ARGUMENT;
  if (milliseconds < 0) {
    return Refuse(options, absl::InvalidArgumentError(absl::StrCat(
                               "the default call timeout must be positive (or 0 for none), got ",
                               milliseconds, " ms")));
  }
  options->default_timeout =
      milliseconds == 0 ? absl::InfiniteDuration() : absl::Milliseconds(milliseconds);
  return APPWIRE_OK;
}

appwire_code appwire_options_set_reconnect_backoff(appwire_options* options, int64_t initial_ms,
                                                   double multiplier, double jitter,
                                                   int64_t max_ms) {
  if (options == nullptr) return APPWIRE_INVALID_ARGUMENT;
  // As Backoff's formula needs them: a positive start, no shrinking, a
  // jitter that keeps delays non-negative.
  if (initial_ms <= 0 || max_ms < initial_ms || !(multiplier >= 1.0) || !(jitter >= 0.0) ||
      !(jitter <= 1.0)) {
    return Refuse(options,
                  absl::InvalidArgumentError(absl::StrCat(
                      "the reconnect backoff needs 0 < initial_ms <= max_ms, multiplier >= 1 "
                      "and jitter in [0, 1]; got initial_ms ", initial_ms, ", multiplier ",
                      multiplier, ", jitter ", jitter, ", max_ms ", max_ms)));
  }
  appwire::ReconnectBackoff& backoff = options->options.reconnect_backoff;
  backoff.initial = absl::Milliseconds(initial_ms);
  backoff.multiplier = multiplier;
  backoff.jitter = jitter;
  backoff.max = absl::Milliseconds(max_ms);
  return APPWIRE_OK;
}

appwire_code appwire_options_set_software(appwire_options* options, const char* name,
                                          const char* version) {
  return SetOption(options, [&](appwire::ChannelOptions& o) {
    o.software_name = name == nullptr ? "appwire-client" : name;
    o.software_version = version == nullptr ? appwire::kSoftwareVersion : version;
  });
}

appwire_code appwire_options_set_state_callback(appwire_options* options,
                                                appwire_state_callback callback,
                                                void* user_data) {
  return SetOption(options, [&](appwire::ChannelOptions& o) {
    if (callback == nullptr) {
      o.on_state_change = nullptr;
      return;
    }
    // Holds only the app's function and pointer, never the channel
    // (channel.h: on_state_change must not keep the channel alive).
    o.on_state_change = [callback, user_data](appwire::ChannelState state,
                                              const absl::Status& reason) {
      const std::string message(reason.message());  // NUL-terminated for C
      callback(user_data, static_cast<appwire_state>(state), ToCode(reason), message.c_str());
    };
  });
}

appwire_code appwire_options_set_executor(appwire_options* options, appwire_executor executor,
                                          void* user_data) {
  return SetOption(options, [&](appwire::ChannelOptions& o) {
    if (executor == nullptr) {
      o.callback_executor = nullptr;
      return;
    }
    o.callback_executor = [executor, user_data](std::function<void()> callback) {
      // Out of memory here: run it where we are rather than lose a
      // completion.
      appwire_task* task = nullptr;
      try {
        task = new appwire_task{std::move(callback)};
      } catch (...) {
        if (callback) callback();
        return;
      }
      executor(user_data, task);
    };
  });
}

void appwire_task_run(appwire_task* task) {
  if (task == nullptr) return;
  std::unique_ptr<appwire_task> owned(task);
  if (owned->run) owned->run();
}

void appwire_task_free(appwire_task* task) { delete task; }

appwire_code appwire_connect(const appwire_options* options, appwire_channel** channel,
                             appwire_error** error) {
  if (error != nullptr) *error = nullptr;
  if (channel != nullptr) *channel = nullptr;
  if (options == nullptr) return Report(NullArgument("appwire_connect", "options"), error);
  if (channel == nullptr) return Report(NullArgument("appwire_connect", "channel"), error);
  return Guarded([&] {
    if (!options->first_refusal.ok()) return Report(options->first_refusal, error);
    absl::StatusOr<std::shared_ptr<appwire::Channel>> connected =
        appwire::Channel::Connect(options->options);
    if (!connected.ok()) return Report(connected.status(), error);
    auto handle = std::make_unique<appwire_channel>();
    handle->channel = *std::move(connected);
    handle->default_timeout = options->default_timeout;
    *channel = handle.release();
    return APPWIRE_OK;
  });
}

appwire_code appwire_channel_close(appwire_channel* channel) {
  if (channel == nullptr) return APPWIRE_INVALID_ARGUMENT;
  return Guarded([&] {
    channel->channel->Close();
    return APPWIRE_OK;
  });
}

void appwire_channel_free(appwire_channel* channel) {
  // ~Channel: calls end with their completions, the I/O thread is joined
  // (or, from one of its callbacks, ends right after it).
  delete channel;
}

appwire_state appwire_channel_state(const appwire_channel* channel) {
  if (channel == nullptr) return APPWIRE_STATE_SHUTDOWN;
  return static_cast<appwire_state>(channel->channel->state());
}

appwire_code appwire_channel_wait_for_ready(appwire_channel* channel, int64_t timeout_ms,
                                            appwire_error** error) {
  if (error != nullptr) *error = nullptr;
  if (channel == nullptr) {
    return Report(NullArgument("appwire_channel_wait_for_ready", "channel"), error);
  }
  return Guarded([&] {
    return Report(channel->channel->WaitForReady(absl::Milliseconds(timeout_ms)), error);
  });
}

appwire_code appwire_channel_info(const appwire_channel* channel, const char* key,
                                  char** value) {
  if (value == nullptr) return APPWIRE_INVALID_ARGUMENT;
  *value = nullptr;
  if (channel == nullptr || key == nullptr) return APPWIRE_INVALID_ARGUMENT;
  return Guarded([&] {
    const appwire::Channel& c = *channel->channel;
    const std::string name = key;
    std::string text;
    if (name == "server_software") {
      text = c.server_software();
    } else if (name == "connections_made") {
      text = std::to_string(c.connections_made());
    } else {
      const appwire::TlsSessionInfo info = c.session_info();
      if (name == "tls_version") {
        text = info.version;
      } else if (name == "cipher") {
        text = info.cipher;
      } else if (name == "alpn") {
        text = info.alpn;
      } else if (name == "peer_address") {
        text = info.peer_address;
      } else if (name == "server_name") {
        text = info.server_name;
      } else if (name == "server_certificate_sha256") {
        if (info.peer_certificate) text = info.peer_certificate->sha256_fingerprint;
      } else {
        return APPWIRE_INVALID_ARGUMENT;
      }
    }
    char* copy = new char[text.size() + 1];
    text.copy(copy, text.size());
    copy[text.size()] = '\0';
    *value = copy;
    return APPWIRE_OK;
  });
}

void appwire_string_free(char* value) { delete[] value; }

}  // extern "C"
