// The `appwire` command's command line, run as a user runs it: unknown flags
// and stray words are usage errors (exit 2) that write nothing, --flag=value
// works, help and --version answer, no certificate or request is replaced
// without --force, ca issue takes several names and a validity, and convert
// reads its password from a file or the environment. Outputs are checked
// with openssl.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include "appwire/common/version.h"
#include "appwire/server/server.h"
#include "appwire/server/service_registry.h"
#include "appwire/v1/builtin.pb.h"
#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::RunShell;
using ::appwire::testing::ShellRun;
using ::appwire::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

ShellRun Appwire(const std::string& arguments) {
  return RunShell(absl::StrCat(APPWIRE_CLI_BINARY, " ", arguments));
}

// `appwire SUB: PROBLEM` then the usage line and where help is.
void ExpectUsageError(const ShellRun& run, const std::string& sub, const std::string& problem) {
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, StartsWith(absl::StrCat("appwire ", sub, ": ", problem,
                                                  "\nusage: appwire ", sub, " ")));
  EXPECT_THAT(run.output, HasSubstr(absl::StrCat("(appwire help ", sub, " says more)\n")));
}

TEST(AppwireCliFlagsTest, AnUnknownFlagIsAUsageErrorAndNothingIsWritten) {
  TempDir dir;
  ASSERT_EQ(Appwire(absl::StrCat("ca init ", dir.File("ca"))).exit_code, 0);
  // The issue's example: before, it exited 0 and ignored all three.
  ShellRun run = Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"), " --server db.example",
                                      " --san IP:10.0.0.5 --days 90 --bogus-flag 1 --out ",
                                      dir.File("project")));
  ExpectUsageError(run, "ca", "unknown flag --bogus-flag");
  EXPECT_FALSE(FileExists(dir.File("project")));

  ExpectUsageError(Appwire(absl::StrCat("keygen --out ", dir.File("k.pem"), " stray")), "keygen",
                   "unexpected argument \"stray\"");
  ExpectUsageError(Appwire("keygen --out"), "keygen", "--out needs a value");
  // The next flag is never taken for the value (no file named --force).
  ExpectUsageError(Appwire("keygen --out --force"), "keygen", "--out needs a value");
  EXPECT_FALSE(FileExists("--force"));
  ExpectUsageError(Appwire(absl::StrCat("keygen --out ", dir.File("a.pem"), " --out ",
                                        dir.File("b.pem"))),
                   "keygen", "--out is given twice");
  ExpectUsageError(Appwire("check --project . --json=yes"), "check", "--json takes no value");
  // A flag of the other action.
  ExpectUsageError(Appwire(absl::StrCat("ca init ", dir.File("ca2"), " --server x")), "ca",
                   "ca init takes no --server");
  ExpectUsageError(Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"), " --name x")), "ca",
                   "ca issue takes no --name");
  ExpectUsageError(Appwire(absl::StrCat("selfsign --key k --cn c --out o --days 0")), "selfsign",
                   "--days 0: give a whole number of days from 1 to 36500");
  EXPECT_FALSE(FileExists(dir.File("ca2")));
  EXPECT_FALSE(FileExists(dir.File("k.pem")));
  EXPECT_FALSE(FileExists(dir.File("a.pem")));
}

TEST(AppwireCliFlagsTest, FlagsTakeTheirValueAfterAnEqualsSign) {
  TempDir dir;
  ShellRun run = Appwire(absl::StrCat("keygen --type=rsa --bits=2048 --out=", dir.File("k.pem")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(RunShell(absl::StrCat("openssl pkey -in ", dir.File("k.pem"), " -noout -text"))
                  .output,
              HasSubstr("Private-Key: (2048 bit"));
}

TEST(AppwireCliFlagsTest, HelpAndVersionAnswerAndExitZero) {
  const ShellRun help = Appwire("help keygen");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, StartsWith("usage: appwire keygen "));
  for (const char* asked : {"keygen --help", "keygen -h", "keygen --out x --help"}) {
    const ShellRun run = Appwire(asked);
    EXPECT_EQ(run.exit_code, 0) << asked;
    EXPECT_EQ(run.output, help.output) << asked;
  }
  EXPECT_FALSE(FileExists("x"));
  const ShellRun version = Appwire("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output, absl::StrCat("appwire ", kSoftwareVersion, "\n"));
  const ShellRun list = Appwire("help");
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_THAT(list.output, HasSubstr("Exit status: 0 done (for check: usable), 1 failed (or not "
                                     "usable), 2 wrong command line."));
  const ShellRun unknown = Appwire("help nosuch");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.output, StartsWith("appwire: unknown subcommand \"nosuch\"\n"));
}

TEST(AppwireCliFlagsTest, CaIssueTakesSeveralNamesAndAValidity) {
  TempDir dir;
  ASSERT_EQ(Appwire(absl::StrCat("ca init ", dir.File("ca"), " --days 365")).exit_code, 0);
  ShellRun run = Appwire(absl::StrCat(
      "ca issue --ca ", dir.File("ca"), " --server db.example --san IP:10.0.0.5 --san "
      "DNS:db.internal --san EMAIL:ops@db.example --san URI:https://db.example/id --days 90 "
      "--out ",
      dir.File("project")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("valid 90 days"));
  const std::string cert = dir.File("project/cert.pem");
  const ShellRun text = RunShell(absl::StrCat("openssl x509 -in ", cert, " -noout -text"));
  EXPECT_THAT(text.output,
              HasSubstr("DNS:db.example, DNS:db.internal, email:ops@db.example, "
                        "URI:https://db.example/id, IP Address:10.0.0.5"));
  // Valid 90 days in all, the first of them yesterday (clock skew): still
  // valid in 88 days, no longer in 90.
  auto valid_in_days = [&](const std::string& path, int days) {
    return RunShell(absl::StrCat("openssl x509 -in ", path, " -noout -checkend ", days * 86400))
               .exit_code == 0;
  };
  EXPECT_TRUE(valid_in_days(cert, 88));
  EXPECT_FALSE(valid_in_days(cert, 90));
  EXPECT_TRUE(valid_in_days(dir.File("ca/ca.pem"), 363));
  EXPECT_FALSE(valid_in_days(dir.File("ca/ca.pem"), 365));
  EXPECT_THAT(RunShell(absl::StrCat("openssl verify -CAfile ", dir.File("ca/ca.pem"), " ", cert))
                  .output,
              HasSubstr(": OK"));
  ShellRun bad = Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"),
                                      " --client bob --san RID:1.2 --out ", dir.File("bob")));
  ExpectUsageError(bad, "ca",
                   "--san RID:1.2: use DNS:name, IP:address, EMAIL:address or URI:uri");
  EXPECT_FALSE(FileExists(dir.File("bob")));
}

// Certificates and requests are kept like keys: replaced only with --force,
// and a refusal writes nothing.
TEST(AppwireCliFlagsTest, CertificatesAndRequestsAreReplacedOnlyWithForce) {
  TempDir dir;
  ASSERT_EQ(Appwire(absl::StrCat("keygen --out ", dir.File("k.pem"))).exit_code, 0);
  const std::string selfsign =
      absl::StrCat("selfsign --key ", dir.File("k.pem"), " --cn printer.local --out ",
                   dir.File("c.pem"));
  ASSERT_EQ(Appwire(selfsign).exit_code, 0);
  const std::string first = *ReadFile(dir.File("c.pem"));
  ShellRun again = Appwire(selfsign);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.output,
            absl::StrCat("appwire: ", dir.File("c.pem"),
                         " exists; pass --force to replace it (the certificate in it would be "
                         "lost; clients may trust or pin it)\n"));
  EXPECT_EQ(*ReadFile(dir.File("c.pem")), first);
  ASSERT_EQ(Appwire(selfsign + " --force").exit_code, 0);
  EXPECT_NE(*ReadFile(dir.File("c.pem")), first);

  const std::string csr = absl::StrCat("csr --key ", dir.File("k.pem"), " --cn shop.example --out ",
                                       dir.File("r.csr"));
  ASSERT_EQ(Appwire(csr).exit_code, 0);
  const std::string request = *ReadFile(dir.File("r.csr"));
  again = Appwire(csr);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.output, HasSubstr("r.csr exists; pass --force to replace it (a CA may "
                                      "already have been sent that request)"));
  EXPECT_EQ(*ReadFile(dir.File("r.csr")), request);

  // ca issue into a folder whose certificate is someone's: nothing written,
  // not even the key.
  ASSERT_EQ(Appwire(absl::StrCat("ca init ", dir.File("ca"))).exit_code, 0);
  ASSERT_TRUE(MakeDirectories(dir.File("project")).ok());
  dir.Write("project/cert.pem", "a certificate in use\n");
  again = Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"), " --server localhost --out ",
                               dir.File("project")));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.output, HasSubstr("project/cert.pem exists; pass --force to replace it"));
  EXPECT_FALSE(FileExists(dir.File("project/key.pem")));
  EXPECT_EQ(*ReadFile(dir.File("project/cert.pem")), "a certificate in use\n");
  // ca init never replaces a CA, even its certificate alone.
  TempDir half;
  ASSERT_TRUE(MakeDirectories(half.File("ca")).ok());
  half.Write("ca/ca.pem", "a CA certificate in use\n");
  again = Appwire(absl::StrCat("ca init ", half.File("ca")));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.output, HasSubstr("ca.pem\" exists; this folder already holds a CA"));
  EXPECT_FALSE(FileExists(half.File("ca/ca.key")));
}

TEST(AppwireCliFlagsTest, ConvertReadsThePasswordFromAFileOrTheEnvironment) {
  TempDir dir;
  ASSERT_EQ(Appwire(absl::StrCat("ca init ", dir.File("ca"))).exit_code, 0);
  ASSERT_EQ(Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"), " --client alice --out ",
                                 dir.File("alice")))
                .exit_code,
            0);
  ASSERT_EQ(RunShell(absl::StrCat("openssl pkcs12 -export -passout pass:s3cret -inkey ",
                                  dir.File("alice/key.pem"), " -in ", dir.File("alice/cert.pem"),
                                  " -out ", dir.File("id.p12")))
                .exit_code,
            0);
  dir.Write("password.txt", "s3cret\n");
  ShellRun run = Appwire(absl::StrCat("convert ", dir.File("id.p12"), " --password-file ",
                                      dir.File("password.txt"), " --out ", dir.File("from-file")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(*ReadFile(dir.File("from-file/cert.pem")), *ReadFile(dir.File("alice/cert.pem")));

  run = RunShell(absl::StrCat("P12_PASSWORD=s3cret ", APPWIRE_CLI_BINARY, " convert ",
                              dir.File("id.p12"), " --password-env P12_PASSWORD --out ",
                              dir.File("from-env")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(FileExists(dir.File("from-env/key.pem")));

  ExpectUsageError(Appwire(absl::StrCat("convert ", dir.File("id.p12"),
                                        " --password-env APPWIRE_TEST_UNSET_VARIABLE --out ",
                                        dir.File("unset"))),
                   "convert",
                   "--password-env APPWIRE_TEST_UNSET_VARIABLE: that environment variable is not "
                   "set");
  ExpectUsageError(Appwire(absl::StrCat("convert ", dir.File("id.p12"), " --password x "
                                        "--password-file ", dir.File("password.txt"), " --out ",
                                        dir.File("both"))),
                   "convert", "give one of --password-file, --password-env and --password, not "
                   "several");
  // No password and no terminal: the empty one, which is wrong here.
  run = Appwire(absl::StrCat("convert ", dir.File("id.p12"), " --out ", dir.File("none")));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("wrong password (--password-file, --password-env or "
                                    "--password)"));
  EXPECT_FALSE(FileExists(dir.File("unset")));
  EXPECT_FALSE(FileExists(dir.File("both")));
  EXPECT_FALSE(FileExists(dir.File("none")));
}

// `appwire check --project` says what appwire-server would do, by the
// server's own code: an empty folder is usable (the first start generates
// the pair), a folder whose appwire.conf stops the server is not.
TEST(AppwireCliFlagsTest, CheckProjectAgreesWithTheServer) {
  TempDir dir;
  ASSERT_TRUE(MakeDirectories(dir.File("empty")).ok());
  ShellRun run = Appwire(absl::StrCat("check --project ", dir.File("empty")));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output,
              HasSubstr(absl::StrCat("ok      no ", dir.File("empty/cert.pem"), " or ",
                                     dir.File("empty/key.pem"),
                                     ": the server will generate a self-signed certificate at "
                                     "its first start\n")));
  EXPECT_THAT(run.output, HasSubstr("ok      TLS TLSv1.3 only\n"));
  EXPECT_THAT(run.output, ::testing::EndsWith("\nusable\n"));
  EXPECT_FALSE(FileExists(dir.File("empty/key.pem")));  // a check writes nothing
  EXPECT_FALSE(FileExists(dir.File("empty/session-ticket.key")));
  // The server would refuse this file, so the check does too, in its words.
  ASSERT_TRUE(MakeDirectories(dir.File("bad")).ok());
  dir.Write("bad/appwire.conf", "min_tls = 1.2\nmax_tls = 1.4\n");
  run = Appwire(absl::StrCat("check --project ", dir.File("bad")));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr(absl::StrCat("error   the server would not start: \"",
                                                 dir.File("bad/appwire.conf"), "\" line 2: ")));
  EXPECT_THAT(run.output, ::testing::EndsWith("NOT usable: fix the errors above\n"));
  // A client CA file that is not PEM: the server refuses it at start.
  ASSERT_TRUE(MakeDirectories(dir.File("ca")).ok());
  dir.Write("ca/client-ca.pem", "not a certificate\n");
  run = Appwire(absl::StrCat("check --project ", dir.File("ca")));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("error   the server would not start: "));
  EXPECT_THAT(run.output, HasSubstr("client-ca.pem"));
  // Settings the server accepts are said so.
  dir.Write("empty/appwire.conf", "min_tls = 1.2\n");
  run = Appwire(absl::StrCat("check --project ", dir.File("empty")));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("ok      TLS TLSv1.2 to TLSv1.3\n"));
}

// P-384 for the CA and what it issues, where wolfSSL allows it.
TEST(AppwireCliFlagsTest, TheCaAndItsCertificatesMayUseP384) {
  TempDir dir;
  ASSERT_EQ(Appwire(absl::StrCat("ca init ", dir.File("ca"), " --curve P-384")).exit_code, 0);
  ShellRun run = Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"),
                                      " --server db.example --curve P-384 --out ", dir.File("p")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* cert : {"ca/ca.pem", "p/cert.pem"}) {
    EXPECT_THAT(RunShell(absl::StrCat("openssl x509 -in ", dir.File(cert), " -noout -text")).output,
                HasSubstr("NIST CURVE: P-384"))
        << cert;
  }
  EXPECT_THAT(RunShell(absl::StrCat("openssl verify -CAfile ", dir.File("ca/ca.pem"), " ",
                                    dir.File("p/cert.pem")))
                  .output,
              HasSubstr(": OK"));
  // A server serves it.
  ServerOptions options;
  options.project_dir = dir.File("p");
  std::unique_ptr<Server> server = testing::StartServer(options);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Appwire(absl::StrCat("health 127.0.0.1:", server->port(), " --ca ",
                                 dir.File("ca/ca.pem"), " --server-name db.example"))
                .exit_code,
            0);
  ExpectUsageError(Appwire(absl::StrCat("ca init ", dir.File("ca2"), " --curve P-521")), "ca",
                   "--curve P-521: use P-256, P-384 or Ed25519");
  EXPECT_FALSE(FileExists(dir.File("ca2")));
}

// Ed25519 everywhere wolfSSL 5.5 takes it: keys (PKCS#8, RFC 8410), a CA
// signing with it, certificates for Ed25519 keys from any CA, requests,
// renewal, the CRL, and a TLS 1.3 server serving an Ed25519 certificate.
// openssl checks each file.
TEST(AppwireCliFlagsTest, Ed25519KeysCasCertificatesAndTls) {
  TempDir dir;
  ShellRun run = Appwire(absl::StrCat("keygen --type ed25519 --out ", dir.File("k.pem"), " --pub ",
                                      dir.File("pub.pem")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(*ReadFile(dir.File("k.pem")), StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  EXPECT_THAT(RunShell(absl::StrCat("openssl pkey -in ", dir.File("k.pem"), " -noout -text")).output,
              HasSubstr("ED25519 Private-Key"));
  EXPECT_EQ(RunShell(absl::StrCat("openssl pkey -in ", dir.File("k.pem"), " -pubout")).output,
            *ReadFile(dir.File("pub.pem")));
  ExpectUsageError(Appwire(absl::StrCat("keygen --type ed25519 --bits 256 --out ",
                                        dir.File("k2.pem"))),
                   "keygen", "--type ed25519 takes no --curve or --bits");
  // Encrypted, as the other kinds.
  dir.Write("pw", "ed secret\n");
  run = Appwire(absl::StrCat("keygen --type ed25519 --encrypt --password-file ", dir.File("pw"),
                             " --out ", dir.File("k-enc.pem")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(RunShell(absl::StrCat("openssl pkey -in ", dir.File("k-enc.pem"), " -passin file:",
                                    dir.File("pw"), " -noout -text"))
                  .output,
              HasSubstr("ED25519 Private-Key"));

  // An Ed25519 CA, and an Ed25519 server certificate it issues.
  ASSERT_EQ(Appwire(absl::StrCat("ca init ", dir.File("ca"), " --curve Ed25519")).exit_code, 0);
  run = Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"),
                             " --server localhost --curve Ed25519 --out ", dir.File("p")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* cert : {"ca/ca.pem", "p/cert.pem"}) {
    const std::string text =
        RunShell(absl::StrCat("openssl x509 -in ", dir.File(cert), " -noout -text")).output;
    EXPECT_THAT(text, HasSubstr("Signature Algorithm: ED25519")) << cert;
    EXPECT_THAT(text, HasSubstr("Public Key Algorithm: ED25519")) << cert;
  }
  auto verify = [&](const std::string& cert) {
    return RunShell(absl::StrCat("openssl verify -CAfile ", dir.File("ca/ca.pem"), " ", cert))
        .output;
  };
  EXPECT_THAT(verify(dir.File("p/cert.pem")), HasSubstr(": OK"));
  EXPECT_THAT(Appwire(absl::StrCat("inspect ", dir.File("p/cert.pem"))).output,
              HasSubstr("  key:         Ed25519\n"));

  // A TLS 1.3 handshake with it (wolfSSL both ends).
  {
    ServerOptions options;
    options.project_dir = dir.File("p");
    std::unique_ptr<Server> server = testing::StartServer(options);
    ASSERT_NE(server, nullptr);
    run = Appwire(absl::StrCat("health localhost:", server->port(), " --ca ",
                               dir.File("ca/ca.pem")));
    EXPECT_EQ(run.exit_code, 0) << run.output;
  }

  // The Ed25519 CA issues an ECDSA client; an ECDSA CA signs a request of
  // the Ed25519 key (its signature checked first).
  run = Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"), " --client alice --out ",
                             dir.File("alice")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(verify(dir.File("alice/cert.pem")), HasSubstr(": OK"));
  ASSERT_EQ(Appwire(absl::StrCat("csr --key ", dir.File("k.pem"), " --cn ed.example --san "
                                 "DNS:ed.example --out ", dir.File("ed.csr")))
                .exit_code,
            0);
  EXPECT_THAT(RunShell(absl::StrCat("openssl req -in ", dir.File("ed.csr"), " -noout -verify"))
                  .output,
              HasSubstr("verify OK"));
  ASSERT_EQ(Appwire(absl::StrCat("ca init ", dir.File("ec-ca"))).exit_code, 0);
  run = Appwire(absl::StrCat("ca sign ", dir.File("ed.csr"), " --ca ", dir.File("ec-ca"),
                             " --out ", dir.File("ed.pem")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(RunShell(absl::StrCat("openssl verify -CAfile ", dir.File("ec-ca/ca.pem"), " ",
                                    dir.File("ed.pem")))
                  .output,
              HasSubstr(": OK"));
  EXPECT_EQ(RunShell(absl::StrCat("openssl x509 -in ", dir.File("ed.pem"), " -noout -pubkey"))
                .output,
            *ReadFile(dir.File("pub.pem")));
  // A request altered after signing is refused, Ed25519 as the others.
  RunShell(absl::StrCat("openssl req -in ", dir.File("ed.csr"), " -outform DER -out ",
                        dir.File("ed.der")));
  std::string der = *ReadFile(dir.File("ed.der"));
  const size_t at = der.find("ed.example");
  ASSERT_NE(at, std::string::npos);
  der[at] = 'f';
  dir.Write("bad.der", der);
  RunShell(absl::StrCat("openssl req -inform DER -in ", dir.File("bad.der"), " -out ",
                        dir.File("bad.csr")));
  run = Appwire(absl::StrCat("ca sign ", dir.File("bad.csr"), " --ca ", dir.File("ec-ca"),
                             " --out ", dir.File("bad.pem")));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("does not verify with the key it carries"));

  // Renewal keeps the Ed25519 key; the Ed25519 CA signs a CRL openssl checks.
  const std::string old_pubkey =
      RunShell(absl::StrCat("openssl x509 -in ", dir.File("p/cert.pem"), " -noout -pubkey")).output;
  run = Appwire(absl::StrCat("ca renew ", dir.File("p/cert.pem"), " --ca ", dir.File("ca")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(
      RunShell(absl::StrCat("openssl x509 -in ", dir.File("p/cert.pem"), " -noout -pubkey")).output,
      old_pubkey);
  EXPECT_THAT(verify(dir.File("p/cert.pem")), HasSubstr(": OK"));
  ASSERT_EQ(Appwire(absl::StrCat("ca revoke ", dir.File("alice/cert.pem"), " --ca ",
                                 dir.File("ca")))
                .exit_code,
            0);
  run = Appwire(absl::StrCat("ca crl --ca ", dir.File("ca"), " --out ", dir.File("crl.pem")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(RunShell(absl::StrCat("openssl crl -in ", dir.File("crl.pem"), " -noout -CAfile ",
                                    dir.File("ca/ca.pem")))
                  .output,
              HasSubstr("verify OK"));
  EXPECT_THAT(RunShell(absl::StrCat("openssl verify -crl_check -CRLfile ", dir.File("crl.pem"),
                                    " -CAfile ", dir.File("ca/ca.pem"), " ",
                                    dir.File("alice/cert.pem")))
                  .output,
              HasSubstr("certificate revoked"));
}

// `appwire ca revoke` and `ca crl`: the list openssl verifies and a server
// uses: the revoked client is refused in a real mutual-TLS handshake, the
// other client of the same CA gets in.
TEST(AppwireCliFlagsTest, ARevokedCertificateIsListedAndRefused) {
  TempDir dir;
  ASSERT_EQ(Appwire(absl::StrCat("ca init ", dir.File("ca"))).exit_code, 0);
  for (const char* who : {"alice", "bob"}) {
    ASSERT_EQ(Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"), " --client ", who, " --out ",
                                   dir.File(who)))
                  .exit_code,
              0);
  }
  ASSERT_EQ(Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"), " --server localhost --out ",
                                 dir.File("p")))
                .exit_code,
            0);
  const std::string serial =
      RunShell(absl::StrCat("openssl x509 -in ", dir.File("alice/cert.pem"), " -noout -serial"))
          .output;  // "serial=6687C4...\n"
  ShellRun run = Appwire(absl::StrCat("ca revoke ", dir.File("alice/cert.pem"), " --ca ",
                                      dir.File("ca")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, StartsWith("revoked 'CN=alice' (serial "));
  // Twice is once.
  run = Appwire(absl::StrCat("ca revoke ", dir.File("alice/cert.pem"), " --ca ", dir.File("ca")));
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("was already revoked on "));
  run = Appwire(absl::StrCat("ca crl --ca ", dir.File("ca"), " --out ", dir.File("p/crl.pem")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, StartsWith(absl::StrCat("revocation list 1 of ", dir.File("ca"),
                                                  " into ", dir.File("p/crl.pem"),
                                                  ": 1 revoked, next update by ")));
  EXPECT_THAT(RunShell(absl::StrCat("openssl crl -in ", dir.File("p/crl.pem"), " -noout -CAfile ",
                                    dir.File("ca/ca.pem"), " -verify"))
                  .output,
              HasSubstr("verify OK"));
  const std::string text =
      RunShell(absl::StrCat("openssl crl -in ", dir.File("p/crl.pem"), " -noout -text")).output;
  EXPECT_THAT(text, HasSubstr("Version 2 (0x1)"));
  EXPECT_THAT(text, HasSubstr("Issuer: CN = appwire CA"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("Serial Number: ", serial.substr(7, serial.size() - 8))));
  EXPECT_THAT(text, HasSubstr("X509v3 Authority Key Identifier"));
  const std::string verify = absl::StrCat("openssl verify -crl_check -CAfile ",
                                          dir.File("ca/ca.pem"), " -CRLfile ", dir.File("p/crl.pem"),
                                          " ");
  EXPECT_THAT(RunShell(verify + dir.File("alice/cert.pem")).output,
              HasSubstr("certificate revoked"));
  EXPECT_THAT(RunShell(verify + dir.File("bob/cert.pem")).output, HasSubstr(": OK"));

  // The server of p requires clients of this CA and reads the list.
  ASSERT_TRUE(WriteFileAtomically(dir.File("p/client-ca.pem"), *ReadFile(dir.File("ca/ca.pem")),
                                  0644)
                  .ok());
  ServerOptions options;
  options.project_dir = dir.File("p");
  ASSERT_TRUE(options.parameters.Set(Parameter::kClientCertificateMode, kClientCertRequire).ok());
  std::unique_ptr<Server> server = testing::StartServer(options);
  ASSERT_NE(server, nullptr);
  const std::string health = absl::StrCat("health localhost:", server->port(), " --client ");
  run = Appwire(health + dir.File("bob"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  run = Appwire(health + dir.File("alice"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("the server refused this client's certificate (alert "
                                    "'bad_certificate')"));

  // A new list gets the next number and replaces the old one; a file that
  // is not a list is replaced only with --force.
  run = Appwire(absl::StrCat("ca crl --ca ", dir.File("ca"), " --out ", dir.File("p/crl.pem")));
  EXPECT_THAT(run.output, StartsWith("revocation list 2 of "));
  EXPECT_THAT(RunShell(absl::StrCat("openssl crl -in ", dir.File("p/crl.pem"), " -noout -crlnumber"))
                  .output,
              "crlNumber=0x02\n");
  run = Appwire(absl::StrCat("ca crl --ca ", dir.File("ca"), " --out ", dir.File("bob/cert.pem")));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("pass --force to replace it (it is not a certificate "
                                    "revocation list)"));
  // A certificate of another CA is not this CA's to revoke.
  ASSERT_EQ(Appwire(absl::StrCat("ca init ", dir.File("other"), " --name 'Other CA'")).exit_code, 0);
  run = Appwire(absl::StrCat("ca revoke ", dir.File("bob/cert.pem"), " --ca ", dir.File("other")));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("was issued by 'CN=appwire CA', not by this CA ('CN=Other CA'): "
                                    "revoke it with the CA that issued it"));
  ExpectUsageError(Appwire(absl::StrCat("ca crl --ca ", dir.File("ca"), " --out x --san DNS:a")),
                   "ca", "ca crl takes no --san");
}

// `appwire ca renew`: the same names and key, a new serial, a new validity;
// the project folder serves it with the key it already has.
TEST(AppwireCliFlagsTest, CaRenewKeepsTheKeyAndNamesAndExtendsTheValidity) {
  TempDir dir;
  ASSERT_EQ(Appwire(absl::StrCat("ca init ", dir.File("ca"))).exit_code, 0);
  ShellRun run = Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"),
                                      " --server localhost --san IP:127.0.0.1 --days 10 --out ",
                                      dir.File("p")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string cert = dir.File("p/cert.pem");
  auto x509 = [&](const std::string& args) {
    return RunShell(absl::StrCat("openssl x509 -in ", cert, " -noout ", args)).output;
  };
  const std::string old_serial = x509("-serial");
  const std::string old_pubkey = x509("-pubkey");

  // Without --days it lasts as long as before (10 days, the first of them
  // dated back a day as at issue), over CERT.
  run = Appwire(absl::StrCat("ca renew ", cert, " --ca ", dir.File("ca")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, StartsWith(absl::StrCat("renewed 'CN=localhost' into ", cert,
                                                  ": valid until ")));
  EXPECT_THAT(run.output, HasSubstr("; the key is unchanged\n"));
  EXPECT_NE(x509("-serial"), old_serial);
  EXPECT_EQ(x509("-pubkey"), old_pubkey);
  EXPECT_THAT(x509("-ext subjectAltName"), HasSubstr("DNS:localhost, IP Address:127.0.0.1"));
  EXPECT_EQ(RunShell(absl::StrCat("openssl x509 -in ", cert, " -noout -checkend ", 8 * 86400))
                .exit_code,
            0);
  EXPECT_NE(RunShell(absl::StrCat("openssl x509 -in ", cert, " -noout -checkend ", 10 * 86400))
                .exit_code,
            0);
  // --days 400 to another file, which is not replaced without --force.
  const std::string renewed = dir.File("renewed.pem");
  run = Appwire(absl::StrCat("ca renew ", cert, " --ca ", dir.File("ca"), " --days 400 --out ",
                             renewed));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(RunShell(absl::StrCat("openssl x509 -in ", renewed, " -noout -checkend ", 398 * 86400))
                .exit_code,
            0);
  EXPECT_THAT(RunShell(absl::StrCat("openssl verify -CAfile ", dir.File("ca/ca.pem"), " ",
                                    renewed))
                  .output,
              HasSubstr(": OK"));
  run = Appwire(absl::StrCat("ca renew ", cert, " --ca ", dir.File("ca"), " --out ", renewed));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("pass --force to replace it"));

  // The project folder serves the renewed certificate with its old key.
  ServerOptions options;
  options.project_dir = dir.File("p");
  std::unique_ptr<Server> server = testing::StartServer(options);
  ASSERT_NE(server, nullptr);
  run = Appwire(absl::StrCat("health localhost:", server->port(), " --ca ", dir.File("ca/ca.pem")));
  EXPECT_EQ(run.exit_code, 0) << run.output;

  // Not the CA's own certificate, not another CA's.
  run = Appwire(absl::StrCat("ca renew ", dir.File("ca/ca.pem"), " --ca ", dir.File("ca")));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("is the CA's own certificate, not one it issued: ca renew "
                                    "works on the certificates it issued"));
  ASSERT_EQ(Appwire(absl::StrCat("ca init ", dir.File("other"), " --name 'Other CA'")).exit_code, 0);
  run = Appwire(absl::StrCat("ca renew ", cert, " --ca ", dir.File("other")));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("not by this CA ('CN=Other CA'): renew it with the CA that "
                                    "issued it"));
  ExpectUsageError(Appwire(absl::StrCat("ca renew --ca ", dir.File("ca"))), "ca",
                   "ca renew needs the certificate file");
  ExpectUsageError(Appwire(absl::StrCat("ca renew ", cert, " --ca ", dir.File("ca"),
                                        " --client x")),
                   "ca", "ca renew takes no --client");
}

// `appwire keygen --encrypt`: a PKCS#8 encrypted key that openssl and
// appwire-server (key_passphrase_file) read with the password, and nobody
// without it.
TEST(AppwireCliFlagsTest, KeygenEncryptsTheKeyWithAPassword) {
  TempDir dir;
  dir.Write("pw", "correct horse\n");
  ASSERT_TRUE(MakeDirectories(dir.File("p")).ok());
  ShellRun run = Appwire(absl::StrCat("keygen --encrypt --password-file ", dir.File("pw"),
                                      " --out ", dir.File("p/key.pem")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, absl::StrCat("wrote ", dir.File("p/key.pem"),
                                     " (mode 0600, encrypted: PKCS#8, AES-256-CBC)\n"));
  const std::string pem = *ReadFile(dir.File("p/key.pem"));
  EXPECT_THAT(pem, StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
  EXPECT_THAT(RunShell(absl::StrCat("openssl asn1parse -in ", dir.File("p/key.pem"))).output,
              HasSubstr(":aes-256-cbc"));
  EXPECT_EQ(RunShell(absl::StrCat("openssl pkey -in ", dir.File("p/key.pem"),
                                  " -passin file:", dir.File("pw"), " -noout"))
                .exit_code,
            0);
  dir.Write("wrong", "wrong horse\n");
  EXPECT_NE(RunShell(absl::StrCat("openssl pkey -in ", dir.File("p/key.pem"),
                                  " -passin file:", dir.File("wrong"), " -noout"))
                .exit_code,
            0);
  // A server serves it with the password.
  ASSERT_EQ(RunShell(absl::StrCat("openssl req -x509 -key ", dir.File("p/key.pem"), " -passin file:",
                                  dir.File("pw"), " -subj /CN=localhost -days 2 -out ",
                                  dir.File("p/cert.pem")))
                .exit_code,
            0);
  ServerOptions options;
  options.project_dir = dir.File("p");
  options.key_passphrase_file = dir.File("pw");
  std::unique_ptr<Server> server = testing::StartServer(options);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Appwire(absl::StrCat("health localhost:", server->port(), " --ca ",
                                 dir.File("p/cert.pem")))
                .exit_code,
            0);
  // No password, none to ask for (stdin is not a terminal): a usage error.
  ExpectUsageError(Appwire(absl::StrCat("keygen --encrypt --out ", dir.File("k2.pem"),
                                        " < /dev/null")),
                   "keygen",
                   "--encrypt needs a password: --password-file FILE, --password-env VAR, "
                   "--password PW, or a terminal to type it on");
  ExpectUsageError(Appwire(absl::StrCat("keygen --password-file ", dir.File("pw"), " --out ",
                                        dir.File("k2.pem"))),
                   "keygen", "a password is used only with --encrypt");
  EXPECT_FALSE(FileExists(dir.File("k2.pem")));
}

// `appwire ca init --encrypt`: ca.key encrypted with a password that every
// action signing with it asks for (--ca-password-file, -env); revoke only
// lists a serial and needs none. `ca issue --encrypt` encrypts the key it
// issues.
TEST(AppwireCliFlagsTest, TheCaKeyAndIssuedKeysCanBeEncrypted) {
  TempDir dir;
  dir.Write("ca-pw", "ca secret\n");
  dir.Write("pw", "client secret\n");
  dir.Write("wrong", "not it\n");
  const std::string ca = dir.File("ca");
  ShellRun run = Appwire(absl::StrCat("ca init ", ca, " --encrypt --password-file ",
                                      dir.File("ca-pw")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("(ca.pem, ca.key mode 0600, encrypted)"));
  EXPECT_THAT(*ReadFile(dir.File("ca/ca.key")),
              StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
  EXPECT_EQ(RunShell(absl::StrCat("openssl pkey -in ", dir.File("ca/ca.key"), " -passin file:",
                                  dir.File("ca-pw"), " -noout"))
                .exit_code,
            0);

  // Issuing without the CA's password (and no terminal to ask on) or with a
  // wrong one writes nothing.
  run = Appwire(absl::StrCat("ca issue --ca ", ca, " --client alice --out ", dir.File("alice"),
                             " < /dev/null"));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output,
              HasSubstr(absl::StrCat("\"", dir.File("ca/ca.key"),
                                     "\" is encrypted: give its password with "
                                     "--ca-password-file FILE, --ca-password-env VAR or "
                                     "--ca-password PW")));
  run = Appwire(absl::StrCat("ca issue --ca ", ca, " --client alice --ca-password-file ",
                             dir.File("wrong"), " --out ", dir.File("alice")));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr(dir.File("ca/ca.key")));
  EXPECT_FALSE(FileExists(dir.File("alice")));

  // With it, and the issued key encrypted with its own password.
  run = Appwire(absl::StrCat("ca issue --ca ", ca, " --client alice --ca-password-file ",
                             dir.File("ca-pw"), " --encrypt --password-file ", dir.File("pw"),
                             " --out ", dir.File("alice")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("key.pem mode 0600 encrypted"));
  EXPECT_EQ(RunShell(absl::StrCat("openssl pkey -in ", dir.File("alice/key.pem"),
                                  " -passin file:", dir.File("pw"), " -noout"))
                .exit_code,
            0);
  EXPECT_NE(RunShell(absl::StrCat("openssl pkey -in ", dir.File("alice/key.pem"),
                                  " -passin file:", dir.File("ca-pw"), " -noout"))
                .exit_code,
            0);
  EXPECT_THAT(RunShell(absl::StrCat("openssl verify -CAfile ", dir.File("ca/ca.pem"), " ",
                                    dir.File("alice/cert.pem")))
                  .output,
              HasSubstr(": OK"));

  // revoke needs no password; crl and renew take it from the environment.
  run = Appwire(absl::StrCat("ca revoke ", dir.File("alice/cert.pem"), " --ca ", ca,
                             " < /dev/null"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  run = Appwire(absl::StrCat("ca crl --ca ", ca, " --out ", dir.File("crl.pem"),
                             " --ca-password-env APPWIRE_TEST_CA_PW < /dev/null"));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("--ca-password-env APPWIRE_TEST_CA_PW: that environment "
                                    "variable is not set"));
  run = RunShell(absl::StrCat("APPWIRE_TEST_CA_PW='ca secret' ", APPWIRE_CLI_BINARY, " ca crl --ca ",
                              ca, " --out ", dir.File("crl.pem"),
                              " --ca-password-env APPWIRE_TEST_CA_PW"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(RunShell(absl::StrCat("openssl crl -in ", dir.File("crl.pem"), " -noout -CAfile ",
                                    dir.File("ca/ca.pem")))
                  .output,
              HasSubstr("verify OK"));
  run = RunShell(absl::StrCat("APPWIRE_TEST_CA_PW='ca secret' ", APPWIRE_CLI_BINARY,
                              " ca renew ", dir.File("alice/cert.pem"), " --ca ", ca,
                              " --ca-password-env APPWIRE_TEST_CA_PW"));
  EXPECT_EQ(run.exit_code, 0) << run.output;

  // Password flags belong to --encrypt; revoke takes no CA password.
  ExpectUsageError(Appwire(absl::StrCat("ca init ", dir.File("ca2"), " --password-file ",
                                        dir.File("pw"))),
                   "ca", "a password is used only with --encrypt");
  EXPECT_FALSE(FileExists(dir.File("ca2")));
  ExpectUsageError(Appwire(absl::StrCat("ca revoke ", dir.File("alice/cert.pem"), " --ca ", ca,
                                        " --ca-password-file ", dir.File("ca-pw"))),
                   "ca", "ca revoke takes no --ca-password-file");
}

// `appwire ca sign`: a request made elsewhere (appwire csr, openssl)
// becomes a certificate of the CA for the request's key, subject and names;
// a request whose signature does not verify is refused.
TEST(AppwireCliFlagsTest, CaSignsARequestMadeElsewhere) {
  TempDir dir;
  ASSERT_EQ(Appwire(absl::StrCat("ca init ", dir.File("ca"))).exit_code, 0);
  ASSERT_EQ(Appwire(absl::StrCat("keygen --out ", dir.File("k.pem"))).exit_code, 0);
  ASSERT_EQ(Appwire(absl::StrCat("csr --key ", dir.File("k.pem"),
                                 " --cn shop.example --org 'Shop SA' --country FR "
                                 "--san DNS:shop.example --san IP:10.0.0.5 --out ",
                                 dir.File("shop.csr")))
                .exit_code,
            0);
  ShellRun run = Appwire(absl::StrCat("ca sign ", dir.File("shop.csr"), " --ca ", dir.File("ca"),
                                      " --days 90 --out ", dir.File("shop.pem")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, absl::StrCat("signed a certificate for 'shop.example' (shop.example, "
                                     "10.0.0.5) into ", dir.File("shop.pem"), ", valid 90 days\n"));
  EXPECT_THAT(RunShell(absl::StrCat("openssl verify -CAfile ", dir.File("ca/ca.pem"), " ",
                                    dir.File("shop.pem")))
                  .output,
              HasSubstr(": OK"));
  const std::string text =
      RunShell(absl::StrCat("openssl x509 -in ", dir.File("shop.pem"), " -noout -text")).output;
  EXPECT_THAT(text, HasSubstr("Subject: C = FR, O = Shop SA, CN = shop.example"));
  EXPECT_THAT(text, HasSubstr("DNS:shop.example, IP Address:10.0.0.5"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("CA:TRUE")));  // never a CA
  // The key is the request's: the certificate's public key is k.pem's.
  EXPECT_EQ(RunShell(absl::StrCat("openssl x509 -in ", dir.File("shop.pem"), " -noout -pubkey"))
                .output,
            RunShell(absl::StrCat("openssl pkey -in ", dir.File("k.pem"), " -pubout")).output);

  // An RSA request made by openssl, with names in its extensionRequest.
  ASSERT_EQ(RunShell(absl::StrCat("openssl req -new -newkey rsa:2048 -nodes -keyout ",
                                  dir.File("o.key"), " -subj /CN=dev.example -addext "
                                  "subjectAltName=DNS:dev.example -out ", dir.File("o.csr")))
                .exit_code,
            0);
  run = Appwire(absl::StrCat("ca sign ", dir.File("o.csr"), " --ca ", dir.File("ca"),
                             " --san DNS:alias.example --out ", dir.File("o.pem")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(RunShell(absl::StrCat("openssl verify -CAfile ", dir.File("ca/ca.pem"), " ",
                                    dir.File("o.pem")))
                  .output,
              HasSubstr(": OK"));
  EXPECT_EQ(RunShell(absl::StrCat("openssl x509 -in ", dir.File("o.pem"), " -noout -pubkey")).output,
            RunShell(absl::StrCat("openssl pkey -in ", dir.File("o.key"), " -pubout")).output);
  EXPECT_THAT(RunShell(absl::StrCat("openssl x509 -in ", dir.File("o.pem"), " -noout -text")).output,
              HasSubstr("DNS:alias.example"));

  // A request whose signature was altered (its last byte): refused, nothing written.
  ASSERT_EQ(RunShell(absl::StrCat("openssl req -in ", dir.File("shop.csr"), " -outform DER -out ",
                                  dir.File("shop.der"), " && python3 -c \"import sys; p=sys.argv[1]; "
                                  "d=bytearray(open(p,'rb').read()); d[-1]^=1; "
                                  "open(p,'wb').write(d)\" ", dir.File("shop.der"),
                                  " && openssl req -inform DER -in ", dir.File("shop.der"),
                                  " -out ", dir.File("altered.csr")))
                .exit_code,
            0);
  run = Appwire(absl::StrCat("ca sign ", dir.File("altered.csr"), " --ca ", dir.File("ca"),
                             " --out ", dir.File("altered.pem")));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.output, absl::StrCat("appwire: the signature of the certificate request \"",
                                     dir.File("altered.csr"),
                                     "\" does not verify with the key it carries: it was altered, "
                                     "or it is not a request of that key's owner\n"));
  EXPECT_FALSE(FileExists(dir.File("altered.pem")));
  // Never over a certificate already there.
  run = Appwire(absl::StrCat("ca sign ", dir.File("shop.csr"), " --ca ", dir.File("ca"),
                             " --out ", dir.File("shop.pem")));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("shop.pem exists; pass --force to replace it"));
  ExpectUsageError(Appwire(absl::StrCat("ca sign ", dir.File("shop.csr"), " --ca ", dir.File("ca"),
                                        " --client x --out ", dir.File("x.pem"))),
                   "ca", "ca sign takes no --client");
}

// `appwire inspect`: each certificate of a chain as people need it, the
// chain's order, and a key file described without its contents.
TEST(AppwireCliFlagsTest, InspectShowsEachCertificateAndTheChainsOrder) {
  TempDir dir;
  ASSERT_EQ(Appwire(absl::StrCat("ca init ", dir.File("ca"), " --name \"Shop CA\"")).exit_code, 0);
  ASSERT_EQ(Appwire(absl::StrCat("ca issue --ca ", dir.File("ca"),
                                 " --server db.example --san IP:10.0.0.5 --out ", dir.File("p")))
                .exit_code,
            0);
  dir.Write("chain.pem", *ReadFile(dir.File("p/cert.pem")) + *ReadFile(dir.File("ca/ca.pem")));
  dir.Write("reversed.pem", *ReadFile(dir.File("ca/ca.pem")) + *ReadFile(dir.File("p/cert.pem")));
  ShellRun run = Appwire(absl::StrCat("inspect ", dir.File("chain.pem")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr(absl::StrCat(dir.File("chain.pem"),
                                                 " certificate 1 of 2 (leaf)\n  subject:     "
                                                 "CN=db.example\n  issuer:      CN=Shop CA\n")));
  EXPECT_THAT(run.output, HasSubstr("  names:       db.example, 10.0.0.5\n"));
  EXPECT_THAT(run.output, HasSubstr("  key:         ECDSA P-256\n  CA:          no\n"));
  EXPECT_THAT(run.output, HasSubstr("issuer:      CN=Shop CA (self-signed)\n"));
  EXPECT_THAT(run.output, HasSubstr("  CA:          yes (may issue certificates)\n"));
  EXPECT_THAT(run.output, ::testing::MatchesRegex(
                              "(.|\n)*validity:    [0-9T:Z-]+ to [0-9T:Z-]+: valid, expires in "
                              "82[34] days(.|\n)*"));
  EXPECT_THAT(run.output, ::testing::EndsWith(
                              "chain: in order (each certificate issued by the next)\n"));
  // The fingerprint openssl computes.
  const std::string openssl =
      RunShell(absl::StrCat("openssl x509 -in ", dir.File("p/cert.pem"),
                            " -noout -fingerprint -sha256"))
          .output;  // "sha256 Fingerprint=AB:CD:...\n"
  const std::string hex = openssl.substr(openssl.find('=') + 1, 95);
  EXPECT_THAT(run.output, HasSubstr(absl::StrCat("  fingerprint: SHA256:", hex, "\n")));

  run = Appwire(absl::StrCat("inspect ", dir.File("reversed.pem"), " --json"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json report = nlohmann::json::parse(run.output);
  EXPECT_EQ(report["chain_in_order"], false);
  ASSERT_EQ(report["certificates"].size(), 2u);
  EXPECT_EQ(report["certificates"][0]["ca"], true);
  EXPECT_EQ(report["certificates"][1]["subject"], "CN=db.example");
  EXPECT_EQ(report["certificates"][1]["names"], (nlohmann::json{"db.example", "10.0.0.5"}));
  EXPECT_EQ(report["certificates"][1]["public_key"], "ECDSA P-256");
  EXPECT_EQ(report["certificates"][1]["sha256"], absl::StrCat("SHA256:", hex));
  EXPECT_EQ(report["certificates"][1]["expired"], false);

  // A key: what it is, never what it holds.
  run = Appwire(absl::StrCat("inspect ", dir.File("p/key.pem")));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, absl::StrCat(dir.File("p/key.pem"),
                                     ": a private key (EC PRIVATE KEY); its contents are not "
                                     "shown\n"));
  dir.Write("junk.pem", "not a certificate\n");
  run = Appwire(absl::StrCat("inspect ", dir.File("junk.pem")));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("holds no PEM certificate"));
}

// `appwire call`: JSON in, JSON out, through the method's .proto, for a
// unary and a bidirectional streaming method; metadata, imports, and the
// status code of a failed call.
TEST(AppwireCliFlagsTest, CallMapsJsonBothWaysAndSaysTheStatusCode) {
  TempDir project;
  ServerOptions options;
  options.project_dir = project.path();
  std::unique_ptr<Server> server = testing::StartServer(options);
  ASSERT_NE(server, nullptr);
  const std::string proto = absl::StrCat(APPWIRE_SOURCE_DIR, "/proto/appwire/v1/builtin.proto");
  const std::string to = absl::StrCat("127.0.0.1:", server->port(), " ");
  const std::string trust = absl::StrCat(" --ca ", project.File("cert.pem"));
  ShellRun run = Appwire(absl::StrCat("call ", to, "appwire.v1.Echo/Echo -d '{\"payload\": \"aGk=\"}'",
                                      " --proto ", proto, trust, " -H 'x-trace: 1'"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(nlohmann::json::parse(run.output), (nlohmann::json{{"payload", "aGk="}}));
  run = Appwire(absl::StrCat("call ", to, "appwire.v1.Health/Check --proto ", proto, trust));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(nlohmann::json::parse(run.output), (nlohmann::json{{"status", "SERVING"}}));
  // Bidirectional: an array of requests, each reply printed as it comes.
  TempDir data;
  data.Write("requests.json", "[{\"payload\": \"YQ==\"}, {\"payload\": \"Yg==\"}]");
  run = Appwire(absl::StrCat("call ", to, "appwire.v1.Echo/EchoStream -d @",
                             data.File("requests.json"), " --proto ", proto, trust));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "{\n \"payload\": \"YQ==\"\n}\n{\n \"payload\": \"Yg==\"\n}\n");

  // A service the server does not have, importing builtin.proto by -I.
  data.Write("missing.proto",
             "syntax = \"proto3\";\npackage test;\nimport \"appwire/v1/builtin.proto\";\n"
             "service Missing { rpc Get(appwire.v1.HealthCheckRequest) returns "
             "(appwire.v1.HealthCheckResponse); }\n");
  run = Appwire(absl::StrCat("call ", to, "test.Missing/Get -I ", APPWIRE_SOURCE_DIR, "/proto -I ",
                             data.path(), " --proto ", data.File("missing.proto"), trust));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, StartsWith("appwire: UNIMPLEMENTED: "));
  EXPECT_THAT(run.output, HasSubstr("test.Missing/Get"));

  run = Appwire(absl::StrCat("call ", to, "appwire.v1.Echo/Echo -d '{\"bogus\": 1}' --proto ",
                             proto, trust));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, StartsWith("appwire: the request {\"bogus\":1} does not map to "
                                     "appwire.v1.EchoRequest: "));
  run = Appwire(absl::StrCat("call ", to, "appwire.v1.Echo/Nope --proto ", proto, trust));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.output, "appwire: no method appwire.v1.Echo/Nope in the .proto files given (the "
                        "service is there, the method is not)\n");
  ExpectUsageError(Appwire(absl::StrCat("call ", to, "appwire.v1.Echo/Echo -d '[{}, {}]' --proto ",
                                        proto, trust)),
                   "call", "appwire.v1.Echo/Echo takes one request, not 2");
  ExpectUsageError(Appwire(absl::StrCat("call ", to, "appwire.v1.Echo/Echo -d 'nope' --proto ",
                                        proto, trust)),
                   "call", "-d is not a JSON object (or an array of them for a streaming call)");
  ExpectUsageError(Appwire(absl::StrCat("call ", to, "appwire.v1.Echo/Echo --proto ", proto,
                                        trust, " -H novalue")),
                   "call", "-H novalue: write name:value");
}

TEST(AppwireCliFlagsTest, ListAndDescribeReadTheProtoFiles) {
  const std::string proto = absl::StrCat(APPWIRE_SOURCE_DIR, "/proto/appwire/v1/builtin.proto");
  ShellRun run = Appwire(absl::StrCat("list --proto ", proto));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output,
            "appwire.v1.Echo\nappwire.v1.Health\nappwire.v1.Reflection\nappwire.v1.ServerInfo\n"
            "appwire.v1.Stats\n");
  run = Appwire(absl::StrCat("list appwire.v1.Echo --proto ", proto));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output,
            "appwire.v1.Echo/Echo  unary  appwire.v1.EchoRequest -> appwire.v1.EchoResponse\n"
            "appwire.v1.Echo/EchoStream  bidirectional streaming  appwire.v1.EchoRequest -> "
            "appwire.v1.EchoResponse\n");
  run = Appwire(absl::StrCat("describe appwire.v1.EchoRequest --proto ", proto));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("message EchoRequest {\n  bytes payload = 1;\n}"));
  run = Appwire(absl::StrCat("describe appwire.v1.Health/Check --proto ", proto));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("rpc Check(.appwire.v1.HealthCheckRequest) returns "
                                    "(.appwire.v1.HealthCheckResponse)"));
  run = Appwire(absl::StrCat("describe appwire.v1.Nothing --proto ", proto));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.output, "appwire: no service, method, message or enum appwire.v1.Nothing in the "
                        ".proto files given\n");
  run = Appwire("list --proto /nonexistent/x.proto");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, StartsWith("appwire: cannot read --proto /nonexistent/x.proto: "));
}

// Without --proto, list, describe and call ask the server's
// appwire.v1.Reflection; a raw registration is listed but has no
// descriptor; reflection = false turns the service off.
TEST(AppwireCliFlagsTest, ListDescribeAndCallAskTheServersReflection) {
  TempDir project;
  auto registry = std::make_shared<ServiceRegistry>();
  ASSERT_TRUE(registry
                  ->RegisterRaw("test.Raw/Get",
                                [](CallContext&, absl::string_view) {
                                  return absl::StatusOr<std::string>("");
                                })
                  .ok());
  ServerOptions options;
  options.project_dir = project.path();
  std::unique_ptr<Server> server = testing::StartServer(options, registry);
  ASSERT_NE(server, nullptr);
  const std::string to = absl::StrCat("127.0.0.1:", server->port());
  const std::string trust = absl::StrCat(" --ca ", project.File("cert.pem"));
  ShellRun run = Appwire(absl::StrCat("list ", to, trust));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "appwire.v1.Echo\nappwire.v1.Health\nappwire.v1.Reflection\n"
                        "appwire.v1.ServerInfo\ntest.Raw\n");
  run = Appwire(absl::StrCat("list ", to, " appwire.v1.Health", trust));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "appwire.v1.Health/Check  unary  appwire.v1.HealthCheckRequest -> "
                        "appwire.v1.HealthCheckResponse\n");
  run = Appwire(absl::StrCat("describe ", to, " appwire.v1.EchoRequest", trust));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("message EchoRequest {\n  bytes payload = 1;\n}"));
  run = Appwire(absl::StrCat("call ", to, " appwire.v1.Echo/Echo -d '{\"payload\": \"aGk=\"}'",
                             trust));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(nlohmann::json::parse(run.output), (nlohmann::json{{"payload", "aGk="}}));
  run = Appwire(absl::StrCat("describe ", to, " test.Raw", trust));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.output, "appwire: NOT_FOUND: the server's reflection (no --proto given): test.Raw "
                        "is served, but this server was built without its .proto descriptor (a "
                        "lite or raw registration): call it with appwire call --proto FILE\n");
  run = Appwire(absl::StrCat("describe ", to, " nothing.Here", trust));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("this server serves no service and no message named "
                                    "nothing.Here"));

  TempDir private_project;
  ServerOptions private_options;
  private_options.project_dir = private_project.path();
  private_options.reflection = false;
  std::unique_ptr<Server> private_server = testing::StartServer(private_options);
  ASSERT_NE(private_server, nullptr);
  run = Appwire(absl::StrCat("list 127.0.0.1:", private_server->port(), " --ca ",
                             private_project.File("cert.pem")));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, StartsWith("appwire: UNIMPLEMENTED: "));
}

// `appwire health`: exit 0 only for SERVING, over a verified connection.
TEST(AppwireCliFlagsTest, HealthExitsZeroOnlyWhenTheServerSaysServing) {
  TempDir project;
  ServerOptions options;
  options.project_dir = project.path();
  std::unique_ptr<Server> server = testing::StartServer(options);
  ASSERT_NE(server, nullptr);
  const std::string target = absl::StrCat("127.0.0.1:", server->port());
  ShellRun run = Appwire(absl::StrCat("health ", target, " --ca ", project.File("cert.pem"),
                                      " --server-name localhost"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "SERVING\n");
  run = Appwire(absl::StrCat("health ", target, " --pin ", server->certificate().sha256_fingerprint));
  EXPECT_EQ(run.exit_code, 0) << run.output;

  // A server that is up but says it is not serving.
  TempDir other_project;
  auto registry = std::make_shared<ServiceRegistry>();
  auto not_serving_handler = [](CallContext&, const v1::HealthCheckRequest&)
      -> absl::StatusOr<v1::HealthCheckResponse> {
    v1::HealthCheckResponse response;
    response.set_status(v1::HealthCheckResponse::NOT_SERVING);
    return response;
  };
  ASSERT_TRUE((registry->Register<v1::HealthCheckRequest, v1::HealthCheckResponse>(
                   "appwire.v1.Health/Check", not_serving_handler))
                  .ok());
  ServerOptions not_serving_options;
  not_serving_options.project_dir = other_project.path();
  not_serving_options.builtin_services = false;
  std::unique_ptr<Server> not_serving = testing::StartServer(not_serving_options, registry);
  ASSERT_NE(not_serving, nullptr);
  run = Appwire(absl::StrCat("health 127.0.0.1:", not_serving->port(), " --pin ",
                             not_serving->certificate().sha256_fingerprint));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.output, "NOT_SERVING\n");

  // Not trusted: the other server's certificate pinned.
  run = Appwire(absl::StrCat("health ", target, " --pin ",
                             not_serving->certificate().sha256_fingerprint, " --timeout 3s"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, StartsWith("appwire: "));
  EXPECT_THAT(run.output, HasSubstr("fingerprint")) << run.output;

  // Nobody listening.
  const int closed_port = server->port();
  server->Drain(absl::ZeroDuration());
  server.reset();
  run = Appwire(absl::StrCat("health 127.0.0.1:", closed_port, " --ca ",
                             project.File("cert.pem"), " --timeout 2s"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, StartsWith("appwire: ")) << run.output;

  ExpectUsageError(Appwire(absl::StrCat("health ", target)), "health",
                   "say how to trust the server: --ca FILE, --pin SHA256:..., --client DIR or "
                   "--system-trust");
  ExpectUsageError(Appwire(absl::StrCat("health ", target, " --pin x --timeout soon")), "health",
                   "--timeout soon: give a duration such as 5s or 500ms");
}

}  // namespace
}  // namespace appwire
