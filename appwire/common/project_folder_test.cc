#include "appwire/common/project_folder.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace appwire {
namespace {

TEST(ProjectFolderTest, EveryFileIsNamedInsideTheFolder) {
  const ProjectFolder folder = ProjectFolder::At("/srv/project");
  EXPECT_EQ(folder.dir, "/srv/project");
  EXPECT_EQ(folder.key, "/srv/project/key.pem");
  EXPECT_EQ(folder.certificate, "/srv/project/cert.pem");
  EXPECT_EQ(folder.sni_certificates, "/srv/project/certificates");
  EXPECT_EQ(folder.dh_params, "/srv/project/dhparams.pem");
  EXPECT_EQ(folder.client_ca, "/srv/project/client-ca.pem");
  EXPECT_FALSE(folder.client_ca_named);
  EXPECT_EQ(folder.crl, "/srv/project/crl.pem");
  EXPECT_EQ(folder.session_ticket_key, "/srv/project/session-ticket.key");
  EXPECT_EQ(folder.settings, "/srv/project/appwire.conf");
}

TEST(ProjectFolderTest, AFolderEndingInASlashGetsNoSecondOne) {
  EXPECT_EQ(ProjectFolder::At("/srv/project/").key, "/srv/project/key.pem");
  EXPECT_EQ(ProjectFolder::At("relative").crl, "relative/crl.pem");
}

TEST(ProjectFolderTest, ANamedClientCaReplacesTheDefaultOne) {
  const ProjectFolder folder = ProjectFolder::At("/srv/project", "/etc/ca/clients.pem");
  EXPECT_EQ(folder.client_ca, "/etc/ca/clients.pem");
  EXPECT_TRUE(folder.client_ca_named);
  EXPECT_EQ(folder.key, "/srv/project/key.pem");
}

TEST(ProjectFolderTest, AReloadReadsTheIdentityDhParametersClientCaAndCrl) {
  const ProjectFolder folder = ProjectFolder::At("/p", "/ca.pem");
  EXPECT_EQ(folder.ReloadedFiles(),
            (std::vector<std::string>{"/p/cert.pem", "/p/key.pem", "/p/dhparams.pem", "/ca.pem",
                                      "/p/crl.pem"}));
}

}  // namespace
}  // namespace appwire
