"""cgroup v2 end to end: the real daemon, shim and runc in a private mount
namespace whose /sys/fs/cgroup is a cgroup2 mount and nothing else (as on a
v2-only host), the test reading the same hierarchy through its own cgroup2
mount. Containers in the unified hierarchy, exec, Stats (cpu.stat), pause
(cgroup.freeze / cgroup.events), update, OOM (memory.events), adoption
after a daemon restart, crun. What the kernel does not allow here is said
in TAP comments and SKIP lines, never passed: on a hybrid host whose
controllers are all bound to v1 hierarchies the cgroup2 hierarchy has no
controllers, so memory/pids limits, memory stats and memory.events OOM
cannot be exercised (they run where cgroup.controllers lists memory). TAP."""
import os
import signal
import subprocess
import tempfile

import daemon_harness as h
from daemon_harness import pb
from daemon_harness import uid as I

import grpc

PLAN = 19


def cpu_usage_ns(cg, path):
    with open(os.path.join(cg, path.lstrip("/"), "cpu.stat")) as f:
        for line in f:
            k, v = line.split()
            if k == "usage_usec":
                return int(v) * 1000
    return None


def cgroup_events(cg, path):
    try:
        with open(os.path.join(cg, path.lstrip("/"), "cgroup.events")) as f:
            return dict(line.split() for line in f)
    except OSError as e:
        return {"error": str(e)}


def unified_path(pid):
    """The pid's cgroup in the unified hierarchy ("0::<path>")."""
    try:
        with open("/proc/%d/cgroup" % pid) as f:
            for line in f:
                if line.startswith("0::"):
                    return line[3:].strip()
    except OSError:
        pass
    return None


def crun_v2_blocker():
    """Why crun 1.x cannot start a container on cgroup2 here, or None: it
    raises RLIMIT_MEMLOCK to infinity before loading its device eBPF program,
    which needs CAP_SYS_RESOURCE when the hard limit is lower."""
    import resource
    hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)[1]
    with open("/proc/self/status") as f:
        eff = int([x for x in f if x.startswith("CapEff:")][0].split()[1], 16)
    if hard != resource.RLIM_INFINITY and not eff & (1 << 24):
        return ("crun sets RLIMIT_MEMLOCK to unlimited for its cgroup2 device eBPF program; "
                "this host has no CAP_SYS_RESOURCE (CapEff %x) and a hard limit of %d bytes"
                % (eff, hard))
    return None


t = h.Tap(PLAN)
cg = tempfile.mkdtemp(prefix="ctrd-cg2-")
mounted = subprocess.call(["mount", "-t", "cgroup2", "ctrd-test-cgroup2", cg]) == 0
d = h.Daemon(wrap=h.CGROUP2_NS)
try:
    t.ok(mounted, "the test mounts the cgroup2 hierarchy")
    with open(os.path.join(cg, "cgroup.controllers")) as f:
        controllers = f.read().split()
    t.note("cgroup2 controllers available: %s" % (" ".join(controllers) or "none"))
    have_mem = "memory" in controllers
    if not have_mem:
        t.note("the kernel binds memory (and every other controller here) to a cgroup v1 "
               "hierarchy: in cgroup2 there are no memory/pids/cpu limits, no memory.current "
               "and no memory.events; the checks that need them are skipped below. What runs: "
               "containers in the unified hierarchy, exec, cpu.stat, cgroup.freeze, adoption.")

    d.start()
    d.start_events()
    with open("/proc/%d/mountinfo" % d.proc.pid) as f:
        mi = [line.split(" - ")[1].split()[0] + " " + line.split()[4] for line in f
              if " - cgroup" in line]
    t.ok("cgroup2 /sys/fs/cgroup" in mi and not [m for m in mi if m.startswith("cgroup ")],
         "the daemon's namespace has cgroup2 at /sys/fs/cgroup and no v1 hierarchy", mi)

    # a burst of CPU, then sleep: its usage is fixed once it sleeps
    burst = h.make_bundle(d.tmp, "burst", [
        "sh", "-c", "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; echo > /dev/null; "
        "exec sleep 100000"])
    cid = I("v2")
    code, r = h.rpc_error(d.create, cid, burst)
    pid = r.container.processes[0].systemPid if code is None else 0
    path = unified_path(pid) if pid else None
    procs = []
    if path:
        with open(os.path.join(cg, path.lstrip("/"), "cgroup.procs")) as f:
            procs = [int(x) for x in f.read().split()]
    t.ok(code is None and path == "/" + cid and pid in procs,
         "runc puts the container in the unified hierarchy (0::/%s)" % cid, (code, r, path, procs))

    out = os.path.join(d.tmp, "e1.out")
    os.mkfifo(out)
    rd = h.FifoReader(out)
    code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=cid, pid="e1", args=["sh", "-c", "cat /proc/self/cgroup; exit 4"], cwd="/",
        env=["PATH=/bin"], stdout=out))
    ev = d.wait_exit(cid, "e1")
    got = rd.read_until(None)
    t.ok(code is None and ev is not None and ev.status == 4
         and ("0::/" in got.decode() and got.decode().split("0::")[1].split()[0] in ("/", "/" + cid)),
         "exec joins the container's cgroup2 cgroup, exit status 4", (code, ev, got))

    # State's pids from the cgroup2 cgroup.procs the daemon holds open:
    # current right after a fork (State read it before the fork too)
    d.stub.State(pb.StateRequest(id=cid))
    out2 = os.path.join(d.tmp, "e2.out")
    os.mkfifo(out2)
    rd2 = h.FifoReader(out2)
    code, r2 = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=cid, pid="e2", args=["sh", "-c", "sleep 100000 & echo $!; wait"], cwd="/",
        env=["PATH=/bin"], stdout=out2))
    forked = rd2.read_until(b"\n").strip().isdigit()
    code2, st = h.rpc_error(d.stub.State, pb.StateRequest(id=cid))
    pids = list(st.containers[0].pids) if code2 is None else []
    procs = []
    if path:
        with open(os.path.join(cg, path.lstrip("/"), "cgroup.procs")) as f:
            procs = sorted(int(x) for x in f.read().split())
    t.ok(code is None and forked and len(pids) == 3 and pids == procs and pid in pids
         and r2.systemPid in pids,
         "State pids right after an exec forked: init, exec, its child (cgroup.procs)",
         (code, code2, pids, procs))
    if code is None:
        d.stub.Signal(pb.SignalRequest(id=cid, pid="e2", signal=9))
        d.wait_exit(cid, "e2")

    # Stats from cpu.stat: between two readings of the file by the test
    # (the burst is over once the exec ran; usage barely moves while it sleeps)
    before = cpu_usage_ns(cg, path) if path else None
    code, s = h.rpc_error(d.stub.Stats, pb.StatsRequest(id=cid))
    after = cpu_usage_ns(cg, path) if path else None
    tot = s.cgroup_stats.cpu_stats.cpu_usage.total_usage if code is None else None
    t.ok(code is None and before is not None and before > 0 and before <= tot <= after,
         "Stats: cpu total_usage from cpu.stat (%s ns, file %s..%s)" % (tot, before, after),
         (code, s))
    if have_mem:
        mem = s.cgroup_stats.memory_stats.usage.usage if code is None else 0
        t.ok(mem > 0, "Stats: memory usage from memory.current (%d)" % mem, s)
    else:
        has_file = os.path.exists(os.path.join(cg, path.lstrip("/"), "memory.current"))
        t.ok(code is None and not has_file and s.cgroup_stats.memory_stats.usage.usage == 0,
             "Stats without a memory controller: no memory.current, no memory figure made up",
             (has_file, s))

    # pause / resume: cgroup.freeze, seen in cgroup.events
    code, r = h.rpc_error(d.stub.UpdateContainer, pb.UpdateContainerRequest(id=cid,
                                                                            status="paused"))
    evs = cgroup_events(cg, path)
    code2, st = h.rpc_error(d.stub.State, pb.StateRequest(id=cid))
    t.ok(code is None and evs.get("frozen") == "1" and code2 is None
         and st.containers[0].status == "paused",
         "pause: cgroup.events says frozen 1, State paused", (code, r, evs))
    code, r = h.rpc_error(d.stub.UpdateContainer, pb.UpdateContainerRequest(id=cid,
                                                                            status="running"))
    evs = cgroup_events(cg, path)
    code2, st = h.rpc_error(d.stub.State, pb.StateRequest(id=cid))
    t.ok(code is None and evs.get("frozen") == "0" and code2 is None
         and st.containers[0].status == "running",
         "resume: frozen 0, State running", (code, r, evs))

    # update
    code, r = h.rpc_error(d.stub.UpdateContainer, pb.UpdateContainerRequest(
        id=cid, resources=pb.UpdateResource(memoryLimit=64 << 20)))
    if have_mem:
        with open(os.path.join(cg, path.lstrip("/"), "memory.max")) as f:
            lim = f.read().strip()
        t.ok(code is None and lim == str(64 << 20), "update: memory.max is 64 MiB", (code, r, lim))
    else:
        code2, st = h.rpc_error(d.stub.State, pb.StateRequest(id=cid))
        t.ok(code == grpc.StatusCode.UNKNOWN and r and "exit status" not in r and code2 is None
             and st.containers[0].status == "running",
             "update of a memory limit without a memory controller: the runtime's error "
             "(%r), the container untouched" % r, (code, r))

    # OOM through memory.events
    def no_swap(cfg):
        cfg["linux"]["resources"]["memory"]["swap"] = 32 << 20  # memory.swap.max 0
    hog = h.make_bundle(d.tmp, "hog", ["sh", "-c", "a=0123456789; while :; do a=$a$a; done"],
                        memory=32 << 20, edit=no_swap)
    if have_mem:
        code, r = h.rpc_error(d.create, I("hog"), hog)
        ev = d.wait_exit(I("hog"), timeout=60)
        h.settle(d, I("hog"))
        mark = d.create(I("mark"), h.make_bundle(d.tmp, "mark", ["true"]))
        mark = d.wait_exit(I("mark"))
        ooms = [e for e in d.events if e.type == "oom" and e.id == I("hog")]
        t.ok(code is None and ev is not None and ev.status == 137 and mark is not None
             and len(ooms) == 1 and d.events.index(ooms[0]) < d.events.index(ev),
             "OOM via memory.events: exit 137, one oom event before it", (code, r, ev, ooms))
    else:
        t.skip("OOM via memory.events", "no memory controller in cgroup2 on this kernel "
               "(bound to cgroup v1)")
    log = d.read_log()
    if have_mem:
        t.skip("no memory.events: the daemon says so", "memory.events exists here")
    else:
        t.ok("memory.events" in log and cid in log,
             "without memory.events the daemon logs that the container has no OOM notifications",
             log[-800:])

    # adoption after a restart (a new namespace, the same hierarchy)
    d.stop(signal.SIGKILL)
    d.start()
    d.events = []
    d.start_events()
    code, st = h.rpc_error(d.stub.State, pb.StateRequest(id=cid))
    code2, s = h.rpc_error(d.stub.Stats, pb.StatsRequest(id=cid))
    tot2 = s.cgroup_stats.cpu_stats.cpu_usage.total_usage if code2 is None else 0
    t.ok(code is None and st.containers[0].status == "running" and code2 is None
         and tot is not None and tot2 >= tot,
         "after SIGKILL + restart: adopted, Stats still from its cgroup2 cgroup", (code, st, s))
    code, r = h.rpc_error(d.stub.UpdateContainer, pb.UpdateContainerRequest(id=cid,
                                                                            status="paused"))
    evs = cgroup_events(cg, path)
    code2, r2 = h.rpc_error(d.stub.UpdateContainer, pb.UpdateContainerRequest(id=cid,
                                                                              status="running"))
    t.ok(code is None and code2 is None and evs.get("frozen") == "1"
         and cgroup_events(cg, path).get("frozen") == "0",
         "the new daemon pauses and resumes it (frozen 1, then 0)", (code, r, code2, r2, evs))
    code, r = h.rpc_error(d.stub.Signal, pb.SignalRequest(id=cid, pid="init", signal=9))
    ev = d.wait_exit(cid)
    h.settle(d, cid)
    t.ok(ev is not None and ev.status == 137 and not os.path.exists(os.path.join(cg, cid))
         and cid not in h.runc_list_ids(),
         "killed: exit 137, its cgroup2 directory and runc state removed", ev)

    # a container with resources: where the controller is missing the
    # create fails with the runtime's error and leaves nothing
    code, r = h.rpc_error(d.create, I("limited"), hog)
    if have_mem:
        t.skip("create with a memory limit and no memory controller", "memory is available")
        if code is None:
            h.rpc_error(d.stub.Signal, pb.SignalRequest(id=I("limited"), pid="init", signal=9))
            d.wait_exit(I("limited"), timeout=60)
            h.settle(d, I("limited"))
    else:
        h.settle(d, I("limited"))
        t.ok(code is not None and I("limited") not in os.listdir(d.state)
             and not os.path.exists(os.path.join(cg, I("limited"))),
             "create with a memory limit and no memory controller: an error (%r), nothing left"
             % (r if code else None,), (code, r))

    # crun
    why = crun_v2_blocker()
    cc = I("crun-v2")
    code, r = h.rpc_error(d.create, cc, h.make_bundle(d.tmp, "crun", ["sh", "-c", "exit 6"]),
                          runtime="crun")
    if code is None:
        ev = d.wait_exit(cc)
        h.settle(d, cc)
        t.ok(ev is not None and ev.status == 6, "crun on cgroup2: exit status 6", ev)
    elif why and "setrlimit" in r and "MEMLOCK" in r:
        t.note("crun cannot run on cgroup2 here: " + why)
        t.skip("crun on cgroup2", "RLIMIT_MEMLOCK cannot be raised (no CAP_SYS_RESOURCE): %s" % r)
    else:
        t.ok(False, "crun on cgroup2", (code, r, why))
    h.settle(d, cc)
    left = os.path.join(cg, cc)
    if code is not None and os.path.isdir(left):
        # crun's own leak: a create that fails after mkdir leaves the cgroup
        t.note("crun left its cgroup %s after the failed create; removed by the test" % cc)
        os.rmdir(left)
    t.ok(cc not in os.listdir(d.state) and cc not in h.runc_list_ids("crun"),
         "no state dir and no crun state left for the crun container")
    h.ok_nothing_left(t, d)
except Exception:  # noqa: BLE001
    h.unexpected(t, d)
finally:
    d.cleanup()
    if mounted:
        subprocess.call(["umount", cg])
    os.rmdir(cg)
t.done()
