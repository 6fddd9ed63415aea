"""End-to-end tests of containerd: real daemon, real shim, real runc (and
crun), busybox bundles, gRPC through Python grpcio. TAP output."""
import os
import signal
import stat
import subprocess
import threading
import time

import daemon_harness as h
from daemon_harness import pb
from daemon_harness import uid as I

import grpc

t = h.Tap(69)
d = h.Daemon(args=["--start-timeout", "3s"])


def reader(path):
    """Collect a FIFO in a thread: the open blocks until the shim opens its
    writer; EOF comes when the shim closes its ends at its exit."""
    out = []

    def run():
        fd = os.open(path, os.O_RDONLY)
        while True:
            b = os.read(fd, 4096)
            if not b:
                break
            out.append(b)
        os.close(fd)
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return lambda timeout=10: (th.join(timeout), b"".join(out))[1]


def read_until(fd, want, timeout=10):
    """Read the non-blocking FIFO reader fd until want (bytes) has arrived
    or, want None, until EOF; select() waits, no polling. What was read."""
    import select
    buf = b""
    deadline = time.monotonic() + timeout
    while want is None or want not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        try:
            b = os.read(fd, 4096)
        except BlockingIOError:
            continue
        if not b:
            break  # EOF: no writer any more
        buf += b
    return buf


def shim_pid_of(cid, pid):
    try:
        with open(os.path.join(d.state, cid, pid, "shim.pid")) as f:
            return int(f.read())
    except (OSError, ValueError):
        return 0


def writers_of(pid, match):
    """fds of pid open write-only whose /proc link satisfies match."""
    res = []
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return res
    for fd in fds:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                flags = int([x for x in f.read().split("\n") if x.startswith("flags:")][0].split()[1], 8)
        except (OSError, IndexError, ValueError):
            continue
        if match(link) and flags & os.O_ACCMODE == os.O_WRONLY:
            res.append(int(fd))
    return res


def state_dirs():
    # (not .<id>.deleting: a directory being removed, renamed away first)
    return sorted(x for x in os.listdir(d.state)
                  if not x.startswith(".") and os.path.isdir(os.path.join(d.state, x)))


def shim_pids_of(cid):
    """Shim pids recorded under <state>/<cid>/*/shim.pid."""
    return h.shim_pids(d.state, cid)


try:
    d.start()
    d.start_events()
    t.ok(os.path.exists(d.sock) and stat.S_IMODE(os.stat(d.sock).st_mode) == 0o660,
         "socket exists with mode 0660")

    # ---- create, exit status, events order, id reuse ---------------------
    b = h.make_bundle(d.tmp, I("exit3"), ["sh", "-c", "exit 3"])
    code, r = h.rpc_error(d.create, I("exit3"), b)
    t.ok(code is None, "CreateContainer succeeds", r)
    ok = code is None and r.container.id == I("exit3") and r.container.processes[0].pid == "init" \
        and r.container.processes[0].systemPid > 0 and r.container.runtime == "runc"
    t.ok(ok, "reply carries the Container (id, init process, host pid, runtime)", r)
    ev = d.wait_exit(I("exit3"))
    t.ok(ev is not None and ev.status == 3, "exit event with status 3", ev)
    types = [(e.type, e.id) for e in d.events if e.id == I("exit3")]
    t.ok(types == [("start-container", I("exit3")), ("exit", I("exit3"))],
         "start-container precedes exit, each once", types)
    # id reuse at once: the exit event is only sent when the id is free
    code, r = h.rpc_error(d.create, I("exit3"), b)
    t.ok(code is None, "same id created again right after its exit event", r)
    ev2 = d.wait_event(lambda e: e.type == "exit" and e.id == I("exit3") and e is not ev)
    t.ok(ev2 is not None and ev2.status == 3, "second exit3 exits with 3", ev2)
    h.settle(d, I("exit3"))
    t.ok(I("exit3") not in state_dirs() and I("exit3") not in h.runc_list_ids(),
         "exited container leaves no state dir and no runc state")

    # ---- create errors ----------------------------------------------------
    code, msg = h.rpc_error(d.create, I("nobundle"), os.path.join(d.tmp, "no-such-bundle"))
    t.ok(code == grpc.StatusCode.INVALID_ARGUMENT and "no-such-bundle" in msg,
         "missing bundle → INVALID_ARGUMENT naming it", (code, msg))
    badjson = h.make_bundle(d.tmp, I("badjson"), ["true"])
    with open(os.path.join(badjson, "config.json"), "w") as f:
        f.write('{"process": {"args": ["true"],}')
    code, msg = h.rpc_error(d.create, I("badjson"), badjson)
    t.ok(code == grpc.StatusCode.INVALID_ARGUMENT and "config.json" in msg,
         "malformed config.json → INVALID_ARGUMENT", (code, msg))
    noargs = h.make_bundle(d.tmp, I("noargs"), [])
    code, msg = h.rpc_error(d.create, I("noargs"), noargs)
    t.ok(code == grpc.StatusCode.INVALID_ARGUMENT and "process.args" in msg,
         "empty process.args → INVALID_ARGUMENT naming it", (code, msg))

    def bad_seccomp(cfg):
        cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["no_such_syscall_xyz"], "action": "SCMP_ACT_ERRNO"}]}
    badsc = h.make_bundle(d.tmp, I("badsc"), ["true"], edit=bad_seccomp)
    code, msg = h.rpc_error(d.create, I("badsc"), badsc)
    t.ok(code == grpc.StatusCode.INVALID_ARGUMENT and "no_such_syscall_xyz" in msg,
         "unknown seccomp syscall → INVALID_ARGUMENT at create time", (code, msg))
    t.ok(state_dirs() == [], "rejected bundles leave nothing", state_dirs())
    code, msg = h.rpc_error(d.create, "x", "")
    t.ok(code is not None and "empty bundle path" in msg, "empty bundle path", (code, msg))
    for bad in ["../x", "a/b", "", "..", ".hidden/../y"]:
        code, msg = h.rpc_error(d.create, bad, b)
        t.ok(code == grpc.StatusCode.INVALID_ARGUMENT, "hostile id %r → INVALID_ARGUMENT" % bad,
             (code, msg))
    t.ok(not os.path.exists(os.path.join(d.tmp, "x")) and state_dirs() == [],
         "nothing created for hostile ids", state_dirs())

    sleeper_b = h.make_bundle(d.tmp, I("sleeper"), [
        "sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.2; done"])
    code, r = h.rpc_error(d.create, I("sleeper"), sleeper_b)
    t.ok(code is None, "long-running container starts", r)
    sleeper_pid = r.container.processes[0].systemPid if code is None else 0
    code, msg = h.rpc_error(d.create, I("sleeper"), sleeper_b)
    t.ok(code == grpc.StatusCode.ALREADY_EXISTS and "file exists" in msg,
         "duplicate id → ALREADY_EXISTS 'mkdir …: file exists'", (code, msg))

    code, msg = h.rpc_error(d.create, I("nort"), b, runtime="/nonexistent/runc")
    t.ok(code is not None and "/nonexistent/runc" in msg, "missing runtime binary → error naming it",
         (code, msg))
    t.ok(I("nort") not in state_dirs(), "missing runtime leaves no state dir", state_dirs())

    badargs_b = h.make_bundle(d.tmp, I("badargs"), ["/no/such/binary"])
    code, msg = h.rpc_error(d.create, I("badargs"), badargs_b)
    t.ok(code is not None and "/no/such/binary" in msg,
         "runtime failure → the runtime's own message", (code, msg))
    t.ok(I("badargs") not in state_dirs() and I("badargs") not in h.runc_list_ids(),
         "failed start leaves no state dir and no runc state", (state_dirs(), h.runc_list_ids()))

    # Fault injection: a FAKE runtime (a script, not a real OCI runtime)
    # whose `create` hangs, because real runc cannot be made to hang on cue.
    hang_pidfile = os.path.join(d.tmp, "hang.pid")
    fake = d.script(
        "fake-hanging-runtime",
        "#!/bin/sh\n# fake runtime for fault injection: create hangs forever\n"
        "for a in \"$@\"; do [ \"$a\" = create ] && { echo $$ > %s; exec sleep 1000; }; done\n"
        "for a in \"$@\"; do [ \"$a\" = delete ] && echo $$ > %s.delete; done\n"
        "exit 0\n" % (hang_pidfile, hang_pidfile))
    t0 = time.monotonic()
    code, msg = h.rpc_error(d.create, I("hang"), b, runtime=fake)
    took = time.monotonic() - t0
    t.ok(code == grpc.StatusCode.DEADLINE_EXCEEDED
         and "did not start before the specified timeout" in msg and 2.5 < took < 10,
         "fake hanging runtime: DEADLINE_EXCEEDED after --start-timeout 3s", (code, msg, took))
    hang_pid = int(open(hang_pidfile).read()) if os.path.exists(hang_pidfile) else 0
    t.ok(hang_pid > 0 and not h.pid_alive(hang_pid) and I("hang") not in state_dirs(),
         "start timeout leaves no orphan runtime process and no state", (hang_pid, state_dirs()))

    # the client gives up (grpc deadline 1s < --start-timeout 3s): the daemon
    # kills the shim at once and undoes the start
    os.unlink(hang_pidfile)
    t0 = time.monotonic()
    code, msg = h.rpc_error(d.create, I("hang2"), b, runtime=fake, timeout=1)
    hang_pid = int(open(hang_pidfile).read()) if os.path.exists(hang_pidfile) else 0
    gone = hang_pid > 0 and h.wait_pid_gone(hang_pid, 1.5)
    t.ok(code == grpc.StatusCode.DEADLINE_EXCEEDED and gone and time.monotonic() - t0 < 2.8,
         "cancelled create: shim and runtime killed before the start timeout", (code, msg))
    t.ok(h.wait_path_gone(os.path.join(d.state, I("hang2")), 10),
         "cancelled create leaves no state", state_dirs())

    # ---- signal -----------------------------------------------------------
    code, msg = h.rpc_error(d.stub.Signal, pb.SignalRequest(id="nope", pid="init", signal=9))
    t.ok(code == grpc.StatusCode.NOT_FOUND and "container not found" in msg,
         "Signal unknown container → NOT_FOUND container not found", (code, msg))
    code, msg = h.rpc_error(d.stub.Signal, pb.SignalRequest(id=I("sleeper"), pid="zz", signal=9))
    t.ok(code == grpc.StatusCode.NOT_FOUND and "process not found" in msg,
         "Signal unknown process → NOT_FOUND process not found", (code, msg))

    # ---- state ------------------------------------------------------------
    code, st = h.rpc_error(d.stub.State, pb.StateRequest())
    ok = code is None and st.machine.cpus == os.cpu_count() and st.machine.memory > 0
    t.ok(ok, "State machine info (cpus, memory MiB)", st)
    conts = {c.id: c for c in st.containers} if code is None else {}
    c = conts.get(I("sleeper"))
    t.ok(c is not None and c.status == "running" and sleeper_pid in c.pids
         and c.bundlePath == sleeper_b, "State lists the running container with its pids", c)
    code, msg = h.rpc_error(d.stub.State, pb.StateRequest(id="nope"))
    t.ok(code == grpc.StatusCode.NOT_FOUND and "container not found" in msg,
         "State unknown id → NOT_FOUND", (code, msg))

    # ---- exec without tty -------------------------------------------------
    out1 = d.fifo("e1.out")
    got1 = reader(out1)
    code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=I("sleeper"), pid="e1", args=["sh", "-c", "echo hi-from-exec; exit 5"], cwd="/",
        env=["PATH=/bin"], stdout=out1, user=pb.User(uid=0, gid=0)))
    t.ok(code is None and r.systemPid > 0, "AddProcess returns the exec's host pid", r)
    ev = d.wait_exit(I("sleeper"), "e1")
    t.ok(ev is not None and ev.status == 5, "exec exit event with status 5", ev)
    t.ok(got1() == b"hi-from-exec\n", "exec stdout relayed through the FIFO")
    sp = [e for e in d.events if e.type == "start-process" and e.id == I("sleeper") and e.pid == "e1"]
    t.ok(len(sp) == 1 and d.events.index(sp[0]) < d.events.index(ev),
         "start-process precedes the exec's exit")
    t.ok(not os.path.exists(os.path.join(d.state, I("sleeper"), "e1")), "exec dir removed at its exit")

    code, msg = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=I("sleeper"), pid="init", args=["true"], cwd="/"))
    t.ok(code == grpc.StatusCode.ALREADY_EXISTS, "exec with a used pid → ALREADY_EXISTS", (code, msg))
    code, msg = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id="nope", pid="e9", args=["true"], cwd="/"))
    t.ok(code == grpc.StatusCode.NOT_FOUND and "container not found" in msg,
         "exec into unknown container → NOT_FOUND", (code, msg))
    code, msg = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=I("sleeper"), pid="e8", args=["/no/such/exe"], cwd="/"))
    t.ok(code is not None and "/no/such/exe" in msg
         and not os.path.exists(os.path.join(d.state, I("sleeper"), "e8")),
         "failing exec → runtime's message, no dir left", (code, msg))

    code, msg = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=I("sleeper"), pid="e7", args=["true"], cwd="relative/dir"))
    t.ok(code == grpc.StatusCode.INVALID_ARGUMENT, "exec with a relative cwd → INVALID_ARGUMENT",
         (code, msg))

    # ---- exec with a tty ----------------------------------------------------
    out2 = d.fifo("e2.out")
    got2 = reader(out2)
    code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=I("sleeper"), pid="e2", terminal=True, args=["sh", "-c", "tty; exit 0"], cwd="/",
        env=["PATH=/bin"], stdout=out2))
    t.ok(code is None, "AddProcess with a terminal", (code, r))
    ev = d.wait_exit(I("sleeper"), "e2")
    t.ok(ev is not None and ev.status == 0, "tty exec exits 0", ev)
    t.ok(b"/dev/pts/" in got2(), "tty exec runs on a pty")

    # ---- resize a tty exec through UpdateProcess ----------------------------
    in4, out4 = d.fifo("e4.in"), d.fifo("e4.out")
    got4 = reader(out4)
    wfd4 = os.open(in4, os.O_RDWR)
    code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=I("sleeper"), pid="e4", terminal=True, args=["sh", "-c", "read x; stty size"],
        cwd="/", env=["PATH=/bin"], stdin=in4, stdout=out4))
    code2, r2 = h.rpc_error(d.stub.UpdateProcess, pb.UpdateProcessRequest(
        id=I("sleeper"), pid="e4", width=100, height=40))
    os.write(wfd4, b"go\n")  # the resize was applied before this line is read
    ev = d.wait_exit(I("sleeper"), "e4")
    os.close(wfd4)
    out = got4()
    t.ok(code is None and code2 is None and ev is not None and b"40 100" in out,
         "UpdateProcess resize reaches the pty (stty size → 40 100)", (code, code2, ev, out))

    # ---- close stdin --------------------------------------------------------
    # Positive oracles, no time window: a line written comes back; once the
    # client's writer is closed the shim still holds a writer on the stdin
    # FIFO (so its reader never sees EOF) and the write end of cat's stdin
    # pipe, and a second client's line still reaches cat; closeStdin then
    # gives cat EOF and it exits 0.
    in3, out3 = d.fifo("e3.in"), d.fifo("e3.out")
    rfd = os.open(out3, os.O_RDONLY | os.O_NONBLOCK)  # a reader that does not block on open
    wfd = os.open(in3, os.O_RDWR)  # a writer that does not block on open
    code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=I("sleeper"), pid="e3", args=["cat"], cwd="/", env=["PATH=/bin"], stdin=in3, stdout=out3))
    t.ok(code is None, "exec cat with stdin", (code, r))
    cat_pid = r.systemPid if code is None else 0
    os.write(wfd, b"through-stdin\n")
    got = read_until(rfd, b"through-stdin\n")
    t.ok(got == b"through-stdin\n", "stdin reaches cat: the line written comes back", got)
    os.close(wfd)
    spid = shim_pid_of(I("sleeper"), "e3")
    fifo_w = writers_of(spid, lambda link: link == in3)
    try:
        pipe = os.readlink("/proc/%d/fd/0" % cat_pid)
    except OSError as e:
        pipe = str(e)
    pipe_w = writers_of(spid, lambda link: link == pipe) if pipe.startswith("pipe:") else []
    try:  # ENXIO when nobody reads the FIFO any more (the shim is gone)
        w2 = os.open(in3, os.O_WRONLY | os.O_NONBLOCK)
        os.write(w2, b"second-client\n")
        os.close(w2)
        got2 = read_until(rfd, b"second-client\n")
    except OSError as e:
        got2 = str(e)
    t.ok(fifo_w != [] and pipe_w != [] and got2 == b"second-client\n" and h.pid_alive(cat_pid),
         "client's writer closed: the shim still holds writers on the stdin FIFO and cat's "
         "stdin pipe, and a second client's line reaches cat", (spid, fifo_w, pipe, pipe_w, got2))
    code, r = h.rpc_error(d.stub.UpdateProcess, pb.UpdateProcessRequest(
        id=I("sleeper"), pid="e3", closeStdin=True))
    ev = d.wait_exit(I("sleeper"), "e3")
    rest = read_until(rfd, None)
    os.close(rfd)
    t.ok(code is None and ev is not None and ev.status == 0 and rest == b"",
         "closeStdin gives cat EOF: it exits 0, nothing more on stdout", (code, r, ev, rest))
    code, msg = h.rpc_error(d.stub.UpdateProcess, pb.UpdateProcessRequest(
        id=I("sleeper"), pid="nope", closeStdin=True))
    t.ok(code == grpc.StatusCode.NOT_FOUND and "process not found" in msg,
         "UpdateProcess unknown process → NOT_FOUND", (code, msg))

    # ---- signal delivers ----------------------------------------------------
    code, r = h.rpc_error(d.stub.Signal, pb.SignalRequest(id=I("sleeper"), pid="init", signal=15))
    t.ok(code is None, "Signal SIGTERM", (code, r))
    ev = d.wait_exit(I("sleeper"))
    t.ok(ev is not None and ev.status == 7, "trap handler's status 7 reported", ev)

    # ---- crun ---------------------------------------------------------------
    crun_b = h.make_bundle(d.tmp, I("crun1"), ["sh", "-c", "exit 4"])
    # scripts/setup.sh provides crun and the cgroups it needs (hugetlb v1
    # mounted): a refusal is a failure, never a skip.
    code, r = h.rpc_error(d.create, I("crun1"), crun_b, runtime="crun")
    t.ok(code is None and r.container.runtime == "crun", "container on crun starts", (code, r))
    ev = d.wait_exit(I("crun1")) if code is None else None
    h.settle(d, I("crun1"))
    t.ok(ev is not None and ev.status == 4 and I("crun1") not in h.runc_list_ids("crun"),
         "crun container's exit status, no crun state left", ev)

    # ---- the exit contract (docs/state-directory.md §exit contract): once a
    # client has init's exit event it may remove the bundle at once (Docker's
    # libcontainerd does) and create the same id again right away; no runtime
    # state may stay behind. The container writes more than one pipe holds
    # (less than two, so it can exit) and its stdout is read only after the
    # bundle is gone, so the shim's cleanup (`runc delete`) starts after the
    # removal every time: the old shim ran it from the bundle dir, the chdir
    # failed and runc's state leaked. ---------------------------------------
    cid = I("contract")
    bad = []
    for i in range(4):
        b = h.make_bundle(d.tmp, "contract", ["sh", "-c", "head -c 100000 /dev/zero; exit 3"])
        out = d.fifo("contract-%d" % i)
        d.events = []
        code, r = h.rpc_error(d.create, cid, b, stdout=out)
        ev = d.wait_exit(cid) if code is None else None
        subprocess.check_call(["rm", "-rf", b])
        got = reader(out)()
        if code is not None or ev is None or ev.status != 3 or len(got) != 100000:
            bad.append((i, code, r if code else None, ev, len(got)))
    h.settle(d, cid)
    t.ok(bad == [], "4 x create, exit, bundle removed at the exit event, same id again: "
         "every create succeeds with its exit status and output", bad)
    t.ok(cid not in h.runc_list_ids(), "no runc state left after the bundle was removed",
         h.runc_list_ids())
    t.ok("delete failed" not in d.read_log(), "no shim's runtime delete failed", d.read_log())

    # ---- stale runtime state (issue 10): a create that finds runc's state of
    # a stopped container with its id deletes it and creates; a running one
    # is ALREADY_EXISTS and is left alone (the old abort ran `delete -f` on
    # it, killing a container that was not ours). ---------------------------
    stale = I("stale")
    sb = h.make_bundle(d.tmp, "stale", ["true"])
    subprocess.run(["runc", "run", "--bundle", sb, stale], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    # `runc run` without -d deletes on exit; make a stopped one by create + start
    subprocess.run(["runc", "create", "--bundle", sb, stale], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    subprocess.run(["runc", "start", stale], check=True)
    st = ""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # `true` exits at once; runc has no event for it
        st = subprocess.run(["runc", "state", stale], capture_output=True, text=True).stdout
        if '"stopped"' in st:
            break
    b = h.make_bundle(d.tmp, "stale2", ["sh", "-c", "exit 5"])
    d.events = []
    code, r = h.rpc_error(d.create, stale, b)
    ev = d.wait_exit(stale) if code is None else None
    t.ok('"stopped"' in st and code is None and ev is not None and ev.status == 5,
         "create over runc's stale state of a stopped container with the id succeeds", (st, code, r, ev))
    h.settle(d, stale)
    foreign = I("foreign")
    fb = h.make_bundle(d.tmp, "foreign", ["sleep", "1000"])
    subprocess.run(["runc", "run", "-d", "--bundle", fb, foreign], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    code, r = h.rpc_error(d.create, foreign, b)
    st = subprocess.run(["runc", "state", foreign], capture_output=True, text=True).stdout
    t.ok(code == grpc.StatusCode.ALREADY_EXISTS and '"running"' in st
         and not os.path.exists(os.path.join(d.state, foreign)),
         "create over a running runc container of the id: ALREADY_EXISTS, it keeps running",
         (code, r, st))
    subprocess.run(["runc", "delete", "-f", foreign], check=False)

    # ---- restart: adopt a running container, report an exit that happened
    # while the daemon was down exactly once ---------------------------------
    code, _ = h.rpc_error(d.create, I("keep"), sleeper_b)
    code2, r2 = h.rpc_error(d.create, I("dies"), sleeper_b)
    t.ok(code is None and code2 is None, "two containers before the restart")
    dies_pid = r2.container.processes[0].systemPid if code2 is None else 0
    before = time.time()
    d.stop(signal.SIGKILL)
    os.kill(dies_pid, signal.SIGTERM)  # exits 7 while no daemon runs
    # the shim writes exitStatus and exits; wait for the shim to vanish
    for p in shim_pids_of(I("dies")):
        h.wait_pid_gone(p, 10)
    d.start()
    from google.protobuf import timestamp_pb2
    ts = timestamp_pb2.Timestamp(seconds=int(before) - 1)
    d.events = []
    d.start_events(timestamp=ts)
    ev = d.wait_exit(I("dies"))
    t.ok(ev is not None and ev.status == 7, "exit while down reported after restart with status 7",
         ev)
    code, st = h.rpc_error(d.stub.State, pb.StateRequest(id=I("keep")))
    t.ok(code is None and st.containers[0].status == "running", "running container adopted", st)
    d.stop(signal.SIGTERM)
    rc = d.proc.returncode
    t.ok(rc == 0 and all(h.pid_alive(p) for p in shim_pids_of(I("keep"))),
         "SIGTERM: daemon exits 0, shims keep running", rc)
    d.start()
    d.events = []
    d.start_events(timestamp=ts)
    code, r = h.rpc_error(d.stub.Signal, pb.SignalRequest(id=I("keep"), pid="init", signal=15))
    ev = d.wait_exit(I("keep"))
    t.ok(code is None and ev is not None and ev.status == 7,
         "adopted container signalled after a second restart, exit reported", (code, ev))
    dies = [e for e in d.events if e.type == "exit" and e.id == I("dies")]
    t.ok(len(dies) == 1, "the exit while down is reported exactly once across restarts", dies)
    h.settle(d, I("keep"))
    t.ok(state_dirs() == [], "state dir empty at the end", state_dirs())
except Exception:  # noqa: BLE001 (report, then clean up)
    h.unexpected(t, d)
finally:
    d.cleanup()
t.done()
