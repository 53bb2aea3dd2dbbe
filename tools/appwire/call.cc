// `appwire call HOST:PORT pkg.Service/Method -d JSON --proto FILE`: the
// grpcurl of appwire. The method's types come from .proto files (protobuf's
// own parser, google::protobuf::compiler::Importer); requests are JSON
// mapped to protobuf by protobuf's JSON mapping (util::JsonStringToMessage)
// and replies printed the same way, one JSON document per message. All four
// kinds of method: a streaming call takes a JSON array of requests (or one
// object) and prints each reply as it comes.
#include <algorithm>
#include <cstdio>
#include <set>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/compiler/importer.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "appwire/client/channel.h"
#include "appwire/client/client_stream.h"
#include "appwire/common/files.h"
#include "appwire/v1/builtin.pb.h"
#include "tools/appwire/client_flags.h"
#include "tools/appwire/command.h"

namespace appwire::cli {
namespace {

namespace pb = ::google::protobuf;

// Collects the parser's errors as "FILE:LINE:COLUMN: message".
class ProtoErrors : public pb::compiler::MultiFileErrorCollector {
 public:
  void AddError(const std::string& file, int line, int column,
                const std::string& message) override {
    errors_.push_back(absl::StrCat(file, ":", line + 1, ":", column + 1, ": ", message));
  }
  std::string Text() const { return absl::StrJoin(errors_, "; "); }

 private:
  std::vector<std::string> errors_;
};

// The method and message types: from .proto files (--proto FILE, repeated;
// imports under -I DIR, or beside the file when no -I is given), or from
// the server's appwire.v1.Reflection when no --proto is given.
struct Protos {
  pb::compiler::DiskSourceTree tree;
  ProtoErrors errors;
  std::unique_ptr<pb::compiler::Importer> importer;
  std::unique_ptr<pb::DescriptorPool> reflected;
  std::vector<const pb::FileDescriptor*> files;  // the files named (or received), parsed
  const pb::DescriptorPool* pool() const {
    return importer != nullptr ? importer->pool() : reflected.get();
  }
};

// The files that define `symbol`, asked of the server (dependencies first).
absl::Status LoadFromReflection(Channel& channel, const std::string& symbol,
                                absl::Duration timeout, Protos* protos) {
  v1::FileContainingRequest request;
  request.set_symbol(symbol);
  CallOptions options;
  options.timeout = timeout;
  absl::StatusOr<v1::FileContainingResponse> files =
      channel.Call<v1::FileContainingResponse>("appwire.v1.Reflection/FileContaining", request,
                                               options);
  if (!files.ok()) {
    return absl::Status(files.status().code(),
                        absl::StrCat("the server's reflection (no --proto given): ",
                                     files.status().message()));
  }
  if (protos->reflected == nullptr) protos->reflected = std::make_unique<pb::DescriptorPool>();
  for (const std::string& bytes : files->file_descriptor_protos()) {
    pb::FileDescriptorProto proto;
    if (!proto.ParseFromString(bytes)) {
      return absl::DataLossError("the server's reflection sent a file descriptor that does not parse");
    }
    if (protos->reflected->FindFileByName(proto.name()) != nullptr) continue;
    const pb::FileDescriptor* file = protos->reflected->BuildFile(proto);
    if (file == nullptr) {
      return absl::DataLossError(absl::StrCat("the server's reflection sent ", proto.name(),
                                              ", which does not build"));
    }
    protos->files.push_back(file);
  }
  return absl::OkStatus();
}

absl::Status LoadProtos(const Arguments& a, Protos* protos) {
  const std::vector<std::string> files = a.All("proto");
  if (files.empty()) {
    return absl::InvalidArgumentError(
        "give the method's .proto file with --proto FILE (and -I DIR for its imports)");
  }
  const std::vector<std::string> roots = a.All("import-path");
  for (const std::string& root : roots) protos->tree.MapPath("", root);
  protos->importer = std::make_unique<pb::compiler::Importer>(&protos->tree, &protos->errors);
  for (const std::string& file : files) {
    std::string relative = file;
    if (roots.empty()) {
      // Beside the file: its folder is the root of its imports.
      const size_t slash = file.rfind('/');
      protos->tree.MapPath("", slash == std::string::npos ? "." : file.substr(0, slash));
      relative = slash == std::string::npos ? file : file.substr(slash + 1);
    } else if (std::string disk; !protos->tree.VirtualFileToDiskFile(relative, &disk)) {
      // A path on disk under one of the -I roots: the name inside it.
      std::string shadowing;
      if (protos->tree.DiskFileToVirtualFile(file, &relative, &shadowing) !=
          pb::compiler::DiskSourceTree::SUCCESS) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--proto ", file, " is not under any -I folder (", absl::StrJoin(roots, ", "),
            "); give it relative to one, or add its folder with -I"));
      }
    }
    const pb::FileDescriptor* parsed = protos->importer->Import(relative);
    if (parsed == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot read --proto ", file, ": ",
          protos->errors.Text().empty() ? "no such file" : protos->errors.Text()));
    }
    protos->files.push_back(parsed);
  }
  return absl::OkStatus();
}

// "pkg.Service/Method" in the parsed files.
absl::StatusOr<const pb::MethodDescriptor*> FindMethod(const Protos& protos,
                                                       const std::string& path) {
  const size_t slash = path.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == path.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", path, "\" is not package.Service/Method"));
  }
  const pb::DescriptorPool* pool = protos.pool();
  const pb::ServiceDescriptor* service = pool->FindServiceByName(path.substr(0, slash));
  const pb::MethodDescriptor* method =
      service != nullptr ? service->FindMethodByName(path.substr(slash + 1)) : nullptr;
  if (method != nullptr) return method;
  return absl::NotFoundError(absl::StrCat(
      "no method ", path, " in the .proto files given", service == nullptr ? "" : " (the service "
      "is there, the method is not)"));
}

// The request messages -d gives: a JSON object, or an array of them for a
// streaming call; "@FILE" reads FILE, "@-" stdin; no -d is "{}".
absl::StatusOr<std::vector<std::string>> RequestJson(const Arguments& a) {
  std::string text = a.Get("data", "{}");
  if (text == "@-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else if (!text.empty() && text[0] == '@') {
    absl::StatusOr<std::string> file = ReadFile(text.substr(1));
    if (!file.ok()) return file.status();
    text = *std::move(file);
  }
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !(parsed.is_object() || parsed.is_array())) {
    return absl::InvalidArgumentError(
        "-d is not a JSON object (or an array of them for a streaming call)");
  }
  std::vector<std::string> requests;
  if (parsed.is_object()) {
    requests.push_back(parsed.dump());
  } else {
    for (const nlohmann::json& element : parsed) requests.push_back(element.dump());
  }
  return requests;
}

// JSON to the wire bytes of `type`.
absl::StatusOr<std::string> ToWire(const std::string& json, const pb::Message& prototype) {
  std::unique_ptr<pb::Message> message(prototype.New());
  const auto status = pb::util::JsonStringToMessage(json, message.get());
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("the request ", json, " does not map to ",
                                                   prototype.GetDescriptor()->full_name(), ": ",
                                                   std::string(status.message())));
  }
  return message->SerializeAsString();
}

// Wire bytes of `type` to printed JSON.
absl::Status PrintReply(const std::string& bytes, const pb::Message& prototype) {
  std::unique_ptr<pb::Message> message(prototype.New());
  if (!message->ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("the reply is not a ",
                                            prototype.GetDescriptor()->full_name(),
                                            ": does the server have another .proto?"));
  }
  pb::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status = pb::util::MessageToJsonString(*message, &json, options);
  if (!status.ok()) return absl::InternalError(std::string(status.message()));
  std::fputs(json.c_str(), stdout);
  std::fflush(stdout);
  return absl::OkStatus();
}

// "-H name:value" as metadata.
absl::StatusOr<Metadata> HeaderFlags(const Arguments& a) {
  Metadata metadata;
  for (const std::string& header : a.All("header")) {
    const size_t colon = header.find(':');
    if (colon == std::string::npos || colon == 0) {
      return absl::InvalidArgumentError(absl::StrCat("-H ", header, ": write name:value"));
    }
    std::string value = header.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    metadata.emplace(header.substr(0, colon), value);
  }
  return metadata;
}

// A call's failure with its status code first, as grpcurl prints it.
int FailCall(const absl::Status& status) {
  std::fprintf(stderr, "appwire: %s: %s\n", absl::StatusCodeToString(status.code()).c_str(),
               std::string(status.message()).c_str());
  return kExitFailed;
}

int RunCall(const Arguments& a) {
  if (a.positional.size() < 2) return Usage(kCall, "give HOST:PORT and package.Service/Method");
  absl::Duration timeout;
  absl::StatusOr<ChannelOptions> options =
      ChannelOptionsFromFlags(a, a.positional[0], absl::Seconds(10), &timeout);
  if (!options.ok()) return Usage(kCall, std::string(options.status().message()));
  absl::StatusOr<Metadata> metadata = HeaderFlags(a);
  if (!metadata.ok()) return Usage(kCall, std::string(metadata.status().message()));
  absl::StatusOr<std::vector<std::string>> requests = RequestJson(a);
  if (!requests.ok()) return Usage(kCall, std::string(requests.status().message()));
  Protos protos;
  std::shared_ptr<Channel> channel;
  if (!a.All("proto").empty()) {
    if (absl::Status loaded = LoadProtos(a, &protos); !loaded.ok()) return Fail(loaded);
  } else {
    absl::StatusOr<std::shared_ptr<Channel>> connected = Channel::Connect(*options);
    if (!connected.ok()) return FailCall(connected.status());
    channel = *std::move(connected);
    absl::Status loaded = LoadFromReflection(*channel, a.positional[1], timeout, &protos);
    if (!loaded.ok()) return FailCall(loaded);
  }
  absl::StatusOr<const pb::MethodDescriptor*> method = FindMethod(protos, a.positional[1]);
  if (!method.ok()) return Fail(method.status());
  const bool client_streams = (*method)->client_streaming();
  const bool server_streams = (*method)->server_streaming();
  if (!client_streams && requests->size() != 1) {
    return Usage(kCall, absl::StrCat(a.positional[1], " takes one request, not ",
                                     requests->size()));
  }
  pb::DynamicMessageFactory factory(protos.pool());
  const pb::Message& request_type = *factory.GetPrototype((*method)->input_type());
  const pb::Message& reply_type = *factory.GetPrototype((*method)->output_type());
  std::vector<std::string> wire;
  for (const std::string& json : *requests) {
    absl::StatusOr<std::string> bytes = ToWire(json, request_type);
    if (!bytes.ok()) return Fail(bytes.status());
    wire.push_back(*std::move(bytes));
  }

  if (channel == nullptr) {
    absl::StatusOr<std::shared_ptr<Channel>> connected = Channel::Connect(*options);
    if (!connected.ok()) return FailCall(connected.status());
    channel = *std::move(connected);
  }
  CallOptions call;
  call.timeout = timeout;
  call.metadata = *metadata;
  const std::string& path = a.positional[1];
  if (!client_streams && !server_streams) {
    absl::StatusOr<std::string> reply = channel->CallRaw(path, wire[0], call);
    if (!reply.ok()) return FailCall(reply.status());
    absl::Status printed = PrintReply(*reply, reply_type);
    return printed.ok() ? kExitOk : Fail(printed);
  }
  const MethodKind kind = client_streams && server_streams ? MethodKind::kBidiStreaming
                          : client_streams                 ? MethodKind::kClientStreaming
                                                           : MethodKind::kServerStreaming;
  std::unique_ptr<ClientStream> stream =
      channel->OpenStream(path, kind, server_streams && !client_streams ? wire[0] : "", call);
  if (client_streams) {
    for (const std::string& bytes : wire) {
      if (!stream->Write(bytes)) break;  // the call ended: Finish says why
    }
    stream->WritesDone();
  }
  std::string message;
  while (server_streams && stream->Read(&message)) {
    if (absl::Status printed = PrintReply(message, reply_type); !printed.ok()) {
      stream->Cancel();
      return Fail(printed);
    }
  }
  absl::Status finished = stream->Finish();
  if (!finished.ok()) return FailCall(finished);
  if (!server_streams) {
    absl::Status printed = PrintReply(stream->response(), reply_type);
    if (!printed.ok()) return Fail(printed);
  }
  return kExitOk;
}

// "unary", "server streaming", ... as people say them.
const char* KindWords(const pb::MethodDescriptor& method) {
  if (method.client_streaming() && method.server_streaming()) return "bidirectional streaming";
  if (method.client_streaming()) return "client streaming";
  if (method.server_streaming()) return "server streaming";
  return "unary";
}

// Every service of the files given (and of what they import), sorted.
std::vector<const pb::ServiceDescriptor*> Services(const Protos& protos) {
  std::vector<const pb::ServiceDescriptor*> services;
  std::vector<const pb::FileDescriptor*> pending = protos.files;
  std::set<const pb::FileDescriptor*> seen;
  while (!pending.empty()) {
    const pb::FileDescriptor* file = pending.back();
    pending.pop_back();
    if (!seen.insert(file).second) continue;
    for (int i = 0; i < file->service_count(); ++i) services.push_back(file->service(i));
    for (int i = 0; i < file->dependency_count(); ++i) pending.push_back(file->dependency(i));
  }
  std::sort(services.begin(), services.end(), [](const auto* x, const auto* y) {
    return x->full_name() < y->full_name();
  });
  return services;
}

// list and describe read the .proto files (--proto), or ask the server's
// reflection (HOST:PORT first, then the trust flags). `symbol_at` is the
// positional index of the symbol in the --proto form; ("" when absent).
struct Source {
  Protos protos;
  std::shared_ptr<Channel> channel;
  absl::Duration timeout;
  std::string symbol;
};
int OpenSource(const Subcommand& sub, const Arguments& a, bool symbol_required, Source* source) {
  const bool files = !a.All("proto").empty();
  const size_t symbol_at = files ? 0 : 1;
  if (!files && a.positional.empty()) {
    return Usage(sub, "give --proto FILE, or HOST:PORT to ask the server's reflection");
  }
  if (files && a.positional.size() > 1) {
    return Usage(sub, absl::StrCat("unexpected argument \"", a.positional[1], "\""));
  }
  if (a.positional.size() > symbol_at) source->symbol = a.positional[symbol_at];
  if (symbol_required && source->symbol.empty()) {
    return Usage(sub, "give a service, method or message name");
  }
  if (files) {
    if (absl::Status loaded = LoadProtos(a, &source->protos); !loaded.ok()) return Fail(loaded);
    return -1;
  }
  absl::StatusOr<ChannelOptions> options =
      ChannelOptionsFromFlags(a, a.positional[0], absl::Seconds(10), &source->timeout);
  if (!options.ok()) return Usage(sub, std::string(options.status().message()));
  absl::StatusOr<std::shared_ptr<Channel>> channel = Channel::Connect(*options);
  if (!channel.ok()) return FailCall(channel.status());
  source->channel = *std::move(channel);
  if (!source->symbol.empty()) {
    absl::Status loaded =
        LoadFromReflection(*source->channel, source->symbol, source->timeout, &source->protos);
    if (!loaded.ok()) return FailCall(loaded);
  }
  return -1;  // go on
}

int RunList(const Arguments& a) {
  Source source;
  if (int done = OpenSource(kList, a, /*symbol_required=*/false, &source); done >= 0) return done;
  if (source.symbol.empty()) {
    if (source.channel != nullptr) {
      CallOptions options;
      options.timeout = source.timeout;
      absl::StatusOr<v1::ListServicesResponse> services =
          source.channel->Call<v1::ListServicesResponse>("appwire.v1.Reflection/ListServices",
                                                         v1::ListServicesRequest(), options);
      if (!services.ok()) return FailCall(services.status());
      for (const std::string& service : services->services()) std::printf("%s\n", service.c_str());
      return kExitOk;
    }
    for (const pb::ServiceDescriptor* service : Services(source.protos)) {
      std::printf("%s\n", service->full_name().c_str());
    }
    return kExitOk;
  }
  const pb::ServiceDescriptor* service = source.protos.pool()->FindServiceByName(source.symbol);
  if (service == nullptr) {
    return Fail(absl::NotFoundError(
        absl::StrCat("no service ", source.symbol, " in the .proto files given")));
  }
  for (int i = 0; i < service->method_count(); ++i) {
    const pb::MethodDescriptor& method = *service->method(i);
    std::printf("%s/%s  %s  %s -> %s\n", service->full_name().c_str(), method.name().c_str(),
                KindWords(method), method.input_type()->full_name().c_str(),
                method.output_type()->full_name().c_str());
  }
  return kExitOk;
}

int RunDescribe(const Arguments& a) {
  Source source;
  if (int done = OpenSource(kDescribe, a, /*symbol_required=*/true, &source); done >= 0) {
    return done;
  }
  std::string symbol = source.symbol;
  std::replace(symbol.begin(), symbol.end(), '/', '.');  // pkg.Service/Method
  const pb::DescriptorPool& pool = *source.protos.pool();
  std::string text;
  if (const auto* service = pool.FindServiceByName(symbol)) text = service->DebugString();
  else if (const auto* method = pool.FindMethodByName(symbol)) text = method->DebugString();
  else if (const auto* message = pool.FindMessageTypeByName(symbol)) text = message->DebugString();
  else if (const auto* enumeration = pool.FindEnumTypeByName(symbol)) text = enumeration->DebugString();
  if (text.empty()) {
    return Fail(absl::NotFoundError(absl::StrCat(
        "no service, method, message or enum ", source.symbol, " in the .proto files given")));
  }
  std::fputs(text.c_str(), stdout);
  return kExitOk;
}

std::vector<FlagSpec> ProtoFlags() {
  return {{"proto", Kind::kRepeated}, {"import-path", Kind::kRepeated, 'I'}};
}

// list and describe: the .proto files, or a server and how to trust it.
std::vector<FlagSpec> SourceFlags() {
  std::vector<FlagSpec> flags = ClientFlags();
  for (const FlagSpec& flag : ProtoFlags()) flags.push_back(flag);
  return flags;
}

std::vector<FlagSpec> CallFlags() {
  std::vector<FlagSpec> flags = ClientFlags();
  flags.push_back({"data", Kind::kValue, 'd'});
  for (const FlagSpec& flag : ProtoFlags()) flags.push_back(flag);
  flags.push_back({"header", Kind::kRepeated, 'H'});
  return flags;
}

}  // namespace

const Subcommand kCall = {
    "call",
    "call HOST:PORT package.Service/Method [-d JSON | -d @FILE | -d @-] [--proto FILE [-I DIR]] "
    "[-H name:value] (--ca FILE | --pin SHA256:.. | --client DIR | --system-trust) "
    "[--server-name NAME] [--timeout 10s]",
    "Calls a method as a client does and prints the reply as JSON (protobuf's JSON mapping).\n"
    "The types come from --proto (repeatable; imports under -I DIR, or beside the file), or,\n"
    "without it, from the server's appwire.v1.Reflection.\n"
    "-d is the request as JSON (default {}); a streaming call takes an array of requests\n"
    "and prints each reply as it comes. -H adds metadata. A failed call prints\n"
    "\"appwire: CODE: message\" on stderr and exits 1.",
    &RunCall,
    CallFlags(),
    /*max_positional=*/2};

const Subcommand kList = {
    "list",
    "list HOST:PORT [SERVICE] (trust flags) | list [SERVICE] --proto FILE [-I DIR]",
    "Lists the services a server serves (its appwire.v1.Reflection), or those of .proto files\n"
    "(and of what they import); with SERVICE, its methods with their kind and types.",
    &RunList,
    SourceFlags(),
    /*max_positional=*/2};

const Subcommand kDescribe = {
    "describe",
    "describe HOST:PORT SYMBOL (trust flags) | describe SYMBOL --proto FILE [-I DIR]",
    "Prints the definition of a service, a method (package.Service/Method), a message or an\n"
    "enum, as the server's reflection or the .proto files give it.",
    &RunDescribe,
    SourceFlags(),
    /*max_positional=*/2};

}  // namespace appwire::cli
