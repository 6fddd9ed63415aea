"""The daemon SIGKILLed and restarted under live work (real daemon, shim,
runc, crun, CRIU): an exec that lives on (its stdio, closeStdin, exit status
and event from the new daemon), the OOM kill of an adopted container, a
checkpoint restored after the restart into another id (output on the new
FIFOs, the restored process's own exit status), and crun beyond create:
exec, tty, adoption after a restart. TAP."""
import json
import os
import signal
import subprocess

import daemon_harness as h
from daemon_harness import pb
from daemon_harness import uid as I

import grpc

t = h.Tap(28)
d = h.Daemon()


def restart():
    """SIGKILL the daemon (shims and containers live on), start a new one on
    the same state dir and subscribe to its live events."""
    d.stop(signal.SIGKILL)
    d.start()
    d.events = []
    d.start_events()


def listed(cid):
    code, st = h.rpc_error(d.stub.State, pb.StateRequest(id=cid))
    return st.containers[0] if code is None and len(st.containers) == 1 else None


def marker(name):
    """An exit we cause after everything under test: events emitted before
    it are in d.events once it is."""
    quick = h.make_bundle(d.tmp, "marker", ["true"])
    d.create(I(name), quick)
    return d.wait_exit(I(name))


try:
    d.start()
    d.start_events()
    sleeper = h.make_bundle(d.tmp, "sleeper", ["sleep", "100000"])

    # ---- a live exec across a daemon SIGKILL --------------------------------
    cid = I("live")
    code, r = h.rpc_error(d.create, cid, sleeper)
    t.ok(code is None, "container for the live exec runs", r)
    cin, cout = d.fifo("cat.in"), d.fifo("cat.out")
    cat_out = h.FifoReader(cout)
    cat_w = os.open(cin, os.O_RDWR)
    code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=cid, pid="cat", args=["cat"], cwd="/", env=["PATH=/bin"], stdin=cin, stdout=cout))
    code2, r2 = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=cid, pid="nine", args=["sh", "-c", "read x; echo read:$x; exit 9"], cwd="/",
        env=["PATH=/bin"], stdin=d.fifo("nine.in"), stdout=d.fifo("nine.out")))
    nine_out = h.FifoReader(os.path.join(d.tmp, "io", "nine.out"))
    nine_w = os.open(os.path.join(d.tmp, "io", "nine.in"), os.O_RDWR)
    tin, tout = d.fifo("tty.in"), d.fifo("tty.out")
    tty_out = h.FifoReader(tout)
    tty_w = os.open(tin, os.O_RDWR)
    code3, r3 = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=cid, pid="tty", terminal=True, args=["sh", "-c", "read x; stty size; exit 2"], cwd="/",
        env=["PATH=/bin"], stdin=tin, stdout=tout))
    os.write(cat_w, b"before\n")
    t.ok(code is None and code2 is None and cat_out.read_until(b"before\n") == b"before\n",
         "two execs (cat, read-and-exit-9) run; stdin reaches cat", (code, r, code2, r2))
    cat_pid = r.systemPid if code is None else 0
    restart()
    c = listed(cid)
    procs = sorted(p.pid for p in c.processes) if c else None
    t.ok(code3 is None and procs == ["cat", "init", "nine", "tty"] and h.pid_alive(cat_pid),
         "after SIGKILL + restart: the container and its three execs are listed, cat lives",
         (procs, code3, r3))
    os.write(cat_w, b"after\n")
    t.ok(cat_out.read_until(b"after\n") == b"after\n",
         "the exec's stdio still flows after the restart (stdin → cat → stdout)")
    os.close(cat_w)  # the client's writer goes first (the shim's own closer holds EOF off)
    code, r = h.rpc_error(d.stub.UpdateProcess, pb.UpdateProcessRequest(
        id=cid, pid="cat", closeStdin=True))
    ev = d.wait_exit(cid, "cat")
    t.ok(code is None and ev is not None and ev.status == 0 and cat_out.read_until(None) == b"",
         "closeStdin through the new daemon: cat gets EOF, exit event with status 0", (code, r, ev))
    os.write(nine_w, b"go\n")
    ev = d.wait_exit(cid, "nine")
    t.ok(ev is not None and ev.status == 9 and nine_out.read_until(None) == b"read:go\n",
         "the other exec's output and its exit status 9 reach the new daemon's stream", ev)
    os.close(nine_w)
    # the tty exec's control FIFO, reopened by the new daemon: a resize
    code, r = h.rpc_error(d.stub.UpdateProcess, pb.UpdateProcessRequest(
        id=cid, pid="tty", width=100, height=40))
    os.write(tty_w, b"go\n")
    ev = d.wait_exit(cid, "tty")
    os.close(tty_w)
    out = tty_out.read_until(None)
    t.ok(code is None and ev is not None and ev.status == 2 and b"40 100" in out,
         "a tty exec resized through the new daemon (stty size → 40 100), exit status 2",
         (code, r, ev, out))
    t.ok(not [p for p in ("cat", "nine", "tty") if os.path.exists(os.path.join(d.state, cid, p))]
         and listed(cid) is not None and [p.pid for p in listed(cid).processes] == ["init"],
         "the execs' dirs are removed; init alone is left")
    d.stub.Signal(pb.SignalRequest(id=cid, pid="init", signal=9))
    ev = d.wait_exit(cid)
    h.settle(d, cid)
    t.ok(ev is not None and ev.status == 137 and cid not in h.runc_list_ids(),
         "and the container stops with 137, no runc state left", ev)

    # ---- OOM of a container adopted after a restart --------------------------
    def swap_limit(cfg):
        cfg["linux"]["resources"]["memory"]["swap"] = 32 << 20
    hog = h.make_bundle(d.tmp, "hog", ["sh", "-c", "read x; a=0123456789; while :; do a=$a$a; done"],
                        memory=32 << 20, edit=swap_limit)
    hin = d.fifo("hog.in")
    hog_w = os.open(hin, os.O_RDWR)
    cid = I("hog")
    code, r = h.rpc_error(d.create, cid, hog, stdin=hin)
    t.ok(code is None, "memory hog (32 MiB) waiting for a line starts", r)
    restart()
    t.ok(listed(cid) is not None, "adopted by the new daemon")
    os.write(hog_w, b"go\n")
    ev = d.wait_exit(cid, timeout=60)
    os.close(hog_w)
    t.ok(ev is not None and ev.status == 137, "the adopted container is OOM-killed: exit 137", ev)
    h.settle(d, cid)
    mark = marker("oom-mark")
    ooms = [e for e in d.events if e.type == "oom" and e.id == cid]
    t.ok(mark is not None and ev is not None and len(ooms) == 1
         and d.events.index(ooms[0]) < d.events.index(ev),
         "the new daemon reports exactly one oom, before the exit (counted after a marker)", ooms)

    # ---- restore after a daemon restart, into another id ---------------------
    have_criu = subprocess.call(["criu", "check"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) == 0
    if not have_criu:
        for n in range(7):
            t.skip_expected("restore after a restart (%d)" % n, "criu check fails here")
    else:
        stop = "/stop-" + h.RUN_TAG
        counter = h.make_bundle(d.tmp, "counter", [
            "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; [ -e %s ] && exit 7; sleep 0.05; "
            "done" % stop])
        rootfs, _ = h.make_rootfs(d.tmp)
        old, new = I("ck-old"), I("ck-new")
        out1 = d.fifo("ck-old.out")
        rd1 = h.FifoReader(out1)
        code, r = h.rpc_error(d.create, old, counter, stdout=out1)
        seen = rd1.read_until(b"\n3\n")
        t.ok(code is None and b"\n3\n" in seen, "a counting container writes to its stdout FIFO",
             (code, r, seen))
        cpdir = os.path.join(d.tmp, "cps")
        code, r = h.rpc_error(d.stub.CreateCheckpoint, pb.CreateCheckpointRequest(
            id=old, checkpointDir=cpdir, checkpoint=pb.Checkpoint(name="cp", exit=True)),
            timeout=120)
        ev = d.wait_exit(old)
        last = rd1.read_until(None)
        nums = [int(x) for x in (seen + last).split()]
        t.ok(code is None and ev is not None and ev.status == 137 and nums == list(
            range(1, len(nums) + 1)), "checkpoint with exit: the container exits 137 after "
             "counting to %d" % (nums[-1] if nums else 0), (code, r, ev, nums[-5:]))
        h.settle(d, old)
        restart()
        out2 = d.fifo("ck-new.out")
        rd2 = h.FifoReader(out2)
        code, r = h.rpc_error(d.create, new, counter, checkpoint="cp", checkpointDir=cpdir,
                              stdout=out2, timeout=120)
        t.ok(code is None and r.container.id == new,
             "the new daemon restores the checkpoint into another id", (code, r))
        first = rd2.read_until(b"\n", timeout=20)
        t.ok(nums != [] and first != b"" and int(first.split()[0]) in (nums[-1], nums[-1] + 1),
             "the restored process writes to the new stdout FIFO, continuing the count "
             "(%r after %d)" % (first[:20], nums[-1] if nums else 0), first)
        c = listed(new)
        t.ok(c is not None and c.status == "running" and listed(old) is None,
             "State: the new id running, the old one gone", c)
        with open(rootfs + stop, "w"):
            pass
        ev = d.wait_exit(new)
        rest = rd2.read_until(None)
        os.unlink(rootfs + stop)
        t.ok(ev is not None and ev.status == 7, "the restored process's own exit status (7) is "
             "reported", ev)
        h.settle(d, new)
        t.ok(rest.endswith(b"\n") and new not in h.runc_list_ids() and old not in h.runc_list_ids(),
             "its last output arrived; no runc state left for either id", (rest[-20:],))

    # ---- crun: exec, tty, adoption after a restart --------------------------
    cid = I("crun")
    code, r = h.rpc_error(d.create, cid, sleeper, runtime="crun")
    t.ok(code is None and r.container.runtime == "crun", "a container on crun runs", (code, r))
    o1 = d.fifo("crun-e1.out")
    rd = h.FifoReader(o1)
    code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=cid, pid="e1", args=["sh", "-c", "echo $((6*7)); exit 5"], cwd="/", env=["PATH=/bin"],
        stdout=o1))
    ev = d.wait_exit(cid, "e1")
    t.ok(code is None and ev is not None and ev.status == 5 and rd.read_until(None) == b"42\n",
         "crun exec: output through its FIFO, exit status 5", (code, r, ev))
    o2 = d.fifo("crun-tty.out")
    rd = h.FifoReader(o2)
    code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=cid, pid="tty", terminal=True, args=["sh", "-c", "tty; exit 3"], cwd="/",
        env=["PATH=/bin"], stdout=o2))
    ev = d.wait_exit(cid, "tty")
    out = rd.read_until(None)
    t.ok(code is None and ev is not None and ev.status == 3 and b"/dev/pts/" in out,
         "crun tty exec: runs on a pty, exit status 3", (code, r, ev, out))
    restart()
    c = listed(cid)
    t.ok(c is not None and c.runtime == "crun" and c.status == "running",
         "crun container adopted after SIGKILL + restart", c)
    o3 = d.fifo("crun-e2.out")
    rd = h.FifoReader(o3)
    code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
        id=cid, pid="e2", args=["sh", "-c", "echo after; exit 6"], cwd="/", env=["PATH=/bin"],
        stdout=o3))
    ev = d.wait_exit(cid, "e2")
    t.ok(code is None and ev is not None and ev.status == 6 and rd.read_until(None) == b"after\n",
         "crun exec through the new daemon: output, exit status 6", (code, r, ev))
    code, r = h.rpc_error(d.stub.UpdateContainer, pb.UpdateContainerRequest(id=cid, status="paused"))
    st = subprocess.run(["crun", "state", cid], capture_output=True, text=True).stdout
    try:
        st = json.loads(st).get("status")
    except ValueError:
        pass
    t.ok(code is None and st == "paused" and listed(cid).status == "paused",
         "the adopted crun container pauses (crun state: paused)", (code, r, st))
    code, r = h.rpc_error(d.stub.UpdateContainer, pb.UpdateContainerRequest(id=cid, status="running"))
    code2, r2 = h.rpc_error(d.stub.Signal, pb.SignalRequest(id=cid, pid="init", signal=9))
    ev = d.wait_exit(cid)
    h.settle(d, cid)
    t.ok(code is None and code2 is None and ev is not None and ev.status == 137
         and cid not in h.runc_list_ids("crun") and cid not in os.listdir(d.state),
         "resumed and killed: exit 137, no crun state, no state dir", (code, code2, ev))
    h.ok_nothing_left(t, d)
except Exception:  # noqa: BLE001
    h.unexpected(t, d)
finally:
    d.cleanup()
t.done()
