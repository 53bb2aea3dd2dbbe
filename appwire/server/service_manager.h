// Telling the service manager (systemd, Type=notify) what appwire-server is
// doing: ready once it listens, reloading during SIGHUP, stopping while it
// drains. sd_notify(3) from libsystemd (Debian's libsystemd-dev) when the
// build found it, else nothing; nothing either when NOTIFY_SOCKET is unset
// (not started by systemd). Used by appwire_server_main.cc only: not part of
// the library.
#ifndef APPWIRE_SERVER_SERVICE_MANAGER_H_
#define APPWIRE_SERVER_SERVICE_MANAGER_H_

#include <string>

#include "absl/strings/string_view.h"

namespace appwire {

// Whether this build can notify (it was built with libsystemd).
bool ServiceManagerNotificationsBuiltIn();

// READY=1 with STATUS=`status` (shown by systemctl status).
void NotifyReady(absl::string_view status);
// RELOADING=1 with the monotonic clock, as systemd 253 wants for
// Type=notify-reload; READY=1 must follow once the reload is done.
void NotifyReloading();
// STOPPING=1 with STATUS=`status`.
void NotifyStopping(absl::string_view status);

}  // namespace appwire

#endif  // APPWIRE_SERVER_SERVICE_MANAGER_H_
