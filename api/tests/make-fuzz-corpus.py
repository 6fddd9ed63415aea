#!/usr/bin/env python3
"""Write the seed corpus of fuzz-server.c: HTTP/2 client frames after the
preface and SETTINGS (which the harness sends itself), each file prefixed
with one byte that picks the chunk size. Usage: make-fuzz-corpus.py DIR"""
import os
import struct
import sys


def lit(name, value):
    # HPACK literal header field without indexing, new name, no Huffman
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def headers_block(path=b"/types.API/State", method=b"POST", ctype=b"application/grpc", extra=()):
    b = lit(b":method", method) + lit(b":scheme", b"http") + lit(b":path", path)
    b += lit(b":authority", b"/run/containerd/containerd.sock") + lit(b"content-type", ctype)
    b += lit(b"te", b"trailers") + lit(b"user-agent", b"grpc-go/1.0.4")
    for n, v in extra:
        b += lit(n, v)
    return b


def frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def msg(body, flag=0, length=None):
    return struct.pack(">BI", flag, len(body) if length is None else length) + body


HEADERS, DATA, RST, SETTINGS, PING, GOAWAY, WINUPD = 1, 0, 3, 4, 6, 7, 8
END_STREAM, END_HEADERS = 1, 4


def request(stream, body, **kw):
    return frame(HEADERS, END_HEADERS, stream, headers_block(**kw)) + frame(DATA, END_STREAM, stream, body)


SEEDS = {
    "unary-state": request(1, msg(b"\x0a\x02c1")),
    "unary-fail": request(1, msg(b"\x0a\x04fail")),
    "version": request(1, msg(b""), path=b"/types.API/GetServerVersion"),
    "health": request(1, msg(b""), path=b"/grpc.health.v1.Health/Check"),
    "health-unknown": request(1, msg(b"\x0a\x03foo"), path=b"/grpc.health.v1.Health/Check"),
    "events-then-rst": request(1, msg(b"\x22\x01c"), path=b"/types.API/Events")
    + frame(RST, 0, 1, struct.pack(">I", 8)),
    "hang-then-rst": request(1, msg(b"\x0a\x04hang")) + frame(RST, 0, 1, struct.pack(">I", 8)),
    "hang-deadline": request(1, msg(b"\x0a\x04hang"), extra=[(b"grpc-timeout", b"1n")]),
    "unknown-path": request(1, msg(b""), path=b"/types.API/Nope"),
    "get": frame(HEADERS, END_HEADERS | END_STREAM, 1, headers_block(method=b"GET")),
    "bad-ctype": request(1, msg(b""), ctype=b"text/plain"),
    "compressed": request(1, msg(b"\x0a\x01a", flag=1)),
    "two-messages": request(1, msg(b"") + msg(b"")),
    "oversized": request(1, msg(b"", length=1 << 20)),
    "truncated": request(1, msg(b"\x0a\x05ab")),
    "undecodable": request(1, msg(b"\x0a\xff\xff\xff")),
    "split-data": frame(HEADERS, END_HEADERS, 1, headers_block())
    + frame(DATA, 0, 1, msg(b"\x0a\x02c1")[:3]) + frame(DATA, 0, 1, msg(b"\x0a\x02c1")[3:])
    + frame(DATA, END_STREAM, 1, b""),
    "trailers": frame(HEADERS, END_HEADERS, 1, headers_block()) + frame(DATA, 0, 1, msg(b""))
    + frame(HEADERS, END_HEADERS | END_STREAM, 1, lit(b"x-trailer", b"1")),
    "many-streams": b"".join(request(i, msg(b"\x0a\x04hang" if i % 3 == 0 else b""))
                             for i in range(1, 40, 2))
    + frame(RST, 0, 9, struct.pack(">I", 8)) + frame(RST, 0, 3, struct.pack(">I", 0)),
    "control-frames": frame(PING, 0, 0, b"12345678") + frame(WINUPD, 0, 0, struct.pack(">I", 1000))
    + frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 1 << 20)) + frame(SETTINGS, 1, 0, b"")
    + request(1, msg(b"")) + frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0)),
    "bad-timeout": request(1, msg(b""), extra=[(b"grpc-timeout", b"soon")]),
}

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for i, (name, data) in enumerate(sorted(SEEDS.items())):
    stride = bytes([255 if i % 3 == 0 else (i * 5) % 40])
    with open(os.path.join(out, name), "wb") as f:
        f.write(stride + data)
