// Pebble, Let's Encrypt's ACME test server (Debian's pebble package), with
// pebble-challtestsrv as its DNS so that every name resolves to 127.0.0.1,
// started by the test on loopback ports chosen at run time and stopped at
// destruction. Its validation authority connects to `tls_port` for
// TLS-ALPN-01: the appwire-server under test.
#ifndef APPWIRE_TESTS_PEBBLE_CA_H_
#define APPWIRE_TESTS_PEBBLE_CA_H_

#include <sys/types.h>

#include <map>
#include <string>

#include "tests/test_support.h"

namespace appwire::testing {

// A loopback TCP port free right now (bound to 0, then closed), never one
// it returned before in this process.
int FreeTcpPort();

class PebbleCa {
 public:
  struct Options {
    int tls_port = 0;   // where Pebble validates TLS-ALPN-01
    int http_port = 5002;  // and HTTP-01
    // Environment for pebble (PEBBLE_VA_NOSLEEP=1 and
    // PEBBLE_WFE_NONCEREJECT=0 unless given here).
    std::map<std::string, std::string> environment;
    // External account binding required, with these key ids and HMAC keys
    // (base64url). Empty: not required.
    std::map<std::string, std::string> eab_keys;
  };
  // Skips (GTEST_SKIP in the caller) when `available()` is false.
  static bool available();

  explicit PebbleCa(Options options);
  ~PebbleCa();  // Stop()
  PebbleCa(const PebbleCa&) = delete;
  PebbleCa& operator=(const PebbleCa&) = delete;

  // Both processes answering, within 20 s.
  bool started() const { return started_; }
  void Stop();

  std::string directory_url() const;
  // Pebble's own TLS certificate (what acme_ca_file names).
  const std::string& https_ca_file() const { return https_ca_file_; }
  // The root that signs what Pebble issues (management /roots/0), written to
  // a file for clients to trust.
  std::string IssuingRootFile();
  // GET PATH on Pebble's management interface ("/cert-status-by-serial/..."):
  // its body, or "" when it failed.
  std::string ManagementGet(const std::string& path);
  // What pebble and pebble-challtestsrv printed.
  std::string Log() const;

 private:
  bool WaitForDirectory();
  TempDir dir_;
  std::string https_ca_file_;
  int acme_port_ = 0;
  int management_port_ = 0;
  pid_t pebble_ = -1;
  pid_t challtestsrv_ = -1;
  bool started_ = false;
};

}  // namespace appwire::testing

#endif  // APPWIRE_TESTS_PEBBLE_CA_H_
