"""Stats with many containers (docs/failure-modes.md #10: the original took ~1.8 s per
container at 407 containers; target: 500 containers well under 100 ms).

Starts N real containers (busybox `sleep`) through a private containerd, then
asks for the Stats of every one of them:
  - one call after the other (each a full gRPC round trip from Python);
  - all N calls in flight at once on one connection;
and reports the daemon's own CPU time per Stats call (time on cpu of the daemon
process across the sequential round, from /proc/<pid>/schedstat), which is
what the daemon pays no matter how the client calls.

Usage (root, from a build dir): bench/stats-many [N=500]
Prints figures; not a test.
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("CTRD_TOP_SRCDIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..")), "integration"))
import daemon_harness as h  # noqa: E402
from daemon_harness import pb  # noqa: E402

N, = h.bench_args(500)


def cpu_s(pid):
    """CPU time of pid in seconds, ns resolution (schedstat: time on cpu)."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0]) / 1e9


def create_all(d, bundle, ids, batch=50):
    for i in range(0, len(ids), batch):
        futs = [d.stub.CreateContainer.future(
            pb.CreateContainerRequest(id=cid, bundlePath=bundle), timeout=300)
            for cid in ids[i:i + batch]]
        for f in futs:
            f.result()


d = h.Daemon(tmpfs_state=True)
try:
    d.start()
    bundle = h.make_bundle(d.tmp, "sleep", ["sleep", "100000"])
    ids = [h.uid("s%d" % i) for i in range(N)]
    t0 = time.monotonic()
    create_all(d, bundle, ids)
    print("%d containers created in %.1f s" % (N, time.monotonic() - t0), flush=True)

    # warm-up (first reads of each cgroup's files)
    for cid in ids:
        d.stub.Stats(pb.StatsRequest(id=cid))

    per = []
    c0 = cpu_s(d.proc.pid)
    t0 = time.monotonic()
    for cid in ids:
        t1 = time.monotonic()
        r = d.stub.Stats(pb.StatsRequest(id=cid))
        per.append(time.monotonic() - t1)
        if r.cgroup_stats.memory_stats.usage.usage == 0:
            raise RuntimeError("no memory usage for " + cid)
    seq = time.monotonic() - t0
    cpu = cpu_s(d.proc.pid) - c0
    print("Stats of %d containers, one call after the other: %.1f ms (median call %.0f us, "
          "round trip from Python included)" % (N, seq * 1000, statistics.median(per) * 1e6))
    print("  daemon CPU for those %d calls: %.1f ms (%.0f us per call)"
          % (N, cpu * 1000, cpu * 1e6 / N))

    t0 = time.monotonic()
    futs = [d.stub.Stats.future(pb.StatsRequest(id=cid), timeout=60) for cid in ids]
    for f in futs:
        f.result()
    print("Stats of %d containers, all calls in flight at once: %.1f ms"
          % (N, (time.monotonic() - t0) * 1000), flush=True)
finally:
    d.cleanup()
