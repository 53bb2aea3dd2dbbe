#!/usr/bin/env python3
"""Writes the seed corpus of session_fuzzer into tests/fuzz/corpus/session/.

Each seed is a sequence of operations in the input format documented at the
top of session_fuzzer.cc: a clean unary call, streams with window updates,
pings and GoAways, and one input per protocol violation of docs/protocol.md
section 17 that a client can commit with frames (rows 7 to 14, 17 and 19
to 28; the TLS rows 1 to 6, the timeouts of rows 18, 30 and 31 and the
server's own rules 15, 16 and 29 are not frames a client sends).
make_seed_corpus.sh runs this script; it can also run alone:

    tests/fuzz/make_session_corpus.py [OUTPUT_DIR]
"""
import os
import shutil
import sys

MAX_U64 = (1 << 64) - 1

# Operation codes (session_fuzzer.cc).
HELLO, REQUEST, MESSAGE, HALF_CLOSE, CANCEL, WINDOW_UPDATE, PING, GO_AWAY = range(8)
RESPONSE, NO_KIND, ANY_HEADER, BAD_PREFIX, RAW, BATCH, SPLIT, WAIT = range(8, 16)

METHODS = [
    "appwire.v1.Health/Check", "appwire.v1.ServerInfo/Get", "appwire.v1.Echo/Echo",
    "appwire.v1.Echo/EchoStream", "fuzz.Unary/Echo", "fuzz.Unary/Inline",
    "fuzz.Unary/Status", "fuzz.Unary/Sleep", "fuzz.Unary/Big", "fuzz.Stream/Count",
    "fuzz.Stream/Collect", "fuzz.Stream/Early", "fuzz.Bidi/Echo", "fuzz.Bidi/Half",
]
UNARY, SERVER_STREAMING, CLIENT_STREAMING, BIDI_STREAMING = range(4)

SPECIAL = {MAX_U64: 0xfb, 1 << 63: 0xfc, (1 << 63) - 1: 0xfd, 0xffffffff: 0xfe,
           MAX_U64 - 1: 0xff}


def n(value):
    """A number (N)."""
    if value in SPECIAL:
        return bytes([SPECIAL[value]])
    if value < 0xf8:
        return bytes([value])
    if value < 1 << 16:
        return b"\xf8" + value.to_bytes(2, "big")
    if value < 1 << 32:
        return b"\xf9" + value.to_bytes(4, "big")
    return b"\xfa" + value.to_bytes(8, "big")


def s(data):
    """A string (S)."""
    assert len(data) < 256
    return bytes([len(data)]) + data


def p(data=b""):
    """A payload (P) taken from the input."""
    assert len(data) < 0x80
    return bytes([len(data)]) + data


def filler(size, byte=ord("x")):
    """A payload (P) of `size` copies of `byte` (below 0x80)."""
    return bytes([0x80 | byte]) + n(size)


def method(name):
    """A method (M)."""
    if name in METHODS:
        return bytes([METHODS.index(name)])
    return b"\xff" + s(name.encode())


def hello(version=1, max_message_bytes=0, payload=p()):
    return bytes([HELLO]) + n(version) + n(max_message_bytes) + payload


def request(call_id, name, payload=p(), kind=None, timeout_micros=0, metadata=()):
    kind_byte = 0 if kind is None else kind + 1
    out = bytes([REQUEST]) + n(call_id) + method(name) + bytes([kind_byte]) + n(timeout_micros)
    out += bytes([len(metadata)])
    for key, value in metadata:
        out += s(key) + s(value)
    return out + payload


def message(call_id, payload=p()):
    return bytes([MESSAGE]) + n(call_id) + payload


def half_close(call_id, payload=p()):
    return bytes([HALF_CLOSE]) + n(call_id) + payload


def cancel(call_id, payload=p()):
    return bytes([CANCEL]) + n(call_id) + payload


def window_update(call_id, grant, payload=p()):
    return bytes([WINDOW_UPDATE]) + n(call_id) + n(grant) + payload


def ping(opaque, ack=False, payload=p()):
    return bytes([PING]) + n(opaque) + bytes([1 if ack else 0]) + payload


def go_away(graceful, code, last_call_id=None, text=b"", payload=p()):
    flags = (1 if graceful else 0) | (0 if last_call_id is None else 2)
    return (bytes([GO_AWAY, flags]) + n(code) + n(last_call_id or 0) + s(text) + payload)


def response(call_id, code=0, payload=p()):
    return bytes([RESPONSE]) + n(call_id) + n(code) + payload


def no_kind(call_id, payload=p()):
    return bytes([NO_KIND]) + n(call_id) + payload


def any_header(header, payload=p()):
    return bytes([ANY_HEADER]) + s(header) + payload


def bad_prefix(frame_length, header_length, rest=b""):
    return bytes([BAD_PREFIX]) + n(frame_length) + n(header_length) + s(rest)


def raw(data):
    return bytes([RAW]) + s(data)


def wait(ms=40):
    return bytes([WAIT, ms // 10 - 1])


BATCH_OP = bytes([BATCH])


def split(chunk):
    return bytes([SPLIT, chunk - 1])


def echo_request(data):
    """EchoRequest{payload: data}."""
    return b"\x0a" + bytes([len(data)]) + data


SEEDS = {
    # Calls that the server answers.
    "unary_health_check": hello() + request(1, "appwire.v1.Health/Check") + wait(),
    "unary_calls_pipelined":
        BATCH_OP + hello(max_message_bytes=16 << 20)
        + request(1, "appwire.v1.Echo/Echo", p(echo_request(b"hi")), timeout_micros=250000)
        + request(3, "fuzz.Unary/Echo", p(b"echo"))
        + request(5, "fuzz.Unary/Inline", p(b"inline"))
        + request(7, "fuzz.Unary/Status", p(b"\x05retry-after=3"))
        + request(9, "fuzz.Unary/Big", p(b"\x80\x00"))
        + request(11, "appwire.v1.ServerInfo/Get") + BATCH_OP + wait(),
    "unary_deadlines_and_cancel":
        hello() + request(1, "fuzz.Unary/Sleep", p(b"\x14"), timeout_micros=1)
        + request(3, "fuzz.Unary/Sleep", p(b"\x1f"), timeout_micros=MAX_U64)
        + request(5, "fuzz.Unary/Sleep", p(b"\x1f"), timeout_micros=1 << 63)
        + request(7, "fuzz.Unary/Sleep", p(b"\x1f"), timeout_micros=5000)
        + cancel(3) + wait() + cancel(5) + wait(),
    "server_stream_with_window_updates":
        hello() + request(1, "fuzz.Stream/Count", p(b"\x05\x10\x00"))
        + window_update(1, 65536) + window_update(1, MAX_U64) + window_update(1, 0) + wait(),
    "bidi_stream_with_window_updates":
        hello() + request(1, "fuzz.Bidi/Echo") + message(1, p(b"one"))
        + window_update(1, 1 << 20) + message(1, p(b"two")) + window_update(1, MAX_U64)
        + message(1, p(b"three")) + half_close(1) + wait()
        + request(3, "appwire.v1.Echo/EchoStream") + message(3, p(echo_request(b"e")))
        + half_close(3) + wait(),
    "client_streams":
        hello() + request(1, "fuzz.Stream/Collect") + message(1, p(b"a")) + message(1, p(b""))
        + message(1, filler(1000)) + half_close(1)
        + request(3, "fuzz.Stream/Early") + message(3, p(b"\x01")) + message(3, p(b"late"))
        + half_close(3) + request(5, "fuzz.Bidi/Half") + message(5, p(b"x")) + wait(),
    "pings_and_client_goaways":
        hello() + ping(0) + ping(MAX_U64) + ping(7, ack=True) + wait()
        + go_away(True, 1, 0, b"graceful from a client: ignored")
        + request(1, "appwire.v1.Health/Check") + wait()
        + go_away(False, 1, None, b"the client closed the channel"),
    "limits_calls_and_streams":
        hello() + b"".join(request(i, "fuzz.Stream/Collect") for i in range(1, 16, 2)) + wait()
        + b"".join(request(i, "fuzz.Bidi/Echo") for i in range(17, 23, 2)) + wait(),
    "split_and_batched_frames":
        split(1) + hello() + split(3) + request(1, "fuzz.Unary/Echo", p(b"split"))
        + BATCH_OP + request(3, "fuzz.Unary/Echo", p(b"a")) + ping(1)
        + request(5, "fuzz.Unary/Echo", p(b"b")) + BATCH_OP + wait(),
    "raw_frame_bytes":
        hello() + raw(bytes.fromhex("00000021 0000001d 0801 1a19 0a17") + b"appwire.v1.Health/Check")
        + wait(),
    # docs/protocol.md section 17, one row each.
    "violation_07_malformed_frame_length": hello() + bad_prefix(3, 0) + wait(),
    "violation_08_header_over_limit": hello() + bad_prefix(4 + 65537, 65537, b"\x08\x01"),
    "violation_09_payload_over_limit":
        hello() + request(1, "fuzz.Unary/Echo", filler(2000))
        + request(3, "fuzz.Bidi/Echo") + message(3, filler(1025)) + wait()
        + request(5, "appwire.v1.Health/Check") + wait(),
    "violation_10_header_not_protobuf": hello() + any_header(b"\xff\xff\xff") + wait(),
    "violation_11_no_kind": hello() + no_kind(1) + wait(),
    "violation_12_payload_on_ping": hello() + ping(1, payload=p(b"x")) + wait(),
    "violation_12_payload_on_half_close":
        hello() + request(1, "fuzz.Stream/Collect") + half_close(1, p(b"x")) + wait(),
    "violation_13_stream_request_with_payload":
        hello() + request(1, "fuzz.Stream/Collect", p(b"x")) + wait(),
    "violation_14_wrong_method_kind":
        hello() + request(1, "fuzz.Unary/Echo", kind=BIDI_STREAMING)
        + request(3, "fuzz.Bidi/Echo", kind=UNARY) + request(5, "no.Such/Method") + wait(),
    "violation_17_first_frame_not_hello": request(1, "appwire.v1.Health/Check") + wait(),
    "violation_19_protocol_version": hello(version=2) + request(1, "appwire.v1.Health/Check"),
    "violation_20_second_hello": hello() + hello() + wait(),
    "violation_21_even_call_id": hello() + request(2, "appwire.v1.Health/Check") + wait(),
    "violation_22_id_in_use":
        hello() + request(1, "fuzz.Stream/Collect") + request(1, "fuzz.Stream/Collect") + wait(),
    "violation_23_id_too_old":
        hello() + request(9001, "appwire.v1.Health/Check") + request(1, "fuzz.Unary/Echo")
        + wait(),
    "violation_25_bad_metadata":
        hello()
        + request(1, "fuzz.Unary/Echo", metadata=[(b"Upper", b"v")])
        + request(3, "fuzz.Unary/Echo", metadata=[(b"key", b"\x01")])
        + request(5, "fuzz.Unary/Echo", metadata=[(b"big-bin", b"\x00" * 200),
                                                    (b"more", b"y" * 100)]) + wait(),
    "violation_26_response_from_client": hello() + response(1) + wait(),
    "violation_27_message_on_unary":
        hello() + request(1, "fuzz.Unary/Sleep", p(b"\x1f")) + message(1, p(b"x"))
        + request(3, "fuzz.Stream/Count", p(b"\x01\x01")) + message(3, p(b"x")) + wait(),
    "violation_28_message_after_half_close":
        hello() + request(1, "fuzz.Stream/Collect") + half_close(1) + message(1, p(b"x"))
        + wait(),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "session")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
