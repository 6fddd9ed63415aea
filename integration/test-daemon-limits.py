"""Slow, idle and greedy clients (issue 11 #5): Events streams that never
read are ended with RESOURCE_EXHAUSTED past their queue bound and can
resubscribe from their last timestamp without losing an event; a normal
subscriber on another connection gets every event meanwhile; connections and
streams per connection are bounded; after the clients go the daemon's RSS is
back within 1 MiB. Real daemon, shim, runc; real grpcio clients, and a bare
HTTP/2 client (h2raw) for what grpcio never does (ignore the stream limit,
never read the socket). TAP."""
import struct
import time

import daemon_harness as h
from daemon_harness import pb, api_pb2_grpc
from daemon_harness import uid as I
import h2raw

import grpc

t = h.Tap(19)

# A grpcio client that reads little ahead: no BDP probing (which would grow
# its stream windows to megabytes), 1 KiB of lookahead per stream.
SMALL_WINDOW = [("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 1024),
                ("grpc.use_local_subchannel_pool", 1)]
QUEUE = 1024  # --events-queue-bytes of the first daemon


def channel(d, options=()):
    return grpc.insecure_channel("unix://" + d.sock, options=list(options) +
                                 [("grpc.use_local_subchannel_pool", 1)])


def log_count(d, text):
    with open(d.log, errors="replace") as f:
        return sum(1 for line in f if text in line)


def sample_until(pred, timeout):
    """What the daemon does when its clients leave (close their sockets, go
    idle, return memory) has no notification: sample, bounded."""
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            return False
        time.sleep(0.1)
    return True


def key(ev):
    return (ev.type, ev.id, ev.pid, ev.timestamp.seconds, ev.timestamp.nanos)


class Toggler:
    """Events on demand: pause/resume of one running container."""

    def __init__(self, d, cid):
        self.d, self.cid, self.n = d, cid, 0

    def __call__(self):
        st = "paused" if self.n % 2 == 0 else "running"
        self.n += 1
        self.d.stub.UpdateContainer(pb.UpdateContainerRequest(id=self.cid, pid="init", status=st),
                                    timeout=30)


# ---- daemon 1: small limits -------------------------------------------------------
d = h.Daemon(args=["--max-connections", "4", "--max-concurrent-streams", "8",
                   "--events-queue-bytes", str(QUEUE)])
try:
    d.start()
    d.start_events()  # the normal subscriber, on the harness's connection
    cid = I("lim")
    d.create(cid, h.make_bundle(d.tmp, cid, ["sleep", "100000"]))
    toggle = Toggler(d, cid)
    toggle()
    toggle()
    t.ok(d.wait_event(lambda e: e.type == "resume" and e.id == cid) is not None,
         "the normal subscriber sees pause and resume events")
    fds0 = h.nfds(d.proc.pid)  # with the harness's one connection

    # -- a grpcio stream that never reads: RESOURCE_EXHAUSTED past the bound ---------
    slow_ch = channel(d, SMALL_WINDOW)
    # (a deadline only so that a daemon that never ends it fails, not hangs)
    slow = api_pb2_grpc.APIStub(slow_ch).Events(pb.EventsRequest(), timeout=300)
    api_pb2_grpc.APIStub(slow_ch).State(pb.StateRequest(), timeout=30)  # the stream is open
    seen_before = len(d.events)
    sent = 0
    while log_count(d, "too slow") == 0 and sent < 600:
        toggle()
        sent += 1
    t.ok(log_count(d, "too slow") == 1,
         "a never-reading stream is dropped as too slow after %d events (bound %d bytes)"
         % (sent, QUEUE), d.read_log())
    code, _ = h.rpc_error(d.stub.State, pb.StateRequest(id=cid))
    t.ok(code is None and d.proc.poll() is None, "the daemon serves on", code)
    for _ in range(3):  # more events after the drop
        toggle()
    sent += 3
    last = d.wait_event(lambda e: len(d.events) >= seen_before + sent, timeout=30)
    mine = [key(e) for e in d.events[seen_before:]]
    t.ok(last is not None and len(mine) == sent and
         all(e[0] in ("pause", "resume") for e in mine),
         "the normal subscriber on another connection got all %d events meanwhile" % sent,
         (len(mine), sent))

    # The slow client reads at last: what it got, then grpc-status 8 with the
    # reason and what to do.
    got = []
    code = msg = None
    try:
        for ev in slow:
            got.append(ev)
    except grpc.RpcError as e:
        code, msg = e.code(), e.details()
    t.ok(code == grpc.StatusCode.RESOURCE_EXHAUSTED and "too slow" in (msg or "")
         and "timestamp of the last event" in (msg or ""),
         "the stream ended with RESOURCE_EXHAUSTED and a message saying to resubscribe from "
         "the last timestamp", (code, msg))
    t.ok(0 < len(got) < sent and [key(e) for e in got] == mine[:len(got)],
         "before the end it got the first %d events, in order" % len(got), (len(got), sent))

    # Resubscribing from the timestamp of the last event it got replays the
    # rest from events.log: together exactly the normal subscriber's events.
    rest = list(d.stub.Events(pb.EventsRequest(timestamp=got[-1].timestamp, storedOnly=True),
                              timeout=30))
    t.ok([key(e) for e in got] + [key(e) for e in rest] == mine,
         "resubscribing from the last timestamp gets the %d missed events: none lost, none twice"
         % len(rest), (len(got), len(rest), len(mine)))
    slow_ch.close()

    # -- streams per connection: SETTINGS_MAX_CONCURRENT_STREAMS ----------------------
    raw = h2raw.Conn(d.sock)
    f = raw.frames_until(lambda f: f[0] == h2raw.SETTINGS and not f[1] & h2raw.ACK)
    params = {}
    if f:
        for i in range(0, len(f[3]) - 5, 6):
            k, v = struct.unpack(">HI", f[3][i:i + 6])
            params[k] = v
    t.ok(params.get(3) == 8, "the server announces SETTINGS_MAX_CONCURRENT_STREAMS 8", params)
    # a client that opens a 9th at once, before acknowledging: REFUSED_STREAM
    # for that one (nothing of it was processed: a retry is safe), the others live
    fresh = h2raw.Conn(d.sock)
    ids = [fresh.open_call("/types.API/Events") for _ in range(9)]
    f = fresh.frames_until(lambda f: f[0] in (h2raw.RST_STREAM, h2raw.GOAWAY))
    t.ok(f is not None and f[0] == h2raw.RST_STREAM and f[2] == ids[8]
         and h2raw.rst_code(f[3]) == "REFUSED_STREAM",
         "a 9th stream before the client acknowledged the limit: RST_STREAM(REFUSED_STREAM)",
         f and (f[0], f[2], f[3]))
    fresh.close()
    # after acknowledging it, exceeding it is a protocol violation: nghttp2
    # closes that connection with GOAWAY(PROTOCOL_ERROR); others are untouched
    raw.ack_settings()
    raw.frames_until(lambda f: f[0] == h2raw.SETTINGS and f[1] & h2raw.ACK)
    try:
        for _ in range(9):
            raw.open_call("/types.API/Events")
    except OSError:
        pass  # the server may close before the 9th request's DATA is written
    f = raw.frames_until(lambda f: f[0] in (h2raw.RST_STREAM, h2raw.GOAWAY))
    t.ok(f is not None and f[0] == h2raw.GOAWAY and h2raw.goaway_info(f[3])[1] == "PROTOCOL_ERROR",
         "a 9th stream after the client acknowledged the limit: GOAWAY(PROTOCOL_ERROR)",
         f and (f[0], f[3]))
    raw.close()
    # grpcio keeps to the limit: a 9th call waits in the client until one ends
    ch = channel(d)
    stub = api_pb2_grpc.APIStub(ch)
    streams = [stub.Events(pb.EventsRequest(), timeout=120) for _ in range(8)]
    toggle()  # one event read on each: all 8 are open at the server
    firsts = [next(s) for s in streams]
    code, _ = h.rpc_error(stub.State, pb.StateRequest(), timeout=2)
    t.ok(len(firsts) == 8 and code == grpc.StatusCode.DEADLINE_EXCEEDED,
         "grpcio with 8 streams open: a 9th call on that connection waits (not sent)", code)
    code2, _ = h.rpc_error(d.stub.State, pb.StateRequest(), timeout=30)
    streams[0].cancel()
    code3, _ = h.rpc_error(stub.State, pb.StateRequest(), timeout=30)
    t.ok(code2 is None and code3 is None,
         "other connections are served meanwhile; once one stream ends the call goes through",
         (code2, code3))
    for s in streams:
        s.cancel()
    ch.close()

    # -- connections: the 5th is refused with GOAWAY ----------------------------------
    sample_until(lambda: h.nfds(d.proc.pid) <= fds0, 20)  # the closed ones are gone
    held = [h2raw.Conn(d.sock) for _ in range(3)]  # with the harness's: 4
    for c in held:
        c.frames_until(lambda f: f[0] == h2raw.SETTINGS)
    extra = h2raw.Conn(d.sock)
    f = extra.frames_until(lambda f: f[0] == h2raw.GOAWAY)
    info = h2raw.goaway_info(f[3]) if f else None
    # the end after the GOAWAY: EOF, or ECONNRESET when the client's preface
    # reached the daemon after it drained and before it closed (a close with
    # unread bytes resets a connection). Both are the close; the reset is also
    # what makes grpcio fail the call at once below rather than retry it on a
    # new connection, refused again, until its deadline.
    try:
        eof = extra.read_frame() is None if f else False
    except ConnectionResetError:
        eof = True
    t.ok(info is not None and info[0] == 0 and info[1] == "ENHANCE_YOUR_CALM"
         and "--max-connections 4" in info[2] and eof,
         "a 5th connection gets GOAWAY(ENHANCE_YOUR_CALM, last stream 0, 'too many "
         "connections') and is closed", info)
    extra.close()
    over = channel(d)
    code, _ = h.rpc_error(api_pb2_grpc.APIStub(over).State, pb.StateRequest(), timeout=10)
    t.ok(code == grpc.StatusCode.UNAVAILABLE, "a grpcio client over the limit: UNAVAILABLE", code)
    code, _ = h.rpc_error(d.stub.State, pb.StateRequest(), timeout=30)
    t.ok(code is None and log_count(d, "refusing new ones") >= 1,
         "open connections are served on; the refusal is logged", code)
    held.pop().close()
    code, _ = h.rpc_error(api_pb2_grpc.APIStub(over).State, pb.StateRequest(), timeout=30,
                          wait_for_ready=True)
    t.ok(code is None, "once one closes, a new connection is served", code)
    over.close()
    for c in held:
        c.close()
except Exception:  # noqa: BLE001
    h.unexpected(t, d)
finally:
    d.cleanup()

# ---- daemon 2: many never-reading streams, default queue bounds -------------------
CONNS, STREAMS, EVENTS = 4, 1000, 150
d = h.Daemon(args=["--max-concurrent-streams", str(STREAMS + 8)])
try:
    d.start()
    d.start_events()
    cid = I("mem")
    d.create(cid, h.make_bundle(d.tmp, cid, ["sleep", "100000"]))
    toggle = Toggler(d, cid)
    toggle()
    toggle()
    d.wait_event(lambda e: e.type == "resume" and e.id == cid)
    pid = d.proc.pid
    # State once first: it keeps the container's cgroup directory and
    # cgroup.procs open for the next State (runtime/cgroup-pids.c); those
    # belong to the container, not to a client
    d.stub.State(pb.StateRequest(), timeout=30)
    fds0 = h.nfds(pid)
    # warm: a connection with many streams once, so that what stays is not a
    # first-use cost (the loop's and malloc's own tables)
    warm = h2raw.Conn(d.sock)
    for _ in range(STREAMS):
        warm.open_call("/types.API/Events")
    d.stub.State(pb.StateRequest(), timeout=30)
    warm.close()
    sample_until(lambda: h.nfds(pid) <= fds0, 30)

    def settled():
        """RSS that stopped moving (a trim after the clients left)."""
        prev = [h.rss_kib(pid)]

        def pred():
            time.sleep(0.3)
            cur = h.rss_kib(pid)
            ok = abs(cur - prev[0]) < 16
            prev[0] = cur
            return ok
        sample_until(pred, 20)
        return prev[0]
    rss0 = settled()

    # bare HTTP/2 clients that never read their socket, and grpcio streams
    # that never read
    raws = [h2raw.Conn(d.sock) for _ in range(CONNS)]
    for c in raws:
        for _ in range(STREAMS):
            c.open_call("/types.API/Events")
    gch = channel(d, SMALL_WINDOW)
    gstub = api_pb2_grpc.APIStub(gch)
    lazy = [gstub.Events(pb.EventsRequest()) for _ in range(STREAMS)]
    gstub.State(pb.StateRequest(), timeout=60)
    seen = len(d.events)
    for _ in range(EVENTS):
        toggle()
    ok = d.wait_event(lambda e: len(d.events) >= seen + EVENTS, timeout=30) is not None
    rss_peak = h.rss_kib(pid)
    t.ok(ok and len(d.events) == seen + EVENTS and d.proc.poll() is None,
         "%d x %d never-reading streams: the daemon stays up and the normal subscriber gets "
         "all %d events" % (CONNS + 1, STREAMS, EVENTS), (len(d.events) - seen, EVENTS))
    dropped = log_count(d, "too slow")
    t.ok(dropped > 0, "past the total queue budget the streams furthest behind were dropped "
         "(%d)" % dropped, dropped)
    for c in raws:
        c.close()
    for s in lazy:
        s.cancel()
    gch.close()
    gone = sample_until(lambda: h.nfds(pid) <= fds0, 60)
    rss1 = settled()
    t.note("RSS before %d KiB, with the streams %d KiB, after %d KiB" % (rss0, rss_peak, rss1))
    t.ok(gone and rss1 - rss0 < 1024,
         "after the clients went the daemon's RSS is back within 1 MiB (%+d KiB)" % (rss1 - rss0),
         (rss0, rss_peak, rss1))
except Exception:  # noqa: BLE001
    h.unexpected(t, d)
finally:
    d.cleanup()
t.done()
