#include "appwire/acme/http_client.h"

#include <curl/curl.h>

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "appwire/common/version.h"

namespace appwire::acme {
namespace {

struct Transfer {
  HttpResponse* response;
  size_t limit;
  const std::function<bool()>* cancelled;
  bool too_large = false;
  bool was_cancelled = false;
};

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  if (*transfer->cancelled && (*transfer->cancelled)()) {
    transfer->was_cancelled = true;
    return 1;  // libcurl stops with CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (transfer->response->body.size() + bytes > transfer->limit) {
    transfer->too_large = true;
    return 0;  // libcurl stops with CURLE_WRITE_ERROR
  }
  transfer->response->body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  absl::string_view line(data, bytes);
  // A new status line (after a 100 Continue, or a redirect) starts over.
  if (absl::StartsWith(line, "HTTP/")) transfer->response->headers.clear();
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    transfer->response->headers.emplace(
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon))),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return bytes;
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  auto found = headers.find(name);
  return found == headers.end() ? std::string() : found->second;
}

std::vector<std::string> HttpResponse::Links(const std::string& relation) const {
  std::vector<std::string> targets;
  auto [begin, end] = headers.equal_range("link");
  for (auto it = begin; it != end; ++it) {
    // One header may hold several links: <url>;rel="up", <url2>;rel="alternate".
    for (absl::string_view link : absl::StrSplit(it->second, ',')) {
      link = absl::StripAsciiWhitespace(link);
      const size_t close = link.find('>');
      if (!absl::StartsWith(link, "<") || close == absl::string_view::npos) continue;
      const absl::string_view target = link.substr(1, close - 1);
      for (absl::string_view parameter : absl::StrSplit(link.substr(close + 1), ';')) {
        parameter = absl::StripAsciiWhitespace(parameter);
        if (absl::ConsumePrefix(&parameter, "rel=")) {
          parameter = absl::StripPrefix(absl::StripSuffix(parameter, "\""), "\"");
          if (parameter == relation) targets.emplace_back(target);
        }
      }
    }
  }
  return targets;
}

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

absl::StatusOr<HttpResponse> HttpClient::Fetch(const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return absl::ResourceExhaustedError("curl_easy_init failed");
  curl_easy_reset(curl);
  HttpResponse response;
  Transfer transfer{&response, options_.max_response_bytes, &options_.cancelled};
  char error_text[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  // An ACME CA is HTTPS only (RFC 8555 section 6.1); no redirects followed.
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  const std::string user_agent = absl::StrCat("appwire/", kSoftwareVersion);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, user_agent.c_str());
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  struct curl_slist* headers = nullptr;
  if (!request.content_type.empty()) {
    headers = curl_slist_append(headers, ("Content-Type: " + request.content_type).c_str());
  }
  if (!request.accept.empty()) {
    headers = curl_slist_append(headers, ("Accept: " + request.accept).c_str());
  }
  if (headers != nullptr) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  }
  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (transfer.was_cancelled) {
    return absl::CancelledError(absl::StrCat(request.method, " ", request.url, ": stopped"));
  }
  if (transfer.too_large) {
    return absl::ResourceExhaustedError(absl::StrCat(
        request.method, " ", request.url, ": the response is larger than ",
        options_.max_response_bytes, " bytes"));
  }
  if (code != CURLE_OK) {
    const std::string text =
        absl::StrCat(request.method, " ", request.url, ": ",
                     error_text[0] != '\0' ? error_text : curl_easy_strerror(code));
    if (code == CURLE_OPERATION_TIMEDOUT) return absl::DeadlineExceededError(text);
    if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE) {
      return absl::UnavailableError(absl::StrCat(
          text, options_.ca_file.empty()
                    ? " (for a private ACME CA, set acme_ca_file to the PEM file of its root)"
                    : absl::StrCat(" (acme_ca_file is \"", options_.ca_file, "\")")));
    }
    return absl::UnavailableError(text);
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace appwire::acme
