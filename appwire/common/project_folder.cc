#include "appwire/common/project_folder.h"

#include "appwire/common/files.h"

namespace appwire {

ProjectFolder ProjectFolder::At(const std::string& project_dir,
                                const std::string& client_ca_file) {
  ProjectFolder folder;
  folder.dir = project_dir;
  folder.key = JoinPath(project_dir, kKeyFileName);
  folder.certificate = JoinPath(project_dir, kCertificateFileName);
  folder.sni_certificates = JoinPath(project_dir, kSniCertificatesFolderName);
  folder.dh_params = JoinPath(project_dir, kDhParamsFileName);
  folder.client_ca_named = !client_ca_file.empty();
  folder.client_ca =
      folder.client_ca_named ? client_ca_file : JoinPath(project_dir, kClientCaFileName);
  folder.crl = JoinPath(project_dir, kCrlFileName);
  folder.session_ticket_key = JoinPath(project_dir, kSessionTicketKeyFileName);
  folder.acme = JoinPath(project_dir, kAcmeFolderName);
  folder.acme_account_key = JoinPath(folder.acme, kAcmeAccountKeyFileName);
  folder.settings = JoinPath(project_dir, kSettingsFileName);
  return folder;
}

std::vector<std::string> ProjectFolder::ReloadedFiles() const {
  return {certificate, key, dh_params, client_ca, crl};
}

}  // namespace appwire
