// A desktop-app-style service: shared notes with Add, Get, List and a
// streaming Watch, kept in memory. Shows a generated service base class
// (examples/proto/examples/notes.proto) and CallContext.
//
//   notes_server PROJECT_DIR [PORT]
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "appwire/common/log.h"
#include "appwire/server/server.h"
#include "example_args.h"
#include "examples/notes.appwire_service.h"

namespace notes = examples::notes;

class NotesService final : public notes::Notes::Service {
 public:
  absl::StatusOr<notes::AddResponse> Add(appwire::CallContext& context,
                                         const notes::AddRequest& request) override {
    if (request.title().empty()) {
      return absl::InvalidArgumentError("a note needs a title");
    }
    std::lock_guard<std::mutex> lock(mu_);
    notes::Note& note = notes_[next_id_];
    note.set_id(next_id_++);
    note.set_title(request.title());
    note.set_body(request.body());
    note.set_author(context.peer_address());
    notes::AddResponse response;
    response.set_id(note.id());
    return response;
  }

  absl::StatusOr<notes::GetResponse> Get(appwire::CallContext&,
                                         const notes::GetRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = notes_.find(request.id());
    if (it == notes_.end()) {
      return absl::NotFoundError(absl::StrCat("no note with id ", request.id()));
    }
    notes::GetResponse response;
    *response.mutable_note() = it->second;
    return response;
  }

  absl::StatusOr<notes::ListResponse> List(appwire::CallContext&,
                                           const notes::ListRequest&) override {
    std::lock_guard<std::mutex> lock(mu_);
    notes::ListResponse response;
    for (const auto& entry : notes_) *response.add_notes() = entry.second;
    return response;
  }

  absl::Status Watch(appwire::CallContext& context, const notes::ListRequest&,
                     appwire::ServerWriter<notes::Note>& writer) override {
    std::map<uint64_t, notes::Note> snapshot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      snapshot = notes_;
    }
    for (const auto& entry : snapshot) {
      // False once the client cancelled or went away: stop there.
      if (!writer.Write(entry.second)) return context.cancel_reason();
    }
    context.AddTrailer("x-notes-sent", std::to_string(snapshot.size()));
    return absl::OkStatus();
  }

 private:
  std::mutex mu_;
  std::map<uint64_t, notes::Note> notes_;
  uint64_t next_id_ = 1;
};

int main(int argc, char** argv) {
  std::string project_dir;
  int port = 0;
  if (!examples::ParseServerArgs(argc, argv, "notes_server PROJECT_DIR [PORT]", appwire::kDefaultPort,
                                 &project_dir, &port)) {
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  NotesService service;
  auto registry = std::make_shared<appwire::ServiceRegistry>();
  if (absl::Status status = service.RegisterWith(*registry); !status.ok()) {
    appwire::LogError(status.message());
    return 1;
  }
  appwire::ServerOptions options;
  options.project_dir = project_dir;
  options.port = port;
  auto server = appwire::Server::Create(options, registry);
  if (!server.ok()) {
    appwire::LogError(server.status().message());
    return 1;
  }
  if (absl::Status started = (*server)->Start(); !started.ok()) {
    appwire::LogError(started.message());
    return 1;
  }
  std::printf("notes_server listening on %s\n", (*server)->listen_address().c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  (*server)->Drain();
  return 0;
}
