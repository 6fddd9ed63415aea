"""A mass exit (issue 13): N (100) busybox containers created through the API,
then Signal(9) to all at once. Real daemon, shim and runc; state dir on tmpfs.
Invariants only (times belong to bench/scale): every exit reported exactly
once with status 137, and once everything settled nothing is left: no shim,
no runc state, no cgroup of a container, no container dir in the state dir,
the daemon's fds back to their idle count. And the cleanup takes turns: at
most one `runc delete` per CPU at a time (lib/shim-proto.h), seen through an
instrumented runtime (real runc; its plain `delete` notes when it ran)."""
import os

import daemon_harness as h
from daemon_harness import pb
from daemon_harness import uid as I

N = int(os.environ.get("CTRD_SCALE_N", "100"))
t = h.Tap(10)
d = h.Daemon(tmpfs_state=True)


def environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return [e.decode(errors="replace") for e in f.read().split(b"\0") if e]


def cgroup_dirs(pid):
    """The cgroup directories of a process (v1 hierarchies and v2)."""
    out = []
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctrl, path = line.rstrip("\n").split(":", 2)
            name = ctrl.split(",")[-1].replace("name=", "") if ctrl else "unified"
            base = "/sys/fs/cgroup/" + name if ctrl else "/sys/fs/cgroup/unified"
            if not os.path.isdir(base):
                base = "/sys/fs/cgroup"
            if path != "/":
                out.append(base + path)
    return [p for p in out if os.path.isdir(p)]


try:
    d.start()
    d.start_events()
    bundle = h.make_bundle(d.tmp, "sleep", ["sleep", "100000"])
    dlog = os.path.join(d.tmp, "deletes")
    rt = d.script(
        "runc-noting-deletes",
        "#!/bin/sh\n# instrumented runtime (not a fake): real runc, whose plain delete "
        "(the shim's) notes when it began and ended\n"
        "case \" $* \" in *\" delete -f \"*) ;; *\" delete \"*)\n"
        "  echo \"b $(date +%%s%%N)\" >> %s; runc \"$@\"; r=$?\n"
        "  echo \"e $(date +%%s%%N)\" >> %s; exit $r;;\nesac\nexec runc \"$@\"\n"
        % (dlog, dlog))
    # one full life cycle first: what the daemon opens once (caches) is idle
    w = I("warm")
    d.create(w, bundle)
    wpid = d.stub.State(pb.StateRequest(id=w)).containers[0].processes[0].systemPid
    d.stub.Signal(pb.SignalRequest(id=w, pid="init", signal=9))
    d.wait_exit(w, timeout=60)
    h.settle(d, w)
    fd_idle = h.nfds(d.proc.pid)
    d.stub.State(pb.StateRequest())
    rss_idle = h.status_kib(d.proc.pid, "RssAnon")

    ids = [I("s%d" % i) for i in range(N)]
    for cid in ids:
        d.create(cid, bundle, timeout=120, runtime=rt)
    st = d.stub.State(pb.StateRequest(), timeout=60)
    mine = {c.id: c for c in st.containers if c.id in set(ids)}
    t.ok(len(mine) == N and all(c.status == "running" for c in mine.values()),
         "%d containers created and running" % N, len(mine))
    shims = {cid: h.shim_pids(d.state, cid) for cid in ids}
    denv = environ(d.proc.pid)
    senv = environ(shims[ids[0]][0])
    t.ok(any(e.startswith("GLIBC_TUNABLES=") and "glibc.malloc.tcache_count=0" in e for e in denv)
         and not [e for e in senv if e.startswith(("GLIBC_TUNABLES=", "CTRD_MALLOC_TUNED="))],
         "the daemon runs with glibc's tcache off; its shims get the environment without it",
         ([e for e in denv if "TUN" in e], [e for e in senv if "TUN" in e]))
    cgs = set()
    for c in mine.values():
        cgs.update(cgroup_dirs(c.processes[0].systemPid))
    t.ok(all(len(v) == 1 for v in shims.values()) and cgs,
         "one shim each; their cgroups found", (sum(map(len, shims.values())), len(cgs)))

    for cid in ids:
        d.stub.Signal(pb.SignalRequest(id=cid, pid="init", signal=9), timeout=60)
    missing = [cid for cid in ids if d.wait_exit(cid, timeout=120) is None]
    for cid in ids:
        h.settle(d, cid)
    # every cleanup is done: a last round trip, then count the exits
    d.stub.State(pb.StateRequest(), timeout=60)
    exits = [e for e in d.events if e.type == "exit" and e.id in set(ids)]
    per = {}
    for e in exits:
        per.setdefault(e.id, []).append(e)
    t.ok(not missing and all(len(per.get(cid, [])) == 1 for cid in ids),
         "every exit reported exactly once", (missing[:3], [k for k, v in per.items()
                                                             if len(v) != 1][:3]))
    t.ok(all(e.status == 137 and e.pid == "init" for e in exits),
         "each with the init's status 137", [e.status for e in exits if e.status != 137][:3])
    alive = [p for v in shims.values() for p in v if h.pid_alive(p)]
    left_dirs = [n for n in os.listdir(d.state) if not n.startswith(".")
                 and os.path.isdir(os.path.join(d.state, n))]
    t.ok(not alive and not left_dirs, "no shim and no container dir left",
         (alive[:3], left_dirs[:3]))
    t.ok(not set(ids).intersection(h.runc_list_ids()) and not [p for p in cgs if os.path.isdir(p)],
         "no runc state and no cgroup left", [p for p in cgs if os.path.isdir(p)][:3])
    marks = []
    with open(dlog) as f:
        for line in f:
            k, ns = line.split()
            marks.append((int(ns), 1 if k == "b" else -1))
    ran = most = 0
    for _, step in sorted(marks):
        ran += step
        most = max(most, ran)
    ncpu = len(os.sched_getaffinity(0))
    t.ok(len(marks) == 2 * N and most <= ncpu,
         "the %d shims' runc deletes took turns: at most %d at a time (%d CPUs)"
         % (len(marks) // 2, most, ncpu), (len(marks), most))
    # the idle trim runs once the loop has nothing else to do: a round trip
    # after the last free, then another
    d.stub.State(pb.StateRequest())
    d.stub.State(pb.StateRequest())
    rss_after = h.status_kib(d.proc.pid, "RssAnon")
    t.ok(rss_after - rss_idle < 256,
         "the daemon's anonymous memory is back within 256 KiB of idle (%+d KiB)"
         % (rss_after - rss_idle), (rss_idle, rss_after))
    t.ok(not d.stub.State(pb.StateRequest()).containers and h.nfds(d.proc.pid) == fd_idle,
         "State empty; daemon fds back to idle", (fd_idle, h.nfds(d.proc.pid)))
finally:
    d.cleanup()
t.done()
