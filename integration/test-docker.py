"""The Docker suite: the real dockerd and docker CLI of one Docker version
driving the built containerd and containerd-shim with real runc. TAP output.
The wrappers test-docker.sh (17.10), test-docker-1.13.sh and
test-docker-1.12.sh (docker-suite.sh) pass the version in
$CTRD_DOCKER_VERSION and its binaries' dir in $CTRD_DOCKER_DIR (default
../shared/docker-<version>). What a version lacks (FEATURES) is a SKIP with
the reason: Docker 1.12 has no checkpoint; its stats and events have no
--format, so their default tables are read.

Nothing is shared with the host: one temp dir X holds ctrd's state dir and
socket, the runc root (Docker's own runtime args: daemon.json runtime
"xrunc" with --root=X/runc, since Docker sends its runtime and args in every
create), Docker's data root, exec root, pidfile and socket; dockerd runs in
its own network namespace with no bridge. The image is a busybox rootfs made
from busybox-static and `docker import`ed. Waiting is done on docker wait,
docker events, READY=1 over NOTIFY_SOCKET and process exits; a bounded poll
with a deadline only where nothing signals the condition (a tmux pane's
contents, the runc root emptying after the shims' runtime delete).
"""
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

TOP_SRC = os.environ.get("CTRD_TOP_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), ".."))
TOP_BUILD = os.environ.get("CTRD_TOP_BUILDDIR") or os.getcwd()
VERSION = os.environ.get("CTRD_DOCKER_VERSION") or "17.10"
DOCKER_DIR = os.environ.get("CTRD_DOCKER_DIR") or os.path.join(TOP_SRC, "..", "shared", "docker-" + VERSION)
DAEMON = os.path.join(TOP_BUILD, "supervisor", "containerd")
SHIM = os.path.join(TOP_BUILD, "shim", "containerd-shim")
IMAGE = "ctrd-busybox"
PLAN = 48

# What each Docker version has and how its dockerd is started (the READMEs
# in ../shared/docker-*): data_root: the flag of Docker's data dir (--graph
# before 17.05); experimental: an --experimental build (docker checkpoint);
# formats: --format for docker stats and docker events (1.13 and later);
# oom_adjust: dockerd cannot lower its own OOM score on this VM (1.12 only
# tries it when not told --oom-score-adjust 0, and then fails to start).
FEATURES = {
    "17.10": dict(data_root="--data-root", experimental=True, formats=True, oom_adjust=False),
    "1.13": dict(data_root="--graph", experimental=True, formats=True, oom_adjust=False),
    "1.12": dict(data_root="--graph", experimental=False, formats=False, oom_adjust=True),
}

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import Tap, skip_all, skip_all_expected  # noqa: E402
from pathwait import start_notified  # noqa: E402


# CI=true (.ci/run, scripts/test.sh): once the Docker binaries are there, a
# skip of a part scripts/setup.sh provides (runc, CRIU, ...) is a failure.
for f in ("docker", "dockerd"):
    if not os.access(os.path.join(DOCKER_DIR, f), os.X_OK):
        skip_all("no Docker %s (%s/%s missing; set CTRD_DOCKER_DIR)" % (VERSION, DOCKER_DIR, f))
if VERSION not in FEATURES:
    skip_all("Docker %s is not one the suite knows (%s)" % (VERSION, ", ".join(FEATURES)))
HAS = FEATURES[VERSION]
if os.getuid() != 0:
    skip_all_expected("needs root")
for tool in ("runc", "unshare", "tmux"):
    if not shutil.which(tool):
        skip_all_expected(tool + " not installed")
if not os.path.isfile("/bin/busybox"):
    skip_all_expected("/bin/busybox missing (busybox-static)")
if not os.path.isfile("/sys/fs/cgroup/freezer/freezer.state") and \
        not os.path.isdir("/sys/fs/cgroup/freezer"):
    skip_all_expected("no cgroup v1 hierarchy (Docker %s needs one)" % VERSION)
for b in (DAEMON, SHIM):
    if not os.access(b, os.X_OK):
        skip_all_expected(b + " not built")

DOCKER_DIR = os.path.abspath(DOCKER_DIR)
RUNC = shutil.which("runc")
X = tempfile.mkdtemp(prefix="ctrd-docker-", dir="/tmp")
BIN = os.path.join(X, "bin")
RUNC_ROOT = os.path.join(X, "runc")
CTRD_SOCK = os.path.join(X, "ctrd.sock")
DOCKER_SOCK = os.path.join(X, "docker.sock")
for p in (BIN, RUNC_ROOT, os.path.join(X, "state")):
    os.makedirs(p)
os.symlink(RUNC, os.path.join(BIN, "docker-runc"))
for p in ("/opt/ctrd-criu/sbin", "/opt/ctrd-criu/bin"):
    if os.path.exists(os.path.join(p, "criu")):
        os.symlink(os.path.join(p, "criu"), os.path.join(BIN, "criu"))
        break
ENV = dict(os.environ, PATH=BIN + ":" + DOCKER_DIR + ":" + os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
           DOCKER_HOST="unix://" + DOCKER_SOCK, DOCKER_CONFIG=os.path.join(X, "cli"))
ENV.pop("NOTIFY_SOCKET", None)
# These binaries were built with Go 1.19; Docker 17.10 shipped with Go 1.8.
# Since Go 1.14 the runtime preempts goroutines with SIGURG, and the CLI's
# signal proxy (`docker run`, even with -d) forwards every signal it catches
# to the container: a `kill` with SIGURG, which Docker 17.10 treats as a
# manual stop (ExitOnNext) and so cancels the restart policy at random (1-2
# of 10 on-failure containers here). Not ctrd's doing; switched off.
ENV["GODEBUG"] = "asyncpreemptoff=1"
with open(os.path.join(X, "daemon.json"), "w") as f:
    json.dump({"runtimes": {"xrunc": {"path": "docker-runc", "runtimeArgs": ["--root=" + RUNC_ROOT]}},
               "default-runtime": "xrunc"}, f)

t = Tap(PLAN)
# make's interrupt or a CI timeout: clean up all the same (finally below)
for _sig in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, lambda n, f: sys.exit(128 + n))
procs = {}          # "containerd" / "dockerd" -> Popen
busy = []           # host CPU load


def log(name):
    return os.path.join(X, name + ".log")


def tail(path, n=30):
    """The end of a daemon log, without dockerd's per-container warning that
    IPv4 forwarding is off (--ip-forward=false is on purpose)."""
    try:
        with open(path, errors="replace") as f:
            return "".join([x for x in f.readlines() if "IPv4 forwarding" not in x][-n:])
    except OSError:
        return ""


def spawn_ready(name, cmd, timeout=60):
    """Start a daemon with NOTIFY_SOCKET and wait for its READY=1 (both
    ctrd's containerd and dockerd send it). Returns (ok, diag)."""
    procs[name], ready = start_notified(cmd, log(name), timeout, ENV,
                                        notify=os.path.join(X, name + ".notify"))
    if ready:
        return True, ""
    return False, "%s did not report READY=1 in %ds:\n%s" % (name, timeout, tail(log(name)))


def start_containerd():
    return spawn_ready("containerd", [
        DAEMON, "-l", "unix://" + CTRD_SOCK, "--metrics-interval=0", "--start-timeout", "2m",
        "--state-dir", os.path.join(X, "state"), "--shim", SHIM, "--runtime", "docker-runc"])


def start_dockerd():
    cmd = ["unshare", "-n", os.path.join(DOCKER_DIR, "dockerd"), HAS["data_root"], os.path.join(X, "root"),
           "--exec-root", os.path.join(X, "exec"), "--pidfile", os.path.join(X, "dockerd.pid"),
           "-H", "unix://" + DOCKER_SOCK, "--config-file", os.path.join(X, "daemon.json"),
           "--containerd", CTRD_SOCK, "--storage-driver", "vfs", "--iptables=false",
           "--ip-forward=false", "--ip-masq=false", "--bridge=none", "--userland-proxy=false",
           "--live-restore"]
    if HAS["experimental"]:
        cmd.append("--experimental")
    if HAS["oom_adjust"]:
        cmd += ["--oom-score-adjust", "0"]
    return spawn_ready("dockerd", cmd)


def stop_daemon(name, sig=signal.SIGTERM, timeout=30):
    """Signal a daemon by pid and reap it; SIGKILL when it does not go."""
    p = procs.pop(name, None)
    if p is None or p.poll() is not None:
        return None
    p.send_signal(sig)
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()


def dk(*args, stdin=None, timeout=120):
    """Run the docker CLI: (exit status, stdout, stderr)."""
    try:
        r = subprocess.run([os.path.join(DOCKER_DIR, "docker")] + list(args), env=ENV,
                           input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return -1, (e.stdout or b"").decode(errors="replace"), "timed out after %ds" % timeout
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def dk_out(*args, **kw):
    r, out, err = dk(*args, **kw)
    return out.strip() if r == 0 else None


def run_d(*args):
    """docker run -d ...: the full container id, or None (error in the diag)."""
    r, out, err = dk("run", "-d", *args)
    return out.strip() if r == 0 else None


def inspect(cid, fmt):
    return dk_out("inspect", "-f", fmt, cid)


def cg(ctrl, cid, name):
    """A file of the container's cgroup (Docker's cgroupfs parent /docker)."""
    if not cid:
        return "(no container)"
    try:
        with open(os.path.join("/sys/fs/cgroup", ctrl, "docker", cid, name)) as f:
            return f.read().strip()
    except OSError as e:
        return "(%s)" % e


def wait_for(cond, timeout=60, step=0.05):
    """Bounded poll, for conditions nothing signals. The bound only ends a
    failure (generous: CI runs this next to other tests on 2 cores)."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def make_image():
    """busybox-static with one symlink per applet, plus the dirs Docker mounts
    over, as a tar; docker import."""
    tarpath = os.path.join(X, "rootfs.tar")
    applets = subprocess.run(["/bin/busybox", "--list-full"], stdout=subprocess.PIPE,
                             check=True).stdout.decode().split()
    with tarfile.open(tarpath, "w") as tar:
        def add_dir(name, mode=0o755):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode = tarfile.DIRTYPE, mode
            tar.addfile(ti)
        for dname in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev",
                      "root"):
            add_dir(dname)
        add_dir("tmp", 0o1777)
        tar.add("/bin/busybox", arcname="bin/busybox")
        for a in applets:
            if a == "bin/busybox":
                continue
            ti = tarfile.TarInfo(a)
            ti.type, ti.mode = tarfile.SYMTYPE, 0o777
            ti.linkname = "/bin/busybox"
            tar.addfile(ti)
        for fname, data in (("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
                            ("etc/group", "root:x:0:\n")):
            b = data.encode()
            ti = tarfile.TarInfo(fname)
            ti.size, ti.mode = len(b), 0o644
            tar.addfile(ti, io.BytesIO(b))
    return dk("import", tarpath, IMAGE)


class Tmux:
    """A private tmux server for the interactive checks."""

    def __init__(self, keeper=True):
        self.sock = os.path.join(X, "tmux.sock")
        if not keeper:
            return  # only to talk to a server already there (cleanup)
        # A session that lives until kill_server: tmux exits with its last
        # session, and a new-session racing with that exit fails ("server
        # exited unexpectedly": the second interactive check then found an
        # empty pane, 1 run in 3 under load, in CI too).
        r = self.cmd("new-session", "-d", "-s", "keeper", "sleep 3600")
        if r.returncode:
            raise RuntimeError("tmux new-session: " + r.stderr.decode(errors="replace"))

    def cmd(self, *args):
        return subprocess.run(["tmux", "-S", self.sock] + list(args), env=dict(ENV, TERM="xterm"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def new(self, name, command, w=80, h=24):
        # remain-on-exit keeps a dead pane so its exit status can be read
        return self.cmd("new-session", "-d", "-s", name, "-x", str(w), "-y", str(h), command)

    def capture(self, name):
        return self.cmd("capture-pane", "-p", "-J", "-t", name).stdout.decode(errors="replace")

    def send(self, name, text):
        self.cmd("send-keys", "-t", name, "-l", text)
        self.cmd("send-keys", "-t", name, "Enter")

    def expect(self, name, pattern, timeout=60):
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.capture(name)), timeout, 0.05)

    def resize(self, name, w, h):
        return self.cmd("resize-window", "-t", name, "-x", str(w), "-y", str(h))

    def kill_server(self):
        self.cmd("kill-server")


def stty_size(tm, name, tag):
    """Ask the shell in the pane for its terminal size; the answer carries a
    tag the typed command line does not (the tag is built by the shell)."""
    tm.send(name, "echo %s-$((1+1)): $(stty size)" % tag)
    m = tm.expect(name, r"%s-2: (\d+) (\d+)" % tag)
    return (int(m.group(1)), int(m.group(2))) if m else None


def interactive(tm, name, command, t_name):
    """Drive command (docker run -it / exec -it with sh) under tmux: size seen
    inside, resize-window seen inside, exit status of the shell back."""
    status = os.path.join(X, name + ".status")
    r = tm.new(name, "%s; echo $? > %s; sleep 3600" % (command, status))
    if r.returncode:
        t.note("tmux new-session %s: %s" % (name, r.stderr.decode(errors="replace")))
    # the shell's prompt: the client has attached and sent its first resize
    tm.expect(name, r"(?m)^/ # ")
    s1 = stty_size(tm, name, "A")
    t.ok(s1 == (24, 80), t_name + ": the pty has tmux's size (24 80)", "%s\n%s" % (s1, tm.capture(name)))
    tm.resize(name, 100, 30)
    s2 = stty_size(tm, name, "B")
    t.ok(s2 == (30, 100), t_name + ": resize-window reaches the container's pty (30 100)",
         "%s\n%s" % (s2, tm.capture(name)))
    tm.send(name, "exit 7")
    got = wait_for(lambda: os.path.exists(status) and open(status).read().strip())
    t.ok(got == "7", t_name + ": the shell's exit status 7 comes back", "%r\n%s" % (got, tm.capture(name)))
    tm.cmd("kill-session", "-t", name)


def runc_list():
    """Container state dirs left in the private runc root."""
    try:
        return sorted(os.listdir(RUNC_ROOT))
    except OSError:
        return []


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "(gone)"


def mentions_x():
    """Pids of processes whose command line mentions X (not this one)."""
    res = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                if X.encode() in f.read():
                    res.append(int(p))
        except OSError:
            pass
    return res


# A line of docker events' default output, the same in every version here
# (1.12 has no --format): "<time> container <action> <id> (<attributes>)";
# an action can have spaces ("exec_create: sh -c ...").
EVENT_RX = re.compile(r"^\S+ container (.+?) ([0-9a-f]{64}) \(")


def event_line(line):
    """(id, action) of a container event line, or None."""
    m = EVENT_RX.match(line)
    return (m.group(2), m.group(1)) if m else None


class EventStream:
    """docker events of some filters, subscribed before the containers they
    wait for are made and read at once by a thread, so no event is lost:
    Docker replays --since only from a small in-memory ring of recent
    events (with 1.13 under load, the first dies of 10 restarting
    containers had gone from it before a subscription made after their
    runs), and its publisher drops events for a subscriber that does not
    read. --since the moment before the subscription covers the CLI's
    connect."""

    def __init__(self, *filters):
        args = [os.path.join(DOCKER_DIR, "docker"), "events", "--since", now()]
        for f in filters:
            args += ["--filter", f]
        self.seen = {}      # id -> number of events
        self.log = []       # (id, action) in order
        self.cond = threading.Condition()
        self.ended = False
        self.p = subprocess.Popen(args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        streams.append(self)

    def _read(self):
        for line in self.p.stdout:
            e = event_line(line.decode(errors="replace"))
            if e:
                with self.cond:
                    self.seen[e[0]] = self.seen.get(e[0], 0) + 1
                    self.log.append(e)
                    self.cond.notify_all()
        with self.cond:
            self.ended = True
            self.cond.notify_all()

    def wait(self, want, timeout):
        """Until every id of want has been seen want[id] times (the
        timeout only bounds a failure); returns {id: count}."""
        with self.cond:
            self.cond.wait_for(lambda: self.ended or all(self.seen.get(c, 0) >= n for c, n in want.items()),
                               timeout)
            return dict(self.seen)

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.reader.join(10)


streams = []        # EventStreams to stop at the end


def stats_c1():
    """docker stats --no-stream of c1: (status, memory usage in its unit,
    pids, output). 1.13 and later with --format; 1.12's table has no name
    column choice: "c1  <cpu>%  <usage> / <limit>  <mem>%  <net>  <block>  <pids>"."""
    if HAS["formats"]:
        r, out, err = dk("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}", "c1",
                         timeout=60)
        m = re.match(r"c1 ([\d.]+) ?([KMG]i?B) / .* (\d+)$", out.strip())
    else:
        r, out, err = dk("stats", "--no-stream", "c1", timeout=60)
        m = None
        for line in out.splitlines():
            m = m or re.match(r"c1\s+[\d.]+%\s+([\d.]+) ?([KMG]i?B) / .*\s(\d+)$", line.strip())
    return r, (float(m.group(1)) if m else None), (m.group(3) if m else None), out + err


def now():
    return "%.9f" % time.time()


def cleanup_docker():
    for es in streams:
        es.close()
    for p in busy:
        if p.poll() is None:
            p.kill()
            p.wait()
    if "dockerd" in procs and procs["dockerd"].poll() is None:
        ids = (dk_out("ps", "-aq", "--no-trunc", timeout=30) or "").split()
        for cid in ids:
            dk("rm", "-f", cid, timeout=60)
    Tmux(keeper=False).kill_server()


def cleanup_daemons():
    stop_daemon("dockerd")
    stop_daemon("containerd")
    for cid in runc_list():
        subprocess.run([RUNC, "--root", RUNC_ROOT, "delete", "-f", cid],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cleanup_strays():
    """Shims go once their container has; what is left after that is a stray."""
    wait_for(lambda: not mentions_x(), 30)
    strays = ["%d %s" % (pid, cmdline(pid)) for pid in mentions_x()]
    for pid in mentions_x():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    wait_for(lambda: not mentions_x(), 10)
    return strays


def cleanup_mounts():
    """Mounts under X, deepest (latest) first."""
    with open("/proc/self/mountinfo") as f:
        mps = [line.split()[4] for line in f]
    for mp in reversed(mps):
        mp = mp.encode().decode("unicode_escape")
        if mp == X or mp.startswith(X + "/"):
            if subprocess.run(["umount", mp], stderr=subprocess.DEVNULL).returncode:
                subprocess.run(["umount", "-l", mp], stderr=subprocess.DEVNULL)


def cleanup_cgroups():
    """The cgroup dirs of the test's containers, then the /docker parents if empty."""
    for ctrl in os.listdir("/sys/fs/cgroup"):
        parent = os.path.join("/sys/fs/cgroup", ctrl, "docker")
        if not os.path.isdir(parent):
            continue
        for c in os.listdir(parent):
            if c in made and os.path.isdir(os.path.join(parent, c)):
                try:
                    os.rmdir(os.path.join(parent, c))
                except OSError:
                    pass
        try:
            os.rmdir(parent)
        except OSError:
            pass


def cleanup():
    """Every step runs even when an earlier one fails (a failing step is
    reported with the strays): the daemons must go in any case."""
    problems = []
    for step in (cleanup_docker, cleanup_daemons, cleanup_strays, cleanup_mounts, cleanup_cgroups):
        try:
            problems += step() or []
        except Exception as e:  # noqa: BLE001
            problems.append("%s: %r" % (step.__name__, e))
    shutil.rmtree(X, ignore_errors=True)
    return problems


made = set()         # full ids of every container the test created


def track(cid):
    if cid:
        made.add(cid)
    return cid


try:
    ok, diag = start_containerd()
    t.ok(ok, "ctrd's containerd starts on a private socket and state dir (READY=1)", diag)
    ok, diag = start_dockerd()
    t.ok(ok, "dockerd %s starts against it (--containerd, READY=1)" % VERSION, diag)
    r, out, err = dk("version", "--format", "{{.Server.Version}}")
    t.ok(r == 0 and out.strip().startswith(VERSION + "."), "docker version reports the server " + VERSION,
         out + err)
    r, out, err = make_image()
    t.ok(r == 0, "docker import of a busybox rootfs", out + err)

    # ---- run, exit codes, -d, exec -------------------------------------
    r, out, err = dk("run", "--name", "ex3", IMAGE, "sh", "-c", "exit 3")
    track(inspect("ex3", "{{.Id}}"))
    t.ok(r == 3, "docker run: exit status 3 comes back", "%d %s" % (r, err))
    r, out, err = dk("run", "--rm", IMAGE, "echo", "hello from ctrd")
    t.ok(r == 0 and out == "hello from ctrd\n", "docker run --rm: output and status 0", "%d %r %s" % (r, out, err))
    # --net none: a network sandbox without a bridge (dockerd runs with
    # --bridge=none). Docker 1.12's stats of a container with none (the
    # default network then) fail with libnetwork's "invalid id: " every
    # second, and docker stats hangs; 1.13 and later show empty network I/O.
    c1 = track(run_d("--name", "c1", "--net", "none", IMAGE, "sleep", "1000"))
    pid = inspect("c1", "{{.State.Pid}}") if c1 else None
    t.ok(c1 and inspect("c1", "{{.State.Running}}") == "true" and pid and int(pid) > 0
         and os.path.exists("/proc/%s" % pid), "docker run -d: running, its pid is alive", pid)
    r, out, err = dk("exec", "c1", "sh", "-c", "echo in; exit 0")
    t.ok(r == 0 and out == "in\n", "docker exec: output, status 0", "%d %r %s" % (r, out, err))
    r, out, err = dk("exec", "c1", "sh", "-c", "exit 5")
    t.ok(r == 5, "docker exec: exit status 5 comes back", "%d %s" % (r, err))
    r, out, err = dk("run", "-i", "--rm", IMAGE, "cat", stdin=b"hi\nthere\n")
    t.ok(r == 0 and out == "hi\nthere\n", "docker run -i: stdin reaches the container, EOF ends it",
         "%d %r %s" % (r, out, err))

    # ---- logs, top, stats ---------------------------------------------
    lg = track(run_d("--name", "lg", IMAGE, "sh", "-c", "echo to-out; echo to-err >&2; exit 2"))
    r, out, err = dk("wait", "lg")
    t.ok(out.strip() == "2", "docker wait: 2", out + err)
    r, out, err = dk("logs", "lg")
    t.ok(r == 0 and "to-out" in out and "to-err" in err, "docker logs: stdout and stderr",
         "%r %r" % (out, err))
    r, out, err = dk("top", "c1")
    t.ok(r == 0 and re.search(r"sleep 1000", out) and pid in out, "docker top: the container's process",
         out + err)
    # Docker 1.12 hangs here when a Stats map entry lacks its key or value
    r, mem, pids, out = stats_c1()
    t.ok(r == 0 and mem and mem > 0 and pids == "1", "docker stats --no-stream: memory usage and 1 pid", out)

    # ---- pause/unpause, update -----------------------------------------
    r, out, err = dk("pause", "c1")
    st = cg("freezer", c1, "freezer.state")
    t.ok(r == 0 and st == "FROZEN" and inspect("c1", "{{.State.Paused}}") == "true",
         "docker pause: freezer.state FROZEN, Paused", "%d %s %s" % (r, st, err))
    r, out, err = dk("unpause", "c1")
    st = cg("freezer", c1, "freezer.state")
    t.ok(r == 0 and st == "THAWED" and inspect("c1", "{{.State.Paused}}") == "false",
         "docker unpause: freezer.state THAWED", "%d %s %s" % (r, st, err))
    r, out, err = dk("update", "--cpu-shares", "512", "--memory", "64m", "--memory-swap", "128m", "c1")
    v = (cg("cpu", c1, "cpu.shares"), cg("memory", c1, "memory.limit_in_bytes"))
    t.ok(r == 0 and v == ("512", str(64 << 20)),
         "docker update: cpu.shares 512 and memory.limit_in_bytes 64 MiB in the cgroup", "%d %s %s" % (r, v, err))

    # ---- kill/wait, stop/start, restart ---------------------------------
    dk("kill", "c1")
    r, out, err = dk("wait", "c1")
    t.ok(out.strip() == "137" and inspect("c1", "{{.State.ExitCode}}") == "137",
         "docker kill + wait: 137", out + err)
    r, out, err = dk("start", "c1")
    pid2 = inspect("c1", "{{.State.Pid}}")
    t.ok(r == 0 and inspect("c1", "{{.State.Running}}") == "true" and pid2 != pid,
         "docker start after the exit: running again, new pid", "%d %s %s" % (r, pid2, err))
    r, out, err = dk("stop", "-t", "1", "c1")
    t.ok(r == 0 and inspect("c1", "{{.State.Running}}") == "false"
         and inspect("c1", "{{.State.ExitCode}}") == "137",
         "docker stop: SIGTERM ignored by pid 1, SIGKILL after 1 s, stopped", err)
    dk("start", "c1")
    pid3 = inspect("c1", "{{.State.Pid}}")
    r, out, err = dk("restart", "-t", "0", "c1")
    pid4 = inspect("c1", "{{.State.Pid}}")
    t.ok(r == 0 and inspect("c1", "{{.State.Running}}") == "true" and pid4 not in (pid3, "0", None),
         "docker restart: running, new pid", "%d %s %s %s" % (r, pid3, pid4, err))
    es = EventStream("container=rp", "event=die")
    rp = track(run_d("--name", "rp", "--restart", "on-failure:2", IMAGE, "sh", "-c", "exit 1"))
    ev = es.wait({rp: 3} if rp else {}, 120)
    es.close()
    rc = inspect("rp", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}")
    t.ok(ev.get(rp) == 3 and rc == "2 exited 1", "--restart on-failure:2: restarted twice, then exited 1",
         "%s %s" % (ev, rc))

    # ---- OOM ------------------------------------------------------------
    r, out, err = dk("run", "--name", "oom", "--memory", "16m", "--memory-swap", "16m", IMAGE,
                     "sh", "-c", "x=0123456789; while :; do x=$x$x; done")
    track(inspect("oom", "{{.Id}}"))
    o = inspect("oom", "{{.State.OOMKilled}} {{.State.ExitCode}}")
    t.ok(o == "true 137", "OOM: a process past --memory 16m is killed, OOMKilled=true, 137",
         "%d %s %s" % (r, o, err))

    # ---- events -----------------------------------------------------------
    es = EventStream("container=ev1", "event=create", "event=start", "event=die", "event=destroy")
    ev1 = track(run_d("--name", "ev1", IMAGE, "sh", "-c", "exit 0"))
    dk("wait", "ev1")
    dk("rm", "ev1")
    es.wait({ev1: 4} if ev1 else {}, 120)
    es.close()
    ev = [a for i, a in es.log if i == ev1]
    want = ["create", "start", "die", "destroy"]
    t.ok([s for s in ev if s in want] == want, "docker events: create, start, die, destroy in order", ev)

    # ---- interactive, under tmux ----------------------------------------
    tm = Tmux()
    denv = "env DOCKER_HOST=%s PATH=%s GODEBUG=%s " % (ENV["DOCKER_HOST"], ENV["PATH"], ENV["GODEBUG"])
    interactive(tm, "runit", denv + "docker run -it --rm --name runit %s sh" % IMAGE, "docker run -it")
    interactive(tm, "execit", denv + "docker exec -it c1 sh", "docker exec -it")

    # ---- live-restore: dockerd SIGKILLed and restarted -----------------
    lr = track(run_d("--name", "lr", IMAGE, "sh", "-c",
                     "trap 'exit 4' USR1; while :; do sleep 0.1; done"))
    lrpid = inspect("lr", "{{.State.Pid}}")
    rc = stop_daemon("dockerd", signal.SIGKILL)
    ok, diag = start_dockerd()
    t.ok(ok and rc == -signal.SIGKILL, "dockerd SIGKILLed and started again", diag)
    t.ok(inspect("lr", "{{.State.Running}} {{.State.Pid}}") == "true " + str(lrpid)
         and os.path.exists("/proc/%s" % lrpid),
         "live-restore: the container runs on with the same pid", inspect("lr", "{{json .State}}"))
    r, out, err = dk("exec", "lr", "echo", "after-restore")
    t.ok(r == 0 and out == "after-restore\n", "live-restore: docker exec works", "%d %r %s" % (r, out, err))
    dk("exec", "lr", "kill", "-USR1", "1")
    r, out, err = dk("wait", "lr")
    t.ok(out.strip() == "4" and inspect("lr", "{{.State.Status}} {{.State.ExitCode}}") == "exited 4",
         "live-restore: the later exit (4) is seen by docker wait and inspect", out + err)

    # ---- containerd SIGKILLed and restarted ------------------------------
    ck = track(run_d("--name", "ck", IMAGE, "sleep", "1000"))
    ckpid = inspect("ck", "{{.State.Pid}}")
    rc = stop_daemon("containerd", signal.SIGKILL)
    alive = os.path.exists("/proc/%s" % ckpid)
    ok, diag = start_containerd()
    t.ok(ok and rc == -signal.SIGKILL and alive,
         "containerd SIGKILLed (the container lives on) and started again", diag)
    # libcontainerd reconnects on its own schedule (grpc back-off): bounded
    res = wait_for(lambda: dk("exec", "ck", "echo", "back")[1] == "back\n", 120, 0.5)
    t.ok(res, "docker exec works again once dockerd has reconnected", tail(log("dockerd")))
    t.ok(inspect("ck", "{{.State.Running}} {{.State.Pid}}") == "true " + str(ckpid),
         "docker still sees the container, same pid", inspect("ck", "{{json .State}}"))
    dk("kill", "ck")
    r, out, err = dk("wait", "ck")
    t.ok(out.strip() == "137", "and sees its exit after the restart (137)", out + err)

    # ---- checkpoint / restore --------------------------------------------
    criu = shutil.which("criu", path=ENV["PATH"])
    why, skip = None, t.skip_expected
    if not HAS["experimental"]:
        # what the version lacks: a SKIP, under CI too
        why, skip = "Docker %s has no checkpoint (no experimental build)" % VERSION, t.skip
    elif not criu:
        why = "no criu on PATH or in /opt/ctrd-criu"
    else:
        cc = subprocess.run([criu, "check"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if cc.returncode:
            why = "criu check fails here: " + cc.stdout.decode(errors="replace").strip().splitlines()[-1]
    if why:
        for name in ("docker checkpoint create", "docker checkpoint ls", "docker start --checkpoint"):
            skip(name, why)
    else:
        cp = track(run_d("--name", "cp", IMAGE, "sh", "-c", "i=0; while :; do i=$((i+1)); sleep 0.1; done"))
        r, out, err = dk("checkpoint", "create", "cp", "cp1")
        t.ok(r == 0 and inspect("cp", "{{.State.Running}}") == "false",
             "docker checkpoint create: dumped, the container stopped", out + err)
        r, out, err = dk("checkpoint", "ls", "cp")
        t.ok(r == 0 and "cp1" in out, "docker checkpoint ls lists it", out + err)
        r, out, err = dk("start", "--checkpoint", "cp1", "cp")
        r2, out2, err2 = dk("exec", "cp", "echo", "restored")
        t.ok(r == 0 and inspect("cp", "{{.State.Running}}") == "true" and out2 == "restored\n",
             "docker start --checkpoint: running again, exec works", out + err + out2 + err2)
        dk("rm", "-f", "cp")

    # ---- churn under CPU load --------------------------------------------
    dk("rm", "-f", "c1", "lr", "ck", "rp", "lg", "ex3", "oom")
    t.ok(wait_for(lambda: not runc_list()),
         "runc root empty before the churn", runc_list())
    for _ in range(3):
        busy.append(subprocess.Popen(["sh", "-c", "while :; do :; done"]))
    t_churn = time.monotonic()

    before = set(runc_list())
    fails, churned = [], set()
    for i in range(50):
        cid = track(run_d(IMAGE, "sleep", "1000"))
        if not cid:
            fails.append(i)
            continue
        churned.add(cid)
        r, out, err = dk("rm", "-f", cid)
        if r:
            fails.append(i)
    wait_for(lambda: not set(runc_list()) - before)
    left = sorted(set(runc_list()) - before)
    t.note("50 x run -d + rm -f: %d failed, %d left runc state" % (len(fails), len(left)))
    t.ok(not fails, "churn: 50 x run -d + rm -f, every command succeeds", fails)
    t.ok(not left, "churn: 50 x run -d + rm -f leave no runc state", left)

    ss = track(run_d("--name", "ss", IMAGE, "sleep", "1000"))
    sfail = []
    for i in range(20):
        r, out, err = dk("stop", "-t", "0", "ss")
        if r:
            sfail.append("stop %d: %s" % (i, err.strip()))
        r, out, err = dk("start", "ss")
        if r or inspect("ss", "{{.State.Running}}") != "true":
            sfail.append("start %d: %s" % (i, err.strip()))
    t.note("20 x stop + start: %d failed" % len(sfail))
    t.ok(not sfail, "churn: 20 x stop + start, every start succeeds", "\n".join(sfail))
    dk("rm", "-f", "ss")

    # 10 containers restarted by Docker's restart manager: 4 dies each
    es = EventStream("label=ctrd-churn=rp", "event=die")
    rps, rpfail = [], []
    for i in range(10):
        cid = track(run_d("--label", "ctrd-churn=rp", "--restart", "on-failure:3", IMAGE, "sh", "-c", "exit 1"))
        if cid:
            rps.append(cid)
        else:
            rpfail.append(i)
    dies = es.wait({c: 4 for c in rps}, 300)
    es.close()
    bad = []
    for c in rps:
        s = inspect(c, "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}")
        if s != "3 exited 1" or dies.get(c) != 4:
            bad.append("%s: %s, %s dies; %s" % (c[:12], s, dies.get(c), inspect(c, "{{.State.Error}}")))
    t.note("10 x on-failure:3: %d of 10 did not reach RestartCount 3" % len(bad))
    t.ok(not rpfail and not bad, "churn: 10 x --restart on-failure:3 each restarted 3 times, then exited 1",
         "\n".join(bad + ["run %d failed" % i for i in rpfail]))
    for c in rps:
        dk("rm", "-f", c)
    for p in busy:
        p.kill()
        p.wait()
    busy.clear()
    t.note("churn took %.1f s" % (time.monotonic() - t_churn))
    t.ok(wait_for(lambda: not runc_list()), "churn: the runc root is empty at the end", runc_list())
except Exception as e:  # noqa: BLE001 (a harness failure is a failed check)
    import traceback
    t.ok(False, "harness: %s" % e, traceback.format_exc() + tail(log("containerd")) + tail(log("dockerd")))
finally:
    try:
        clog, dlog = tail(log("containerd"), 15), tail(log("dockerd"), 15)
        strays = cleanup()
        if t.failed:
            t.note("containerd log:\n" + clog + "\ndockerd log:\n" + dlog)
        while t.n < PLAN - 1:
            t.ok(False, "not reached")
        t.ok(not strays and not mentions_x() and not os.path.exists(X),
             "cleanup: no process mentions the temp dir once the daemons are stopped, it is gone",
             "\n".join(strays + [cmdline(p) for p in mentions_x()]))
    except Exception as e:  # noqa: BLE001
        t.ok(False, "cleanup: %s" % e)
t.done()
