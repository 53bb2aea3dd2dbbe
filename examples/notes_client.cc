// The desktop side of the notes service, through the stub generated from
// notes.proto: add two notes concurrently (futures), list them, watch them
// arrive one by one (a server stream), then ask for a missing one with a
// deadline.
//
//   notes_client --target 127.0.0.1:19813 --ca PROJECT/cert.pem
#include <cstdio>
#include <string>

#include "appwire/client/channel.h"
#include "example_args.h"
#include "examples/notes.appwire.h"

namespace notes = examples::notes;

int main(int argc, char** argv) {
  appwire::ChannelOptions options;
  options.target = "localhost:19813";
  if (!examples::ParseArgs(argc, argv, "notes_client --target HOST:PORT (--ca FILE | --pin SHA256:..)",
                           {{"--target", &options.target},
                            {"--ca", &options.ca_file},
                            {"--pin", &options.pinned_sha256}})) {
    return 2;
  }
  auto channel = appwire::Channel::Connect(options);
  if (!channel.ok()) {
    std::fprintf(stderr, "notes_client: %s\n", channel.status().ToString().c_str());
    return 1;
  }
  notes::Notes::Stub stub(*channel);

  // Two calls in flight at once on one connection.
  notes::AddRequest first;
  first.set_title("Ship appwire");
  first.set_body("TLS 1.3 between the desktop and the server");
  notes::AddRequest second;
  second.set_title("Buy coffee");
  auto a = stub.AddFuture(first);
  auto b = stub.AddFuture(second);
  for (auto* future : {&a, &b}) {
    absl::StatusOr<notes::AddResponse> added = future->get();
    if (!added.ok()) {
      std::fprintf(stderr, "notes_client: add failed: %s\n", added.status().ToString().c_str());
      return 1;
    }
    std::printf("added note %llu\n", static_cast<unsigned long long>(added->id()));
  }

  auto list = stub.List(notes::ListRequest());
  if (!list.ok()) {
    std::fprintf(stderr, "notes_client: list failed: %s\n", list.status().ToString().c_str());
    return 1;
  }
  for (const notes::Note& note : list->notes()) {
    std::printf("  #%llu %s (from %s)\n", static_cast<unsigned long long>(note.id()),
                note.title().c_str(), note.author().c_str());
  }

  std::unique_ptr<appwire::ClientReader<notes::Note>> watch = stub.Watch(notes::ListRequest());
  notes::Note streamed;
  int count = 0;
  while (watch->Read(&streamed)) ++count;
  absl::Status watched = watch->Finish();
  auto sent = watch->trailers().find("x-notes-sent");
  std::printf("watch: %d notes streamed (%s), server says %s\n", count,
              watched.ToString().c_str(),
              sent == watch->trailers().end() ? "nothing" : sent->second.c_str());

  notes::GetRequest missing;
  missing.set_id(999);
  appwire::CallOptions call_options;
  call_options.timeout = absl::Seconds(2);
  auto got = stub.Get(missing, call_options);
  std::printf("get #999: %s\n", got.ok() ? "found" : got.status().ToString().c_str());
  return 0;
}
