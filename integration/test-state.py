"""State from memory (issue 13 #2): real daemon, shim, runc, grpcio. TAP.

State's Container messages are packed once and kept until the container's
processes change; the status comes from memory (pause/resume), the pids from
the container's cgroup directory, held open while it runs. These checks
follow what a client sees through those caches: the wire bytes are protobuf's
canonical encoding, execs appear and go, pids follow forks and sub-cgroups,
pause/resume show; State touches no file but cgroup.procs and forks nothing;
the held fds go with the container."""
import os
import shutil
import signal
import subprocess

import daemon_harness as h
from daemon_harness import pb
from daemon_harness import uid as I

t = h.Tap(14)
d = h.Daemon()


def raw_state(cid=""):
    """The StateResponse bytes as they came off the wire."""
    call = d.channel.unary_unary("/types.API/State",
                                 request_serializer=pb.StateRequest.SerializeToString,
                                 response_deserializer=None)
    return call(pb.StateRequest(id=cid), timeout=30)


def state_of(cid):
    for c in pb.StateResponse.FromString(raw_state()).containers:
        if c.id == cid:
            return c
    return None


def devices_dir(pid):
    """The devices cgroup directory of pid (the hierarchy `runc ps` reads)."""
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if "devices" in ctrls.split(","):
                return "/sys/fs/cgroup/devices" + path
    return None


def cgroup_dirs(pid):
    """The container's own cgroup directories: devices and, when it has
    one of its own (not the root), the cgroup2 one."""
    out = []
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            hid, ctrls, path = line.rstrip("\n").split(":", 2)
            if "devices" in ctrls.split(","):
                out.append("/sys/fs/cgroup/devices" + path)
            elif hid == "0" and not ctrls and path != "/" \
                    and os.path.isdir("/sys/fs/cgroup/unified" + path):
                out.append("/sys/fs/cgroup/unified" + path)
    return out


def cgroup_pids(top):
    """Every pid of top and the cgroups below it, ascending (runc ps)."""
    out = []
    for dirpath, _, _ in os.walk(top):
        with open(os.path.join(dirpath, "cgroup.procs")) as f:
            out += [int(x) for x in f.read().split()]
    return sorted(out)


def daemon_fds():
    fdd = "/proc/%d/fd" % d.proc.pid
    res = []
    for n in os.listdir(fdd):
        try:
            res.append(os.readlink(os.path.join(fdd, n)))
        except OSError:
            pass
    return res


def canonical(raw):
    """Does raw parse and re-encode to the same bytes (protobuf's field
    order, packed pids: what protobuf-c packs)?"""
    try:
        return pb.StateResponse.FromString(raw).SerializeToString() == raw
    except Exception:  # noqa: BLE001 (a decode error is a failed check)
        return False


def strace_check(cid):
    """The daemon's file opens and forks during two State calls."""
    trace = os.path.join(d.tmp, "state.strace")
    st_proc = subprocess.Popen(["strace", "-p", str(d.proc.pid), "-e",
                                "trace=open,openat,openat2,clone,clone3,fork,vfork,execve",
                                "-o", trace], stderr=subprocess.PIPE, text=True)
    attached = st_proc.stderr.readline()  # "strace: Process N attached"
    raw_state()
    raw_state(cid)
    st_proc.send_signal(signal.SIGINT)
    st_proc.wait(timeout=30)
    with open(trace) as f:
        lines = [x for x in f if "(" in x]
    bad = [x for x in lines if "cgroup.procs" not in x]
    procs = [x for x in lines if "cgroup.procs" in x]
    # (none at all where the cgroup2 cgroup.procs stays open)
    t.ok("attached" in attached and not bad,
         "State opens no file but cgroup.procs (no /proc, mountinfo, freezer, specs) and forks "
         "nothing", (attached, bad[:5], len(procs)))


try:
    d.start()
    d.start_events()
    fds_idle = len([x for x in daemon_fds() if x != "/proc/%d/mountinfo" % d.proc.pid])
    sleeper = h.make_bundle(d.tmp, "sleeper", ["sleep", "100000"])
    a, b = I("st-a"), I("st-b")
    cr = d.create(a, sleeper, labels=["tier=web", "x=1"])
    d.create(b, sleeper)
    init_pid = cr.container.processes[0].systemPid
    cg = devices_dir(init_pid)

    raw = raw_state()
    st = pb.StateResponse.FromString(raw)
    ca = state_of(a)
    want = pb.Container()
    want.CopyFrom(cr.container)
    want.status = "running"
    want.pids.extend([init_pid])
    t.ok(canonical(raw) and {c.id for c in st.containers} >= {a, b} and st.machine.cpus > 0
         and ca == want,
         "State of all: canonical bytes; the container as CreateContainer returned it, "
         "with status running and its init's pid", (ca, cr.container))

    one = raw_state(a)
    sa = pb.StateResponse.FromString(one)
    t.ok(canonical(one) and len(sa.containers) == 1 and sa.containers[0] == ca
         and sa.machine == st.machine, "State of one id: the same container bytes", sa)

    # ---- an exec that forks: the exec appears, pids follow at once (a v1
    # cgroup.procs held open would serve the list of the previous read)
    out = d.fifo("fork.out")
    rd = h.FifoReader(out)
    state_of(a)
    r = d.stub.AddProcess(pb.AddProcessRequest(
        id=a, pid="forker", args=["sh", "-c", "sleep 100000 & echo $!; wait"], cwd="/",
        env=["PATH=/bin"], stdout=out, user=pb.User(uid=0, gid=0)))
    line = rd.read_until(b"\n")
    child = int(line) if line.strip().isdigit() else 0
    # State first: reading cgroup.procs here would refresh the kernel's v1
    # list that an fd held open would be served
    ca = state_of(a)
    with open("/proc/%d/task/%d/children" % (r.systemPid, r.systemPid)) as f:
        kids = [int(x) for x in f.read().split()]
    host_child = kids[0] if len(kids) == 1 else 0
    t.ok(child > 0 and host_child > 0 and list(ca.pids) == sorted([init_pid, r.systemPid, host_child])
         and list(ca.pids) == cgroup_pids(cg),
         "pids right after the exec forked a child: init, exec, child", (ca.pids, cgroup_pids(cg)))
    t.ok([p.pid for p in ca.processes] == ["init", "forker"]
         and ca.processes[1].systemPid == r.systemPid
         and list(ca.processes[1].args) == ["sh", "-c", "sleep 100000 & echo $!; wait"],
         "the exec is listed after init with its pid and args", ca.processes)

    # ---- a sub-cgroup inside the container's cgroup, made in every
    # hierarchy the container has its own cgroup in (as a nested manager
    # would): State reads devices or, in runc's hybrid layout, cgroup2
    subs = []
    for top in cgroup_dirs(init_pid):
        sub = os.path.join(top, "st-sub")
        os.mkdir(sub)
        with open(os.path.join(sub, "cgroup.procs"), "w") as f:
            f.write(str(host_child))
        subs.append((top, sub))
    ca = state_of(a)
    t.ok(subs and host_child in ca.pids and list(ca.pids) == cgroup_pids(cg) and len(ca.pids) == 3,
         "a child moved into a sub-cgroup is still listed", (ca.pids, cgroup_pids(cg)))
    for top, sub in subs:
        with open(os.path.join(top, "cgroup.procs"), "w") as f:
            f.write(str(host_child))
        os.rmdir(sub)

    # ---- a second exec: creation order
    r2 = d.stub.AddProcess(pb.AddProcessRequest(
        id=a, pid="second", args=["sleep", "100000"], cwd="/", env=["PATH=/bin"],
        user=pb.User(uid=0, gid=0)))
    raw = raw_state()
    ca = state_of(a)
    t.ok(canonical(raw) and [p.pid for p in ca.processes] == ["init", "forker", "second"]
         and r2.systemPid in ca.pids and list(ca.pids) == cgroup_pids(cg),
         "execs in creation order, every pid listed, canonical bytes", ca)

    # ---- pause / resume
    d.stub.UpdateContainer(pb.UpdateContainerRequest(id=a, status="paused"))
    with open(os.path.join(cg.replace("/devices/", "/freezer/"), "freezer.state")) as f:
        frozen = f.read().strip()
    raw = raw_state()
    ca = state_of(a)
    cb = state_of(b)
    t.ok(canonical(raw) and ca.status == "paused" and frozen == "FROZEN" and cb.status == "running"
         and list(ca.pids) == cgroup_pids(cg),
         "after a pause: paused (freezer FROZEN), the other container running", (ca.status, frozen))
    d.stub.UpdateContainer(pb.UpdateContainerRequest(id=a, status="running"))
    t.ok(state_of(a).status == "running", "after a resume: running")

    # ---- State touches no file but cgroup.procs and forks nothing
    if shutil.which("strace") is None:
        t.skip_expected("State opens only cgroup.procs files", "strace not installed")
    else:
        strace_check(a)

    # ---- exec exits: gone from State; container exits: no fd of its cgroup left
    d.stub.Signal(pb.SignalRequest(id=a, pid="second", signal=9))
    d.wait_exit(a, "second")
    ca = state_of(a)
    t.ok([p.pid for p in ca.processes] == ["init", "forker"] and r2.systemPid not in ca.pids,
         "an exec's exit removes it and its pid", ca)
    d.stub.Signal(pb.SignalRequest(id=a, pid="init", signal=9))
    ev = d.wait_exit(a)
    held = [x for x in daemon_fds() if x.startswith("/sys/fs/cgroup/") and ("/" + a) in x]
    t.ok(ev is not None and not held, "after the exit event no daemon fd is in its cgroup", held)
    h.settle(d, a)
    t.ok(state_of(a) is None and state_of(b) is not None, "State drops the exited container")
    d.stub.Signal(pb.SignalRequest(id=b, pid="init", signal=9))
    d.wait_exit(b)
    h.settle(d, b)
    raw = raw_state()
    t.ok(canonical(raw) and not pb.StateResponse.FromString(raw).containers,
         "State with no container: only the machine", raw)
    # (less the one fd of runtime/cgdirs.c's mount table cache, opened at
    # the first cgroup lookup and kept for the daemon's life)
    fds_after = [x for x in daemon_fds() if x != "/proc/%d/mountinfo" % d.proc.pid]
    t.ok(len(fds_after) == fds_idle, "daemon fds back to idle after all are gone",
         (fds_idle, fds_after))
finally:
    d.cleanup()
t.done()
