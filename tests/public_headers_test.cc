// A desktop app includes only appwire/client/ headers, an app server only appwire/server/
// headers: neither may pull in wolfSSL or Asio (they stay private to
// appwire/transport/). This file fails to compile if one does.
#include "appwire/client/channel.h"
#include "appwire/server/call_context.h"
#include "appwire/server/server.h"
#include "appwire/server/service_registry.h"

#ifdef ASIO_VERSION
#error "a public header of appwire/server/ or appwire/client/ includes Asio"
#endif
#if defined(LIBWOLFSSL_VERSION_STRING) || defined(WOLFSSL_TYPES_DEFINED)
#error "a public header of appwire/server/ or appwire/client/ includes wolfSSL"
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
