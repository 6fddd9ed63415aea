"""containerd under faults (docs/failure-modes.md #1, #2, #4, #11, #12): shims killed
with the daemon up and down, background stdio holders, many instant and
failing execs. Real daemon, shim, runc; TAP."""
import os
import signal
import subprocess
import sys
import threading
import time

import daemon_harness as h
from daemon_harness import pb
from daemon_harness import uid as I

import grpc

t = h.Tap(57)
d = h.Daemon()


def shim_pid(cid, pid="init"):
    with open(os.path.join(d.state, cid, pid, "shim.pid")) as f:
        return int(f.read())


def zombies_of(ppid):
    res = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == ppid:
            res.append(int(p))
    return res


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def state_dirs():
    # (not .<id>.deleting: a directory being removed, renamed away first)
    return sorted(x for x in os.listdir(d.state)
                  if not x.startswith(".") and os.path.isdir(os.path.join(d.state, x)))


try:
    d.start()
    d.start_events()
    sleeper = h.make_bundle(d.tmp, I("sleeper"), ["sleep", "100000"])

    # ---- one daemon per state dir (issue 11 #3) ------------------------------
    # A second daemon on the same --state-dir exits 1 at once, naming the dir
    # and the holder's pid, before it touches the socket or any container.
    sock2 = os.path.join(d.tmp, "second.sock")
    t0 = time.monotonic()
    try:
        p2 = subprocess.run([h.DAEMON, "--state-dir", d.state, "--listen", "unix://" + sock2,
                             "--shim", h.SHIM], capture_output=True, text=True, timeout=10)
        rc2, err2 = p2.returncode, p2.stderr
    except subprocess.TimeoutExpired:
        rc2, err2 = None, "still running after 10 s"
    took = time.monotonic() - t0
    t.ok(rc2 == 1 and d.state in err2 and ("pid %d" % d.proc.pid) in err2 and took < 5
         and not os.path.exists(sock2),
         "second daemon on the same state dir exits 1 at once naming the dir and the holder's pid",
         (rc2, err2, took))
    code, r = h.rpc_error(d.stub.State, pb.StateRequest())
    try:
        with open(os.path.join(d.state, ".lock")) as f:
            lockpid = f.read().strip()
    except OSError as e:
        lockpid = str(e)
    t.ok(code is None and lockpid == str(d.proc.pid), "the first daemon serves on; .lock holds its pid",
         (code, lockpid))
    code, r = h.rpc_error(d.create, ".lock", sleeper)
    t.ok(code == grpc.StatusCode.INVALID_ARGUMENT, "an id cannot name the lock file", (code, r))

    # ---- a NUL in any string field: INVALID_ARGUMENT, nothing created (#6) ----
    # raw protobuf: protobuf-c would cut "ab\0cd" to "ab" and create that
    def field(num, data):
        return bytes([num << 3 | 2, len(data)]) + data
    raw_create = d.channel.unary_unary("/types.API/CreateContainer",
                                       request_serializer=lambda b: b,
                                       response_deserializer=pb.CreateContainerResponse.FromString)
    nid = I("nul").encode()
    code, r = h.rpc_error(raw_create, field(1, nid + b"\0cd") + field(2, sleeper.encode()),
                          timeout=30)
    scode, _ = h.rpc_error(d.stub.State, pb.StateRequest(id=I("nul")))
    t.ok(code == grpc.StatusCode.INVALID_ARGUMENT and "id" in str(r) and "NUL" in str(r)
         and scode == grpc.StatusCode.NOT_FOUND and I("nul") not in state_dirs(),
         "NUL byte in the id: INVALID_ARGUMENT, no container created", (code, r, scode))
    code, r = h.rpc_error(raw_create, field(1, nid) + field(2, sleeper.encode())
                          + field(10, b"--debug\0x"), timeout=30)
    scode, _ = h.rpc_error(d.stub.State, pb.StateRequest(id=I("nul")))
    t.ok(code == grpc.StatusCode.INVALID_ARGUMENT and "runtimeArgs" in str(r)
         and scode == grpc.StatusCode.NOT_FOUND,
         "NUL byte in a repeated string field: INVALID_ARGUMENT", (code, r, scode))
    raw_update = d.channel.unary_unary("/types.API/UpdateContainer",
                                       request_serializer=lambda b: b,
                                       response_deserializer=pb.UpdateContainerResponse.FromString)
    code, r = h.rpc_error(raw_update, field(1, nid) + field(4, field(5, b"0\x001")), timeout=30)
    t.ok(code == grpc.StatusCode.INVALID_ARGUMENT and "cpusetCpus" in str(r),
         "NUL byte in a nested message's string: INVALID_ARGUMENT", (code, r))

    # ---- out of file descriptors during a create: RESOURCE_EXHAUSTED (#6) ----
    import resource
    saved = resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE)
    fds = {int(x) for x in os.listdir("/proc/%d/fd" % d.proc.pid)}
    lowest = next(i for i in range(len(fds) + 1) if i not in fds)
    resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (lowest, saved[1]))
    try:
        code, r = h.rpc_error(d.create, I("emfile"), sleeper)
    finally:
        resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, saved)
    t.ok(code == grpc.StatusCode.RESOURCE_EXHAUSTED and "Too many open files" in str(r),
         "out of fds during a create: RESOURCE_EXHAUSTED", (code, r))
    code, r = h.rpc_error(d.create, I("emfile"), sleeper)
    t.ok(code is None, "with fds back, the same create succeeds", r)
    if code is None:
        # ---- UpdateContainer errors give runc's message, not its log line (#6)
        code, r = h.rpc_error(d.stub.UpdateContainer, pb.UpdateContainerRequest(
            id=I("emfile"), pid="init", resources=pb.UpdateResource(cpusetCpus="4095")))
        t.ok(code is not None and r and "time=" not in r and "level=" not in r
             and "msg=" not in r, "update error: the runtime's message, no logrus fields",
             (code, r))
        # ---- DeleteCheckpoint deletes only a checkpoint (#6) -------------
        victims = os.path.join(d.tmp, "victims")
        os.makedirs(os.path.join(victims, "precious", "rootfs"))
        with open(os.path.join(victims, "precious", "config.json"), "w") as f:
            f.write('{"ociVersion": "1.0.2", "root": {"path": "rootfs"}}')
        code, r = h.rpc_error(d.stub.DeleteCheckpoint, pb.DeleteCheckpointRequest(
            id=I("emfile"), name="precious", checkpointDir=victims))
        t.ok(code == grpc.StatusCode.FAILED_PRECONDITION
             and os.path.exists(os.path.join(victims, "precious", "rootfs")),
             "DeleteCheckpoint refuses a directory that is not a checkpoint (a bundle) and "
             "leaves it", (code, r))
        d.stub.Signal(pb.SignalRequest(id=I("emfile"), pid="init", signal=9))
        h.settle(d, I("emfile"))
    else:
        t.ok(False, "update error: the runtime's message (no container)")
        t.ok(False, "DeleteCheckpoint refuses a non-checkpoint (no container)")

    # ---- shim SIGKILLed while the daemon runs -------------------------------
    code, r = h.rpc_error(d.create, I("s1"), sleeper)
    t.ok(code is None, "container s1 runs", r)
    cpid = r.container.processes[0].systemPid
    os.kill(shim_pid(I("s1")), signal.SIGKILL)
    ev = d.wait_exit(I("s1"))
    t.ok(ev is not None and ev.status == 137, "shim killed: exit 137 reported", ev)
    h.settle(d, I("s1"))
    t.ok(h.wait_pid_gone(cpid, 5) and I("s1") not in h.runc_list_ids() and I("s1") not in state_dirs(),
         "shim killed: container process killed, runc state and dir removed")

    # ---- shim SIGKILLed while the daemon is down (docs/failure-modes.md #4) ----------
    code, r = h.rpc_error(d.create, I("s2"), sleeper)
    cpid = r.container.processes[0].systemPid if code is None else 0
    t.ok(code is None, "container s2 runs", r)
    before = time.time()
    d.stop(signal.SIGKILL)
    sp = shim_pid(I("s2"))
    os.kill(sp, signal.SIGKILL)
    h.wait_pid_gone(sp, 5)
    d.start()
    from google.protobuf import timestamp_pb2
    d.events = []
    d.start_events(timestamp=timestamp_pb2.Timestamp(seconds=int(before) - 1))
    ev = d.wait_exit(I("s2"))
    t.ok(ev is not None and ev.status == 137, "shim killed while down: exit 137 after restart", ev)
    h.settle(d, I("s2"))
    t.ok(h.wait_pid_gone(cpid, 5) and I("s2") not in h.runc_list_ids() and I("s2") not in state_dirs(),
         "orphaned container process killed and cleaned up after restart")

    # ---- a background child holding the exec's stdio (docs/failure-modes.md #1) ------
    code, r = h.rpc_error(d.create, I("bg"), sleeper)
    t.ok(code is None, "container bg runs", r)
    out = os.path.join(d.tmp, "bg.out")
    os.mkfifo(out)
    rfd = os.open(out, os.O_RDONLY | os.O_NONBLOCK)  # keep a reader so the shim's open completes
    code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=I("bg"), pid="holder", args=["sh", "-c", "sleep 100000 & echo started"], cwd="/",
        env=["PATH=/bin"], stdout=out))
    t.ok(code is None, "exec leaving a background child that holds stdout", (code, r))
    t0 = time.monotonic()
    code, st = h.rpc_error(d.stub.State, pb.StateRequest(), timeout=5)
    code2, r2 = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=I("bg"), pid="other", args=["true"], cwd="/", env=["PATH=/bin"]), timeout=10)
    ev = d.wait_exit(I("bg"), "other")
    t.ok(code is None and code2 is None and ev is not None and ev.status == 0
         and time.monotonic() - t0 < 5,
         "daemon keeps answering and running execs meanwhile", (code, code2, ev))

    # ---- many instant and failing execs: fds flat, no zombies (#2, #11, #12)
    dp = d.proc.pid
    fds0 = nfds(dp)
    failures = []
    for i in range(100):
        code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
            id=I("bg"), pid="t%d" % i, args=["true"], cwd="/", env=["PATH=/bin"]), timeout=20)
        if code is not None:
            failures.append(r)
    for i in range(100):
        if d.wait_exit(I("bg"), "t%d" % i) is None:
            failures.append("no exit for t%d" % i)
    t.ok(not failures, "100 instant execs each start and report exit", failures[:3])
    bad = []
    for i in range(50):
        code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
            id=I("bg"), pid="m%d" % i, args=["/missing"], cwd="/", env=["PATH=/bin"]), timeout=20)
        if code is None or "/missing" not in r:
            bad.append((code, r))
    t.ok(not bad, "50 missing-binary execs each fail with the runtime's message", bad[:3])
    # (a failed exec's shim may still be exiting: its pidfd is the slack)
    fds1 = nfds(dp)
    t.ok(fds1 <= fds0 + 4, "daemon fd count flat after 150 execs (%d → %d)" % (fds0, fds1))
    leftover = [x for x in os.listdir(os.path.join(d.state, I("bg"))) if x not in ("init", "holder", "state.json")]
    t.ok(leftover == [], "no exec dirs left behind", leftover)
    z = zombies_of(dp)
    if z:
        # the last failed exec's shim exits right after its error line: a
        # zombie until the loop handles its pidfd. Two round trips later the
        # loop has seen it (a pending source is dispatched before the loop
        # waits again); a zombie still there then is a leak.
        d.stub.State(pb.StateRequest())
        d.stub.State(pb.StateRequest())
        z = [p for p in z if p in zombies_of(dp)]
    t.ok(z == [], "no zombie children of the daemon", z)

    # ---- signal 0 and a process that is gone --------------------------------
    code, r = h.rpc_error(d.stub.Signal, pb.SignalRequest(id=I("bg"), pid="init", signal=0))
    code2, r2 = h.rpc_error(d.stub.Signal, pb.SignalRequest(id=I("bg"), pid="init", signal=99))
    t.ok(code is None and code2 == grpc.StatusCode.INVALID_ARGUMENT,
         "signal 0 checks existence; 99 is rejected", (code, r, code2, r2))

    # ---- kill bg: holder exec's exit precedes init's ------------------------
    code, r = h.rpc_error(d.stub.Signal, pb.SignalRequest(id=I("bg"), pid="init", signal=9))
    ev = d.wait_exit(I("bg"))
    evh = d.wait_exit(I("bg"), "holder", timeout=1)
    t.ok(code is None and ev is not None and ev.status == 137, "init of bg killed: 137", ev)
    t.ok(evh is not None and d.events.index(evh) < d.events.index(ev),
         "exec exit reported before the init exit", (evh, ev))
    os.close(rfd)

    # ---- daemon killed while `runc start` runs: the next daemon kills the
    # never-started init and reports its exit. Fault injection with a FAKE
    # runtime: a wrapper around real runc whose `start` hangs (real runc
    # cannot be made to hang on cue).
    hung = os.path.join(d.tmp, "start-hung.pid")
    wrap = d.script(
        "fake-runc-start-hangs",
        "#!/bin/sh\n# fake runtime for fault injection: runc, except that start hangs\n"
        "for a in \"$@\"; do [ \"$a\" = start ] && { echo $$ > %s.tmp; mv %s.tmp %s; "
        "exec sleep 1000; }; done\nexec runc \"$@\"\n" % (hung, hung, hung))
    fut = d.stub.CreateContainer.future(pb.CreateContainerRequest(
        id=I("nostart"), bundlePath=sleeper, runtime=wrap), timeout=60)
    t.ok(h.wait_path(hung, True, 30), "fake start hangs (create stays unanswered)")
    before = time.time()
    d.stop(signal.SIGKILL)
    fut.cancel()
    d.start()
    d.events = []
    d.start_events(timestamp=timestamp_pb2.Timestamp(seconds=int(before) - 1))
    ev = d.wait_exit(I("nostart"))
    h.settle(d, I("nostart"))
    t.ok(ev is not None and ev.status == 137 and I("nostart") not in h.runc_list_ids()
         and I("nostart") not in state_dirs(),
         "restart kills the never-started init, reports 137, leaves nothing", ev)

    # ---- AddProcess given up by the client: the exec's shim is killed at
    # once. FAKE runtime for fault injection: runc, except that exec hangs.
    ehung = os.path.join(d.tmp, "exec-hung.pid")
    wrap2 = d.script(
        "fake-runc-exec-hangs",
        "#!/bin/sh\n# fake runtime for fault injection: runc, except that exec hangs\n"
        "for a in \"$@\"; do [ \"$a\" = exec ] && { echo $$ > %s.tmp; mv %s.tmp %s; "
        "exec sleep 1000; }; done\nexec runc \"$@\"\n" % (ehung, ehung, ehung))
    code, r = h.rpc_error(d.create, I("exhang"), sleeper, runtime=wrap2)
    t.ok(code is None, "container on the exec-hanging fake runtime runs", r)
    code, msg = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=I("exhang"), pid="x1", args=["true"], cwd="/", env=["PATH=/bin"]), timeout=1)
    hp = int(open(ehung).read()) if os.path.exists(ehung) else 0
    t.ok(code == grpc.StatusCode.DEADLINE_EXCEEDED and hp > 0 and h.wait_pid_gone(hp, 2)
         and h.wait_path_gone(os.path.join(d.state, I("exhang"), "x1"), 5),
         "cancelled exec: its shim and runtime killed, its dir removed", (code, msg, hp))
    d.stub.Signal(pb.SignalRequest(id=I("exhang"), pid="init", signal=9))
    t.ok(d.wait_exit(I("exhang")) is not None, "container still stops normally")

    # ---- init gone while an exec lives on (no PID namespace; FAKE runtime
    # for fault injection: runc whose `kill` and `delete` do nothing, so the
    # exec survives the init): exec into the stopped container is refused,
    # and the exec's exit is still reported before the init's.
    wrap3 = d.script(
        "fake-runc-no-kill",
        "#!/bin/sh\n# fake runtime for fault injection: kill and delete are no-ops\n"
        "for a in \"$@\"; do case \"$a\" in kill|delete) exit 0;; esac; done\n"
        "exec runc \"$@\"\n")

    def no_pidns(cfg):
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "pid"]
    nopid = h.make_bundle(d.tmp, "nopid", ["sh", "-c", "read x"], edit=no_pidns)
    inp = os.path.join(d.tmp, "nopid.in")
    os.mkfifo(inp)
    wfd = os.open(inp, os.O_RDWR)
    code, r = h.rpc_error(d.create, I("stopped"), nopid, runtime=wrap3, stdin=inp)
    code2, r2 = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=I("stopped"), pid="lives", args=["sleep", "100000"], cwd="/", env=["PATH=/bin"]))
    t.ok(code is None and code2 is None, "container without PID namespace + a long exec", (r, r2))
    os.write(wfd, b"go\n")  # the init reads a line and exits 0
    os.close(wfd)
    init_pid = r.container.processes[0].systemPid if code is None else 0
    h.wait_pid_gone(init_pid, 10)
    # the daemon learns the init's status from exitStatus; wait for that file
    h.wait_path(os.path.join(d.state, I("stopped"), "init", "exitStatus"), True, 10)
    d.stub.State(pb.StateRequest())
    code, msg = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=I("stopped"), pid="late", args=["true"], cwd="/", env=["PATH=/bin"]))
    t.ok(code == grpc.StatusCode.FAILED_PRECONDITION, "exec into a stopped container → "
         "FAILED_PRECONDITION", (code, msg))
    d.stub.Signal(pb.SignalRequest(id=I("stopped"), pid="lives", signal=9))
    ev = d.wait_exit(I("stopped"))
    evx = d.wait_exit(I("stopped"), "lives", timeout=1)
    t.ok(ev is not None and ev.status == 0 and evx is not None and evx.status == 137
         and d.events.index(evx) < d.events.index(ev),
         "exec exit (137) reported before the init exit (0)", (evx, ev))
    subprocess.call(["runc", "delete", "-f", I("stopped")])

    # ---- shim killed during its cleanup, after the exit was reported: the
    # daemon deletes the runtime's state itself before the id is reused.
    # FAKE runtime for fault injection: runc whose plain `delete` (the
    # shim's) hangs; `delete -f` (the daemon's) is real.
    dhung = os.path.join(d.tmp, "delete-hung.pid")
    wrap4 = d.script(
        "fake-runc-delete-hangs",
        "#!/bin/sh\n# fake runtime for fault injection: the shim's delete hangs\n"
        "case \" $* \" in *\" delete -f \"*) exec runc \"$@\";; *\" delete \"*) "
        "echo $$ > %s.tmp; mv %s.tmp %s; exec sleep 1000;; esac\n"
        "exec runc \"$@\"\n" % (dhung, dhung, dhung))
    quick = h.make_bundle(d.tmp, "quick", ["sh", "-c", "exit 5"])
    code, r = h.rpc_error(d.create, I("kd"), quick, runtime=wrap4)
    ev = d.wait_exit(I("kd"))
    hung_ok = h.wait_path(dhung, True, 10)
    t.ok(code is None and ev is not None and ev.status == 5 and hung_ok,
         "exit reported while the shim's runtime delete still runs", (r, ev))
    fut = d.stub.CreateContainer.future(pb.CreateContainerRequest(
        id=I("kd"), bundlePath=sleeper), timeout=60)
    os.kill(h.shim_pids(d.state, I("kd"))[0], signal.SIGKILL)
    code, r = h.rpc_error(fut.result)
    t.ok(code is None and r.container.id == I("kd"),
         "shim killed mid-cleanup: runtime state deleted, the waiting create of the same id "
         "succeeds", (code, r))
    d.stub.Signal(pb.SignalRequest(id=I("kd"), pid="init", signal=9))
    ev = d.wait_event(lambda e: e.type == "exit" and e.id == I("kd") and e.status == 137)
    h.settle(d, I("kd"))
    t.ok(ev is not None and I("kd") not in h.runc_list_ids(), "and it stops normally", ev)

    # ---- the daemon dies after reporting an exit, while the shim still
    # cleans up (same fake runtime): the next daemon does not report it
    # again, and releases the id once that shim is gone.
    os.unlink(dhung)
    before = time.time()
    code, r = h.rpc_error(d.create, I("kd2"), quick, runtime=wrap4)
    ev = d.wait_exit(I("kd2"))
    t.ok(code is None and ev is not None and ev.status == 5 and h.wait_path(dhung, True, 10),
         "exit reported, shim still cleaning up", (r, ev))
    d.stop(signal.SIGKILL)
    d.start()
    d.events = []
    d.start_events(timestamp=timestamp_pb2.Timestamp(seconds=int(before) - 1))
    code, st = h.rpc_error(d.stub.State, pb.StateRequest(id=I("kd2")))
    shim = h.shim_pids(d.state, I("kd2"))
    os.kill(shim[0], signal.SIGKILL)
    h.settle(d, I("kd2"))
    # a barrier event after everything the restart could have emitted
    d.create(I("barrier"), quick)
    d.wait_exit(I("barrier"))
    exits = [e for e in d.events if e.type == "exit" and e.id == I("kd2")]
    t.ok(code == grpc.StatusCode.NOT_FOUND and len(exits) == 1
         and I("kd2") not in h.runc_list_ids() and I("kd2") not in state_dirs(),
         "restart mid-cleanup: exit reported once (replayed, not repeated), id released",
         (code, exits))

    # ---- a container that exits while its `runc start` still runs: the
    # shim's `runc delete` waits for the start (the start lock,
    # lib/shim-proto.h). With Docker 1.13's restart manager CI saw runc's
    # start fail with "remove <root>/<id>/exec.fifo: no such file or
    # directory" after the container had run: the shim had deleted it in
    # between. FAKE runtime for fault injection: real runc, except that a
    # start that succeeded holds on until the container's runtime state is
    # gone (3 s at most) and, if it went, fails as runc did (the race is
    # microseconds wide with real runc).
    wrap6 = d.script(
        "fake-runc-start-races-delete",
        "#!%s\n# fake runtime for fault injection: see test-daemon-faults.py\n"
        "import os, subprocess, sys\nsys.path.insert(0, %r)\n"
        "from pathwait import wait_path_gone\n"
        "a = sys.argv[1:]\n"
        "if 'start' not in a:\n    os.execvp('runc', ['runc'] + a)\n"
        "root = a[a.index('--root') + 1] if '--root' in a else '/run/runc'\n"
        "r = subprocess.call(['runc'] + a)\n"
        "if r == 0 and wait_path_gone(os.path.join(root, a[-1]), 3):\n"
        "    sys.stderr.write('remove %%s/exec.fifo: no such file or directory\\n' "
        "%% os.path.join(root, a[-1]))\n    r = 1\n"
        "sys.exit(r)\n" % (sys.executable, os.path.dirname(os.path.abspath(h.__file__))))
    instant = h.make_bundle(d.tmp, "instant", ["sh", "-c", "exit 7"])
    code, r = h.rpc_error(d.create, I("sr"), instant, runtime=wrap6)
    ev = d.wait_exit(I("sr"), timeout=30)
    t.ok(code is None and ev is not None and ev.status == 7,
         "a container that exits during its start: CreateContainer succeeds, exit 7 reported "
         "(the shim's delete waited for the start)", (code, r, ev))
    h.settle(d, I("sr"))
    exits = [e for e in d.events if e.type == "exit" and e.id == I("sr")]
    t.ok(len(exits) == 1 and I("sr") not in h.runc_list_ids() and I("sr") not in state_dirs(),
         "its exit once, then nothing of it left (runc state, state dir)", exits)

    # ---- OOM: exactly one oom event, before the exit (docs/failure-modes.md #9) -------
    def no_swap(cfg):
        cfg["linux"]["resources"]["memory"]["swap"] = 32 << 20
    hog = h.make_bundle(d.tmp, "hog", ["sh", "-c", "a=0123456789; while :; do a=$a$a; done"],
                        memory=32 << 20, edit=no_swap)
    code, r = h.rpc_error(d.create, I("hog"), hog)
    t.ok(code is None, "memory hog with a 32 MiB limit starts", r)
    ev = d.wait_exit(I("hog"), timeout=60)
    t.ok(ev is not None and ev.status == 137, "OOM-killed container exits 137", ev)
    # Count past the exit: a marker we cause ourselves (another container's
    # exit, after hog's shim is gone and its cgroup removed) arrives on the
    # same stream after anything the daemon emitted for hog before it.
    h.settle(d, I("hog"))
    d.create(I("oom-mark"), quick)
    mark = d.wait_exit(I("oom-mark"))
    ooms = [e for e in d.events if e.type == "oom" and e.id == I("hog")]
    t.ok(mark is not None and len(ooms) == 1 and ev is not None
         and d.events.index(ooms[0]) < d.events.index(ev),
         "exactly one oom event, before the exit (counted after a later marker event)",
         (ooms, mark))

    # ---- daemon killed while `runc pause` runs: the pause is not cut off
    # half-way (no parent-death signal on pause/resume/update/checkpoint);
    # it completes and the next daemon reports the container paused. FAKE
    # runtime for fault injection: runc, except that pause first waits on a
    # FIFO the test opens (real runc cannot be stopped on cue).
    gate = os.path.join(d.tmp, "pause-gate")
    phung = os.path.join(d.tmp, "pause-hung.pid")
    os.mkfifo(gate)
    wrap5 = d.script(
        "fake-runc-pause-waits",
        "#!/bin/sh\n# fake runtime for fault injection: pause waits for a gate\n"
        "for a in \"$@\"; do [ \"$a\" = pause ] && { echo $$ > %s.tmp; mv %s.tmp %s; "
        "read x < %s; }; done\nexec runc \"$@\"\n" % (phung, phung, phung, gate))
    code, r = h.rpc_error(d.create, I("pz"), sleeper, runtime=wrap5)
    t.ok(code is None, "container on the pause-gated fake runtime runs", r)
    fut = d.stub.UpdateContainer.future(pb.UpdateContainerRequest(id=I("pz"), status="paused"),
                                        timeout=60)
    ok = h.wait_path(phung, True, 30)
    pp = int(open(phung).read()) if ok else 0
    d.stop(signal.SIGKILL)
    fut.cancel()
    alive = pp > 0 and h.pid_alive(pp)
    try:
        # non-blocking: with the runtime gone (killed with the daemon) there
        # is no reader and this fails (ENXIO) instead of hanging the test
        g = os.open(gate, os.O_WRONLY | os.O_NONBLOCK)
        os.write(g, b"go\n")
        os.close(g)
    except OSError:
        pass
    gone = pp > 0 and h.wait_pid_gone(pp, 30)
    st = subprocess.run(["runc", "state", I("pz")], capture_output=True, text=True).stdout
    t.ok(ok and alive and gone and '"status": "paused"' in st,
         "daemon killed mid-pause: the runtime lives on and the pause completes",
         (ok, alive, gone, st))
    d.start()
    code, sr = h.rpc_error(d.stub.State, pb.StateRequest(id=I("pz")))
    status = [c.status for c in sr.containers] if code is None else code
    t.ok(status == ["paused"], "the next daemon reports it paused", status)
    code, r = h.rpc_error(d.stub.UpdateContainer,
                          pb.UpdateContainerRequest(id=I("pz"), status="running"))
    d.stub.Signal(pb.SignalRequest(id=I("pz"), pid="init", signal=9))
    t.ok(code is None, "it resumes", r)
    h.settle(d, I("pz"))

    # ---- a garbage state.json of a live container never orphans it (#6) ---
    code, r = h.rpc_error(d.create, I("gs"), sleeper)
    gpid = r.container.processes[0].systemPid if code is None else 0
    t.ok(code is None, "container gs runs", r)
    # ---- and a pid file naming an unrelated process (#6) --------------------
    code, r = h.rpc_error(d.create, I("pf"), sleeper)
    ppid_real = r.container.processes[0].systemPid if code is None else 0
    t.ok(code is None, "container pf runs", r)
    bystander = subprocess.Popen(["sleep", "100000"])
    before = time.time()
    d.stop(signal.SIGKILL)
    with open(os.path.join(d.state, I("gs"), "state.json"), "w") as f:
        f.write("\x00garbage{")
    with open(os.path.join(d.state, I("pf"), "init", "pid"), "w") as f:
        f.write(str(bystander.pid))
    d.start()
    d.events = []
    d.start_events(timestamp=timestamp_pb2.Timestamp(seconds=int(before) - 1))
    code, st = h.rpc_error(d.stub.State, pb.StateRequest(id=I("gs")))
    t.ok(code is None and len(st.containers) == 1 and st.containers[0].bundlePath == sleeper
         and "state.json" in d.read_log(),
         "garbage state.json: the live container is still listed (bundle from its shim), "
         "logged", (code, st if code else st.containers, d.read_log()[-600:]))
    code, r = h.rpc_error(d.stub.Signal, pb.SignalRequest(id=I("gs"), pid="init", signal=9))
    ev = d.wait_exit(I("gs"))
    h.settle(d, I("gs"))
    t.ok(code is None and ev is not None and ev.status == 137 and h.wait_pid_gone(gpid, 5)
         and I("gs") not in state_dirs() and I("gs") not in h.runc_list_ids(),
         "garbage state.json: Signal reaches it, exit 137, dir and runc state removed",
         (code, r, ev))
    if h.pid_alive(gpid):  # old code: orphaned
        subprocess.call(["runc", "delete", "-f", I("gs")])
    code, r = h.rpc_error(d.stub.Signal, pb.SignalRequest(id=I("pf"), pid="init", signal=9))
    ev = d.wait_exit(I("pf"))
    h.settle(d, I("pf"))
    t.ok(code is None and ev is not None and ev.status == 137 and h.wait_pid_gone(ppid_real, 5)
         and bystander.poll() is None,
         "pid file naming an unrelated process: the real init is signalled, the other "
         "process left alone", (code, r, ev, bystander.poll()))
    bystander.kill()
    bystander.wait()
    if h.pid_alive(ppid_real):
        subprocess.call(["runc", "delete", "-f", I("pf")])

    # ---- corrupt state does not stop start-up (docs/failure-modes.md #6) --------------
    d.stop(signal.SIGKILL)
    os.makedirs(os.path.join(d.state, "junk1"))
    with open(os.path.join(d.state, "junk1", "state.json"), "w") as f:
        f.write("{not json")
    os.makedirs(os.path.join(d.state, "junk2", "init"))
    with open(os.path.join(d.state, "junk2", "state.json"), "w") as f:
        f.write('{"bundle":"/nonexistent"}')
    with open(os.path.join(d.state, "events.log"), "a") as f:
        f.write("garbage line\n")
    try:
        d.start()
        started = True
    except RuntimeError as e:
        started = False
        print("# " + str(e).replace("\n", "\n# "))
    t.ok(started, "daemon starts over a corrupt state.json, a process dir without pid and a "
         "corrupt events.log")
    for cid in state_dirs():  # held while their shims finish, then removed
        h.settle(d, cid)
    t.ok(state_dirs() == [], "unloadable container dirs removed", state_dirs())
    code, st = h.rpc_error(d.stub.State, pb.StateRequest())
    t.ok(code is None and len(st.containers) == 0, "State is empty", st)
except Exception:  # noqa: BLE001
    h.unexpected(t, d)
finally:
    d.cleanup()
t.done()
