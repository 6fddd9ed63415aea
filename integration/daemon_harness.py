"""Shared helper of the daemon integration tests and the benches (bench/*.py).

Starts the real containerd (with the real shim and runc) on a private
--state-dir and unix socket under a temp dir, waits for its READY=1 over
NOTIFY_SOCKET (no polling), talks to it with Python grpcio (stubs generated
from api/api.proto at run time), collects events on a background stream,
and cleans up whatever the tests made: containers (runtime delete -f),
shims, the temp dir.
"""
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import grpc

TOP_SRC = os.environ.get("CTRD_TOP_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), ".."))
TOP_BUILD = os.environ.get("CTRD_TOP_BUILDDIR") or os.getcwd()

_GEN = tempfile.mkdtemp(prefix="ctrd-pb-")
subprocess.check_call([sys.executable, "-m", "grpc_tools.protoc", "-I" + os.path.join(TOP_SRC, "api"),
                       "--python_out=" + _GEN, "--grpc_python_out=" + _GEN,
                       os.path.join(TOP_SRC, "api", "api.proto"),
                       os.path.join(TOP_SRC, "api", "google", "protobuf", "timestamp.proto")],
                      stdout=subprocess.DEVNULL)
sys.path.insert(0, _GEN)
import api_pb2 as pb  # noqa: E402
import api_pb2_grpc  # noqa: E402
shutil.rmtree(_GEN, ignore_errors=True)

# runc's state (/run/runc) and cgroup paths (/<id>) are host-wide: tests
# running side by side must not share container ids.
RUN_TAG = "%x" % os.getpid()


def uid(name):
    """A container id unique to this test run."""
    return "%s-%s" % (name, RUN_TAG)


DAEMON = os.path.join(TOP_BUILD, "supervisor", "containerd")
SHIM = os.path.join(TOP_BUILD, "shim", "containerd-shim")


from taplib import IN_CI, Tap  # noqa: E402,F401 (re-exported: h.Tap)


_ROOTFS_CACHE = {}


def make_rootfs(tmp):
    """One busybox rootfs per temp dir (tests/make-bundle.sh), shared by bundles."""
    if tmp not in _ROOTFS_CACHE:
        base = os.path.join(tmp, "base-bundle")
        subprocess.check_call(["sh", os.path.join(TOP_SRC, "tests", "make-bundle.sh"), base, "true"],
                              stdout=subprocess.DEVNULL)
        with open(os.path.join(base, "config.json")) as f:
            _ROOTFS_CACHE[tmp] = (os.path.join(base, "rootfs"), json.load(f))
    return _ROOTFS_CACHE[tmp]


def make_bundle(tmp, name, args, terminal=False, memory=None, edit=None):
    """A bundle dir whose config.json runs args on the shared rootfs."""
    rootfs, cfg = make_rootfs(tmp)
    cfg = json.loads(json.dumps(cfg))
    d = os.path.join(tmp, "bundles", name)
    os.makedirs(d, exist_ok=True)
    cfg["root"]["path"] = rootfs
    cfg["process"]["args"] = list(args)
    cfg["process"]["terminal"] = terminal
    if memory:
        cfg.setdefault("linux", {}).setdefault("resources", {})["memory"] = {"limit": memory}
    if edit:
        edit(cfg)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f)
    return d


class Daemon:
    def __init__(self, tmp=None, args=(), tmpfs_state=False, wrap=()):
        """wrap: a command prefix the daemon runs under (e.g. a private mount
        namespace, CGROUP2_NS); the cleanup's runtime calls run under it too."""
        self.tmp = tmp or tempfile.mkdtemp(prefix="ctrd-it-")
        self.wrap = list(wrap)
        self.state = os.path.join(self.tmp, "state")
        self.sock = os.path.join(self.tmp, "ctrd.sock")
        self.log = os.path.join(self.tmp, "daemon.log")
        self.args = list(args)
        self.proc = None
        self.channel = None
        self.stub = None
        self.events = []          # every event seen by the collector, in order
        self._evq = queue.Queue()
        self._ev_call = None
        self.extra_runtimes = set()
        self.tmpfs = False
        if tmpfs_state:
            # a state dir on tmpfs, as /run is on production hosts
            os.makedirs(self.state, exist_ok=True)
            subprocess.check_call(["mount", "-t", "tmpfs", "-o", "mode=0755", "ctrd-state",
                                   self.state])
            self.tmpfs = True

    # -- life cycle ---------------------------------------------------------
    def start(self, timeout=20, listen=None, target=None, listen_fd=None):
        """Start and wait for READY=1. listen: the --listen value (default
        a unix socket in the temp dir); target: the grpc address to dial
        then; listen_fd: a listening socket handed over as fd 3 with
        LISTEN_FDS=1 (systemd socket activation, for --listen fd://)."""
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(SHIM) + ":" + env.get("PATH", "/usr/bin:/bin")
        cmd = self.wrap + [DAEMON, "--state-dir", self.state, "--listen",
                           listen or "unix://" + self.sock, "--shim", SHIM] + self.args
        preexec = None
        if listen_fd is not None:
            def preexec():
                os.dup2(listen_fd, 3)
                os.environ["LISTEN_FDS"] = "1"
                os.environ["LISTEN_PID"] = str(os.getpid())
        self.proc, ready = start_notified(cmd, self.log, timeout, env, preexec_fn=preexec,
                                          close_fds=listen_fd is None)
        if not ready:
            self.proc.kill()
            raise RuntimeError("containerd did not report READY=1:\n" + self.read_log())
        self.channel = grpc.insecure_channel(target or "unix://" + self.sock)
        self.stub = api_pb2_grpc.APIStub(self.channel)
        return self

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        """Stop the daemon (containers keep running). Returns its exit status."""
        self.stop_events()
        if self.channel:
            self.channel.close()
            self.channel = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        """Remove every container, shim and the temp dir the tests left."""
        self.stop(signal.SIGKILL)
        for cid in sorted(os.listdir(self.state)) if os.path.isdir(self.state) else []:
            cdir = os.path.join(self.state, cid)
            if not os.path.isdir(cdir):
                continue
            rt, rargs = "runc", []
            try:
                with open(os.path.join(cdir, "state.json")) as f:
                    st = json.load(f)
                rt = st.get("runtime") or "runc"
                rargs = st.get("runtimeArgs") or []
            except (OSError, ValueError):
                pass
            for p in os.listdir(cdir):
                try:
                    with open(os.path.join(cdir, p, "shim.pid")) as f:
                        os.kill(int(f.read()), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            subprocess.call(self.wrap + [rt] + rargs + ["delete", "-f", cid],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.tmpfs:
            subprocess.call(["umount", self.state])
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- events -------------------------------------------------------------
    def start_events(self, **kw):
        """Subscribe (live) and collect events in a thread."""
        req = pb.EventsRequest(**kw)
        self._ev_call = self.stub.Events(req)
        ready = threading.Event()

        def run(call):
            ready.set()
            try:
                for ev in call:
                    self.events.append(ev)
                    self._evq.put(ev)
            except grpc.RpcError:
                pass
        threading.Thread(target=run, args=(self._ev_call,), daemon=True).start()
        ready.wait()
        # A State round trip after subscribing: the server handles requests
        # of a connection in order, so the subscription is registered now.
        self.stub.State(pb.StateRequest())

    def stop_events(self):
        if self._ev_call is not None:
            self._ev_call.cancel()
            self._ev_call = None

    def wait_event(self, pred, timeout=20):
        """First collected event (old or new) matching pred, or None at timeout."""
        seen = 0
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events[seen:]:
                if pred(ev):
                    return ev
            seen = len(self.events)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                self._evq.get(timeout=left)
            except queue.Empty:
                return None

    def wait_exit(self, cid, pid="init", timeout=20):
        return self.wait_event(lambda e: e.type == "exit" and e.id == cid and e.pid == pid,
                               timeout)

    # -- calls --------------------------------------------------------------
    def create(self, cid, bundle, timeout=30, **kw):
        return self.stub.CreateContainer(pb.CreateContainerRequest(id=cid, bundlePath=bundle, **kw),
                                         timeout=timeout)

    # -- files in the temp dir ------------------------------------------------
    def fifo(self, name):
        """A new FIFO <tmp>/io/<name> (a process's stdio); its path."""
        p = os.path.join(self.tmp, "io", name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.mkfifo(p)
        return p

    def script(self, name, text):
        """An executable <tmp>/<name> holding text (a fake or instrumented
        runtime); its path."""
        p = os.path.join(self.tmp, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o755)
        return p


# A private mount namespace in which /sys/fs/cgroup is a fresh mount of the
# cgroup2 hierarchy and no cgroup v1 hierarchy is mounted anywhere (they are
# detached there only), as on a host with cgroup v2 alone: runc and crun see
# the unified mode, the daemon finds no v1 directory. The command runs with
# the same pid (unshare and sh exec it).
CGROUP2_NS = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
              "for m in $(sed -n 's/^[^ ]* [^ ]* [^ ]* [^ ]* \\([^ ]*\\) .* - cgroup .*/\\1/p' "
              "/proc/self/mountinfo); do umount -l \"$m\"; done; umount -R /sys/fs/cgroup; "
              "mount -t cgroup2 ctrd-test-cgroup2 /sys/fs/cgroup && exec \"$@\"", "cgroup2-ns"]


def unexpected(t, d):
    """In a test's `except Exception:` a failed check with the traceback and
    the daemon's log."""
    import traceback
    t.ok(False, "unexpected exception", traceback.format_exc() + "\n" + d.read_log())


def ok_nothing_left(t, d):
    """The check that State lists no container any more."""
    code, st = rpc_error(d.stub.State, pb.StateRequest())
    t.ok(code is None and list(st.containers) == [], "nothing left in State",
         st if code else st.containers)


def status_kib(pid, key):
    """A kB field of /proc/<pid>/status (VmRSS, VmHWM, RssAnon...); 0 if absent."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rss_kib(pid):
    return status_kib(pid, "VmRSS")


def nfds(pid):
    """How many fds pid has open."""
    return len(os.listdir("/proc/%d/fd" % pid))


def bench_args(*defaults):
    """A bench's positional arguments, sys.argv[1:] over its defaults: one
    given is converted to its default's type, a missing one is the default."""
    return [type(v)(sys.argv[i + 1]) if len(sys.argv) > i + 1 else v
            for i, v in enumerate(defaults)]


def rpc_error(fn, *a, **kw):
    """(code, details) of a failing call, or (None, response)."""
    try:
        return None, fn(*a, **kw)
    except grpc.RpcError as e:
        return e.code(), e.details()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_pid_gone(pid, timeout):
    """Wait (pidfd, no polling loop) until pid has exited; False at timeout."""
    import select
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        p = select.poll()
        p.register(fd, select.POLLIN)
        return bool(p.poll(timeout * 1000))
    finally:
        os.close(fd)


from pathwait import start_notified, wait_path, wait_path_gone  # noqa: E402,F401 (re-exported)


class FifoReader:
    """The test's reader of a FIFO, opened non-blocking before the shim opens
    its writer (so no thread is needed); reads wait in select(), no polling."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.buf = b""

    def read_until(self, want, timeout=20):
        """What arrived until want (bytes) is in it, or with want None until
        EOF (the writers closed); consumed. At timeout, what arrived so far."""
        import select
        deadline = time.monotonic() + timeout
        eof = False
        while self.fd >= 0 and (want is None or want not in self.buf):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                break
            try:
                b = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            if not b:
                eof = True
                break
            self.buf += b
        if want is not None and want in self.buf:
            n = self.buf.index(want) + len(want)
            out, self.buf = self.buf[:n], self.buf[n:]
        else:
            out, self.buf = self.buf, b""
        if eof and want is None:
            os.close(self.fd)
            self.fd = -1
        return out


def shim_pids(state, cid):
    """Pids of the shims recorded under <state>/<cid>/*/shim.pid."""
    res = []
    cdir = os.path.join(state, cid)
    try:
        names = os.listdir(cdir)
    except OSError:
        names = []  # (gone: the daemon removes it when the container is done)
    for p in names:
        try:
            with open(os.path.join(cdir, p, "shim.pid")) as f:
                res.append(int(f.read()))
        except (OSError, ValueError):
            pass
    return res


def create_ready(d, cid, bundle, timeout=30, **kw):
    """Create cid with its stdout on a FIFO and return the first line the
    container writes there (its program says when it is ready), b"" when
    none came within timeout."""
    import threading
    path = os.path.join(d.tmp, "ready-%s.fifo" % cid)
    os.mkfifo(path)
    got = []

    def read():
        with open(path, "rb") as f:
            got.append(f.readline())
    th = threading.Thread(target=read, daemon=True)
    th.start()
    try:
        d.create(cid, bundle, stdout=path, timeout=timeout, **kw)
        th.join(timeout)
    finally:
        if th.is_alive():
            # no writer came: one of ours lets the reader see EOF
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
            th.join(5)
        os.unlink(path)
    return got[0] if got else b""


def settle(d, cid):
    """After cid's exit event: its shim may still be deleting the runtime's
    state (the id is held meanwhile). Wait for its shims to exit (pidfd),
    then a State round trip so the daemon has seen their exit FIFOs close."""
    for p in shim_pids(d.state, cid):
        wait_pid_gone(p, 20)
    # then the daemon may still delete the runtime's state (a shim that
    # died mid-cleanup, or one adopted after a restart) before the id and
    # its directory are released
    wait_path_gone(os.path.join(d.state, cid), 20)
    if d.stub is not None:
        d.stub.State(pb.StateRequest())


def runc_list_ids(runtime="runc"):
    try:
        out = subprocess.run([runtime, "list", "-q"], capture_output=True, text=True).stdout
    except OSError:
        return []
    return out.split()
