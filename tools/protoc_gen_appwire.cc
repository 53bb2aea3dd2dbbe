// protoc-gen-appwire: generates typed client stubs and server base classes
// from the `service` definitions of a .proto file.
//
//   protoc --plugin=protoc-gen-appwire=PATH --cpp_out=OUT --appwire_out=OUT inventory.proto
//
// writes inventory.appwire.h and inventory.appwire.cc next to protoc's
// inventory.pb.h. CMake users call appwire_add_proto_library() instead
// (cmake/appwire_generate.cmake). For
//
//   package inventory;
//   service Inventory {
//     rpc List(ListRequest) returns (ListReply);
//     rpc Watch(WatchRequest) returns (stream Item);
//   }
//
// an app writes
//
//   inventory::Inventory::Stub stub(channel);
//   absl::StatusOr<inventory::ListReply> reply = stub.List(request);
//
// and a server derives from inventory::Inventory::Service, overrides the
// methods it serves and calls RegisterWith(registry). docs/stubs.md shows
// every generated signature.
#include <map>
#include <memory>
#include <string>

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

// Service base class virtuals, per kind; their default says "not implemented".
const char* const kServiceMethods[4] = {
    "    virtual ::absl::StatusOr<$response$> $method$(\n"
    "        ::appwire::CallContext& /*context*/, const $request$& /*request*/) {\n"
    "      return Unimplemented(\"$full_method$\");\n"
    "    }\n",

    "    virtual ::absl::Status $method$(::appwire::CallContext& /*context*/,\n"
    "        const $request$& /*request*/, ::appwire::ServerWriter<$response$>& /*writer*/) {\n"
    "      return Unimplemented(\"$full_method$\");\n"
    "    }\n",

    "    virtual ::absl::StatusOr<$response$> $method$(\n"
    "        ::appwire::CallContext& /*context*/, ::appwire::ServerReader<$request$>& /*reader*/) {\n"
    "      return Unimplemented(\"$full_method$\");\n"
    "    }\n",

    "    virtual ::absl::Status $method$(::appwire::CallContext& /*context*/,\n"
    "        ::appwire::ServerReaderWriter<$request$, $response$>& /*stream*/) {\n"
    "      return Unimplemented(\"$full_method$\");\n"
    "    }\n",
};

// RegisterWith() lines, per kind.
const char* const kRegistrations[4] = {
    "      status = registry.Register<$request$, $response$>(\"$full_method$\",\n"
    "          [this](::appwire::CallContext& context, const $request$& request) {\n"
    "            return $method$(context, request);\n"
    "          });\n"
    "      if (!status.ok()) return status;\n",

    "      status = registry.RegisterServerStreaming<$request$, $response$>(\n"
    "          \"$full_method$\",\n"
    "          [this](::appwire::CallContext& context, const $request$& request,\n"
    "                 ::appwire::ServerWriter<$response$>& writer) {\n"
    "            return $method$(context, request, writer);\n"
    "          });\n"
    "      if (!status.ok()) return status;\n",

    "      status = registry.RegisterClientStreaming<$request$, $response$>(\n"
    "          \"$full_method$\",\n"
    "          [this](::appwire::CallContext& context,\n"
    "                 ::appwire::ServerReader<$request$>& reader) {\n"
    "            return $method$(context, reader);\n"
    "          });\n"
    "      if (!status.ok()) return status;\n",

    "      status = registry.RegisterBidiStreaming<$request$, $response$>(\n"
    "          \"$full_method$\",\n"
    "          [this](::appwire::CallContext& context,\n"
    "                 ::appwire::ServerReaderWriter<$request$, $response$>& stream) {\n"
    "            return $method$(context, stream);\n"
    "          });\n"
    "      if (!status.ok()) return status;\n",
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

void PrintServiceClass(const ServiceDescriptor& service, Printer& out) {
  out.Print(
      "  // The client side: typed calls over an appwire::Channel. Thread-safe;\n"
      "  // cheap to create and copy.\n"
      "  class Stub {\n"
      "   public:\n"
      "    explicit Stub(std::shared_ptr<::appwire::Channel> channel)\n"
      "        : channel_(std::move(channel)) {}\n");
  PrintPerMethod(service, kStubDeclarations, "\n", out);
  out.Print(
      "\n"
      "   private:\n"
      "    std::shared_ptr<::appwire::Channel> channel_;\n"
      "  };\n"
      "\n"
      "  // The server side: derive, override the methods this server serves (the\n"
      "  // others answer kUnimplemented) and RegisterWith() a ServiceRegistry\n"
      "  // before Server::Start(). Unary methods run on the worker pool, streaming\n"
      "  // ones on threads of their own, many at once.\n"
      "  class Service {\n"
      "   public:\n"
      "    virtual ~Service() = default;\n");
  PrintPerMethod(service, kServiceMethods, "\n", out);
  out.Print(
      "\n"
      "    // Registers every method of this service. The service must outlive the\n"
      "    // server.\n"
      "    ::absl::Status RegisterWith(::appwire::ServiceRegistry& registry) {\n"
      "      ::absl::Status status;\n");
  PrintPerMethod(service, kRegistrations, "", out);
  out.Print(
      "      return ::absl::OkStatus();\n"
      "    }\n"
      "\n"
      "   private:\n"
      "    static ::absl::Status Unimplemented(const char* method) {\n"
      "      return ::absl::UnimplementedError(\n"
      "          ::absl::StrCat(method, \" is not implemented by this server\"));\n"
      "    }\n"
      "  };\n");
}

class AppwireGenerator : public google::protobuf::compiler::CodeGenerator {
 public:
  bool Generate(const FileDescriptor* file, const std::string& parameter,
                GeneratorContext* context, std::string* error) const override {
    const std::string base = StripProto(file->name());
    const std::string guard =
        "APPWIRE_GENERATED_" +
        Replace(Replace(Replace(base, "/", "_"), ".", "_"), "-", "_") + "_APPWIRE_H_";
    std::vector<std::string> namespaces;
    for (size_t start = 0; !file->package().empty();) {
      size_t dot = file->package().find('.', start);
      namespaces.push_back(file->package().substr(start, dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    Vars vars = {{"file", file->name()}, {"base", base}, {"guard", guard}};
    {
      std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> stream(
          context->Open(base + ".appwire.h"));
      Printer out(stream.get(), '$');
      out.Print(vars,
                "// Generated by protoc-gen-appwire from $file$. Do not edit.\n"
                "#ifndef $guard$\n"
                "#define $guard$\n"
                "\n"
                "#include <functional>\n"
                "#include <future>\n"
                "#include <memory>\n"
                "\n"
                "#include \"absl/status/status.h\"\n"
                "#include \"absl/status/statusor.h\"\n"
                "#include \"absl/strings/str_cat.h\"\n"
                "#include \"appwire/client/channel.h\"\n"
                "#include \"appwire/server/service_registry.h\"\n"
                "#include \"$base$.pb.h\"\n\n");
      for (const std::string& name : namespaces) out.Print("namespace $n$ {\n", "n", name);
      for (int i = 0; i < file->service_count(); ++i) {
        const ServiceDescriptor& service = *file->service(i);
        out.Print("\n// service $full$\n", "full", service.full_name());
        out.Print("class $name$ final {\n public:\n", "name", service.name());
        out.Print("  static constexpr char kServiceName[] = \"$full$\";\n\n", "full",
                  service.full_name());
        PrintServiceClass(service, out);
        out.Print("};\n");
      }
      out.Print("\n");
      for (auto it = namespaces.rbegin(); it != namespaces.rend(); ++it) {
        out.Print("}  // namespace $n$\n", "n", *it);
      }
      out.Print(vars, "\n#endif  // $guard$\n");
    }
    {
      std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> stream(
          context->Open(base + ".appwire.cc"));
      Printer out(stream.get(), '$');
      out.Print(vars,
                "// Generated by protoc-gen-appwire from $file$. Do not edit.\n"
                "#include \"$base$.appwire.h\"\n\n");
      for (const std::string& name : namespaces) out.Print("namespace $n$ {\n", "n", name);
      out.Print("\n");
      for (int i = 0; i < file->service_count(); ++i) {
        PrintPerMethod(*file->service(i), kStubDefinitions, "", out);
      }
      for (auto it = namespaces.rbegin(); it != namespaces.rend(); ++it) {
        out.Print("}  // namespace $n$\n", "n", *it);
      }
    }
    (void)parameter;
    (void)error;
    return true;
  }
};

}  // namespace

int main(int argc, char* argv[]) {
  AppwireGenerator generator;
  return google::protobuf::compiler::PluginMain(argc, argv, &generator);
}
