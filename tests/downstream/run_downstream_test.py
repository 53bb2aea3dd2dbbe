#!/usr/bin/env python3
"""appwire as a downstream project sees it: installed, then used.

    run_downstream_test.py VARIANT --build B --source S --server BIN --work W

Installs the build tree B (cmake --install) into W/prefix, then checks one
VARIANT:

  symbols              the shared libraries: SONAME, and a dynamic symbol
                       table holding the public API only (no wolfSSL, no
                       Asio, no internal appwire symbol); the server library
                       holds no copy of the process-wide state it shares
                       with the client library
  headers              each installed header compiles alone against the
                       prefix (C++17; the C API also as C99), includes only
                       installed headers, and nothing internal is installed
  find_package_shared  tests/downstream built with find_package(appwire):
                       the shared libraries
  find_package_static  the same with APPWIRE_USE_STATIC_LIBS=ON
  pkg_config           echo_app built by hand from `pkg-config appwire-client`,
                       shared and (--static) static
  add_subdirectory     tests/downstream with appwire's source tree as a
                       subproject (static)

Each build's programs run against a real appwire-server (BIN) started on a
temporary project folder: echo_app calls Echo and Health and must print
their replies; greeter_app serves and calls a service of its own in one
process; openssl_app makes a TLS call with OpenSSL and one with appwire in
one process. Exit status 0 when every check passed; otherwise each failed
check is printed with what was expected and what happened.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

FAILURES = []
TIMEOUT = 600  # seconds for any one command: a hang guard, not a measure


def fail(message):
    FAILURES.append(message)
    print("FAILED: " + message, file=sys.stderr)


def run(args, cwd=None, env=None, check=True):
    """Runs a command, returning (exit status, stdout, stderr)."""
    print("+ " + " ".join(args), flush=True)
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=TIMEOUT)
    if check and result.returncode != 0:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        raise SystemExit("command failed (exit %d): %s" % (result.returncode, " ".join(args)))
    return result.returncode, result.stdout, result.stderr


class AppwireServer:
    """appwire-server on a new project folder, port chosen by the kernel."""

    def __init__(self, binary, work):
        self.project = os.path.join(work, "server-project")
        os.makedirs(self.project, exist_ok=True)
        self.log_path = os.path.join(work, "server.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [binary, "--project", self.project, "--port", "0", "--bind", "127.0.0.1"],
            stdout=self.log, stderr=self.log)
        self.address = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            with open(self.log_path) as f:
                match = re.search(r"listening on (\S+)", f.read())
            if match:
                self.address = match.group(1)
                break
            time.sleep(0.1)
        if self.address is None:
            self.stop()
            with open(self.log_path) as f:
                raise SystemExit("appwire-server did not start; its log:\n" + f.read())
        self.ca_file = os.path.join(self.project, "cert.pem")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def needed_libraries(binary):
    _, out, _ = run(["readelf", "-d", binary])
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def check_links(binary, shared):
    """The program links libappwire_*.so.0 (shared) or none of them (static),
    and never a wolfSSL library: wolfSSL is inside appwire. Returns what it
    needs."""
    needed = needed_libraries(binary)
    appwire = [n for n in needed if n.startswith("libappwire")]
    name = os.path.basename(binary)
    if shared and "libappwire_client.so.0" not in appwire:
        fail("%s: expected to need libappwire_client.so.0, needs %s" % (name, needed))
    if not shared and appwire:
        fail("%s: a static build needs no appwire library, needs %s" % (name, appwire))
    if any("wolfssl" in n for n in needed):
        fail("%s: needs a wolfSSL library: %s" % (name, needed))
    return needed


def expect_output(args, expected_lines, what):
    status, out, err = run(args, check=False)
    lines = out.splitlines()
    if status != 0 or any(line not in lines for line in expected_lines):
        fail("%s: expected exit 0 and lines %r; got exit %d, stdout %r, stderr %r"
             % (what, expected_lines, status, out, err))


def run_programs(build_dir, server, work, shared, with_greeter=True, with_openssl=True):
    echo_app = os.path.join(build_dir, "echo_app")
    check_links(echo_app, shared)
    message = "hello from downstream (%s)" % os.path.basename(build_dir)
    expect_output([echo_app, "--target", server.address, "--ca", server.ca_file,
                   "--message", message],
                  ["health: SERVING", "echo: " + message], "echo_app in " + build_dir)
    if with_greeter:
        greeter_app = os.path.join(build_dir, "greeter_app")
        if shared and "libappwire_server.so.0" not in check_links(greeter_app, shared):
            fail("greeter_app: expected to need libappwire_server.so.0")
        project = os.path.join(work, "greeter-project-" + os.path.basename(build_dir))
        os.makedirs(project, exist_ok=True)
        expect_output([greeter_app, project],
                      ["greeting: hello, downstream", "max message bytes: 65536"],
                      "greeter_app in " + build_dir)
    if with_openssl:
        openssl_app = os.path.join(build_dir, "openssl_app")
        if not any(n.startswith("libssl.so") for n in check_links(openssl_app, shared)):
            fail("openssl_app: expected to need OpenSSL's libssl")
        expect_output([openssl_app, "--target", server.address, "--ca", server.ca_file],
                      ["openssl: TLSv1.3 appwire/1 verified", "appwire echo: via appwire",
                       "openssl again: TLSv1.3 appwire/1 verified"],
                      "openssl_app in " + build_dir)


def cmake_build(source, build, definitions, targets=None):
    args = ["cmake", "-S", source, "-B", build, "-G", "Ninja"]
    args += ["-D%s=%s" % item for item in definitions.items()]
    run(args)
    build_args = ["cmake", "--build", build, "-j", os.environ.get("APPWIRE_DOWNSTREAM_JOBS", "2")]
    for target in targets or []:
        build_args += ["--target", target]
    run(build_args)


# --- symbols ---------------------------------------------------------------

def exported_symbols(library):
    _, out, _ = run(["nm", "-D", "--defined-only", "-C", library])
    symbols = []
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3:
            symbols.append(parts[2])
    return symbols


def public_names(include_dir):
    """Every name the installed headers declare at namespace scope: classes,
    structs, enums, functions, and the C API's functions."""
    names = set()
    for root, _, files in os.walk(include_dir):
        for name in files:
            if not name.endswith(".h") or name.endswith(".pb.h"):
                continue
            with open(os.path.join(root, name)) as f:
                text = f.read()
            names.update(re.findall(r"^(?:class|struct|enum class|enum) (?:APPWIRE_EXPORT )?(\w+)",
                                    text, re.M))
            names.update(re.findall(r"^APPWIRE_EXPORT [^;{(]*?\b(\w+)\(", text, re.M))
    return names


def outermost(symbol):
    """The qualified name a symbol belongs to, without template or function
    arguments: "vtable for appwire::Channel" -> "appwire::Channel";
    "appwire::Channel::Call(...) const" -> "appwire::Channel::Call";
    "std::vector<appwire::X>::push_back(...)" -> "std::vector::push_back"."""
    for prefix in ("vtable for ", "typeinfo for ", "typeinfo name for ", "VTT for ",
                   "guard variable for ", "non-virtual thunk to ", "virtual thunk to "):
        if symbol.startswith(prefix):
            symbol = symbol[len(prefix):]
    # A function returning something: "asio::any_io_executor asio::...::prefer<...>(...)".
    name = []
    depth = 0
    for c in symbol:
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif depth == 0 and c == "(":
            break
        elif depth == 0 and c == " ":
            name = []  # what came before was a return type
        elif depth == 0:
            name.append(c)
    return re.sub(r"\[abi:\w+\]", "", "".join(name))


def check_symbols(prefix):
    libdir = os.path.join(prefix, "lib")
    include_dir = os.path.join(prefix, "include")
    allowed = public_names(include_dir)
    for part in ("client", "server"):
        library = os.path.join(libdir, "libappwire_%s.so.0" % part)
        if not os.path.exists(library):
            fail("%s is not installed" % library)
            continue
        _, dynamic, _ = run(["readelf", "-d", library])
        if "Library soname: [libappwire_%s.so.0]" % part not in dynamic:
            fail("%s: SONAME is not libappwire_%s.so.0" % (library, part))
        bad = []
        for symbol in exported_symbols(library):
            head = outermost(symbol)
            if re.match(r"(wolfSSL|wolfSSL_|wc_|wolfcrypt|wolfTLS|asio::)", head) or "asio::" in head:
                bad.append(symbol)
                continue
            if head.startswith("appwire_"):  # the C API
                if part != "client" or head not in allowed:
                    bad.append(symbol)
                continue
            if not head.startswith("appwire::") or head.startswith("appwire::v1::"):
                continue  # std/absl/protobuf instantiations, the messages
            components = [c for c in head.split("::") if c]
            if "Impl" in components:  # Channel::Impl, Server::Impl: internal
                bad.append(symbol)
                continue
            name = components[1] if len(components) > 1 else ""
            if name == "internal" and len(components) > 2:
                name = components[2]
            if name not in allowed:
                bad.append(symbol)
        if bad:
            fail("%s exports symbols outside the public API (%d), e.g.:\n  %s"
                 % (library, len(bad), "\n  ".join(sorted(set(bad))[:25])))
    # The process-wide database parameters and log settings live once, in
    # the client library; a copy in the server library would split them.
    server = os.path.join(libdir, "libappwire_server.so.0")
    if os.path.exists(server):
        _, out, _ = run(["nm", "--defined-only", "-C", server])
        copies = [line for line in out.splitlines()
                  if re.search(r" appwire::(GetDatabaseParameter|SetDatabaseParameter|"
                               r"ParameterSnapshot::Take|SetLogSink|SetMinLogLevel|Log)\(", line)
                  or re.search(r" appwire::v1::\w+::\w+\(", line)]
        if copies:
            fail("libappwire_server.so.0 holds its own copy of shared state or messages:\n  "
                 + "\n  ".join(copies[:10]))


# --- headers ---------------------------------------------------------------

INTERNAL = ("server_call.h", "metadata_wire.h", "/internal/", "connection.h", "tls_stream.h",
            "frame_codec.h", "log_internal")


def check_headers(prefix, work):
    include_dir = os.path.join(prefix, "include")
    headers = []
    for root, _, files in os.walk(os.path.join(include_dir, "appwire")):
        for name in files:
            if name.endswith(".h"):
                headers.append(os.path.relpath(os.path.join(root, name), include_dir))
    if len(headers) < 15:
        fail("only %d headers installed: %s" % (len(headers), headers))
    for header in sorted(headers):
        if any(marker in header for marker in INTERNAL):
            fail("an internal header is installed: " + header)
        with open(os.path.join(include_dir, header)) as f:
            text = f.read()
        for included in re.findall(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', text, re.M):
            if included.startswith(("asio", "wolfssl")) or included == "asio.hpp":
                fail("%s includes <%s>: Asio and wolfSSL stay inside appwire" % (header, included))
            if included.startswith("appwire/") and not os.path.exists(
                    os.path.join(include_dir, included)):
                fail("%s includes %s, which is not installed" % (header, included))
        source = os.path.join(work, "include_" + re.sub(r"\W", "_", header) + ".cc")
        with open(source, "w") as f:
            f.write("#include <%s>\n#include <%s>\n" % (header, header))
        status, _, err = run(["c++", "-std=c++17", "-fsyntax-only", "-Wall", "-Werror",
                              "-I" + include_dir, source], check=False)
        if status != 0:
            fail("%s does not compile alone against the prefix:\n%s" % (header, err))
    c_header = "appwire/c/appwire.h"
    if c_header in headers:
        source = os.path.join(work, "include_c_api.c")
        with open(source, "w") as f:
            f.write("#include <%s>\nint main(void) { return 0; }\n" % c_header)
        status, _, err = run(["cc", "-std=c99", "-pedantic", "-Wall", "-Werror", "-fsyntax-only",
                              "-I" + include_dir, source], check=False)
        if status != 0:
            fail("%s does not compile as C99:\n%s" % (c_header, err))
    else:
        fail(c_header + " is not installed")
    for needed in ("appwire/v1/builtin.pb.h", "appwire/v1/builtin.proto",
                   "appwire/v1/frame.proto", "appwire/common/version.h"):
        if not os.path.exists(os.path.join(include_dir, needed)):
            fail(needed + " is not installed")
    for binary in ("appwire-server", "appwire", "protoc-gen-appwire"):
        if not os.access(os.path.join(prefix, "bin", binary), os.X_OK):
            fail("bin/%s is not installed" % binary)
    for name in ("appwireConfig.cmake", "appwireConfigVersion.cmake", "appwireTargets.cmake",
                 "appwire_generate.cmake"):
        if not os.path.exists(os.path.join(prefix, "lib", "cmake", "appwire", name)):
            fail("lib/cmake/appwire/%s is not installed" % name)
    if not os.path.exists(os.path.join(prefix, "share", "doc", "appwire", "README.md")):
        fail("share/doc/appwire/README.md is not installed")


# --- pkg-config --------------------------------------------------------------

def check_pkg_config(prefix, source, server, work, version):
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"))
    _, modversion, _ = run(["pkg-config", "--modversion", "appwire-client", "appwire-server"],
                           env=env)
    if modversion.split() != [version, version]:
        fail("pkg-config --modversion: expected %s twice, got %r" % (version, modversion))
    _, cflags, _ = run(["pkg-config", "--cflags", "appwire-client"], env=env)
    _, libs, _ = run(["pkg-config", "--libs", "appwire-client"], env=env)
    _, static_libs, _ = run(["pkg-config", "--static", "--libs", "appwire-client"], env=env)
    app = os.path.join(source, "tests", "downstream", "echo_app.cc")
    libdir = os.path.join(prefix, "lib")
    for kind in ("shared", "static"):
        out_dir = os.path.join(work, "pkg-config-" + kind)
        os.makedirs(out_dir, exist_ok=True)
        binary = os.path.join(out_dir, "echo_app")
        if kind == "shared":
            link = libs.split() + ["-Wl,-rpath," + libdir]
        else:
            # The static archive by name; everything else as --static says.
            link = [os.path.join(libdir, "libappwire_client.a")] + [
                item for item in static_libs.split() if item != "-lappwire_client"]
        run(["c++", "-std=c++17", app, "-o", binary] + cflags.split() + link)
        run_programs(out_dir, server, work, shared=(kind == "shared"), with_greeter=False,
                     with_openssl=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("variant", choices=["symbols", "headers", "find_package_shared",
                                            "find_package_static", "pkg_config",
                                            "add_subdirectory"])
    parser.add_argument("--build", required=True, help="appwire's build tree")
    parser.add_argument("--source", required=True, help="appwire's source tree")
    parser.add_argument("--server", required=True, help="the appwire-server binary")
    parser.add_argument("--work", required=True, help="a scratch folder (emptied first)")
    parser.add_argument("--version", required=True, help="appwire's version (project VERSION)")
    args = parser.parse_args()

    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    prefix = os.path.join(work, "prefix")
    downstream = os.path.join(args.source, "tests", "downstream")
    if args.variant != "add_subdirectory":
        run(["cmake", "--install", args.build, "--prefix", prefix])

    if args.variant == "symbols":
        check_symbols(prefix)
    elif args.variant == "headers":
        check_headers(prefix, work)
    else:
        server = AppwireServer(args.server, work)
        try:
            if args.variant.startswith("find_package"):
                shared = args.variant == "find_package_shared"
                build = os.path.join(work, "build")
                cmake_build(downstream, build, {
                    "CMAKE_PREFIX_PATH": prefix,
                    "APPWIRE_USE_STATIC_LIBS": "OFF" if shared else "ON"})
                run_programs(build, server, work, shared)
            elif args.variant == "pkg_config":
                check_pkg_config(prefix, args.source, server, work, args.version)
            else:
                build = os.path.join(work, "build")
                cmake_build(downstream, build, {"APPWIRE_SOURCE_DIR": args.source},
                            targets=["echo_app", "greeter_app", "openssl_app"])
                run_programs(build, server, work, shared=False)
        finally:
            server.stop()

    if FAILURES:
        print("\n%d check(s) failed (above)." % len(FAILURES), file=sys.stderr)
        return 1
    print("downstream %s: every check passed" % args.variant)
    return 0


if __name__ == "__main__":
    sys.exit(main())
