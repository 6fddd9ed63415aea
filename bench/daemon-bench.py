"""Daemon figures (issue 4): real containerd + shim + runc, busybox bundles.

  create→running median of N vs bare `runc create` + `runc start` (same run,
  same bundle); C concurrent CreateContainer calls (wall time, errors);
  process death → `exit` event at a subscriber (median); daemon RSS with R
  running containers; E instant and E missing-binary execs (fds flat?).
Usage: daemon-bench.py [N=20] [C=50] [R=100] [E=200]
"""
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("CTRD_TOP_SRCDIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..")), "integration"))
import daemon_harness as h  # noqa: E402
from daemon_harness import pb  # noqa: E402

N, C, R, E = h.bench_args(20, 50, 100, 200)


def ms(v):
    return "%.2f ms" % (v * 1000)


# state dir on tmpfs as on production hosts (/run); the bundle stays on disk
d = h.Daemon(tmpfs_state=True)
try:
    d.start()
    d.start_events()
    bundle = h.make_bundle(d.tmp, "sleep", ["sleep", "100000"])

    def kill_and_wait(cid):
        d.stub.Signal(pb.SignalRequest(id=cid, pid="init", signal=9))
        if d.wait_exit(cid, timeout=30) is None:
            raise RuntimeError("no exit event for " + cid)

    # 1. create → running, daemon vs bare runc, interleaved. Bare runc runs by
    # absolute path (the daemon and the shim resolve theirs before fork; a
    # PATH search by failing execve would tax only the bare side), and each
    # daemon container is settled (its shim's `runc delete` finished) before
    # the bare one starts, so neither side runs beside the other's cleanup.
    runc = shutil.which("runc")
    dt, rt = [], []
    for i in range(N):
        cid = h.uid("b%d" % i)
        t0 = time.monotonic()
        d.create(cid, bundle)
        dt.append(time.monotonic() - t0)
        kill_and_wait(cid)
        h.settle(d, cid)
        rid = h.uid("bare%d" % i)
        t0 = time.monotonic()
        subprocess.check_call([runc, "create", "--bundle", bundle, rid],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        subprocess.check_call([runc, "start", rid])
        rt.append(time.monotonic() - t0)
        subprocess.call([runc, "delete", "-f", rid])
    md, mr = statistics.median(dt), statistics.median(rt)
    pd = statistics.median([a - b for a, b in zip(dt, rt)])
    print("create->running median of %d: daemon %s, bare runc create+start %s, overhead %s "
          "(ratio %.2f; median of paired differences %s)"
          % (N, ms(md), ms(mr), ms(md - mr), md / mr, ms(pd)), flush=True)

    # 2. concurrent creates
    t0 = time.monotonic()
    futs = [d.stub.CreateContainer.future(pb.CreateContainerRequest(id=h.uid("c%d" % i),
                                                                    bundlePath=bundle),
                                          timeout=120) for i in range(C)]
    errors = []
    for f in futs:
        try:
            f.result()
        except Exception as e:  # noqa: BLE001
            errors.append(str(e)[:200])
    wall = time.monotonic() - t0
    print("%d concurrent CreateContainer: wall %s, errors %d%s" % (
        C, ms(wall), len(errors), (": " + errors[0]) if errors else ""), flush=True)

    # 3. death → exit event latency (SIGKILL sent here; the kernel kills at
    # once), seen by two subscribers: the harness's grpcio stream (a Python
    # thread hands it over: GIL and queue wake-ups count) and `ctr events`
    # (the C client; its line read here from a pipe).
    import select
    ctr = subprocess.Popen([os.path.join(h.TOP_BUILD, "ctr", "ctr"), "--address",
                            "unix://" + d.sock, "events"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    cbuf = [b""]

    def ctr_line(want, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in cbuf[0]:
                line, cbuf[0] = cbuf[0].split(b"\n", 1)
                if want(line.split()):
                    return True
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([ctr.stdout], [], [], left)[0]:
                return False
            chunk = os.read(ctr.stdout.fileno(), 65536)
            if not chunk:
                return False
            cbuf[0] += chunk

    ctr_line(lambda f: f[:1] == [b"TIME"], 10)  # subscribed once the header is out
    d.stub.State(pb.StateRequest())
    lat, emit, clat = [], [], []
    for i in range(min(C, 20)):
        cid = h.uid("c%d" % i)
        st = d.stub.State(pb.StateRequest(id=cid))
        pid = st.containers[0].processes[0].systemPid
        w0 = time.time()
        t0 = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        got = ctr_line(lambda f: len(f) >= 3 and f[1] == b"exit" and f[2] == cid.encode())
        clat.append(time.monotonic() - t0)
        ev = d.wait_exit(cid, timeout=30)
        lat.append(time.monotonic() - t0)
        if ev is None or not got:
            raise RuntimeError("no exit event")
        # the event's timestamp is the daemon's clock at emission
        emit.append(ev.timestamp.seconds + ev.timestamp.nanos / 1e9 - w0)
        # its shim's `runc delete` must not run beside the next measurement
        h.settle(d, cid)
    ctr.kill()
    ctr.wait()
    print("process death -> exit event: median %s at a `ctr events` subscriber (max %s), "
          "%s at a grpcio subscriber (max %s) (n=%d)" % (
              ms(statistics.median(clat)), ms(max(clat)), ms(statistics.median(lat)),
              ms(max(lat)), len(lat)), flush=True)
    print("  of which death -> emission in the daemon: median %s" % ms(statistics.median(emit)),
          flush=True)
    for i in range(min(C, 20), C):
        kill_and_wait(h.uid("c%d" % i))

    # 4. RSS with R running containers
    base = h.rss_kib(d.proc.pid)
    for i in range(R):
        d.create(h.uid("r%d" % i), bundle)
    full = h.rss_kib(d.proc.pid)
    nfd = h.nfds(d.proc.pid)
    print("daemon RSS: %d KiB idle, %d KiB (%.1f MiB) with %d running containers; %d fds" % (
        base, full, full / 1024, R, nfd), flush=True)
    t0 = time.monotonic()
    for _ in range(20):
        d.stub.State(pb.StateRequest())
    print("State RPC with %d containers: mean %s" % (R, ms((time.monotonic() - t0) / 20)))
    for i in range(1, R):
        kill_and_wait(h.uid("r%d" % i))

    # 5. many instant and missing-binary execs into one container
    cid = h.uid("r0")
    fds0 = h.nfds(d.proc.pid)
    bad = 0
    t0 = time.monotonic()
    for i in range(E):
        code, _ = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
            id=cid, pid="t%d" % i, args=["true"], cwd="/", env=["PATH=/bin"]), timeout=30)
        bad += code is not None
    for i in range(E):
        bad += d.wait_exit(cid, "t%d" % i, timeout=30) is None
    t1 = time.monotonic()
    for i in range(E):
        code, msg = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
            id=cid, pid="m%d" % i, args=["/missing"], cwd="/", env=["PATH=/bin"]), timeout=30)
        bad += code is None or "/missing" not in msg
    t2 = time.monotonic()
    fds1 = h.nfds(d.proc.pid)
    print("%d instant execs (start+exit event): %s each; %d missing-binary execs: %s each; "
          "wrong results %d; daemon fds %d -> %d; RSS %d KiB" % (
              E, ms((t1 - t0) / E), E, ms((t2 - t1) / E), bad, fds0, fds1, h.rss_kib(d.proc.pid)),
          flush=True)
    kill_and_wait(cid)
finally:
    d.cleanup()
