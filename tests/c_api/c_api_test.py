#!/usr/bin/env python3
"""The C API (appwire/c/appwire.h) from Python through ctypes, standard
library only: Echo and Health on a running appwire-server, an async call,
a stream, and the wrong CA (UNAUTHENTICATED with the C++ message).

    c_api_test.py LIBRARY TARGET PROJECT_DIR WRONG_CA_FILE FINGERPRINT TEMP_DIR

LIBRARY is libappwire_client.so; run_with_server (run_with_server.cc)
starts the server and appends the other arguments. Exits nonzero, printing
what differed, on any mismatch. docs/c_api.md shows the same calls.
"""
import ctypes
import os
import sys
import threading

OK, CANCELLED, INVALID_ARGUMENT, OUT_OF_RANGE, UNAUTHENTICATED = 0, 1, 3, 11, 16
BIDI_STREAMING = 3
STATE_READY, STATE_SHUTDOWN = 2, 4

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAILED:", what, file=sys.stderr)


def load(path):
    lib = ctypes.CDLL(path)
    p = ctypes.c_void_p
    pp = ctypes.POINTER(ctypes.c_void_p)
    size_p = ctypes.POINTER(ctypes.c_size_t)
    byte_pp = ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8))
    signatures = {
        "appwire_version": (ctypes.c_char_p, []),
        "appwire_code_name": (ctypes.c_char_p, [ctypes.c_int]),
        "appwire_error_code": (ctypes.c_int, [p]),
        "appwire_error_message": (ctypes.c_char_p, [p]),
        "appwire_error_free": (None, [p]),
        "appwire_options_new": (ctypes.c_int, [pp]),
        "appwire_options_free": (None, [p]),
        "appwire_options_set_target": (ctypes.c_int, [p, ctypes.c_char_p]),
        "appwire_options_set_ca_file": (ctypes.c_int, [p, ctypes.c_char_p]),
        "appwire_options_set_pinned_sha256": (ctypes.c_int, [p, ctypes.c_char_p]),
        "appwire_options_set_state_callback": (ctypes.c_int, [p, p, p]),
        "appwire_connect": (ctypes.c_int, [p, pp, pp]),
        "appwire_channel_state": (ctypes.c_int, [p]),
        "appwire_channel_close": (ctypes.c_int, [p]),
        "appwire_channel_free": (None, [p]),
        "appwire_call_options_new": (ctypes.c_int, [pp]),
        "appwire_call_options_free": (None, [p]),
        "appwire_call_options_add_metadata": (ctypes.c_int,
                                              [p, ctypes.c_char_p, ctypes.c_char_p,
                                               ctypes.c_size_t]),
        "appwire_call_options_set_timeout_ms": (ctypes.c_int, [p, ctypes.c_int64]),
        "appwire_call": (ctypes.c_int, [p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t,
                                        p, pp]),
        "appwire_call_async": (ctypes.c_int, [p, ctypes.c_char_p, ctypes.c_char_p,
                                              ctypes.c_size_t, p, p, p]),
        "appwire_reply_code": (ctypes.c_int, [p]),
        "appwire_reply_message": (ctypes.c_char_p, [p]),
        "appwire_reply_data": (ctypes.POINTER(ctypes.c_uint8), [p, size_p]),
        "appwire_reply_free": (None, [p]),
        "appwire_stream_open": (ctypes.c_int, [p, ctypes.c_char_p, ctypes.c_int,
                                               ctypes.c_char_p, ctypes.c_size_t, p, pp]),
        "appwire_stream_write": (ctypes.c_int, [p, ctypes.c_char_p, ctypes.c_size_t]),
        "appwire_stream_read": (ctypes.c_int, [p, byte_pp, size_p]),
        "appwire_stream_writes_done": (ctypes.c_int, [p]),
        "appwire_stream_finish": (ctypes.c_int, [p, pp]),
        "appwire_stream_free": (None, [p]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


# The C callback types (appwire_call_callback, appwire_state_callback).
CALL_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
STATE_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                  ctypes.c_char_p)


def echo_request(payload):
    """EchoRequest { bytes payload = 1; } (payloads under 128 bytes)."""
    return b"\x0a" + bytes([len(payload)]) + payload if payload else b""


def reply_bytes(lib, reply):
    size = ctypes.c_size_t(0)
    data = lib.appwire_reply_data(reply, ctypes.byref(size))
    return ctypes.string_at(data, size.value)


def connect(lib, target, ca_file=None, pin=None, state_callback=None):
    """(code, message, channel)"""
    options = ctypes.c_void_p()
    check(lib.appwire_options_new(ctypes.byref(options)) == OK, "appwire_options_new")
    lib.appwire_options_set_target(options, target.encode())
    if ca_file:
        lib.appwire_options_set_ca_file(options, ca_file.encode())
    if pin:
        lib.appwire_options_set_pinned_sha256(options, pin.encode())
    if state_callback:
        lib.appwire_options_set_state_callback(
            options, ctypes.cast(state_callback, ctypes.c_void_p), None)
    channel = ctypes.c_void_p()
    error = ctypes.c_void_p()
    code = lib.appwire_connect(options, ctypes.byref(channel), ctypes.byref(error))
    message = lib.appwire_error_message(error).decode()
    check(code == lib.appwire_error_code(error), "connect's code and its error's agree")
    lib.appwire_error_free(error)
    lib.appwire_options_free(options)
    return code, message, channel


def call(lib, channel, method, request=b"", options=None):
    """(code, message, response bytes)"""
    reply = ctypes.c_void_p()
    code = lib.appwire_call(channel, method.encode(), request, len(request), options,
                            ctypes.byref(reply))
    result = (code, lib.appwire_reply_message(reply).decode(), reply_bytes(lib, reply))
    check(code == lib.appwire_reply_code(reply), "call's code and its reply's agree")
    lib.appwire_reply_free(reply)
    return result


def main(argv):
    if len(argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    library, target, project, wrong_ca, fingerprint = argv[1:6]
    cert = os.path.join(project, "cert.pem")
    lib = load(library)
    check(lib.appwire_version().decode() != "", "appwire_version")
    check(lib.appwire_code_name(UNAUTHENTICATED) == b"UNAUTHENTICATED", "appwire_code_name")

    states = []
    on_state = STATE_CALLBACK(lambda user, state, code, message: states.append(state))
    code, message, channel = connect(lib, target, ca_file=cert, state_callback=on_state)
    check(code == OK, "connect with the server's certificate: %d %s" % (code, message))
    if code != OK:
        return 1
    check(lib.appwire_channel_state(channel) == STATE_READY, "ready after connect")

    code, message, data = call(lib, channel, "appwire.v1.Health/Check")
    check((code, data) == (OK, b"\x08\x01"), "Health/Check: %d %r %r" % (code, message, data))

    options = ctypes.c_void_p()
    lib.appwire_call_options_new(ctypes.byref(options))
    lib.appwire_call_options_set_timeout_ms(options, 10000)
    lib.appwire_call_options_add_metadata(options, b"x-request-id", b"7", 1)
    code, message, data = call(lib, channel, "appwire.v1.Echo/Echo",
                               echo_request(b"hello from Python"), options)
    check((code, data) == (OK, echo_request(b"hello from Python")),
          "Echo: %d %r %r" % (code, message, data))
    lib.appwire_call_options_free(options)

    # Async: the callback runs on the channel's I/O thread and owns the reply.
    done = threading.Event()
    result = {}

    def on_done(user, reply):
        result["code"] = lib.appwire_reply_code(reply)
        result["data"] = reply_bytes(lib, reply)
        result["runs"] = result.get("runs", 0) + 1
        result["thread"] = threading.get_ident()
        lib.appwire_reply_free(reply)
        done.set()

    callback = CALL_CALLBACK(on_done)  # kept alive until it ran
    request = echo_request(b"async")
    code = lib.appwire_call_async(channel, b"appwire.v1.Echo/Echo", request, len(request), None,
                                  ctypes.cast(callback, ctypes.c_void_p), None)
    check(code == OK, "call_async: %d" % code)
    check(done.wait(20), "the async call completed")
    check(result.get("code") == OK and result.get("data") == request,
          "async Echo: %r" % result)
    check(result.get("thread") != threading.get_ident(), "async completion on the I/O thread")

    # A bidirectional stream: each message comes back.
    stream = ctypes.c_void_p()
    check(lib.appwire_stream_open(channel, b"appwire.v1.Echo/EchoStream", BIDI_STREAMING, None,
                                  0, None, ctypes.byref(stream)) == OK, "stream_open")
    for text in (b"one", b"two"):
        message = echo_request(text)
        check(lib.appwire_stream_write(stream, message, len(message)) == OK, "stream_write")
        data = ctypes.POINTER(ctypes.c_uint8)()
        size = ctypes.c_size_t(0)
        code = lib.appwire_stream_read(stream, ctypes.byref(data), ctypes.byref(size))
        check(code == OK and ctypes.string_at(data, size.value) == message,
              "stream_read %r: %d" % (text, code))
    check(lib.appwire_stream_writes_done(stream) == OK, "writes_done")
    data = ctypes.POINTER(ctypes.c_uint8)()
    size = ctypes.c_size_t(0)
    check(lib.appwire_stream_read(stream, ctypes.byref(data), ctypes.byref(size)) ==
          OUT_OF_RANGE, "the stream's end")
    reply = ctypes.c_void_p()
    check(lib.appwire_stream_finish(stream, ctypes.byref(reply)) == OK, "stream_finish")
    lib.appwire_reply_free(reply)
    lib.appwire_stream_free(stream)

    lib.appwire_channel_close(channel)
    check(STATE_SHUTDOWN in states, "the state callback saw the shutdown: %r" % states)
    code, message, _ = call(lib, channel, "appwire.v1.Health/Check")
    check(code == 9 and "is closed" in message, "a call after close: %d %s" % (code, message))
    lib.appwire_channel_free(channel)

    code, message, channel = connect(lib, target, pin=fingerprint)
    check(code == OK, "connect with the pinned fingerprint: %d %s" % (code, message))
    lib.appwire_channel_free(channel)

    code, message, channel = connect(lib, target, ca_file=wrong_ca)
    check(code == UNAUTHENTICATED, "the wrong CA gives UNAUTHENTICATED, got %d" % code)
    for words in ("TLS handshake with", "certificate verify failed",
                  "is not signed by a CA this client trusts",
                  "add the server's CA to the trusted CA file"):
        check(words in message, "the wrong CA's message %r lacks %r" % (message, words))
    check(not channel, "no channel for the wrong CA")

    if failures:
        print("%d check(s) failed" % len(failures), file=sys.stderr)
        return 1
    print("all Python ctypes checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
