// HTTPS requests for the ACME client, through libcurl: one request at a time,
// bounded in time and in the size of what comes back, verified against the
// system's trust store or a given CA file (a private ACME CA such as Pebble).
#ifndef APPWIRE_ACME_HTTP_CLIENT_H_
#define APPWIRE_ACME_HTTP_CLIENT_H_

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace appwire::acme {

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD or POST
  std::string url;
  std::string body;
  std::string content_type;  // for POST
  std::string accept;        // empty: none sent
};

struct HttpResponse {
  int status = 0;
  // Header names in lower case; a repeated header (Link) keeps every value.
  std::multimap<std::string, std::string> headers;
  std::string body;

  // The first value of `name` (lower case), or "".
  std::string Header(const std::string& name) const;
  // The targets of the Link headers with rel="`relation`" (RFC 8288).
  std::vector<std::string> Links(const std::string& relation) const;
};

struct HttpClientOptions {
  // PEM file of the CA that signed the server's certificate. Empty: the
  // system trust store.
  std::string ca_file;
  // The whole request, connecting included.
  absl::Duration timeout = absl::Seconds(30);
  // Larger responses are an error (a certificate chain is a few KiB).
  size_t max_response_bytes = 1 << 20;
  // Asked while a request is under way (every few hundred milliseconds at
  // most): true abandons it (Cancelled), so a stopping server never waits
  // for a slow CA.
  std::function<bool()> cancelled;
};

// Not thread-safe: one per thread of work.
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // The response, whatever its status; Unavailable when the server could
  // not be reached or the TLS handshake failed (the text says which, and
  // names the URL), DeadlineExceeded past the timeout, ResourceExhausted
  // for a response over max_response_bytes.
  absl::StatusOr<HttpResponse> Fetch(const HttpRequest& request);

 private:
  HttpClientOptions options_;
  void* curl_ = nullptr;  // CURL*, reused: keeps the connection to the CA open
};

}  // namespace appwire::acme

#endif  // APPWIRE_ACME_HTTP_CLIENT_H_
