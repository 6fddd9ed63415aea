"""TAP test of the gRPC server (api/tests/test-server) with Python grpcio,
curl and raw sockets. Usage: grpc_test.py TEST_SERVER API_SRCDIR."""
import concurrent.futures
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import grpc

SERVER, API_SRC = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="ctrd-grpc-test.")
GEN = os.path.join(TMP, "gen")
os.mkdir(GEN)
subprocess.check_call([sys.executable, "-m", "grpc_tools.protoc", "-I" + API_SRC,
                       "--python_out=" + GEN, "--grpc_python_out=" + GEN,
                       "api.proto", "google/protobuf/timestamp.proto"])
sys.path.insert(0, GEN)
import api_pb2  # noqa: E402
import api_pb2_grpc  # noqa: E402

SOCK = os.path.join(TMP, "run", "sub", "api.sock")  # directory made by the server
ADDR = "unix://" + SOCK
RAW = dict(request_serializer=lambda b: b, response_deserializer=lambda b: b)

results = []


def need(cond, diag="check failed"):
    """An explicit check (assert statements vanish under python -O)."""
    if not cond:
        raise AssertionError(diag)


def tap(ok, name, diag=None):
    results.append(ok)
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), name))
    if not ok and diag is not None:
        for line in str(diag).splitlines():
            print("# " + line)
    sys.stdout.flush()


def check(name, fn):
    try:
        r = fn()
        tap(r is None or r is True, name, None if r is None or r is True else "returned %r" % (r,))
    except Exception as e:  # a failed check must not stop the others
        tap(False, name, "%s: %s" % (type(e).__name__, e))


def expect_error(fn, code, details=None):
    try:
        fn()
    except grpc.RpcError as e:
        if e.code() != code:
            raise AssertionError("code %s, want %s (%r)" % (e.code(), code, e.details()))
        if details is not None and e.details() != details:
            raise AssertionError("details %r, want %r" % (e.details(), details))
        return True
    raise AssertionError("no error, want %s" % code)


try:
    server = subprocess.Popen([SERVER, SOCK], stdout=subprocess.PIPE, text=True)
except OSError as e:
    print("Bail out! cannot run the test server: %s" % e)
    sys.exit(1)
line = server.stdout.readline()
if not line.startswith("READY"):
    print("Bail out! test server did not start: %r" % line)
    sys.exit(1)


def stats():
    """conns, calls, fds of the server (it prints them on SIGUSR1)."""
    server.send_signal(signal.SIGUSR1)
    words = server.stdout.readline().split()
    need(words[0] == "STATS", words)
    return {k: int(v) for k, v in (w.split("=") for w in words[1:])}


def fd_count():
    return len(os.listdir("/proc/%d/fd" % server.pid))


channel = grpc.insecure_channel(ADDR)
stub = api_pb2_grpc.APIStub(channel)
health = channel.unary_unary("/grpc.health.v1.Health/Check", **RAW)

# Settle the channel: after this every call of `stub` runs on one connection.
grpc.channel_ready_future(channel).result(timeout=10)
# The baseline of fds, with the loop's timerfd (made on first use) in place.
stub.State(api_pb2.StateRequest(id="delay:1"), timeout=10)
base = stats()
base_fds = fd_count() - 1  # minus the channel's connection
need(base["conns"] == 1 and base["calls"] == 0, base)


def sync():
    """A round trip on `channel`: frames sent before it (RST_STREAM of a
    cancel) have been processed by the server when it returns."""
    need(health(b"", timeout=10) == b"\x08\x01")


def wait_stats(pred, tries=100):
    """Ask the server for its counters until pred holds. Each ask is a round
    trip through its loop, so what other connections did (a close, an
    accept) has been processed after a few asks; no timing is involved."""
    st = None
    for _ in range(tries):
        st = stats()
        if pred(st):
            return st
    raise AssertionError("server counters never settled: %s" % st)


def settled(conns=1):
    sync()
    wait_stats(lambda st: st["calls"] == 0 and st["conns"] == conns)
    return True


# ---- socket -----------------------------------------------------------------
def t_socket():
    st = os.stat(SOCK)
    need((st.st_mode & 0o777) == 0o660, oct(st.st_mode))


check("socket created with mode 0660 in a new directory", t_socket)

# ---- health -----------------------------------------------------------------
check("health: service '' is SERVING", lambda: health(b"", timeout=10) == b"\x08\x01")
check("health: other service is NOT_FOUND 'unknown service'",
      lambda: expect_error(lambda: health(b"\x0a\x03foo", timeout=10),
                           grpc.StatusCode.NOT_FOUND, "unknown service"))

# ---- every method -----------------------------------------------------------
UNARY = [m for m in api_pb2.DESCRIPTOR.services_by_name["API"].methods if m.name != "Events"]


def request_for(m, **kw):
    return getattr(api_pb2, m.input_type.name)(**kw)


def call(m, req, timeout=10):
    return getattr(stub, m.name)(req, timeout=timeout)


for m in UNARY:
    def t_unary(m=m):
        has_id = "id" in m.input_type.fields_by_name
        req = request_for(m, id="c1") if has_id else request_for(m)
        resp = call(m, req)
        need(type(resp).__name__ == m.output_type.name)
        if m.name == "State":
            need([c.id for c in resp.containers] == ["c1"], resp)
        if m.name == "CreateContainer":
            need(resp.container.id == "c1", resp)
        if m.name == "GetServerVersion":
            need((resp.major, resp.minor, resp.patch) == (0, 2, 3), resp)
        if m.name == "AddProcess":
            need(resp.systemPid == 4242, resp)
    check("unary %s" % m.name, t_unary)

for m in UNARY:
    if "id" not in m.input_type.fields_by_name:
        continue
    check("unary %s error status and message" % m.name,
          lambda m=m: expect_error(lambda: call(m, request_for(m, id="fail:6:mkdir /x/c1: file exists")),
                                   grpc.StatusCode.ALREADY_EXISTS, "mkdir /x/c1: file exists"))

MSG = "100% bad\nnews: caf\u00e9 \u2603 \x7f"
check("grpc-message percent-encoding round trip",
      lambda: expect_error(lambda: stub.State(api_pb2.StateRequest(id="fail:2:" + MSG), timeout=10),
                           grpc.StatusCode.UNKNOWN, MSG))


def t_long_message():
    long_msg = "exit status 1: \"" + "runc output \u00e9 " * 1000 + "\""
    try:
        stub.State(api_pb2.StateRequest(id="fail:2:" + long_msg), timeout=10)
    except grpc.RpcError as e:
        need(e.code() == grpc.StatusCode.UNKNOWN, e)
        d = e.details()
        need(d.endswith("...") and long_msg.startswith(d[:-3]) and len(d) > 1000, d[-40:])
        return True
    raise AssertionError("no error")


check("a long error message is cut (whole UTF-8 characters), not lost", t_long_message)
check("delayed (asynchronous) reply",
      lambda: stub.State(api_pb2.StateRequest(id="delay:100"), timeout=10).containers[0].id == "delayed")
check("a response the handler packed itself (api_call_reply_packed)",
      lambda: [c.id for c in stub.State(api_pb2.StateRequest(id="packed"), timeout=10).containers]
      == ["packed"])
check("an empty packed response: the message's defaults",
      lambda: stub.State(api_pb2.StateRequest(id="packed-empty"), timeout=10)
      == api_pb2.StateResponse())
check("3 MB response",
      lambda: len(stub.State(api_pb2.StateRequest(id="big:3000000"), timeout=20)
                  .containers[0].bundlePath) == 3000000)

# ---- streaming ----------------------------------------------------------------


def t_stream_count():
    evs = list(stub.Events(api_pb2.EventsRequest(id="count:500"), timeout=20))
    need([e.status for e in evs] == list(range(500)), len(evs))


check("Events: 500 messages then status OK", t_stream_count)
check("Events: error status before any message",
      lambda: expect_error(lambda: list(stub.Events(api_pb2.EventsRequest(id="fail:2:timestamp: bad"),
                                                    timeout=10)),
                           grpc.StatusCode.UNKNOWN, "timestamp: bad"))


def t_stream_cancel():
    it = stub.Events(api_pb2.EventsRequest(id="wait"), timeout=30)
    first = next(it)
    need(first.type == "test")
    need(stats()["calls"] == 1)
    it.cancel()
    return settled()


check("Events: client cancel reaches the handler (on_cancel, call freed)", t_stream_cancel)


def t_stream_flood():
    n = 0
    try:
        for _ in stub.Events(api_pb2.EventsRequest(id="flood"), timeout=30):
            n += 1
    except grpc.RpcError as e:
        need(e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, e)
        need(e.details() == "events subscriber too slow", e.details())
        # 256 KiB of ~1 KB events was queued in the handler before any went
        # out; the end drops them: the status comes at once, nothing stays
        need(n == 0, n)
        need(settled())
        q = stats().get("queued")
        need(q == 0, q)
        return True
    raise AssertionError("stream ended OK after %d" % n)


check("Events: the queue bound refuses api_call_send; the end drops what was queued",
      t_stream_flood)

# ---- cancel, deadline ---------------------------------------------------------


def t_unary_cancel():
    fut = stub.State.future(api_pb2.StateRequest(id="hang"), timeout=30)
    sync()
    need(stats()["calls"] == 1)
    fut.cancel()
    return settled()


check("unary: client cancel reaches the handler", t_unary_cancel)


def t_deadline():
    t0 = time.monotonic()
    expect_error(lambda: stub.State(api_pb2.StateRequest(id="hang"), timeout=0.3),
                 grpc.StatusCode.DEADLINE_EXCEEDED)
    need(time.monotonic() - t0 < 5)
    return settled()


check("deadline: DEADLINE_EXCEEDED, handler cancelled", t_deadline)


def curl(path, data, headers=(), method=None):
    """One request with curl (HTTP/2 prior knowledge); returns the response
    headers and trailers as a list of lines, and the body."""
    body = os.path.join(TMP, "curl.body")
    inp = os.path.join(TMP, "curl.in")
    with open(inp, "wb") as f:
        f.write(data or b"")
    cmd = ["curl", "-s", "--http2-prior-knowledge", "--unix-socket", SOCK, "-D", "-",
           "-o", body, "--max-time", "20"]
    if data is not None:
        cmd += ["--data-binary", "@" + inp]
    for h in headers:
        cmd += ["-H", h]
    if method:
        cmd += ["-X", method]
    out = subprocess.run(cmd + ["http://localhost" + path], capture_output=True, text=True)
    with open(body, "rb") as f:
        return [l.strip() for l in out.stdout.splitlines() if l.strip()], f.read()


def frame(msg, flag=0):
    return struct.pack(">BI", flag, len(msg)) + msg


GRPC_CT = "content-type: application/grpc"


def t_server_deadline():
    t0 = time.monotonic()
    hdrs, body = curl("/types.API/State", frame(b"\x0a\x04hang"), [GRPC_CT, "grpc-timeout: 200m"])
    el = time.monotonic() - t0
    need("grpc-status: 4" in hdrs and "grpc-message: context deadline exceeded" in hdrs, hdrs)
    need(0.15 < el < 5, el)
    return settled()


check("deadline enforced by the server (grpc-timeout 200m, client waits)", t_server_deadline)

# ---- bad requests ---------------------------------------------------------------
check("unknown method: UNIMPLEMENTED",
      lambda: expect_error(lambda: channel.unary_unary("/types.API/Nope", **RAW)(b"", timeout=10),
                           grpc.StatusCode.UNIMPLEMENTED, "unknown method Nope"))
check("unknown service: UNIMPLEMENTED",
      lambda: expect_error(lambda: channel.unary_unary("/types.APIX/State", **RAW)(b"", timeout=10),
                           grpc.StatusCode.UNIMPLEMENTED, "unknown service types.APIX"))
check("undecodable request: INTERNAL",
      lambda: expect_error(lambda: channel.unary_unary("/types.API/State", **RAW)(b"\x0a\xff\xff", timeout=10),
                           grpc.StatusCode.INTERNAL))


def t_oversized():
    expect_error(lambda: stub.State(api_pb2.StateRequest(id="x" * (5 << 20)), timeout=30),
                 grpc.StatusCode.RESOURCE_EXHAUSTED)
    # just under the limit passes
    req = api_pb2.StateRequest(id="y" * ((4 << 20) - 16))
    need(req.ByteSize() <= 4 << 20)
    need(stub.State(req, timeout=30).containers[0].id == req.id)
    return settled()


check("oversized message: RESOURCE_EXHAUSTED; 4 MiB passes", t_oversized)


def t_compressed():
    gz = grpc.insecure_channel(ADDR, compression=grpc.Compression.Gzip)
    try:
        expect_error(lambda: api_pb2_grpc.APIStub(gz).State(api_pb2.StateRequest(id="z" * 1000), timeout=10),
                     grpc.StatusCode.UNIMPLEMENTED)
    finally:
        gz.close()
    hdrs, _ = curl("/types.API/State", frame(b"\x0a\x01a", 1), [GRPC_CT])
    need("grpc-status: 12" in hdrs, hdrs)


check("compressed message: UNIMPLEMENTED", t_compressed)


def t_http_checks():
    hdrs, _ = curl("/types.API/State", None, [], method="GET")
    need(hdrs[0].startswith("HTTP/2 405"), hdrs)
    hdrs, _ = curl("/types.API/State", frame(b""), ["content-type: application/json"])
    need(hdrs[0].startswith("HTTP/2 415"), hdrs)
    hdrs, body = curl("/types.API/State", frame(b"\x0a\x02c2"), ["content-type: application/grpc+proto"])
    need("grpc-status: 0" in hdrs and b"c2" in body, (hdrs, body))
    hdrs, _ = curl("/types.API/State", frame(b"\x0a\x02c2")[:6], [GRPC_CT])
    need("grpc-status: 13" in hdrs, hdrs)
    hdrs, _ = curl("/types.API/State", b"", [GRPC_CT])
    need("grpc-status: 13" in hdrs, hdrs)
    hdrs, _ = curl("/types.API/State", frame(b"") + frame(b""), [GRPC_CT])
    need("grpc-status: 13" in hdrs, hdrs)
    hdrs, _ = curl("/types.API/State", frame(b""), [GRPC_CT, "grpc-timeout: soon"])
    need("grpc-status: 13" in hdrs, hdrs)


check("HTTP checks: GET 405, bad content-type 415, +proto ok, truncated/missing/two messages, bad timeout",
      t_http_checks)


def t_authority():
    hdrs, body = curl("/types.API/State", frame(b"\x0a\x02c3"),
                      [GRPC_CT, "Host: /run/containerd/containerd.sock", "te: trailers",
                       "user-agent: grpc-go/1.0.4"])
    need("grpc-status: 0" in hdrs and b"c3" in body, (hdrs, body))
    ch = grpc.insecure_channel(ADDR, options=[("grpc.default_authority", "/run/containerd/containerd.sock")])
    try:
        need(api_pb2_grpc.APIStub(ch).State(api_pb2.StateRequest(id="a"), timeout=10).containers[0].id == "a")
    finally:
        ch.close()


check("':authority' with '/' (Docker-era grpc-go) is accepted", t_authority)

# ---- concurrency ----------------------------------------------------------------


def t_concurrent_one_conn():
    futs = [stub.State.future(api_pb2.StateRequest(id="delay:200"), timeout=30) for _ in range(100)]
    sync()
    st = stats()
    need(st["calls"] == 100, st)
    need(all(f.result().containers[0].id == "delayed" for f in futs))
    return settled()


check("100 concurrent calls on one connection (all pending at once)", t_concurrent_one_conn)


def t_concurrent_conns():
    chans = [grpc.insecure_channel(ADDR, options=[("grpc.use_local_subchannel_pool", 1)]) for _ in range(20)]
    try:
        futs = [api_pb2_grpc.APIStub(c).State.future(api_pb2.StateRequest(id="delay:100"), timeout=30)
                for c in chans for _ in range(5)]
        need(all(f.result().containers[0].id == "delayed" for f in futs))
        need(stats()["conns"] >= 2)
    finally:
        for c in chans:
            c.close()


check("100 concurrent calls over 20 connections", t_concurrent_conns)

# ---- raw sockets -----------------------------------------------------------------
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = struct.pack(">I", 0)[1:] + b"\x04\x00" + struct.pack(">I", 0)


def raw_connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(SOCK)
    return s


def read_until_eof(s):
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            return data
        data += d


def t_idle():
    s = raw_connect()
    try:
        wait_stats(lambda st: st["conns"] == 2)
        # the server keeps serving others while it idles
        need(stub.State(api_pb2.StateRequest(id="i"), timeout=10).containers[0].id == "i")
    finally:
        s.close()
    return settled()


check("client that connects and sends nothing", t_idle)


def t_garbage():
    for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", os.urandom(4096), PREFACE + os.urandom(512),
                 PREFACE + SETTINGS + b"\x00\x00\x10\x01\x05\x00\x00\x00\x01" + os.urandom(16)):
        s = raw_connect()
        s.sendall(junk)
        read_until_eof(s)  # the server closes (after a GOAWAY where it applies)
        s.close()
    return settled()


check("garbage bytes: connection closed, server unharmed", t_garbage)


def hpack_literal(name, value):
    # literal header field without indexing, new name, no Huffman
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


HEADERS_BLOCK = (hpack_literal(b":method", b"POST") + hpack_literal(b":scheme", b"http")
                 + hpack_literal(b":path", b"/types.API/State")
                 + hpack_literal(b":authority", b"/run/containerd/containerd.sock")
                 + hpack_literal(b"content-type", b"application/grpc"))


def h2frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def read_frames_until(s, pred):
    buf = b""
    while True:
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + n:
                break
            if pred(buf[3], buf[4], buf[9:9 + n]):
                return
            buf = buf[9 + n:]
        d = s.recv(65536)
        need(d, "connection closed")
        buf += d


def t_mid_frame():
    hdr = h2frame(1, 4, 1, HEADERS_BLOCK)
    data = h2frame(0, 1, 1, frame(b"\x0a\x04hang"))
    # cut inside the HEADERS frame, inside the DATA frame, and after a
    # complete request (handler running: cancelled by the disconnect)
    for cut in (PREFACE + SETTINGS + hdr[:12], PREFACE + SETTINGS + hdr + data[:12],
                PREFACE + SETTINGS + hdr + data):
        s = raw_connect()
        s.sendall(cut)
        if cut.endswith(data):
            # frames are handled in order: once the PING is answered, the
            # request has reached its handler
            s.sendall(h2frame(6, 0, 0, b"pingpong"))
            read_frames_until(s, lambda t, f, payload: t == 6 and f & 1)
            need(stats()["calls"] == 1)
        s.close()
    # a request and its connection both cut 1000 times, at every offset
    whole = PREFACE + SETTINGS + hdr + data
    for i in range(0, len(whole), max(1, len(whole) // 50)):
        s = raw_connect()
        s.sendall(whole[:i])
        s.close()
    return settled()


check("client that disconnects mid-frame (and mid-call)", t_mid_frame)


def t_disconnect_stream():
    ch = grpc.insecure_channel(ADDR, options=[("grpc.use_local_subchannel_pool", 1)])
    it = api_pb2_grpc.APIStub(ch).Events(api_pb2.EventsRequest(id="wait"), timeout=30)
    next(it)
    need(stats()["calls"] == 1)
    ch.close()
    # the close is seen as EOF; the handler's on_cancel finished the call
    return settled()


check("client disconnect with an open Events stream", t_disconnect_stream)


def t_many_streams():
    its = [stub.Events(api_pb2.EventsRequest(id="wait"), timeout=60) for _ in range(200)]
    for it in its:
        next(it)
    need(stats()["calls"] == 200)
    for it in its:
        it.cancel()
    return settled()


check("200 Events streams open at once on one connection, then cancelled", t_many_streams)



def t_out_of_fds():
    """A second server limited to 16 fds: accept hits EMFILE; the server
    pauses its listener instead of spinning, and serves again after
    connections close."""
    import resource
    sock2 = os.path.join(TMP, "emfile.sock")
    srv = subprocess.Popen([SERVER, sock2], stdout=subprocess.PIPE, text=True,
                           preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16)))
    socks = []
    try:
        need(srv.stdout.readline().startswith("READY"))
        for _ in range(30):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock2)  # completes in the backlog even when not accepted
            socks.append(s)
        ticks = lambda: sum(int(x) for x in open("/proc/%d/stat" % srv.pid).read().rsplit(")", 1)[1].split()[11:13])
        time.sleep(0.3)  # a measurement window, not a wait for an event
        t0 = ticks()
        time.sleep(0.5)
        spent = ticks() - t0
        need(spent <= 5, "server spun: %d ticks in 0.5 s" % spent)
        for s in socks:
            s.close()
        socks = []
        ch = grpc.insecure_channel("unix://" + sock2)
        try:
            r = api_pb2_grpc.APIStub(ch).State(api_pb2.StateRequest(id="back"), timeout=10)
            need(r.containers[0].id == "back")
        finally:
            ch.close()
    finally:
        for s in socks:
            s.close()
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=10)


check("out of fds: accept pauses (no spinning), serves again after closes", t_out_of_fds)

# ---- afterwards ------------------------------------------------------------------------


def t_after():
    need(stub.State(api_pb2.StateRequest(id="last"), timeout=10).containers[0].id == "last")
    channel.close()
    s = raw_connect()  # a round trip through accept: the channel's close was processed before
    s.sendall(b"x" * 30)
    read_until_eof(s)
    s.close()
    st = wait_stats(lambda st: st["conns"] == 0)
    need(st["calls"] == 0, st)
    need(fd_count() == base_fds, (fd_count(), base_fds))
    need(st["fds"] == base["fds"] - 1, (st, base))


check("afterwards: still serving, no connection, call or fd leaked", t_after)


def t_exit():
    server.send_signal(signal.SIGTERM)
    words = server.stdout.readline().split()
    need(words[0] == "EXIT", words)
    need(server.wait(timeout=10) == 0)
    need(words[1:3] == ["conns=0", "calls=0"], words)


check("test server exits cleanly on SIGTERM", t_exit)

if server.poll() is None:
    server.kill()
    server.wait()
shutil.rmtree(TMP, ignore_errors=True)
print("1..%d" % len(results))
sys.exit(0 if all(results) else 1)
