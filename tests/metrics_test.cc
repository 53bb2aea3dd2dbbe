// The metrics endpoint scraped as Prometheus would, with curl: the status
// line and content type, every line of the body in the text exposition
// format (0.0.4), and the numbers the calls made before the scrape must
// give. Real server, real TLS calls, real HTTP over loopback.
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "appwire/client/channel.h"
#include "appwire/server/server.h"
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

// A scrape: curl's status line and headers (-i), then the body.
struct Scrape {
  int exit_code = -1;
  std::string head;
  std::string body;
};

Scrape Get(int port, const std::string& path, const std::string& curl_flags = "") {
  const ShellRun run = RunShell(absl::StrCat("curl -sS -i --max-time 10 ", curl_flags,
                                             " http://127.0.0.1:", port, path));
  Scrape scrape;
  scrape.exit_code = run.exit_code;
  const size_t split = run.output.find("\r\n\r\n");
  scrape.head = run.output.substr(0, split);
  if (split != std::string::npos) scrape.body = run.output.substr(split + 4);
  return scrape;
}

// Checks every line against the text format and returns the samples
// ("name{labels}" -> value). Fails the test on a line that is not a
// comment, a HELP/TYPE line for the metric that follows, or a sample.
std::map<std::string, double> ParseExposition(const std::string& body) {
  std::map<std::string, double> samples;
  const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*)?\})? (-?[0-9.e+-]+|\+Inf|NaN))");
  EXPECT_FALSE(body.empty());
  EXPECT_EQ(body.back(), '\n') << "the last line ends with a newline";
  std::string typed;  // the metric the last TYPE line named
  std::set<std::string> seen_types;
  for (absl::string_view line : absl::StrSplit(body, '\n', absl::SkipEmpty())) {
    const std::string text(line);
    std::smatch match;
    if (std::regex_match(text, match, help)) continue;
    if (std::regex_match(text, match, type)) {
      typed = match[1];
      EXPECT_TRUE(seen_types.insert(typed).second) << "TYPE given twice: " << text;
      continue;
    }
    if (!std::regex_match(text, match, sample)) {
      ADD_FAILURE() << "not a sample line: " << text;
      continue;
    }
    const std::string name = match[1];
    // A sample belongs to the metric typed above it (histograms add
    // _bucket, _sum and _count).
    EXPECT_TRUE(name == typed || name == typed + "_bucket" || name == typed + "_sum" ||
                name == typed + "_count")
        << name << " after TYPE " << typed;
    double value = 0;
    EXPECT_TRUE(match[7] == "+Inf" || absl::SimpleAtod(std::string(match[7]), &value)) << text;
    const std::string key = text.substr(0, text.rfind(' '));
    EXPECT_EQ(samples.count(key), 0u) << "sample given twice: " << key;
    samples[key] = value;
  }
  return samples;
}

// A server in `project` with its metrics on a free port.
std::unique_ptr<Server> StartWithMetrics(const TempDir& project) {
  ServerOptions options;
  options.project_dir = project.path();
  options.metrics_port = 0;
  return testing::StartServer(options);
}

TEST(MetricsTest, APrometheusScrapeSeesTheCallsHandshakesAndCertificates) {
  TempDir project;
  std::unique_ptr<Server> server = StartWithMetrics(project);
  ASSERT_NE(server, nullptr);
  ASSERT_NE(server->metrics_port(), 0);

  // Two health checks, one echo, one unknown method; one TCP probe; one
  // client that trusts another certificate (a failed handshake).
  ChannelOptions client = testing::ClientOptions(*server, project.File("cert.pem"));
  auto channel = Channel::Connect(client);
  ASSERT_TRUE(channel.ok()) << channel.status();
  ASSERT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());
  ASSERT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());
  v1::EchoRequest echo;
  echo.set_payload(std::string(1000, 'e'));
  ASSERT_TRUE((*channel)->CallRaw("appwire.v1.Echo/Echo", echo.SerializeAsString()).ok());
  EXPECT_EQ((*channel)->CallRaw("no.Such/Method", "").status().code(),
            absl::StatusCode::kUnimplemented);
  const int probe = testing::ConnectTcp(server->port(), 5);
  ASSERT_GE(probe, 0);
  ::close(probe);
  ASSERT_TRUE(testing::WaitUntil([&] { return server->stats().probes == 1; }, absl::Seconds(10)));

  const Scrape scrape = Get(server->metrics_port(), "/metrics");
  ASSERT_EQ(scrape.exit_code, 0) << scrape.head;
  EXPECT_THAT(scrape.head, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(scrape.head, HasSubstr("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8"));
  std::map<std::string, double> samples = ParseExposition(scrape.body);

  EXPECT_EQ(samples["appwire_calls_total{method=\"appwire.v1.Health/Check\",code=\"OK\"}"], 2);
  EXPECT_EQ(samples["appwire_calls_total{method=\"appwire.v1.Echo/Echo\",code=\"OK\"}"], 1);
  EXPECT_EQ(samples["appwire_calls_refused_total{code=\"UNIMPLEMENTED\"}"], 1);
  // The refused name is no label: a client cannot grow the tables.
  EXPECT_EQ(scrape.body.find("no.Such/Method"), std::string::npos);
  EXPECT_EQ(samples["appwire_probes_total"], 1);
  EXPECT_GE(samples["appwire_connections_accepted_total"], 2);
  EXPECT_EQ(samples["appwire_connections_open"], 1);
  EXPECT_GE(samples["appwire_message_bytes_received_total"], 1000);
  EXPECT_GE(samples["appwire_message_bytes_sent_total"], 1000);
  // The histogram: cumulative buckets ending in +Inf = count.
  const std::string health = "method=\"appwire.v1.Health/Check\"";
  EXPECT_EQ(samples[absl::StrCat("appwire_call_duration_seconds_count{", health, "}")], 2);
  EXPECT_EQ(samples[absl::StrCat("appwire_call_duration_seconds_bucket{", health, ",le=\"+Inf\"}")],
            2);
  double previous = 0;
  for (const char* le : {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
                         "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"}) {
    const std::string key =
        absl::StrCat("appwire_call_duration_seconds_bucket{", health, ",le=\"", le, "\"}");
    ASSERT_EQ(samples.count(key), 1u) << key;
    EXPECT_GE(samples[key], previous) << key;
    previous = samples[key];
  }
  EXPECT_EQ(previous, 2);  // both well under 10 s
  EXPECT_GT(samples[absl::StrCat("appwire_call_duration_seconds_sum{", health, "}")], 0);
  // The default certificate's expiry, to the second; DH parameters loaded
  // (the test fixture's).
  EXPECT_EQ(samples["appwire_certificate_expiry_timestamp_seconds{name=\"\"}"],
            static_cast<double>(absl::ToUnixSeconds(server->certificate().not_after)));
  EXPECT_EQ(samples["appwire_dh_params{state=\"loaded\"}"], 1);
  EXPECT_EQ(samples["appwire_dh_params{state=\"generating\"}"], 0);
  for (const char* reason : {"timeout", "closed", "certificate", "protocol", "other"}) {
    EXPECT_EQ(samples.count(absl::StrCat("appwire_handshakes_failed_total{reason=\"", reason,
                                         "\"}")),
              1u);
  }

  // A client that trusts another CA: its handshake fails, counted by reason.
  TempDir other;
  testing::TestCa ca = testing::TestCa::Create("Another CA");
  other.Write("ca.pem", ca.cert_pem);
  ChannelOptions untrusting = testing::ClientOptions(*server, other.File("ca.pem"));
  EXPECT_FALSE(Channel::Connect(untrusting).ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return server->stats().handshakes_failed == 1; },
                                 absl::Seconds(10)));
  samples = ParseExposition(Get(server->metrics_port(), "/metrics").body);
  double failed = 0;
  for (const char* reason : {"timeout", "closed", "certificate", "protocol", "other"}) {
    failed += samples[absl::StrCat("appwire_handshakes_failed_total{reason=\"", reason, "\"}")];
  }
  EXPECT_EQ(failed, 1);
}

// The keys of the samples ("name{labels}") of an exposition.
std::set<std::string> SampleKeys(const std::map<std::string, double>& samples) {
  std::set<std::string> keys;
  for (const auto& [key, value] : samples) keys.insert(key);
  return keys;
}

// `appwire stats` (appwire.v1.Stats/Get, with stats = true) prints what a
// scrape of the endpoint gets: the same families and samples in the same
// format, and the same numbers where nothing changed in between.
TEST(MetricsTest, AppwireStatsPrintsWhatTheEndpointServes) {
  TempDir project;
  ServerOptions options;
  options.project_dir = project.path();
  options.metrics_port = 0;
  options.stats = true;
  std::unique_ptr<Server> server = testing::StartServer(options);
  ASSERT_NE(server, nullptr);
  auto channel = Channel::Connect(testing::ClientOptions(*server, project.File("cert.pem")));
  ASSERT_TRUE(channel.ok()) << channel.status();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*channel)->CallRaw("appwire.v1.Health/Check", "").ok());
  }
  // The first stats call makes appwire.v1.Stats/Get a label of its own.
  const std::string stats = absl::StrCat(APPWIRE_CLI_BINARY, " stats localhost:", server->port(),
                                         " --ca ", project.File("cert.pem"));
  ASSERT_EQ(RunShell(stats).exit_code, 0);
  ShellRun run = RunShell(absl::StrCat(stats, " 2>/dev/null"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::map<std::string, double> by_stats = ParseExposition(run.output);
  std::map<std::string, double> by_scrape =
      ParseExposition(Get(server->metrics_port(), "/metrics").body);
  EXPECT_EQ(SampleKeys(by_stats), SampleKeys(by_scrape));
  EXPECT_EQ(by_stats["appwire_calls_total{method=\"appwire.v1.Health/Check\",code=\"OK\"}"], 3);
  EXPECT_EQ(by_stats["appwire_calls_total{method=\"appwire.v1.Stats/Get\",code=\"OK\"}"], 1);
  EXPECT_EQ(by_scrape["appwire_calls_total{method=\"appwire.v1.Stats/Get\",code=\"OK\"}"], 2);
  EXPECT_EQ(by_stats["appwire_certificate_expiry_timestamp_seconds{name=\"\"}"],
            static_cast<double>(absl::ToUnixSeconds(server->certificate().not_after)));
  EXPECT_EQ(by_stats["appwire_dh_params{state=\"loaded\"}"], 1);
  // The HELP and TYPE lines are the endpoint's, word for word.
  auto comments = [](const std::string& text) {
    std::string lines;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (absl::StartsWith(line, "# ")) absl::StrAppend(&lines, line, "\n");
    }
    return lines;
  };
  EXPECT_EQ(comments(run.output), comments(Get(server->metrics_port(), "/metrics").body));

  // --json: protobuf's JSON mapping of appwire.v1.StatsResponse.
  run = RunShell(absl::StrCat(stats, " --json 2>/dev/null"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json json = nlohmann::json::parse(run.output, nullptr, false);
  ASSERT_TRUE(json.is_object()) << run.output;
  bool found = false;
  for (const nlohmann::json& family : json["families"]) {
    if (family["name"] != "appwire_calls_total") continue;
    EXPECT_EQ(family["type"], "counter");
    for (const nlohmann::json& sample : family["samples"]) {
      if (sample["labels"][0]["value"] == "appwire.v1.Health/Check") {
        EXPECT_EQ(sample["labels"][1]["name"], "code");
        EXPECT_EQ(sample["value"], 3);
        found = true;
      }
    }
  }
  EXPECT_TRUE(found) << run.output;
}

// Off by default: the numbers say how busy the server is to anyone who may
// connect. The command says how to turn it on.
TEST(MetricsTest, StatsIsServedOnlyWhenTurnedOn) {
  TempDir project;
  ServerOptions options;
  options.project_dir = project.path();
  std::unique_ptr<Server> server = testing::StartServer(options);
  ASSERT_NE(server, nullptr);
  const std::string target = absl::StrCat("localhost:", server->port());
  ShellRun run = RunShell(absl::StrCat(APPWIRE_CLI_BINARY, " stats ", target, " --ca ",
                                       project.File("cert.pem")));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.output, absl::StrCat("appwire: ", target,
                                     " does not serve appwire.v1.Stats: its operator turns it on "
                                     "with `stats = true` in appwire.conf (or appwire-server "
                                     "--stats true), or reads the metrics port (metrics_port)\n"));
  auto channel = Channel::Connect(testing::ClientOptions(*server, project.File("cert.pem")));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ((*channel)->CallRaw("appwire.v1.Stats/Get", "").status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST(MetricsTest, OnlyGetMetricsIsServedAndTheEndpointIsBounded) {
  TempDir project;
  std::unique_ptr<Server> server = StartWithMetrics(project);
  ASSERT_NE(server, nullptr);
  const int port = server->metrics_port();
  Scrape other = Get(port, "/");
  EXPECT_THAT(other.head, ::testing::StartsWith("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_EQ(other.body, "not found: the metrics are at /metrics\n");
  Scrape post = Get(port, "/metrics", "-X POST");
  EXPECT_THAT(post.head, ::testing::StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_THAT(post.head, HasSubstr("\r\nAllow: GET"));
  Scrape huge = Get(port, "/metrics", absl::StrCat("-H 'X-Big: ", std::string(9000, 'x'), "'"));
  EXPECT_THAT(huge.head, ::testing::StartsWith("HTTP/1.1 431 "));
  // Query parameters (as Prometheus may add) are ignored.
  EXPECT_THAT(Get(port, "/metrics?x=1").head, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  // 40 connections that send nothing: at most 16 are kept; a scrape still
  // gets through once they are closed by the 5 s request timeout or sooner.
  std::vector<int> idle;
  for (int i = 0; i < 40; ++i) idle.push_back(testing::ConnectTcp(port, 5));
  for (int fd : idle) ASSERT_GE(fd, 0);
  int closed_at_once = 0;
  for (int fd : idle) {
    char byte;
    timeval quick{0, 200000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &quick, sizeof(quick));
    if (::recv(fd, &byte, 1, 0) == 0) ++closed_at_once;  // closed by the server
  }
  EXPECT_GE(closed_at_once, 40 - 16);
  for (int fd : idle) ::close(fd);
  EXPECT_TRUE(testing::WaitUntil(
      [&] { return Get(port, "/metrics").head.rfind("HTTP/1.1 200 OK", 0) == 0; },
      absl::Seconds(10)));
  // Off by default.
  TempDir plain_project;
  std::unique_ptr<Server> plain = testing::StartServerIn(plain_project);
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->metrics_port(), 0);
}

}  // namespace
}  // namespace appwire
