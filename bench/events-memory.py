"""Events memory figures (issue 11 #5): N connections x M Events streams that
never read, K events published (pause/resume of one runc container), while
one normal subscriber on its own connection reads every event.

Prints per run: daemon RSS before the streams open, its peak (VmHWM, reset
before the streams open) and after the streams' connections closed and the
daemon went idle; the normal subscriber's delay per event (receive time -
event timestamp: median, p99, max) and whether it got all K; how many
streams the daemon ended as too slow (its log). Then the medians of the runs.
Usage: events-memory.py [N=4] [M=4000] [K=120] [RUNS=3] [KIND=raw]
  KIND raw: bare HTTP/2 clients (integration/h2raw.py) that never read their
  socket at all (every byte stays in the daemon or the kernel); grpc: grpcio
  channels whose calls are never iterated (grpcio's transport still reads
  into its own buffers, up to its flow-control windows).
  CTRD_DAEMON / CTRD_SHIM: other binaries (e.g. an older build to compare);
  CTRD_DAEMON_ARGS: extra daemon flags (default
  "--max-concurrent-streams M+16" when the daemon has that flag, so that
  every stream opens at once).
"""
import os
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("CTRD_TOP_SRCDIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..")), "integration"))
import daemon_harness as h  # noqa: E402
from daemon_harness import pb, api_pb2_grpc  # noqa: E402

import grpc  # noqa: E402

N, M, K, RUNS, KIND = h.bench_args(4, 4000, 120, 3, "raw")
import h2raw  # noqa: E402

h.DAEMON = os.environ.get("CTRD_DAEMON") or h.DAEMON
h.SHIM = os.environ.get("CTRD_SHIM") or h.SHIM


def wait_until(pred, timeout):
    """Bench only: sample until pred() holds (the daemon offers no signal for
    'my clients' sockets are closed and I went idle')."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def daemon_args():
    if "CTRD_DAEMON_ARGS" in os.environ:
        return os.environ["CTRD_DAEMON_ARGS"].split()
    help_text = subprocess.run([h.DAEMON, "--help"], capture_output=True, text=True).stdout
    if "--max-concurrent-streams" in help_text:
        return ["--max-concurrent-streams", str(M + 16)]
    return []


def one_run():
    d = h.Daemon(tmpfs_state=True, args=daemon_args())
    chans = []
    try:
        d.start()
        pid = d.proc.pid
        cid = h.uid("evmem")
        bundle = h.make_bundle(d.tmp, cid, ["sleep", "100000"])
        d.create(cid, bundle)

        # the normal subscriber, on its own connection
        got = []
        sub_ch = grpc.insecure_channel("unix://" + d.sock)
        sub = api_pb2_grpc.APIStub(sub_ch).Events(pb.EventsRequest())
        first = threading.Event()

        def reader():
            try:
                for ev in sub:
                    now = time.time()
                    got.append((ev, now - (ev.timestamp.seconds + ev.timestamp.nanos / 1e9)))
                    first.set()
            except grpc.RpcError:
                pass
        threading.Thread(target=reader, daemon=True).start()

        def toggle(i):
            st = "paused" if i % 2 == 0 else "running"
            d.stub.UpdateContainer(pb.UpdateContainerRequest(id=cid, pid="init", status=st),
                                   timeout=30)

        # warm-up: two events through every path
        for i in range(2):
            toggle(i)
        wait_until(lambda: len(got) >= 2, 10)
        got.clear()
        fds_before = h.nfds(pid)
        rss_before = h.status_kib(pid, "VmRSS")
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")  # reset VmHWM to the current RSS

        # N connections x M streams that never read
        calls = []
        for _ in range(N):
            if KIND == "raw":
                c = h2raw.Conn(d.sock)
                for _ in range(M):
                    c.open_call("/types.API/Events")
                chans.append((c, None))
                continue
            ch = grpc.insecure_channel("unix://" + d.sock,
                                       options=[("grpc.use_local_subchannel_pool", 1)])
            stub = api_pb2_grpc.APIStub(ch)
            for _ in range(M):
                calls.append(stub.Events(pb.EventsRequest()))
            chans.append((ch, stub))
        # a round trip behind the streams on each grpc connection: they are
        # open (the raw ones were written before this one)
        for ch, stub in chans:
            if stub:
                stub.State(pb.StateRequest(), timeout=120)
        d.stub.State(pb.StateRequest(), timeout=120)
        t0 = time.monotonic()
        for i in range(K):
            toggle(i)
        t_events = time.monotonic() - t0
        wait_until(lambda: len(got) >= K, 30)
        rss_peak = h.status_kib(pid, "VmHWM")
        delays = sorted(x[1] for x in got)

        # the clients go
        for ch, _ in chans:
            ch.close()
        chans = []
        del calls
        wait_until(lambda: h.nfds(pid) <= fds_before, 60)
        # idle: RSS settles after the deferred malloc_trim (if any)
        last = [h.status_kib(pid, "VmRSS")]

        def settled():
            time.sleep(0.5)
            cur = h.status_kib(pid, "VmRSS")
            ok = abs(cur - last[0]) < 64
            last[0] = cur
            return ok
        wait_until(settled, 20)
        rss_after = h.status_kib(pid, "VmRSS")
        sub.cancel()
        sub_ch.close()
        with open(d.log, errors="replace") as f:
            dropped = sum(1 for line in f if "too slow" in line)
        return {
            "before": rss_before, "peak": rss_peak, "after": rss_after,
            "got": len(got), "med": statistics.median(delays) if delays else float("nan"),
            "p99": delays[int(len(delays) * 0.99)] if delays else float("nan"),
            "max": delays[-1] if delays else float("nan"), "dropped": dropped,
            "t_events": t_events,
        }
    finally:
        for ch, _ in chans:
            ch.close()
        d.cleanup()


def mib(kib):
    return "%.1f MiB" % (kib / 1024)


print("events-memory: %d %s connections x %d never-reading Events streams, %d events, daemon %s"
      % (N, KIND, M, K, h.DAEMON))
res = []
for r in range(RUNS):
    x = one_run()
    res.append(x)
    print("run %d: RSS before %s, peak %s (+%s), after %s (%+.0f KiB); normal subscriber %d/%d "
          "events, delay median %.1f ms p99 %.1f ms max %.1f ms; %d streams ended too slow; "
          "%d events in %.1f s"
          % (r + 1, mib(x["before"]), mib(x["peak"]), mib(x["peak"] - x["before"]),
             mib(x["after"]), x["after"] - x["before"], x["got"], K, x["med"] * 1e3,
             x["p99"] * 1e3, x["max"] * 1e3, x["dropped"], K, x["t_events"]))
    sys.stdout.flush()


def med(k):
    return statistics.median(x[k] for x in res)


print("median of %d: RSS before %s, peak +%s, after %+.0f KiB vs before; subscriber delay "
      "median %.1f ms, p99 %.1f ms, max %.1f ms; %d streams ended too slow"
      % (RUNS, mib(med("before")), mib(statistics.median(x["peak"] - x["before"] for x in res)),
         statistics.median(x["after"] - x["before"] for x in res), med("med") * 1e3,
         med("p99") * 1e3, med("max") * 1e3, med("dropped")))
