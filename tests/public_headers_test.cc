// A desktop app includes only client/ headers, an app server only server/
// headers: neither may pull in wolfSSL or Asio (they stay private to
// transport/). This file fails to compile if one does.
#include "client/channel.h"
#include "server/call_context.h"
#include "server/server.h"
#include "server/service_registry.h"

#ifdef ASIO_VERSION
#error "a public header of server/ or client/ includes Asio"
#endif
#if defined(LIBWOLFSSL_VERSION_STRING) || defined(WOLFSSL_TYPES_DEFINED)
#error "a public header of server/ or client/ includes wolfSSL"
#endif

#include "gtest/gtest.h"

namespace appwire {
namespace {

TEST(PublicHeadersTest, ServerAndClientHeadersAreFreeOfWolfSslAndAsio) {
  // The check is the compilation above; this records that it ran.
  ChannelOptions options;
  EXPECT_EQ(options.parameters.Get(Parameter::kMinTlsVersion).AsInt(), kTLSv1_3);
}

}  // namespace
}  // namespace appwire
