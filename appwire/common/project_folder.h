// ProjectFolder: where every file of a server's project folder lives, in one
// place. The folder an operator gives appwire-server (--project DIR) holds:
//
//   key.pem, cert.pem     the server's identity (generated when both absent)
//   certificates/         SNI identities: <host>.crt with <host>.key
//   dhparams.pem          DH parameters for TLS 1.2 DHE suites
//   client-ca.pem         CAs trusted for client certificates (optional;
//                         ServerOptions::client_ca_file names another file)
//   crl.pem               revoked client certificates (optional)
//   session-ticket.key    the TLS session ticket key, kept across restarts
//   appwire.conf          appwire-server's settings file
//   acme/account.key      the ACME account key (AutoSSL), made on first use
//
// A value type: build one with ProjectFolder::At and read its paths. It does
// no I/O. In appwire/common/ so that every layer that opens these files takes their
// names from here: the server, appwire/transport/certificate_store.cc (which loads
// the identities) and the appwire command.
#ifndef APPWIRE_COMMON_PROJECT_FOLDER_H_
#define APPWIRE_COMMON_PROJECT_FOLDER_H_

#include <string>
#include <vector>

namespace appwire {

inline constexpr char kKeyFileName[] = "key.pem";
inline constexpr char kCertificateFileName[] = "cert.pem";
inline constexpr char kSniCertificatesFolderName[] = "certificates";
inline constexpr char kDhParamsFileName[] = "dhparams.pem";
inline constexpr char kClientCaFileName[] = "client-ca.pem";
inline constexpr char kCrlFileName[] = "crl.pem";
inline constexpr char kSessionTicketKeyFileName[] = "session-ticket.key";
// AutoSSL's folder and its account key inside it.
inline constexpr char kAcmeFolderName[] = "acme";
inline constexpr char kAcmeAccountKeyFileName[] = "account.key";
// The settings file's name inside the project folder.
inline constexpr char kSettingsFileName[] = "appwire.conf";

struct ProjectFolder {
  // The paths inside `project_dir`. `client_ca_file`, when not empty,
  // replaces client-ca.pem (ServerOptions::client_ca_file).
  static ProjectFolder At(const std::string& project_dir,
                          const std::string& client_ca_file = "");

  std::string dir;
  std::string key;
  std::string certificate;
  std::string sni_certificates;  // a folder
  std::string dh_params;
  std::string client_ca;
  // client_ca came from the options, not the default name: its absence is
  // an error rather than "no client CA".
  bool client_ca_named = false;
  std::string crl;
  std::string session_ticket_key;
  std::string acme;              // a folder
  std::string acme_account_key;  // inside it
  std::string settings;

  // The files a certificate reload reads (certificate, key, DH parameters,
  // client CA, CRL), sni_certificates aside.
  std::vector<std::string> ReloadedFiles() const;
};

}  // namespace appwire

#endif  // APPWIRE_COMMON_PROJECT_FOLDER_H_
