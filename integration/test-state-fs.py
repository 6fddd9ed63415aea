"""A full or read-only state filesystem loses no exit status (issue 11 #4).

The state dir is a small tmpfs this test mounts (size=4m) and fills with a
filler file until writes fail with ENOSPC, or remounts read-only. Real
daemon, shim and runc; the bundles and runc's own state are elsewhere. Every
exit must reach the client with its real status exactly once: live, or from
a restarted daemon (replayed from its event window), and never again after
another restart; the state dir is cleaned once the filesystem is usable."""
import errno
import os
import signal
import subprocess
import time

import daemon_harness as h
from daemon_harness import pb
from daemon_harness import uid as I

import grpc
from google.protobuf import timestamp_pb2

t = h.Tap(20)
d = h.Daemon()
os.makedirs(d.state)
subprocess.check_call(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "ctrd-state-fs", d.state])
d.tmpfs = True  # cleanup() unmounts it
FILLER = os.path.join(d.state, ".filler")
d2 = h.Daemon()  # the read-only case: its own state fs


def fill():
    """Fill the state fs: a filler file grows until ENOSPC."""
    with open(FILLER, "ab") as f:
        chunk = b"\0" * 65536
        try:
            while True:
                f.write(chunk)
                f.flush()
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
        # the last partial chunk may have left a little room: take it
        for size in (4096, 512, 1):
            try:
                while True:
                    os.write(f.fileno(), b"\0" * size)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise


def is_full():
    try:
        with open(os.path.join(d.state, ".probe"), "wb") as f:
            f.write(b"x")
            f.flush()
        return False
    except OSError as e:
        return e.errno == errno.ENOSPC
    finally:
        try:
            os.unlink(os.path.join(d.state, ".probe"))
        except OSError:
            pass


def free():
    os.unlink(FILLER)


def state_dirs():
    # (not .<id>.deleting: a directory being removed, renamed away first)
    return sorted(x for x in os.listdir(d.state)
                  if not x.startswith(".") and os.path.isdir(os.path.join(d.state, x)))


def exits(cid, since=None, pid="init"):
    """(status, time) of cid's exit events seen, those at or after since only."""
    res = []
    for e in d.events:
        ts = e.timestamp.seconds + e.timestamp.nanos / 1e9
        if e.type == "exit" and e.id == cid and e.pid == pid and (since is None or ts >= since):
            res.append((e.status, ts))
    return res


def barrier():
    """Every event the daemon emitted before now is in d.events."""
    code, _ = h.rpc_error(d.create, I("barrier"), quick)
    if code is None:
        d.wait_exit(I("barrier"))
        h.settle(d, I("barrier"))


def restart(replay_from=None):
    d.stop(signal.SIGKILL)
    d.events = []
    d.start()
    kw = {}
    if replay_from is not None:
        kw["timestamp"] = timestamp_pb2.Timestamp(seconds=int(replay_from) - 1)
    d.start_events(**kw)


def cue_fifo(name):
    """A stdin FIFO for a process that exits once the test writes a line
    to it (`read x; exit N`: a signal could come before a shell's trap).
    Returns (path, the fd the test keeps and cues with)."""
    path = os.path.join(d.tmp, name + ".in")
    os.mkfifo(path)
    return path, os.open(path, os.O_RDWR)


def create_on_cue(dm, cid):
    """Container cid whose init exits 3 on its cue; returns the cue fd."""
    path, fd = cue_fifo(cid)
    code, r = h.rpc_error(dm.create, cid, exit3, stdin=path)
    assert code is None, (cid, code, r)
    return fd


def exec_on_cue(cid, pid, status):
    """An exec that exits with status on its cue: (grpc code, response, cue fd)."""
    path, fd = cue_fifo(cid + "-" + pid)
    code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=cid, pid=pid, args=["sh", "-c", "read x; exit %d" % status], cwd="/",
        env=["PATH=/bin"], stdin=path))
    return code, r, fd


def cue(fd):
    os.write(fd, b"go\n")
    os.close(fd)


def shim_of(cid, pid="init"):
    with open(os.path.join(d.state, cid, pid, "shim.pid")) as f:
        return int(f.read())


try:
    exit3 = h.make_bundle(d.tmp, "exit3", ["sh", "-c", "read x; exit 3"])
    sleeper = h.make_bundle(d.tmp, "sleeper", ["sleep", "100000"])
    quick = h.make_bundle(d.tmp, "quick", ["true"])
    d.start()
    d.start_events()

    # ---- full, daemon up: exit 3, SIGKILL and an exec's exit 5 -------------
    t0 = time.time()
    f3 = create_on_cue(d, I("f3"))
    code, r = h.rpc_error(d.create, I("fk"), sleeper)
    assert code is None, r
    code, r, x5 = exec_on_cue(I("fk"), "x5", 5)
    assert code is None, r
    fill()
    full = is_full()
    # (fill again before each exit: a removed container dir frees its pages)
    cue(f3)
    d.wait_exit(I("f3"))
    h.settle(d, I("f3"))
    fill()
    cue(x5)
    d.wait_exit(I("fk"), "x5")
    fill()
    d.stub.Signal(pb.SignalRequest(id=I("fk"), pid="init", signal=signal.SIGKILL))
    d.wait_exit(I("fk"))
    h.settle(d, I("fk"))
    t.ok(full and [s for s, _ in exits(I("f3"))] == [3],
         "full state fs: exit 3 reported as 3, once", (full, exits(I("f3"))))
    t.ok([s for s, _ in exits(I("fk"))] == [137] and I("f3") not in state_dirs()
         and I("fk") not in state_dirs() and I("f3") not in h.runc_list_ids()
         and I("fk") not in h.runc_list_ids(),
         "full state fs: SIGKILL reported as 137, once; both dirs and runc state removed",
         (exits(I("fk")), state_dirs()))
    t.ok([s for s, _ in exits(I("fk"), pid="x5")] == [5], "full state fs: exec exit 5 reported as 5",
         exits(I("fk"), pid="x5"))
    first = {c: [s for s, _ in exits(I(c))] for c in ("f3", "fk")}

    # creates on a full disk fail cleanly (as before: a guard, not a fix)
    fill()
    code, r = h.rpc_error(d.create, I("nospace"), sleeper)
    t.ok(code is not None and "No space left on device" in str(r) and I("nospace") not in state_dirs()
         and I("nospace") not in h.runc_list_ids(),
         "create on the full state fs fails (no space), nothing left", (code, r, state_dirs()))

    # space back: a restart reports nothing again
    free()
    t1 = time.time()
    restart(replay_from=t0)
    barrier()
    late = {c: [s for s, _ in exits(I(c), since=t1)] for c in ("f3", "fk")}
    t.ok(first["f3"] + late["f3"] == [3] and first["fk"] + late["fk"] == [137]
         and state_dirs() == [],
         "space back, restart: over both daemons each exit reported once with its real status, "
         "state dir clean", (first, late, state_dirs()))

    # ---- full while the daemon is down, restart while still full ----------
    d3 = create_on_cue(d, I("d3"))
    code, r = h.rpc_error(d.create, I("dk"), sleeper)
    assert code is None, r
    pidk = d.stub.State(pb.StateRequest(id=I("dk"))).containers[0].processes[0].systemPid
    t2 = time.time()
    d.stop(signal.SIGKILL)
    fill()
    shims = [shim_of(I("d3")), shim_of(I("dk"))]
    cue(d3)  # relayed by its shim, the daemon being down
    os.kill(pidk, signal.SIGKILL)
    gone = all(h.wait_pid_gone(p, 20) for p in shims)
    full = is_full()
    d.events = []
    try:
        d.start()
        started = True
    except (RuntimeError, OSError) as e:
        started = False
        t.note(e)
    t.ok(gone and full and started,
         "exits while the daemon is down on a full fs, shims finished: the daemon starts on it",
         (gone, full, d.read_log()))
    if started:
        d.start_events(timestamp=timestamp_pb2.Timestamp(seconds=int(t2) - 1))
        d.wait_exit(I("d3"))
        d.wait_exit(I("dk"))
        barrier()
        t.ok([s for s, _ in exits(I("d3"))] == [3], "restart while full: exit 3 reported once",
             exits(I("d3")))
        t.ok([s for s, _ in exits(I("dk"))] == [137], "restart while full: SIGKILL reported as 137 once",
             exits(I("dk")))
        h.settle(d, I("d3"))
        h.settle(d, I("dk"))
        t.ok(state_dirs() == [], "restart while full: state dir clean", state_dirs())
    else:
        for n in ("exit 3", "137", "clean"):
            t.ok(False, "restart while full: " + n + " (daemon did not start)")
    free()
    t3 = time.time()
    restart(replay_from=t2)
    barrier()
    late = exits(I("d3"), since=t3) + exits(I("dk"), since=t3)
    t.ok(not late and state_dirs() == [], "space back, second restart: nothing reported again",
         (late, state_dirs()))

    # ---- the reserve removed behind the shim's back, full: the status goes
    # through the exit FIFO, the daemon records "reported" (an empty file,
    # no block needed), the shim keeps the status and retries; a restart
    # meanwhile reports nothing; space back: written, cleaned, still once.
    h3 = create_on_cue(d, I("h3"))
    hdir = os.path.join(d.state, I("h3"))
    try:
        os.unlink(os.path.join(hdir, "init", "exitStatus.reserve"))
    except FileNotFoundError:
        pass  # the old shim had none
    th = time.time()
    # an exec in the same plight: reported from the FIFO, its dir removed by
    # the daemon, so its shim stops retrying and ends
    code, r, x7 = exec_on_cue(I("h3"), "x7", 7)
    xshim = shim_of(I("h3"), "x7") if code is None else 0
    try:
        os.unlink(os.path.join(hdir, "x7", "exitStatus.reserve"))
    except FileNotFoundError:
        pass
    fill()
    cue(x7)
    d.wait_exit(I("h3"), "x7")
    t.ok(code is None and [s for s, _ in exits(I("h3"), pid="x7")] == [7]
         and h.wait_pid_gone(xshim, 20) and not os.path.exists(os.path.join(hdir, "x7")),
         "no reserve, full: an exec's exit 7 reported from the FIFO; its dir removed, its shim ended",
         (code, exits(I("h3"), pid="x7")))
    fill()
    hshim = shim_of(I("h3"))
    cue(h3)
    d.wait_exit(I("h3"))
    t.ok([s for s, _ in exits(I("h3"))] == [3] and h.pid_alive(hshim)
         and not os.path.exists(os.path.join(hdir, "init", "exitStatus"))
         and os.path.exists(os.path.join(hdir, "exitReported")),
         "no reserve, full: exit 3 reported from the exit FIFO, the shim keeps it, "
         "exitReported recorded", (exits(I("h3")), os.listdir(hdir) if os.path.isdir(hdir) else None))
    hfirst = [s for s, _ in exits(I("h3"))]
    th2 = time.time()
    restart(replay_from=th)
    d.stub.State(pb.StateRequest())
    code, _ = h.rpc_error(d.stub.State, pb.StateRequest(id=I("h3")))
    t.ok(not exits(I("h3"), since=th2) and h.pid_alive(hshim) and code == grpc.StatusCode.NOT_FOUND,
         "restart while the shim holds it: not reported again, id held", (exits(I("h3")), code))
    free()
    # the shim's retry (backoff from 1 s) writes it and ends; the daemon cleans
    gone = h.wait_pid_gone(hshim, 30)
    h.settle(d, I("h3"))
    barrier()
    hlate = [s for s, _ in exits(I("h3"), since=th2)]
    t.ok(gone and hfirst + hlate == [3] and I("h3") not in state_dirs(),
         "space back: the shim wrote it and ended, dir removed; over both daemons reported once, "
         "as 3", (gone, hfirst, hlate, state_dirs()))

    # ---- read-only: an ext4 state fs that an error made read-only ----------
    # (a plain `mount -o remount,ro` fails with EBUSY while the daemon holds
    # events.log and .lock open for writing: errors=remount-ro is how a state
    # fs turns read-only under a running daemon)
    ro_ok = False
    try:
        img = os.path.join(d2.tmp, "state.img")
        with open(img, "wb") as f:
            f.truncate(32 << 20)
        subprocess.check_call(["mkfs.ext4", "-q", img])
        os.makedirs(d2.state)
        subprocess.check_call(["mount", "-o", "loop,errors=remount-ro", img, d2.state])
        d2.tmpfs = True  # cleanup() unmounts it (and the loop device goes with it)
        dev = subprocess.check_output(["findmnt", "-no", "SOURCE", d2.state], text=True).strip()
        trigger = "/sys/fs/ext4/%s/trigger_fs_error" % os.path.basename(dev)
        ro_ok = os.path.exists(trigger)
    except (OSError, subprocess.CalledProcessError) as e:
        t.note("no ext4 loop state fs: %s" % e)
    if not ro_ok:
        for n in range(5):
            t.skip("read-only state fs check %d" % (n + 1), "no ext4 on a loop device with trigger_fs_error")
    else:
        d2.start()
        d2.start_events()
        r3 = create_on_cue(d2, I("r3"))
        code, r = h.rpc_error(d2.create, I("rk"), sleeper)
        assert code is None, r
        with open(trigger, "w") as f:
            f.write("1")
        try:
            with open(os.path.join(d2.state, "probe"), "w") as f:
                f.write("x")
            ro = False
        except OSError as e:
            ro = e.errno == errno.EROFS
        rshims = h.shim_pids(d2.state, I("r3")) + h.shim_pids(d2.state, I("rk"))
        cue(r3)
        d2.stub.Signal(pb.SignalRequest(id=I("rk"), pid="init", signal=signal.SIGKILL))
        e3, ek = d2.wait_exit(I("r3")), d2.wait_exit(I("rk"))
        r3 = [e.status for e in d2.events if e.type == "exit" and e.id == I("r3")]
        rk = [e.status for e in d2.events if e.type == "exit" and e.id == I("rk")]
        t.ok(ro and r3 == [3], "read-only state fs (ext4 after an error): exit 3 reported as 3, once",
             (ro, r3))
        t.ok(rk == [137], "read-only state fs: SIGKILL reported as 137, once", rk)
        t.ok(len(rshims) == 2 and all(h.pid_alive(p) for p in rshims),
             "read-only: the shims keep the status (retrying) instead of losing it", rshims)
        code, r = h.rpc_error(d2.create, I("rocreate"), sleeper)
        t.ok(code is not None and "Read-only file system" in str(r)
             and I("rocreate") not in h.runc_list_ids(),
             "create on the read-only state fs fails, no runc state", (code, r))
        d2.stop(signal.SIGKILL)
        p2 = subprocess.run([h.DAEMON, "--state-dir", d2.state, "--listen",
                             "unix://" + os.path.join(d2.tmp, "again.sock"), "--shim", h.SHIM],
                            capture_output=True, text=True, timeout=20)
        t.ok(p2.returncode != 0 and "Read-only file system" in p2.stderr
             and all(h.pid_alive(p) for p in rshims),
             "a daemon does not start on the read-only state dir (nothing can be reported "
             "twice); the shims keep holding", (p2.returncode, p2.stderr))
        for p in rshims:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
            h.wait_pid_gone(p, 10)
        d2.cleanup()  # runc delete -f: their shims' delete failed (log.json read-only)
        d2.tmpfs = False

    # ---- the filler's space is the daemon's again; runc has nothing left ----
    left = [x for x in h.runc_list_ids() if x.endswith(h.RUN_TAG)]
    t.ok(not left, "no runc state left", left)
except Exception as e:  # a failure above must not skip the cleanup
    import traceback
    t.note(traceback.format_exc())
finally:
    try:
        free()
    except OSError:
        pass
    log = d.read_log() + d2.read_log()
    d.cleanup()
    d2.cleanup()
    if t.failed:
        t.note(log)
t.done()
