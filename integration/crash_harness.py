"""Crash injection: SIGKILL the daemon at a random delay into an operation,
start it again on the same state dir, and check what a crash must never do.

Shared by integration/test-crash.py (a few trials in `make check`) and
bench/crash-soak (any number). Each trial:
  1. (for operations on a running container) creates a container first;
  2. sends the operation (create, create with restore, exec, signal, pause,
     update, checkpoint, delete) without waiting for its answer;
  3. sleeps the trial's delay (the injection point) and SIGKILLs the daemon;
  4. starts the daemon again on the same state dir;
  5. ends what is left (resume, wait for the exec, SIGKILL the init) and
     waits for the container's state dir to go;
  6. checks the invariants below and returns the violations.

Invariants (checked after every trial):
  - the bundle (config.json and every file of the rootfs) is byte-identical
    to what it was before the first trial;
  - no process of the trial is left (one whose argv names the container or
    whose cwd or argv is under the harness's temp dir: shims, runc, CRIU),
    no runc state (runc list, /run/runc/<id>), no mount under the temp dir
    or runc's state dir of the id, no cgroup of the id in any controller
    (every v1 hierarchy and the unified one);
  - the container is either running and listed after the restart, or gone
    with its exit reported exactly once with its real status; an exec's
    exit likewise. A create the client never got an answer for may be gone
    without an exit (the client never knew the container), at most one.

Exits are counted from the daemon's own events.log, replayed with
storedOnly from before the trial, so an exit the killed daemon had
reported counts as well as one the restarted daemon reports.
"""
import hashlib
import os
import random
import shutil
import signal
import subprocess
import time

import grpc

import daemon_harness as h

pb = h.pb

# shimkill: a create with restore whose init shim (not the daemon) is
# SIGKILLed; the daemon lives on and undoes the create itself
OPS = ("create", "restore", "exec", "signal", "pause", "update", "checkpoint", "delete", "shimkill")
# The delay of a trial is drawn from [0, MAX_DELAY_MS[op]]: about the time the
# operation takes on a 2-core VM, so kills land before, during and after it.
MAX_DELAY_MS = {"create": 250, "restore": 900, "exec": 200, "signal": 60, "pause": 120,
                "update": 150, "checkpoint": 900, "delete": 250, "shimkill": 700}
# pid 1 of the container ends with 7 on SIGTERM (the real status the signal
# trial expects), else loops
# trap (the signal trial waits for "ready": a TERM before the trap is in
# place is ignored by a pid 1, one during the trap builtin gives 1 or 2)
PROGRAM = ["sh", "-c", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.1; done"]
EXEC_STATUS = 3
CG_ROOT = "/sys/fs/cgroup"


def _ts(sec):
    from google.protobuf import timestamp_pb2
    t = timestamp_pb2.Timestamp()
    t.FromNanoseconds(int(sec * 1e9))
    return t


def fingerprint(*roots):
    """(path, mode, size, sha256 or link target) of every entry under roots."""
    out = []
    for root in roots:
        for dirpath, dirs, files in os.walk(root, followlinks=False):
            dirs.sort()
            for name in sorted(dirs + files):
                p = os.path.join(dirpath, name)
                st = os.lstat(p)
                if os.path.islink(p):
                    what = "-> " + os.readlink(p)
                elif os.path.isfile(p):
                    with open(p, "rb") as f:
                        what = hashlib.sha256(f.read()).hexdigest()
                else:
                    what = ""
                out.append((p, st.st_mode, st.st_size if not os.path.isdir(p) else 0, what))
        st = os.lstat(root)
        out.append((root, st.st_mode, 0, ""))
    return out


def cgroup_hierarchies():
    """Every mounted cgroup hierarchy (v1 per controller, the unified one)."""
    res = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            sep = parts.index("-")
            if parts[sep + 1] in ("cgroup", "cgroup2"):
                res.append(parts[4])
    return sorted(set(res))


def _read(path, binary=False):
    try:
        with open(path, "rb" if binary else "r") as f:
            return f.read()
    except OSError:
        return None


class CrashSoak:
    def __init__(self, seed, note=print):
        self.seed = seed
        self.rng = random.Random(seed)
        self.note = note
        self.d = h.Daemon(tmpfs_state=True)
        self.d.start()
        self.t0 = time.time() - 1
        self.bundle = h.make_bundle(self.d.tmp, "crash", PROGRAM)
        self.rootfs = h.make_rootfs(self.d.tmp)[0]
        self.print0 = fingerprint(self.bundle, self.rootfs)
        self.k = 0
        self.cpdir = os.path.join(self.d.tmp, "checkpoints")
        self.criu = self._criu_works()
        self.have_checkpoint = False
        self.results = []      # (op, delay_ms, violations)
        self.known = set()     # leaks reported already

    @staticmethod
    def _criu_works():
        criu = shutil.which("criu")
        return bool(criu) and subprocess.call([criu, "check"], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL) == 0

    # -- set-up of the restore trials: one checkpoint, restored every time --
    def make_checkpoint(self):
        cid = h.uid("crash-src")
        self.d.create(cid, self.bundle)
        self.d.stub.CreateCheckpoint(pb.CreateCheckpointRequest(
            id=cid, checkpoint=pb.Checkpoint(name="cp", exit=True), checkpointDir=self.cpdir),
            timeout=60)
        h.wait_path_gone(os.path.join(self.d.state, cid), 30)
        self.have_checkpoint = True

    # -- helpers --------------------------------------------------------------
    def exits(self, cid, since):
        """Every exit event of cid in events.log since `since`."""
        res = []
        call = self.d.stub.Events(pb.EventsRequest(timestamp=_ts(since), storedOnly=True),
                                  timeout=30)
        for ev in call:
            if ev.type == "exit" and ev.id == cid:
                res.append((ev.pid, ev.status))
        return res

    def listed(self, cid):
        st = self.d.stub.State(pb.StateRequest(), timeout=30)
        for c in st.containers:
            if c.id == cid:
                return c
        return None

    def log_of(self, cid, n=15):
        """The last n lines of the daemon log that name cid."""
        try:
            with open(self.d.log, errors="replace") as f:
                return [ln.rstrip() for ln in f if cid in ln][-n:]
        except OSError:
            return []

    def restart(self):
        self.d.stop(signal.SIGKILL)
        self.d.start()

    def leaks(self, cid):
        """What the trial of cid left behind (a leak of an earlier trial is
        reported by that trial only)."""
        bad = [b for b in self._leaks(cid) if b not in self.known]
        self.known.update(bad)
        return bad

    def _leaks(self, cid):
        bad = []
        if os.path.lexists(os.path.join(self.d.state, cid)):
            bad.append("state dir %s/%s still there" % (self.d.state, cid))
        if cid in h.runc_list_ids():
            bad.append("runc lists %s" % cid)
        if os.path.lexists("/run/runc/" + cid):
            bad.append("/run/runc/%s still there" % cid)
        me, daemon = os.getpid(), self.d.proc.pid
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) in (me, daemon):
                continue
            cmd = _read("/proc/%s/cmdline" % pid, True)
            if cmd is None:
                continue
            argv = cmd.split(b"\0")
            try:
                cwd = os.readlink("/proc/%s/cwd" % pid)
            except OSError:
                cwd = ""
            tmp = self.d.tmp.encode()
            if cid.encode() in argv or any(a.startswith(tmp) for a in argv) or cwd.startswith(self.d.tmp):
                bad.append("process %s left: %s (cwd %s)" % (pid, b" ".join(argv).decode(errors="replace"), cwd))
        for line in _read("/proc/self/mountinfo").splitlines():
            mp = line.split()[4]
            if ("/run/runc/" + cid) in mp or (mp.startswith(self.d.tmp) and mp != self.d.state):
                bad.append("mount left: " + line)
        for hier in cgroup_hierarchies():
            p = os.path.join(hier, cid)
            if os.path.isdir(p):
                bad.append("cgroup left: " + p)
        now = fingerprint(self.bundle, self.rootfs)
        if now != self.print0:
            a, b = set(self.print0), set(now)
            diff = sorted(x[0] for x in a ^ b)
            bad.append("bundle changed (%d entries differ, e.g. %s)" % (len(diff), diff[:5]))
        return bad

    # -- one trial ------------------------------------------------------------
    def trial(self, op=None, delay_ms=None):
        """One trial: (op, delay_ms, acked, violations)."""
        self.k += 1
        op = op or self.rng.choice(OPS)
        if delay_ms is None:
            delay_ms = self.rng.uniform(0, MAX_DELAY_MS[op])
        try:
            return self._trial(op, delay_ms)
        except Exception as e:  # noqa: BLE001 (a harness failure is a violation)
            import traceback
            bad = ["harness: %s" % e, traceback.format_exc().strip().splitlines()[-3]]
            try:
                if self.d.proc is None or self.d.proc.poll() is not None:
                    self.restart()
            except Exception as e2:  # noqa: BLE001
                bad.append("restart: %s" % e2)
            self.results.append((op, delay_ms, bad))
            return op, delay_ms, False, bad

    def _trial(self, op, delay_ms):
        if op in ("restore", "shimkill") and not self.have_checkpoint:
            self.make_checkpoint()
        cid = h.uid("cr%d" % self.k)
        since = time.time() - 0.5
        bad = []
        d = self.d
        fresh = op in ("create", "restore", "shimkill")
        if op == "signal":
            self.create_ready(cid)
        elif not fresh:
            d.create(cid, self.bundle)
        fut = self.send(op, cid)
        time.sleep(delay_ms / 1000.0)          # the injection point
        if op == "shimkill":
            for pid in h.shim_pids(d.state, cid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        else:
            os.kill(d.proc.pid, signal.SIGKILL)
            d.proc.wait()
        try:
            fut.result(timeout=60)
            acked = True
        except grpc.RpcError:
            acked = False
        if op != "shimkill":
            self.restart()
        d.start_events()
        c = self.listed(cid)
        if c is not None:
            if c.status == "paused":
                d.stub.UpdateContainer(pb.UpdateContainerRequest(id=cid, pid="init", status="running"),
                                       timeout=30)
            if any(p.pid == "ex" for p in c.processes) and d.wait_exit(cid, "ex", 30) is None:
                bad.append("the exec listed after the restart never exits")
            code, msg = h.rpc_error(d.stub.Signal, pb.SignalRequest(id=cid, pid="init", signal=9),
                                    timeout=30)
            # (NOT_FOUND, "no such process": it ended on its own meanwhile,
            # e.g. the SIGTERM of the trial; its exit is checked below)
            if code is not None and code != grpc.StatusCode.NOT_FOUND and "no such process" not in msg:
                bad.append("Signal(9) after the restart: %s %s" % (code, msg))
        if not h.wait_path_gone(os.path.join(d.state, cid), 30):
            bad.append("the container's state dir did not go")
        d.stop_events()
        d.stub.State(pb.StateRequest(), timeout=30)
        bad += self.check_exits(op, cid, since, acked, c is not None)
        bad += self.leaks(cid)
        if bad:
            bad += ["daemon log of %s:" % cid] + self.log_of(cid)
        self.results.append((op, delay_ms, bad))
        return op, delay_ms, acked, bad

    def create_ready(self, cid):
        """Create cid with its stdout on a FIFO; return once it said ready."""
        got = h.create_ready(self.d, cid, self.bundle)
        if got != b"ready\n":
            raise RuntimeError("%s did not say ready: %r" % (cid, got))

    def send(self, op, cid):
        s = self.d.stub
        if op in ("create", "restore", "shimkill"):
            kw = dict(checkpoint="cp", checkpointDir=self.cpdir) if op != "create" else {}
            return s.CreateContainer.future(pb.CreateContainerRequest(
                id=cid, bundlePath=self.bundle, **kw), timeout=60)
        if op == "exec":
            return s.AddProcess.future(pb.AddProcessRequest(
                id=cid, pid="ex", args=["sh", "-c", "sleep 0.05; exit %d" % EXEC_STATUS], cwd="/",
                env=["PATH=/bin"], user=pb.User(uid=0, gid=0)), timeout=60)
        if op == "signal":
            return s.Signal.future(pb.SignalRequest(id=cid, pid="init", signal=15), timeout=60)
        if op == "pause":
            return s.UpdateContainer.future(pb.UpdateContainerRequest(id=cid, pid="init", status="paused"),
                                            timeout=60)
        if op == "update":
            return s.UpdateContainer.future(pb.UpdateContainerRequest(
                id=cid, pid="init", resources=pb.UpdateResource(cpuShares=512, memoryLimit=64 << 20)),
                timeout=60)
        if op == "checkpoint":
            return s.CreateCheckpoint.future(pb.CreateCheckpointRequest(
                id=cid, checkpoint=pb.Checkpoint(name="t%d" % self.k, exit=self.k % 2 == 0),
                checkpointDir=os.path.join(self.d.tmp, "ck-trials")), timeout=60)
        if op == "delete":
            return s.Signal.future(pb.SignalRequest(id=cid, pid="init", signal=9), timeout=60)
        raise ValueError(op)

    def check_exits(self, op, cid, since, acked, listed):
        evs = self.exits(cid, since)
        inits = [st for pid, st in evs if pid == "init"]
        execs = [st for pid, st in evs if pid == "ex"]
        others = [(pid, st) for pid, st in evs if pid not in ("init", "ex")]
        bad = []
        if others:
            bad.append("exits of unknown processes: %s" % others)
        fresh = op in ("create", "restore", "shimkill")
        if listed:
            # killed by the harness, or ended by the trial's own operation
            # after the listing (a SIGTERM: 7)
            want = {137, 7} if op == "signal" else {137}
        elif fresh and not acked:
            want = None          # the client never knew it: 0 or 1 exit
        elif op == "signal":
            want = {7}
        elif op == "delete":
            want = {137}
        elif op == "checkpoint":
            # 137: a dump with exit; 133 (SIGTRAP): the recovery killed the
            # dead daemon's CRIU while it had its parasite in the container
            # (1 checkpoint trial in ~60)
            want = {137, 133}
        elif op == "shimkill":
            # the restore was answered before its shim was killed: the
            # daemon kills a container it can no longer supervise and
            # reports that once (a restore quicker than the drawn delay)
            want = {137}
        else:
            bad.append("a %s killed the container: it is not listed after the restart" % op)
            want = {137}
        if want is None:
            # (137 when recovery killed it; another status when the start
            # itself failed as the daemon died: 1 was seen once in 500)
            if len(inits) > 1:
                bad.append("init exits of an unanswered create: %s (want none or one)" % inits)
        elif len(inits) != 1 or inits[0] not in want:
            bad.append("init exits %s (want exactly one of %s)" % (inits, sorted(want)))
        if op == "exec":
            if acked and execs != [EXEC_STATUS]:
                bad.append("exec exits %s (want exactly one %d)" % (execs, EXEC_STATUS))
            if not acked and (len(execs) > 1 or any(s not in (EXEC_STATUS, 137) for s in execs)):
                bad.append("exec exits of an unanswered AddProcess: %s" % execs)
        elif execs:
            bad.append("exec exits without an exec: %s" % execs)
        return bad

    def cleanup(self):
        self.d.cleanup()
