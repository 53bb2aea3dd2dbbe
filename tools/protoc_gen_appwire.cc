// protoc-gen-appwire: generates typed client stubs and server base classes
// from the `service` definitions of a .proto file.
//
//   protoc --plugin=protoc-gen-appwire=PATH --cpp_out=OUT --appwire_out=OUT inventory.proto
//
// writes, next to protoc's inventory.pb.h:
//   inventory.appwire.h, .appwire.cc                  the client's stubs; include
//                                                     appwire/client/ headers only
//   inventory.appwire_service.h, .appwire_service.cc  the server's base classes;
//                                                     include appwire/server/ headers
// so that a client-only app never sees the server's headers or library.
// CMake users call appwire_add_proto_library() instead
// (cmake/appwire_generate.cmake). For
//
//   package inventory;
//   service Inventory {
//     rpc List(ListRequest) returns (ListReply);
//     rpc Watch(ListRequest) returns (stream Item);
//   }
//
// an app includes "inventory.appwire.h" and writes
//
//   inventory::Inventory::Stub stub(channel);
//   absl::StatusOr<inventory::ListReply> reply = stub.List(request);
//
// and a server includes "inventory.appwire_service.h", derives from
// inventory::Inventory::Service (a nested class that the client header only
// declares), overrides the methods it serves and calls RegisterWith(registry).
// docs/stubs.md shows every generated signature.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/compiler/code_generator.h>
#include <google/protobuf/compiler/plugin.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/printer.h>
#include <google/protobuf/io/zero_copy_stream.h>

namespace {

using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;
using google::protobuf::compiler::GeneratorContext;
using google::protobuf::io::Printer;
using Vars = std::map<std::string, std::string>;

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// "inventory.ListRequest" -> "::inventory::ListRequest" (nested messages
// have the same name as a nested typedef).
std::string CppType(const std::string& full_name) {
  return "::" + Replace(full_name, ".", "::");
}

std::string StripProto(const std::string& file) {
  const std::string suffix = ".proto";
  if (file.size() > suffix.size() &&
      file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return file.substr(0, file.size() - suffix.size());
  }
  return file;
}

Vars MethodVars(const ServiceDescriptor& service, const MethodDescriptor& method) {
  return {{"service", service.name()},
          {"full_service", service.full_name()},
          {"method", method.name()},
          {"full_method", service.full_name() + "/" + method.name()},
          {"request", CppType(method.input_type()->full_name())},
          {"response", CppType(method.output_type()->full_name())},
          {"request_proto", method.input_type()->full_name()},
          {"response_proto", method.output_type()->full_name()}};
}

// The four method kinds, in the order of the template tables below (and of
// appwire::MethodKind): unary, server streaming, client streaming, bidi.
int KindIndex(const MethodDescriptor& method) {
  return (method.server_streaming() ? 1 : 0) + (method.client_streaming() ? 2 : 0);
}

const char* const kKindNames[4] = {
    "::appwire::MethodKind::kUnary", "::appwire::MethodKind::kServerStreaming",
    "::appwire::MethodKind::kClientStreaming", "::appwire::MethodKind::kBidiStreaming"};

// Stub member declarations, per kind.
const char* const kStubDeclarations[4] = {
    "    // rpc $method$($request_proto$) returns ($response_proto$)\n"
    "    ::absl::StatusOr<$response$> $method$(\n"
    "        const $request$& request, const ::appwire::CallOptions& options = {});\n"
    "    // `done` runs once, on ChannelOptions::callback_executor if set.\n"
    "    void $method$Async(const $request$& request,\n"
    "        const ::appwire::CallOptions& options,\n"
    "        std::function<void(::absl::StatusOr<$response$>)> done);\n"
    "    std::future<::absl::StatusOr<$response$>> $method$Future(\n"
    "        const $request$& request, const ::appwire::CallOptions& options = {});\n",

    "    // rpc $method$($request_proto$) returns (stream $response_proto$)\n"
    "    std::unique_ptr<::appwire::ClientReader<$response$>> $method$(\n"
    "        const $request$& request, const ::appwire::CallOptions& options = {});\n",

    "    // rpc $method$(stream $request_proto$) returns ($response_proto$)\n"
    "    std::unique_ptr<::appwire::ClientWriter<$request$, $response$>> $method$(\n"
    "        const ::appwire::CallOptions& options = {});\n",

    "    // rpc $method$(stream $request_proto$) returns (stream $response_proto$)\n"
    "    std::unique_ptr<::appwire::ClientReaderWriter<$request$, $response$>>\n"
    "    $method$(const ::appwire::CallOptions& options = {});\n",
};

// Stub member definitions (the .appwire.cc file), per kind.
const char* const kStubDefinitions[4] = {
    "::absl::StatusOr<$response$> $service$::Stub::$method$(\n"
    "    const $request$& request, const ::appwire::CallOptions& options) {\n"
    "  return channel_->Call<$response$>(\"$full_method$\", request, options);\n"
    "}\n"
    "\n"
    "void $service$::Stub::$method$Async(const $request$& request,\n"
    "    const ::appwire::CallOptions& options,\n"
    "    std::function<void(::absl::StatusOr<$response$>)> done) {\n"
    "  channel_->CallAsync<$response$>(\"$full_method$\", request, options,\n"
    "                                  std::move(done));\n"
    "}\n"
    "\n"
    "std::future<::absl::StatusOr<$response$>> $service$::Stub::$method$Future(\n"
    "    const $request$& request, const ::appwire::CallOptions& options) {\n"
    "  return channel_->CallFuture<$response$>(\"$full_method$\", request, options);\n"
    "}\n\n",

    "std::unique_ptr<::appwire::ClientReader<$response$>> $service$::Stub::$method$(\n"
    "    const $request$& request, const ::appwire::CallOptions& options) {\n"
    "  return std::make_unique<::appwire::ClientReader<$response$>>(\n"
    "      channel_->OpenStream(\"$full_method$\", $kind$,\n"
    "                           request.SerializeAsString(), options));\n"
    "}\n\n",

    "std::unique_ptr<::appwire::ClientWriter<$request$, $response$>>\n"
    "$service$::Stub::$method$(const ::appwire::CallOptions& options) {\n"
    "  return std::make_unique<::appwire::ClientWriter<$request$, $response$>>(\n"
    "      channel_->OpenStream(\"$full_method$\", $kind$, \"\", options));\n"
    "}\n\n",

    "std::unique_ptr<::appwire::ClientReaderWriter<$request$, $response$>>\n"
    "$service$::Stub::$method$(const ::appwire::CallOptions& options) {\n"
    "  return std::make_unique<::appwire::ClientReaderWriter<$request$, $response$>>(\n"
    "      channel_->OpenStream(\"$full_method$\", $kind$, \"\", options));\n"
    "}\n\n",
};

// Service base class virtual declarations (the .appwire_service.h file), per
// kind.
const char* const kServiceDeclarations[4] = {
    "  // rpc $method$($request_proto$) returns ($response_proto$)\n"
    "  virtual ::absl::StatusOr<$response$> $method$(\n"
    "      ::appwire::CallContext& context, const $request$& request);\n",

    "  // rpc $method$($request_proto$) returns (stream $response_proto$)\n"
    "  virtual ::absl::Status $method$(::appwire::CallContext& context,\n"
    "      const $request$& request, ::appwire::ServerWriter<$response$>& writer);\n",

    "  // rpc $method$(stream $request_proto$) returns ($response_proto$)\n"
    "  virtual ::absl::StatusOr<$response$> $method$(\n"
    "      ::appwire::CallContext& context, ::appwire::ServerReader<$request$>& reader);\n",

    "  // rpc $method$(stream $request_proto$) returns (stream $response_proto$)\n"
    "  virtual ::absl::Status $method$(::appwire::CallContext& context,\n"
    "      ::appwire::ServerReaderWriter<$request$, $response$>& stream);\n",
};

// Their default definitions (the .appwire_service.cc file): "not
// implemented". The parameters stay unnamed, so that -Wunused-parameter
// (-Wall -Wextra) has nothing to say about generated code.
const char* const kServiceDefinitions[4] = {
    "::absl::StatusOr<$response$> $service$::Service::$method$(\n"
    "    ::appwire::CallContext& /*context*/, const $request$& /*request*/) {\n"
    "  return ::absl::UnimplementedError(\n"
    "      \"$full_method$ is not implemented by this server\");\n"
    "}\n\n",

    "::absl::Status $service$::Service::$method$(::appwire::CallContext& /*context*/,\n"
    "    const $request$& /*request*/, ::appwire::ServerWriter<$response$>& /*writer*/) {\n"
    "  return ::absl::UnimplementedError(\n"
    "      \"$full_method$ is not implemented by this server\");\n"
    "}\n\n",

    "::absl::StatusOr<$response$> $service$::Service::$method$(\n"
    "    ::appwire::CallContext& /*context*/, ::appwire::ServerReader<$request$>& /*reader*/) {\n"
    "  return ::absl::UnimplementedError(\n"
    "      \"$full_method$ is not implemented by this server\");\n"
    "}\n\n",

    "::absl::Status $service$::Service::$method$(::appwire::CallContext& /*context*/,\n"
    "    ::appwire::ServerReaderWriter<$request$, $response$>& /*stream*/) {\n"
    "  return ::absl::UnimplementedError(\n"
    "      \"$full_method$ is not implemented by this server\");\n"
    "}\n\n",
};

// RegisterWith() lines, per kind.
const char* const kRegistrations[4] = {
    "  status = registry.Register<$request$, $response$>(\"$full_method$\",\n"
    "      [this](::appwire::CallContext& context, const $request$& request) {\n"
    "        return $method$(context, request);\n"
    "      });\n"
    "  if (!status.ok()) return status;\n",

    "  status = registry.RegisterServerStreaming<$request$, $response$>(\n"
    "      \"$full_method$\",\n"
    "      [this](::appwire::CallContext& context, const $request$& request,\n"
    "             ::appwire::ServerWriter<$response$>& writer) {\n"
    "        return $method$(context, request, writer);\n"
    "      });\n"
    "  if (!status.ok()) return status;\n",

    "  status = registry.RegisterClientStreaming<$request$, $response$>(\n"
    "      \"$full_method$\",\n"
    "      [this](::appwire::CallContext& context,\n"
    "             ::appwire::ServerReader<$request$>& reader) {\n"
    "        return $method$(context, reader);\n"
    "      });\n"
    "  if (!status.ok()) return status;\n",

    "  status = registry.RegisterBidiStreaming<$request$, $response$>(\n"
    "      \"$full_method$\",\n"
    "      [this](::appwire::CallContext& context,\n"
    "             ::appwire::ServerReaderWriter<$request$, $response$>& stream) {\n"
    "        return $method$(context, stream);\n"
    "      });\n"
    "  if (!status.ok()) return status;\n",
};

// Prints `table[kind of each method]` for every method of `service`, with
// `between` before each.
void PrintPerMethod(const ServiceDescriptor& service, const char* const table[4],
                    const char* between, Printer& out) {
  for (int i = 0; i < service.method_count(); ++i) {
    const MethodDescriptor& method = *service.method(i);
    Vars vars = MethodVars(service, method);
    vars["kind"] = kKindNames[KindIndex(method)];
    out.Print(between);
    out.Print(vars, table[KindIndex(method)]);
  }
}

// The generated files of one .proto file: the names, the include guards
// and the namespaces of its package.
struct FileVars {
  explicit FileVars(const FileDescriptor& file) : base(StripProto(file.name())) {
    vars = {{"file", file.name()}, {"base", base}};
    for (size_t start = 0; !file.package().empty();) {
      size_t dot = file.package().find('.', start);
      namespaces.push_back(file.package().substr(start, dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  }

  // "inventory/inventory", "_APPWIRE_H_" ->
  // "APPWIRE_GENERATED_inventory_inventory_APPWIRE_H_".
  std::string Guard(const std::string& suffix) const {
    return "APPWIRE_GENERATED_" +
           Replace(Replace(Replace(base, "/", "_"), ".", "_"), "-", "_") + suffix;
  }

  std::string base;
  Vars vars;
  std::vector<std::string> namespaces;
};

void OpenNamespaces(const FileVars& names, Printer& out) {
  for (const std::string& name : names.namespaces) out.Print("namespace $n$ {\n", "n", name);
}

void CloseNamespaces(const FileVars& names, Printer& out) {
  for (auto it = names.namespaces.rbegin(); it != names.namespaces.rend(); ++it) {
    out.Print("}  // namespace $n$\n", "n", *it);
  }
}

// X.appwire.h: one class per service with its name, the client Stub and the
// declaration of the server's Service (defined in X.appwire_service.h). It
// includes client headers only, so that a client-only app needs neither
// appwire/server/ headers nor the server library (tests/generated_includes_test.cc).
void PrintClientHeader(const FileDescriptor& file, const FileVars& names, Printer& out) {
  Vars vars = names.vars;
  vars["guard"] = names.Guard("_APPWIRE_H_");
  out.Print(vars,
            "// Generated by protoc-gen-appwire from $file$. Do not edit.\n"
            "// The client side; the server's base classes are in $base$.appwire_service.h.\n"
            "#ifndef $guard$\n"
            "#define $guard$\n"
            "\n"
            "#include <functional>\n"
            "#include <future>\n"
            "#include <memory>\n"
            "#include <utility>\n"
            "\n"
            "#include \"absl/status/status.h\"\n"
            "#include \"absl/status/statusor.h\"\n"
            "#include \"appwire/client/channel.h\"\n"
            "#include \"appwire/client/client_stream.h\"\n"
            "#include \"$base$.pb.h\"\n\n");
  OpenNamespaces(names, out);
  for (int i = 0; i < file.service_count(); ++i) {
    const ServiceDescriptor& service = *file.service(i);
    Vars service_vars = vars;
    service_vars["name"] = service.name();
    service_vars["full"] = service.full_name();
    out.Print(service_vars,
              "\n"
              "// service $full$\n"
              "class $name$ final {\n"
              " public:\n"
              "  static constexpr char kServiceName[] = \"$full$\";\n"
              "\n"
              "  // The client side: typed calls over an appwire::Channel. Thread-safe;\n"
              "  // cheap to create and copy.\n"
              "  class Stub {\n"
              "   public:\n"
              "    explicit Stub(std::shared_ptr<::appwire::Channel> channel)\n"
              "        : channel_(std::move(channel)) {}\n");
    PrintPerMethod(service, kStubDeclarations, "\n", out);
    out.Print(service_vars,
              "\n"
              "   private:\n"
              "    std::shared_ptr<::appwire::Channel> channel_;\n"
              "  };\n"
              "\n"
              "  // The server side, defined in \"$base$.appwire_service.h\".\n"
              "  class Service;\n"
              "};\n");
  }
  out.Print("\n");
  CloseNamespaces(names, out);
  out.Print(vars, "\n#endif  // $guard$\n");
}

// X.appwire.cc: the Stub methods.
void PrintClientSource(const FileDescriptor& file, const FileVars& names, Printer& out) {
  out.Print(names.vars,
            "// Generated by protoc-gen-appwire from $file$. Do not edit.\n"
            "#include \"$base$.appwire.h\"\n"
            "\n"
            "#include \"appwire/common/method_kind.h\"\n\n");
  OpenNamespaces(names, out);
  out.Print("\n");
  for (int i = 0; i < file.service_count(); ++i) {
    PrintPerMethod(*file.service(i), kStubDefinitions, "", out);
  }
  CloseNamespaces(names, out);
}

// X.appwire_service.h: each service's Service, the server's base class.
void PrintServiceHeader(const FileDescriptor& file, const FileVars& names, Printer& out) {
  Vars vars = names.vars;
  vars["guard"] = names.Guard("_APPWIRE_SERVICE_H_");
  out.Print(vars,
            "// Generated by protoc-gen-appwire from $file$. Do not edit.\n"
            "// The server side; the client's stubs are in $base$.appwire.h.\n"
            "#ifndef $guard$\n"
            "#define $guard$\n"
            "\n"
            "#include \"absl/status/status.h\"\n"
            "#include \"absl/status/statusor.h\"\n"
            "#include \"appwire/server/call_context.h\"\n"
            "#include \"appwire/server/server_stream.h\"\n"
            "#include \"appwire/server/service_registry.h\"\n"
            "#include \"$base$.appwire.h\"\n"
            "#include \"$base$.pb.h\"\n\n");
  OpenNamespaces(names, out);
  for (int i = 0; i < file.service_count(); ++i) {
    const ServiceDescriptor& service = *file.service(i);
    out.Print("\n"
              "// service $full$\n"
              "//\n"
              "// The server side: derive, override the methods this server serves (the\n"
              "// others answer kUnimplemented) and RegisterWith() a ServiceRegistry\n"
              "// before Server::Start(). Unary methods run on the worker pool, streaming\n"
              "// ones on threads of their own, many at once.\n"
              "class $name$::Service {\n"
              " public:\n"
              "  virtual ~Service();\n",
              "full", service.full_name(), "name", service.name());
    PrintPerMethod(service, kServiceDeclarations, "\n", out);
    out.Print("\n"
              "  // Registers every method of this service. The service must outlive the\n"
              "  // server.\n"
              "  ::absl::Status RegisterWith(::appwire::ServiceRegistry& registry);\n"
              "};\n");
  }
  out.Print("\n");
  CloseNamespaces(names, out);
  out.Print(vars, "\n#endif  // $guard$\n");
}

// X.appwire_service.cc: the Service defaults and RegisterWith().
void PrintServiceSource(const FileDescriptor& file, const FileVars& names, Printer& out) {
  out.Print(names.vars,
            "// Generated by protoc-gen-appwire from $file$. Do not edit.\n"
            "#include \"$base$.appwire_service.h\"\n\n");
  OpenNamespaces(names, out);
  out.Print("\n");
  for (int i = 0; i < file.service_count(); ++i) {
    const ServiceDescriptor& service = *file.service(i);
    out.Print("$name$::Service::~Service() = default;\n\n", "name", service.name());
    PrintPerMethod(service, kServiceDefinitions, "", out);
    out.Print("::absl::Status $name$::Service::RegisterWith(::appwire::ServiceRegistry& registry) {\n"
              "  ::absl::Status status;\n",
              "name", service.name());
    PrintPerMethod(service, kRegistrations, "", out);
    out.Print("  return ::absl::OkStatus();\n"
              "}\n\n");
  }
  CloseNamespaces(names, out);
}

class AppwireGenerator : public google::protobuf::compiler::CodeGenerator {
 public:
  bool Generate(const FileDescriptor* file, const std::string& parameter,
                GeneratorContext* context, std::string* error) const override {
    if (!parameter.empty()) {
      *error = "protoc-gen-appwire takes no options (got \"" + parameter + "\")";
      return false;
    }
    const FileVars names(*file);
    using Writer = void (*)(const FileDescriptor&, const FileVars&, Printer&);
    const std::pair<const char*, Writer> outputs[] = {
        {".appwire.h", PrintClientHeader},
        {".appwire.cc", PrintClientSource},
        {".appwire_service.h", PrintServiceHeader},
        {".appwire_service.cc", PrintServiceSource},
    };
    for (const auto& [suffix, write] : outputs) {
      std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> stream(
          context->Open(names.base + suffix));
      Printer out(stream.get(), '$');
      write(*file, names, out);
    }
    return true;
  }
};

}  // namespace

int main(int argc, char* argv[]) {
  AppwireGenerator generator;
  return google::protobuf::compiler::PluginMain(argc, argv, &generator);
}
