#!/usr/bin/env python3
"""Shim start latency against bare `runc create`, interleaved and paired.

Each round runs `runc create` alone on the bundle (by absolute path, as the
shim resolves its runtime before fork), then starts containerd-shim on the same
bundle with a start-up sync pipe and waits for its "ok <pid>" line (the pid
file is written by then). Interleaving puts both under the same load on a
shared machine; the paired difference is the shim's own cost.

Usage: shim-start.py SHIM BUNDLE [N]   (root; prints figures, not a test)
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def spawn(argv, cwd=None, env=None, pass_fds=()):
    return subprocess.Popen(argv, cwd=cwd, env=env, pass_fds=pass_fds,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    shim, bundle = sys.argv[1], os.path.abspath(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    runc = shutil.which("runc")
    if runc is None:
        sys.exit("shim-start: runc not in PATH")
    cfg = json.load(open(os.path.join(bundle, "config.json")))
    top = tempfile.mkdtemp(prefix="shim-start-")
    tag = f"shimstart-{os.getpid()}"
    rc_lat, sh_lat = [], []
    live = []
    try:
        for i in range(n):
            rid = f"{tag}-rc-{i}"
            live.append(rid)
            t0 = time.perf_counter_ns()
            r = spawn([runc, "create", "--bundle", bundle, "--pid-file",
                       os.path.join(top, "rc.pid"), rid]).wait()
            rc_lat.append((time.perf_counter_ns() - t0) / 1e6)
            if r != 0:
                sys.exit(f"shim-start: runc create {rid} failed ({r})")
            subprocess.run([runc, "delete", "-f", rid], check=True)
            live.remove(rid)

            sid = f"{tag}-sh-{i}"
            d = os.path.join(top, "state", sid, "init")
            os.makedirs(d)
            io = {s: os.path.join(top, f"{sid}-{s}") for s in ("in", "out", "err")}
            for p in io.values():
                os.mkfifo(p)
            proc = dict(cfg["process"], exec=False, containerdStdin=io["in"],
                        containerdStdout=io["out"], containerdStderr=io["err"],
                        runtimeArgs=None, noPivotRoot=False, checkpoint="",
                        rootUID=0, rootGID=0)
            with open(os.path.join(d, "process.json"), "w") as f:
                json.dump(proc, f)
            for f in ("exit", "control"):
                os.mkfifo(os.path.join(d, f))
            # the daemon's ends: exit FIFO and stdout/stderr readers
            held = [os.open(os.path.join(d, "exit"), os.O_RDONLY | os.O_NONBLOCK)]
            held += [os.open(io[s], os.O_RDONLY | os.O_NONBLOCK) for s in ("out", "err")]
            rd, wr = os.pipe()
            env = dict(os.environ, CTRD_SHIM_SYNC_FD=str(wr))
            live.append(sid)
            t0 = time.perf_counter_ns()
            p = spawn([shim, sid, bundle, "runc"], cwd=d, env=env, pass_fds=(wr,))
            os.close(wr)
            line = os.read(rd, 512)
            sh_lat.append((time.perf_counter_ns() - t0) / 1e6)
            os.close(rd)
            if not line.startswith(b"ok "):
                sys.exit(f"shim-start: shim start of {sid} failed: {line!r}")
            # the container dies, the shim writes exitStatus, deletes, exits
            subprocess.run([runc, "delete", "-f", sid], check=True)
            p.wait()
            live.remove(sid)
            for fd in held:
                os.close(fd)
    finally:
        for cid in live:
            subprocess.run([runc, "delete", "-f", cid], stderr=subprocess.DEVNULL)
        shutil.rmtree(top, ignore_errors=True)
    med = statistics.median
    diff = [b - a for a, b in zip(rc_lat, sh_lat)]
    print(f"runc create alone (interleaved): median {med(rc_lat) * 1000:.0f} us")
    print(f"start (shim spawn -> sync 'ok <pid>'): median {med(sh_lat) * 1000:.0f} us")
    print(f"shim overhead (paired difference, {n} pairs): median {med(diff) * 1000:.0f} us, "
          f"ratio {med(sh_lat) / med(rc_lat):.2f}")


if __name__ == "__main__":
    main()
