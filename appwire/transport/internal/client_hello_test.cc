#include "appwire/transport/internal/client_hello.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string U16(size_t n) { return {static_cast<char>(n >> 8), static_cast<char>(n & 0xff)}; }
std::string U24(size_t n) { return std::string(1, static_cast<char>(n >> 16)) + U16(n & 0xffff); }

// A ClientHello record with `extensions` (each: type, data).
std::string ClientHelloRecord(const std::vector<std::pair<int, std::string>>& extensions) {
  std::string body = std::string("\x03\x03", 2) + std::string(32, 'r');  // version, random
  body += std::string(1, '\0');                                          // session id
  body += U16(2) + std::string("\x13\x01", 2);                           // one suite
  body += std::string("\x01\x00", 2);                                    // null compression
  std::string all;
  for (const auto& [type, data] : extensions) all += U16(type) + U16(data.size()) + data;
  body += U16(all.size()) + all;
  const std::string handshake = std::string(1, '\x01') + U24(body.size()) + body;
  return std::string("\x16\x03\x01", 3) + U16(handshake.size()) + handshake;
}

std::string AlpnExtension(const std::vector<std::string>& protocols) {
  std::string list;
  for (const std::string& p : protocols) list += std::string(1, static_cast<char>(p.size())) + p;
  return U16(list.size()) + list;
}

TEST(ClientHelloAlpnTest, ReadsTheOfferedProtocolsInOrder) {
  const std::string record =
      ClientHelloRecord({{0, std::string("\x00\x05\x00\x00\x02hi", 7)},
                         {16, AlpnExtension({"acme-tls/1", "appwire/1"})}});
  EXPECT_THAT(ClientHelloAlpnProtocols(record), ElementsAre("acme-tls/1", "appwire/1"));
}

TEST(ClientHelloAlpnTest, NoExtensionNoProtocols) {
  EXPECT_THAT(ClientHelloAlpnProtocols(ClientHelloRecord({{0, "x"}})), IsEmpty());
  EXPECT_THAT(ClientHelloAlpnProtocols(ClientHelloRecord({})), IsEmpty());
}

TEST(ClientHelloAlpnTest, TruncatedOrMalformedBytesGiveNothing) {
  const std::string record = ClientHelloRecord({{16, AlpnExtension({"acme-tls/1"})}});
  for (size_t cut = 0; cut < record.size(); ++cut) {
    EXPECT_THAT(ClientHelloAlpnProtocols(record.substr(0, cut)), IsEmpty()) << cut;
  }
  // A protocol length past the end of the list.
  std::string bad = U16(3) + std::string("\x09", 1) + "ab";
  EXPECT_THAT(ClientHelloAlpnProtocols(ClientHelloRecord({{16, bad}})), IsEmpty());
  // Not a handshake record, not a ClientHello.
  std::string alert = record;
  alert[0] = 0x15;
  EXPECT_THAT(ClientHelloAlpnProtocols(alert), IsEmpty());
  std::string server_hello = record;
  server_hello[5] = 0x02;
  EXPECT_THAT(ClientHelloAlpnProtocols(server_hello), IsEmpty());
}

}  // namespace
}  // namespace appwire::internal
