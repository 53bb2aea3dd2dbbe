// The `appwire` command, checked by independent tools (openssl) and by a
// real mutual-TLS handshake with what it issues.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::StartServer;
using ::appwire::testing::TempDir;
using ::appwire::testing::ReadText;
using ::testing::HasSubstr;
using ::testing::Not;

using ::appwire::testing::ShellRun;

ShellRun Sh(const std::string& command) { return ::appwire::testing::RunShell(command); }

std::string Appwire(const std::string& arguments) {
  return absl::StrCat(APPWIRE_CLI_BINARY, " ", arguments);
}

// A CA in DIR/ca (`appwire ca init`) and a server project folder it issued
// for localhost in DIR/project (`appwire ca issue --server`).
void IssueServerProject(const TempDir& dir) {
  ASSERT_EQ(Sh(Appwire(absl::StrCat("ca init ", dir.File("ca")))).exit_code, 0);
  ASSERT_EQ(Sh(Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"), " --server localhost --out ",
                                     dir.File("project"))))
                .exit_code,
            0);
}

// A private key is never replaced without being asked: keygen, ca issue
// and convert refuse an existing key file unless --force, and write nothing.
TEST(AppwireCliTest, AnExistingPrivateKeyIsReplacedOnlyWithForce) {
  TempDir dir;
  const std::string lost =
      " exists; pass --force to replace it (the private key in it would be lost, and with it "
      "every certificate issued for it)\n";
  dir.Write("k.pem", "the key in use\n");
  ShellRun keygen = Sh(Appwire(absl::StrCat("keygen --out ", dir.File("k.pem"))));
  EXPECT_EQ(keygen.exit_code, 1) << keygen.output;
  EXPECT_EQ(keygen.output, absl::StrCat("appwire: ", dir.File("k.pem"), lost));
  EXPECT_EQ(*ReadFile(dir.File("k.pem")), "the key in use\n");
  keygen = Sh(Appwire(absl::StrCat("keygen --out ", dir.File("k.pem"), " --force")));
  EXPECT_EQ(keygen.exit_code, 0) << keygen.output;
  EXPECT_NE(*ReadFile(dir.File("k.pem")), "the key in use\n");

  ASSERT_NO_FATAL_FAILURE(IssueServerProject(dir));
  const std::string key = dir.File("project/key.pem");
  const std::string cert = dir.File("project/cert.pem");
  const std::string key_before = *ReadFile(key);
  const std::string cert_before = *ReadFile(cert);
  ShellRun issue = Sh(Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"),
                                           " --server localhost --out ", dir.File("project"))));
  EXPECT_EQ(issue.exit_code, 1) << issue.output;
  EXPECT_EQ(issue.output, absl::StrCat("appwire: ", key, lost));
  EXPECT_EQ(*ReadFile(key), key_before);
  EXPECT_EQ(*ReadFile(cert), cert_before);  // nothing written
  issue = Sh(Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"), " --server localhost --out ",
                                  dir.File("project"), " --force")));
  EXPECT_EQ(issue.exit_code, 0) << issue.output;
  EXPECT_NE(*ReadFile(key), key_before);

  // convert: a PKCS#12 holding a key, into a folder that has one.
  ASSERT_EQ(Sh(absl::StrCat("openssl pkcs12 -export -passout pass:pw -inkey ", key, " -in ", cert,
                            " -out ", dir.File("id.p12")))
                .exit_code,
            0);
  ASSERT_TRUE(MakeDirectories(dir.File("out")).ok());
  dir.Write("out/key.pem", "another key in use\n");
  ShellRun convert = Sh(Appwire(absl::StrCat("convert ", dir.File("id.p12"),
                                             " --password pw --out ", dir.File("out"))));
  EXPECT_EQ(convert.exit_code, 1) << convert.output;
  EXPECT_EQ(convert.output, absl::StrCat("appwire: ", dir.File("out/key.pem"), lost));
  EXPECT_EQ(*ReadFile(dir.File("out/key.pem")), "another key in use\n");
  EXPECT_FALSE(FileExists(dir.File("out/cert.pem")));
  convert = Sh(Appwire(absl::StrCat("convert ", dir.File("id.p12"), " --password pw --out ",
                                    dir.File("out"), " --force")));
  EXPECT_EQ(convert.exit_code, 0) << convert.output;
  EXPECT_NE(*ReadFile(dir.File("out/key.pem")), "another key in use\n");
}

TEST(AppwireCliTest, KeygenWritesPrivateKeysOpenSslAccepts) {
  TempDir dir;
  for (const std::string& flags : {std::string("--type ecdsa"), std::string("--type ecdsa --curve P-384"),
                                   std::string("--type rsa --bits 2048")}) {
    // --force: each round replaces the key of the one before, on purpose.
    ShellRun run = Sh(Appwire(absl::StrCat("keygen ", flags, " --out ", dir.File("k.pem"), " --pub ",
                                      dir.File("p.pem"), " --force")));
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_THAT(run.output, ::testing::Not(HasSubstr("PRIVATE KEY")));  // never printed
    struct stat st;
    ASSERT_EQ(::stat(dir.File("k.pem").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << flags;
    EXPECT_EQ(Sh(absl::StrCat("openssl pkey -in ", dir.File("k.pem"), " -noout")).exit_code, 0)
        << flags;
    // The public key file is the public half of the private key.
    ShellRun derived = Sh(absl::StrCat("openssl pkey -in ", dir.File("k.pem"), " -pubout"));
    EXPECT_EQ(derived.output, *ReadFile(dir.File("p.pem"))) << flags;
  }
  ShellRun weak = Sh(Appwire(absl::StrCat("keygen --type rsa --bits 1024 --out ", dir.File("w.pem"))));
  EXPECT_EQ(weak.exit_code, 1);
  EXPECT_THAT(weak.output, HasSubstr("RSA keys of 1024 bits: use 2048 to 4096 (below 2048 is not safe)"));
  EXPECT_FALSE(FileExists(dir.File("w.pem")));
}

TEST(AppwireCliTest, SelfsignCarriesTheSansAndVerifiesAsItsOwnRoot) {
  TempDir dir;
  ASSERT_EQ(Sh(Appwire(absl::StrCat("keygen --out ", dir.File("k.pem")))).exit_code, 0);
  ShellRun run = Sh(Appwire(absl::StrCat("selfsign --key ", dir.File("k.pem"),
                                    " --cn printer.local --san DNS:printer.local --san IP:192.0.2.7"
                                    " --days 30 --out ",
                                    dir.File("c.pem"))));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ShellRun text = Sh(absl::StrCat("openssl x509 -in ", dir.File("c.pem"), " -noout -text"));
  EXPECT_THAT(text.output, HasSubstr("DNS:printer.local, IP Address:192.0.2.7"));
  EXPECT_THAT(Sh(absl::StrCat("openssl verify -CAfile ", dir.File("c.pem"), " ", dir.File("c.pem"))).output,
              HasSubstr(": OK"));
}

TEST(AppwireCliTest, CaIssuesAClientFolderThatWorksAgainstARequiringServer) {
  TempDir dir;
  const std::string ca = dir.File("ca");
  ASSERT_EQ(Sh(Appwire(absl::StrCat("ca init ", ca, " --name \"Shop CA\""))).exit_code, 0);
  struct stat st;
  ASSERT_EQ(::stat(absl::StrCat(ca, "/ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ShellRun server_run = Sh(Appwire(absl::StrCat("ca issue --ca ", ca, " --server localhost --out ",
                                           dir.File("project"))));
  ASSERT_EQ(server_run.exit_code, 0) << server_run.output;
  ShellRun client_run = Sh(Appwire(absl::StrCat("ca issue --ca ", ca, " --client alice --out ",
                                           dir.File("alice"))));
  ASSERT_EQ(client_run.exit_code, 0) << client_run.output;
  EXPECT_THAT(Sh(absl::StrCat("openssl verify -CAfile ", ca, "/ca.pem ", dir.File("alice/cert.pem"),
                              " ", dir.File("project/cert.pem")))
                  .output,
              HasSubstr("alice/cert.pem: OK"));
  // The server trusts the CA for client certificates.
  ASSERT_TRUE(WriteFileAtomically(dir.File("project/client-ca.pem"),
                                  *ReadFile(absl::StrCat(ca, "/ca.pem")), 0644)
                  .ok());

  ServerOptions options;
  options.project_dir = dir.File("project");
  ASSERT_TRUE(options.parameters.Set(Parameter::kClientCertificateMode, kClientCertRequire).ok());
  auto registry = std::make_shared<ServiceRegistry>();
  ASSERT_TRUE(registry
                  ->RegisterRaw("test.Who/Am",
                                [](CallContext& context, absl::string_view)
                                    -> absl::StatusOr<std::string> {
                                  return context.peer_certificate()->common_name;
                                })
                  .ok());
  auto server = StartServer(options, registry);
  ASSERT_NE(server, nullptr);
  ChannelOptions client;
  client.target = absl::StrCat("localhost:", server->port());
  client.client_folder = dir.File("alice");  // exactly as `ca issue --client` wrote it
  auto channel = Channel::Connect(client);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(*(*channel)->CallRaw("test.Who/Am", ""), "alice");

  EXPECT_EQ(Sh(Appwire(absl::StrCat("check --client ", dir.File("alice")))).exit_code, 0);
}

TEST(AppwireCliTest, CheckReportsAKeyThatDoesNotMatchAndExitsOne) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(IssueServerProject(dir));
  ShellRun good = Sh(Appwire(absl::StrCat("check --project ", dir.File("project"))));
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_THAT(good.output, HasSubstr("is the key of"));
  EXPECT_THAT(good.output, HasSubstr("cert.pem covers 'localhost'"));
  EXPECT_THAT(good.output, HasSubstr("issued by 'CN=appwire CA': peers need that CA in their CA file"));
  // A key that does not match the certificate (replaced on purpose).
  ASSERT_EQ(
      Sh(Appwire(absl::StrCat("keygen --out ", dir.File("project/key.pem"), " --force"))).exit_code,
      0);
  ::chmod(dir.File("project/key.pem").c_str(), 0644);
  ShellRun bad = Sh(Appwire(absl::StrCat("check --project ", dir.File("project"))));
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr(absl::StrCat("warning key ", dir.File("project/key.pem"),
                                                 " is readable by group or others (mode 0644)")));
  EXPECT_THAT(bad.output, HasSubstr("do not match"));
  EXPECT_THAT(bad.output, HasSubstr("NOT usable"));
}

// The server's rule and words for a key others can read (defect 15), once,
// as a warning: the folder stays usable.
TEST(AppwireCliTest, CheckWarnsOfAKeyReadableByGroupOrOthersAsTheServerDoes) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(IssueServerProject(dir));
  const std::string key = dir.File("project/key.pem");
  for (int mode : {0644, 0640}) {
    ::chmod(key.c_str(), mode);
    const std::string octal = mode == 0644 ? "0644" : "0640";
    const std::string warning = absl::StrCat("key ", key, " is readable by group or others (mode ",
                                             octal, "); run chmod 600 ", key);
    ShellRun run = Sh(Appwire(absl::StrCat("check --project ", dir.File("project"))));
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_THAT("\n" + run.output, HasSubstr(absl::StrCat("\nwarning ", warning, "\n")))
        << run.output;
    // Not a second time from the loading code's log.
    EXPECT_EQ(run.output.find("readable by group"), run.output.rfind("readable by group"))
        << run.output;
    ShellRun json = Sh(Appwire(absl::StrCat("check --project ", dir.File("project"), " --json")));
    EXPECT_EQ(json.exit_code, 0) << json.output;
    const nlohmann::json report = nlohmann::json::parse(json.output);
    EXPECT_EQ(report["usable"], true);
    EXPECT_THAT(report["checks"],
                ::testing::Contains(nlohmann::json{{"level", "warning"}, {"message", warning}}))
        << json.output;
  }
  ::chmod(key.c_str(), 0600);
  ShellRun run = Sh(Appwire(absl::StrCat("check --project ", dir.File("project"))));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, ::testing::Not(HasSubstr("readable by group"))) << run.output;
  EXPECT_THAT(run.output, HasSubstr(absl::StrCat("ok      ", key,
                                                 " is readable only by its owner (mode 0600)")));
}

// The one test that waits for a real 2048-bit safe prime (seconds to a
// minute or two: the number of candidates is random), checked by OpenSSL.
TEST(AppwireCliTest, DhparamsAreAcceptedByOpenSsl) {
  TempDir dir;
  ShellRun run = Sh(Appwire(absl::StrCat("dhparams --out ", dir.File("dh.pem"))));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("generating 2048-bit DH parameters (a safe prime: this could "
                                    "take several minutes)"));
  EXPECT_THAT(run.output, HasSubstr(" candidates in "));
  EXPECT_THAT(Sh(absl::StrCat("openssl dhparam -in ", dir.File("dh.pem"), " -noout -text")).output,
              HasSubstr("(2048 bit)"));
  ShellRun check = Sh(absl::StrCat("openssl dhparam -check -noout -in ", dir.File("dh.pem")));
  EXPECT_EQ(check.output, "DH parameters appear to be ok.\n");
}

TEST(AppwireCliTest, DhparamsNeverReplacesAFileUnlessForced) {
  TempDir dir;
  dir.Write("dh.pem", "keep me\n");
  ShellRun refused = Sh(Appwire(absl::StrCat("dhparams --out ", dir.File("dh.pem"))));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.output, HasSubstr(absl::StrCat(
                                  "appwire: ", dir.File("dh.pem"),
                                  " exists; pass --force to replace it")));
  EXPECT_EQ(ReadText(dir.File("dh.pem")), "keep me\n");
  EXPECT_THAT(refused.output, Not(HasSubstr("generating")));
}

TEST(AppwireCliTest, DhparamsRefusesOtherSizesBeforeWorking) {
  TempDir dir;
  ShellRun run = Sh(Appwire(absl::StrCat("dhparams --bits 1024 --out ", dir.File("dh.pem"))));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.output, HasSubstr("--bits 1024: use 2048, 3072 or 4096"));
  EXPECT_FALSE(FileExists(dir.File("dh.pem")));
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

TEST(AppwireCliTest, ConvertTurnsPkcs12AndDerIntoPemTheServerLoads) {
  TempDir dir;
  ASSERT_EQ(Sh(Appwire(absl::StrCat("ca init ", dir.File("ca")))).exit_code, 0);
  ASSERT_EQ(Sh(Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"), " --server localhost --out ",
                                     dir.File("orig"))))
                .exit_code,
            0);
  // What a Windows admin would hand over: a .p12 with a password, made by openssl.
  ShellRun exported = Sh(absl::StrCat(
      "openssl pkcs12 -export -inkey ", dir.File("orig/key.pem"), " -in ", dir.File("orig/cert.pem"),
      " -certfile ", dir.File("orig/ca.pem"), " -passout pass:p12pass -out ", dir.File("id.p12")));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;

  ShellRun wrong = Sh(Appwire(absl::StrCat("convert ", dir.File("id.p12"), " --password nope --out ",
                                           dir.File("bad"))));
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.output, HasSubstr("cannot open the PKCS#12 file"));

  ShellRun run = Sh(Appwire(absl::StrCat("convert ", dir.File("id.p12"), " --password p12pass --out ",
                                         dir.File("project"))));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  struct stat st;
  ASSERT_EQ(::stat(dir.File("project/key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The same key (openssl's view), and the chain leaf first then the CA.
  EXPECT_EQ(Sh(absl::StrCat("openssl pkey -in ", dir.File("project/key.pem"), " -pubout")).output,
            Sh(absl::StrCat("openssl pkey -in ", dir.File("orig/key.pem"), " -pubout")).output);
  EXPECT_EQ(*ReadFile(dir.File("project/cert.pem")),
            *ReadFile(dir.File("orig/cert.pem")) + *ReadFile(dir.File("orig/ca.pem")));
  ServerOptions options;
  options.project_dir = dir.File("project");
  options.port = 0;
  auto server = Server::Create(options, nullptr);
  EXPECT_TRUE(server.ok()) << server.status();

  // A DER certificate.
  ASSERT_EQ(Sh(absl::StrCat("openssl x509 -in ", dir.File("orig/cert.pem"), " -outform DER -out ",
                            dir.File("c.der")))
                .exit_code,
            0);
  ASSERT_EQ(Sh(Appwire(absl::StrCat("convert ", dir.File("c.der"), " --out ", dir.File("der"))))
                .exit_code,
            0);
  EXPECT_EQ(*ReadFile(dir.File("der/cert.pem")), *ReadFile(dir.File("orig/cert.pem")));
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

TEST(AppwireCliTest, CsrHasTheSubjectFieldsAndSansAndVerifies) {
  TempDir dir;
  for (const std::string& type : {std::string("ecdsa"), std::string("rsa")}) {
    ASSERT_EQ(Sh(Appwire(absl::StrCat("keygen --type ", type, " --out ", dir.File("k.pem"),
                                      " --force")))
                  .exit_code,
              0);
    ShellRun run = Sh(Appwire(absl::StrCat(
        "csr --key ", dir.File("k.pem"), " --cn shop.example --country FR --locality Paris "
        "--state IDF --org \"Shop SA\" --unit IT --san DNS:shop.example --san IP:10.0.0.5 --out ",
        dir.File("r.pem"), " --force")));  // the first type's request is replaced
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_THAT(Sh(absl::StrCat("openssl req -in ", dir.File("r.pem"), " -verify -noout")).output,
                HasSubstr("verify OK"))
        << type;
    ShellRun text = Sh(absl::StrCat("openssl req -in ", dir.File("r.pem"), " -noout -text"));
    EXPECT_THAT(text.output, HasSubstr("C = FR, ST = IDF, L = Paris, O = Shop SA, OU = IT, CN = shop.example"));
    EXPECT_THAT(text.output, HasSubstr("DNS:shop.example, IP Address:10.0.0.5"));
  }
  ShellRun bad = Sh(Appwire(absl::StrCat("csr --key ", dir.File("k.pem"),
                                         " --cn x --country France --out ", dir.File("x.pem"))));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("country \"France\" must be a two-letter code such as FR or US"));
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

TEST(AppwireCliTest, ProbeReportsWhatAppwireServerAccepts) {
  TempDir project;
  ServerOptions options;
  options.project_dir = project.path();
  ASSERT_TRUE(options.parameters.Set(Parameter::kTls13CipherSuites,
                                     "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256")
                  .ok());
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ShellRun run = Sh(Appwire(absl::StrCat("probe 127.0.0.1:", server->port(), " --json")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json probe = nlohmann::json::parse(run.output);
  EXPECT_EQ(probe["versions"], (nlohmann::json{{"TLSv1.3", true}, {"TLSv1.2", false}}));
  EXPECT_EQ(probe["cipher_suites"],
            (nlohmann::json{"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}));
  EXPECT_EQ(probe["alpn"], "appwire/1");
  EXPECT_EQ(probe["certificate"]["sha256"], server->certificate().sha256_fingerprint);
  EXPECT_EQ(probe["client_certificate_required"], false);
  EXPECT_EQ(probe["session_resumption"], true);
}

TEST(AppwireCliTest, ProbeSeesATls12OnlyOpenSslServer) {
  TempDir dir;
  ASSERT_EQ(Sh(Appwire(absl::StrCat("ca init ", dir.File("ca")))).exit_code, 0);
  ASSERT_EQ(Sh(Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"), " --server localhost --out ",
                                     dir.File("s"))))
                .exit_code,
            0);
  // A free port, then openssl s_server on it (TLS 1.2 only), bounded to 30 s.
  // A port the kernel just handed out (bound, then released for openssl).
  int port = 0;
  {
    int probe = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port = ntohs(address.sin_port);
    ::close(probe);
  }
  const std::string command = absl::StrCat(
      "timeout 30 openssl s_server -quiet -tls1_2 -accept 127.0.0.1:", port, " -cert ",
      dir.File("s/cert.pem"), " -key ", dir.File("s/key.pem"), " >/dev/null 2>&1 &");
  ASSERT_EQ(std::system(command.c_str()), 0);
  ShellRun run{1, ""};
  for (int i = 0; i < 50; ++i) {  // wait for it to listen (bounded)
    run = Sh(Appwire(absl::StrCat("probe 127.0.0.1:", port)));
    if (run.output.find("accepted") != std::string::npos) break;
    usleep(100 * 1000);
  }
  std::system(absl::StrCat("pkill -f 'openssl s_server -quiet -tls1_2 -accept 127.0.0.1:", port, "'")
                  .c_str());
  EXPECT_THAT(run.output, HasSubstr("TLSv1.3: refused"));
  EXPECT_THAT(run.output, HasSubstr("TLSv1.2: accepted"));
  EXPECT_THAT(run.output, HasSubstr("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"));
  EXPECT_THAT(run.output, HasSubstr("ALPN: none (not an appwire server)"));
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

TEST(AppwireCliTest, ProbeNoticesARequiredClientCertificate) {
  TempDir project;
  testing::TestCa clients = testing::TestCa::Create("Client CA");
  project.Write("client-ca.pem", clients.cert_pem);
  ServerOptions options;
  options.project_dir = project.path();
  ASSERT_TRUE(options.parameters.Set(Parameter::kClientCertificateMode, kClientCertRequire).ok());
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ShellRun run = Sh(Appwire(absl::StrCat("probe 127.0.0.1:", server->port())));
  EXPECT_THAT(run.output, HasSubstr("client certificate: required")) << run.output;
}

}  // namespace
}  // namespace appwire

namespace appwire {
namespace {

TEST(AppwireCliTest, CheckJsonSaysWhetherTheFolderIsUsable) {
  TempDir dir;
  ASSERT_EQ(Sh(Appwire(absl::StrCat("ca init ", dir.File("ca")))).exit_code, 0);
  ASSERT_EQ(Sh(Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"), " --client bob --out ",
                                     dir.File("bob"))))
                .exit_code,
            0);
  ShellRun run = Sh(Appwire(absl::StrCat("check --client ", dir.File("bob"), " --json")));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json report = nlohmann::json::parse(run.output);
  EXPECT_EQ(report["usable"], true);
  ASSERT_TRUE(report["checks"].is_array());
  EXPECT_EQ(report["checks"][0]["level"], "ok");
  EXPECT_THAT(run.output, HasSubstr("is the key of"));
}

}  // namespace
}  // namespace appwire
