#!/usr/bin/python3
"""The Debian package, end to end (TAP). Run as root from a checkout:

    python3 tests/test-deb.py [OUTDIR]

1. Copies the source tree (the files git knows, or the tree without build*/
   dirs outside git) to a temporary directory and runs the README's
   `dpkg-buildpackage -b -us -uc` there (the unit tests included), plus
   `dpkg-source -b` for lintian's source checks.
2. lintian on the .changes, .deb and .dsc: no error, no warning.
3. Installs the .deb on this machine (apt-get, which waits for the dpkg lock
   and never removes a package here: --no-remove).
4. Runs the installed containerd with the ExecStart line of the installed
   containerd.service, as systemd would with containerd.socket (a listening
   socket passed as fd 3 with LISTEN_FDS, NOTIFY_SOCKET for Type=notify), on
   a private socket and --state-dir, with systemd's default PATH: waits for
   READY=1, checks the installed `ctr version`, runs a busybox container
   through the installed daemon, shim and runc, stops the daemon (SIGTERM).
5. Purges the package: every path it installed is gone (directories it
   created too), and so are the unit links and deb-systemd-helper's state;
   nothing of the run is left (processes, /run/containerd, temp dirs).

It refuses to run (skips; a failure under CI=true) where it could replace or
disturb something: ctrd, containerd or containerd.io installed, a file of the
package already present, a containerd unit or process on the machine. The
postinst starts nothing (the package enables its units but does not start
them) and no daemon ever listens on /run/containerd/containerd.sock. About
3.5-5 minutes on 2 shared cores (dpkg-buildpackage 110-245 s, lintian 15-35 s); OUTDIR
(default: a temporary directory) keeps the build and daemon logs and the .deb.
"""
import os
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CI = os.environ.get("CI") == "true"
# systemd's default PATH for system services (systemd.exec(5), Debian 12).
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
UNIT_NAMES = ("containerd.service", "containerd.socket")
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system",
             "/usr/lib/systemd/system", "/usr/local/lib/systemd/system")
DSH_STATE = ("/var/lib/systemd/deb-systemd-helper-enabled",
             "/var/lib/systemd/deb-systemd-helper-masked")
GUARD = 120  # seconds: a hang guard for the daemon, never a timed assertion

n = 0
failed = 0


def tap(ok, desc, detail=None):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, desc), flush=True)
    if not ok and detail:
        for line in str(detail).rstrip().splitlines()[-25:]:
            print("#   " + line)
    return ok


def note(text):
    print("# " + text, flush=True)


def skip_all(why):
    """Nothing ran: a skip, or a failure under CI=true (setup.sh provides all)."""
    if CI:
        print("1..1\nnot ok 1 - Debian package test (CI: expected part missing): %s" % why)
        sys.exit(1)
    print("1..0 # SKIP %s" % why)
    sys.exit(0)


def run(argv, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("text", True)
    return subprocess.run(argv, **kw)


def dpkg_status(pkg):
    r = run(["dpkg-query", "-W", "-f=${Status}", pkg], stderr=subprocess.DEVNULL)
    return r.stdout if r.returncode == 0 else ""


def procs_running(paths):
    """Processes whose executable is one of paths (also once deleted)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            exe = os.readlink("/proc/%s/exe" % pid)
        except OSError:
            continue
        if exe.removesuffix(" (deleted)") in paths:
            found.append("%s %s" % (pid, exe))
    return found


def shims_of(cid):
    """Pids of /usr/bin/containerd-shim processes whose argv names cid."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            exe = os.readlink("/proc/%s/exe" % pid)
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if exe.removesuffix(" (deleted)") == "/usr/bin/containerd-shim" and cid.encode() in args:
            pids.append(int(pid))
    return pids


def wait_exit(pids):
    """Waits (pidfds, GUARD at most) for pids to exit; returns those still running."""
    fds = {}
    for pid in pids:
        try:
            fds[os.pidfd_open(pid)] = pid
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + GUARD
    while fds and time.monotonic() < deadline:
        r, _, _ = select.select(list(fds), [], [], max(0, deadline - time.monotonic()))
        for fd in r:
            os.close(fd)
            del fds[fd]
    left = sorted(fds.values())
    for fd in fds:
        os.close(fd)
    return left


def unit_traces():
    """Every containerd unit file, unit link and deb-systemd-helper record."""
    found = []
    for d in UNIT_DIRS + DSH_STATE:
        for root, _dirs, files in os.walk(d):
            for f in files:
                if any(f == u or f.startswith(u) for u in UNIT_NAMES):
                    found.append(os.path.join(root, f))
    return sorted(found)


def deb_paths(deb):
    """The paths in the .deb's data archive, as dpkg -L prints them."""
    r = run(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE, stderr=None, text=False)
    t = run(["tar", "-t"], input=r.stdout, stdout=subprocess.PIPE, text=False)
    paths = []
    for p in t.stdout.decode().splitlines():
        p = "/" + p.lstrip("./").rstrip("/")
        if p != "/":
            paths.append(p)
    return paths


def copy_tree(dst):
    """The source tree as a fresh clone would have it (plus uncommitted edits)."""
    if os.path.isdir(os.path.join(TOP, ".git")):
        files = run(["git", "-C", TOP, "ls-files", "-co", "--exclude-standard", "-z"],
                    stderr=None).stdout.split("\0")
        for f in filter(None, files):
            src = os.path.join(TOP, f)
            if not os.path.lexists(src):  # deleted in the working tree
                continue
            os.makedirs(os.path.dirname(os.path.join(dst, f)), exist_ok=True)
            shutil.copy2(src, os.path.join(dst, f), follow_symlinks=False)
    else:
        shutil.copytree(TOP, dst, symlinks=True, ignore=shutil.ignore_patterns(
            "build*", "autom4te.cache", "*.o", "*.a", "__pycache__"))


def exec_start(unit):
    """The argv of a unit's ExecStart= (one line, no specifiers or $VARs)."""
    section = None
    lines = []
    with open(unit) as f:
        for line in f:
            line = line.strip()
            if line.startswith("[") and line.endswith("]"):
                section = line
            elif section == "[Service]" and line.startswith("ExecStart="):
                lines.append(line[len("ExecStart="):])
    lines = [x for x in lines if x]
    if len(lines) != 1:
        raise ValueError("%s: %d ExecStart= lines" % (unit, len(lines)))
    cmd = lines[0].lstrip("-@:+!")
    if "%" in cmd or "$" in cmd:
        raise ValueError("%s: ExecStart= uses specifiers or variables: %s" % (unit, cmd))
    return shlex.split(cmd)


class Daemon:
    """argv exec'd the way systemd starts a socket-activated Type=notify
    service: the listening socket as fd 3 (LISTEN_FDS=1, LISTEN_PID), a
    notification socket (NOTIFY_SOCKET), systemd's default PATH."""

    def __init__(self, argv, sock_path, notify_path, log_path):
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(sock_path)
        self.listener.listen(128)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(notify_path)
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        lfd = self.listener.fileno()
        env = {"PATH": SYSTEMD_PATH, "LANG": "C", "NOTIFY_SOCKET": notify_path,
               "LISTEN_FDS": "1", "LISTEN_FDNAMES": "containerd.socket"}
        self.pid = os.fork()
        if self.pid == 0:  # child: fd 3 = the socket, then exec
            try:
                os.setsid()
                os.dup2(log, 1)
                os.dup2(log, 2)
                devnull = os.open("/dev/null", os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(lfd, 3)
                os.set_inheritable(3, True)
                os.closerange(4, 1024)
                env["LISTEN_PID"] = str(os.getpid())
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        os.close(log)
        self.listener.close()  # the daemon has it now, as with systemd
        self.pidfd = os.pidfd_open(self.pid)
        self.status = None

    def wait_ready(self):
        """READY=1 received (True), or the daemon died / the guard ran out."""
        deadline = time.monotonic() + GUARD
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False, "no READY=1 within %d s" % GUARD
            r, _, _ = select.select([self.notify, self.pidfd], [], [], left)
            if self.notify in r:
                msg = self.notify.recv(4096).decode(errors="replace")
                if "READY=1" in msg.split("\n"):
                    return True, msg
            elif self.pidfd in r:
                self.reap()
                return False, "the daemon exited (status %s) before READY=1" % self.status

    def reap(self):
        if self.status is None:
            _, st = os.waitpid(self.pid, 0)
            self.status = os.waitstatus_to_exitcode(st)
        return self.status

    def stop(self, sig=signal.SIGTERM):
        """Signal it and wait for the exit (None: still running at the guard)."""
        if self.status is None:
            os.kill(self.pid, sig)
            r, _, _ = select.select([self.pidfd], [], [], GUARD)
            if not r:
                os.kill(self.pid, signal.SIGKILL)
                self.reap()
                return None
        return self.reap()

    def close(self):
        if self.status is None:
            self.stop(signal.SIGKILL)
        os.close(self.pidfd)
        self.notify.close()


def preconditions():
    if os.geteuid() != 0:
        skip_all("needs root (dpkg -i, containers)")
    for tool in ("dpkg-buildpackage", "dh", "lintian", "fakeroot", "apt-get", "runc", "jq",
                 "git" if os.path.isdir(os.path.join(TOP, ".git")) else "tar"):
        if not shutil.which(tool):
            skip_all("%s is not installed (scripts/setup.sh installs it)" % tool)
    for pkg in ("ctrd", "containerd", "containerd.io"):
        st = dpkg_status(pkg)
        if st and "not-installed" not in st:
            skip_all("package %s is on this machine (%s): installing and purging ctrd would "
                     "replace or remove it" % (pkg, st))
    traces = unit_traces()
    if traces:
        skip_all("containerd units are already on this machine: %s" % " ".join(traces))
    for p in ("/usr/bin/containerd", "/usr/bin/containerd-shim", "/usr/bin/ctr"):
        if os.path.lexists(p):
            skip_all("%s exists (not from a package): the package would overwrite it" % p)
    for d in SYSTEMD_PATH.split(":")[:2]:  # before /usr/bin on the unit's PATH
        if os.path.lexists(os.path.join(d, "containerd-shim")):
            skip_all("%s/containerd-shim would be the installed daemon's shim" % d)
    procs = procs_running({"/usr/bin/containerd", "/usr/bin/containerd-shim"})
    if procs:
        skip_all("processes run /usr/bin/containerd*: %s" % " ".join(procs))


def main():
    preconditions()
    keep = sys.argv[1] if len(sys.argv) > 1 else None
    tmp = tempfile.mkdtemp(prefix="ctrd-deb.")
    out = os.path.abspath(keep) if keep else tmp
    os.makedirs(out, exist_ok=True)
    installed = False
    daemon = None
    t_start = time.monotonic()
    print("1..17", flush=True)
    try:
        installed, daemon = steps(tmp, out)
    finally:
        if daemon is not None:
            daemon.close()
        if installed:  # a step failed half-way: still leave the machine clean
            run(["apt-get", "purge", "-y", "-qq", "-o", "DPkg::Lock::Timeout=600", "ctrd"])
        shutil.rmtree(tmp, ignore_errors=True)
    note("total %.0f s" % (time.monotonic() - t_start))
    sys.exit(1 if failed or n != 17 else 0)


def steps(tmp, out):
    # ---- 1-3: build and lint ----
    with open(os.path.join(TOP, "debian", "changelog")) as f:
        version = f.readline().split("(")[1].split(")")[0]
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    src = os.path.join(tmp, "ctrd-" + version)
    copy_tree(src)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CTRD_", "MAKE", "MFLAGS", "DEB_"))}
    rev = run(["git", "-C", TOP, "rev-parse", "HEAD"], stderr=subprocess.DEVNULL).stdout.strip() \
        if os.path.isdir(os.path.join(TOP, ".git")) else ""
    env["CTRD_REVISION"] = rev
    log_path = os.path.join(out, "dpkg-buildpackage.log")
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        # the source package first, from the clean copy (the build is in-tree)
        s = subprocess.run(["dpkg-source", "-b", os.path.basename(src)], cwd=tmp, env=env,
                           stdout=log, stderr=subprocess.STDOUT)
        b = subprocess.run(["dpkg-buildpackage", "-b", "-us", "-uc"], cwd=src, env=env,
                           stdout=log, stderr=subprocess.STDOUT)
    build_secs = time.monotonic() - t0
    with open(log_path) as f:
        build_log = f.read()
    deb = os.path.join(tmp, "ctrd_%s_%s.deb" % (version, arch))
    if not tap(b.returncode == 0 and os.path.exists(deb),
               "dpkg-buildpackage -b -us -uc builds ctrd_%s_%s.deb (unit tests included)"
               % (version, arch), build_log):
        return False, None
    note("package build: %.0f s (log: %s)" % (build_secs, log_path))
    if out != tmp:
        shutil.copy2(deb, out)
    warnings = [x for x in build_log.splitlines() if "warning:" in x.lower()]
    tap(not warnings, "the package build printed no warning (compiler, autotools, dpkg)",
        "\n".join(warnings))
    changes = os.path.join(tmp, "ctrd_%s_%s.changes" % (version, arch))
    dsc = os.path.join(tmp, "ctrd_%s.dsc" % version)
    t0 = time.monotonic()
    lint = run(["lintian", "--pedantic", "--info", "--fail-on", "error,warning", changes]
               + ([dsc] if s.returncode == 0 else []))
    tags = [x for x in lint.stdout.splitlines() if x[:2] in ("E:", "W:", "I:", "P:", "X:", "O:")]
    for x in tags:
        note("lintian: " + x)
    tap(lint.returncode == 0 and s.returncode == 0,
        "lintian (.changes, .deb, .dsc of dpkg-source -b): no error, no warning",
        lint.stdout if s.returncode == 0 else "dpkg-source -b failed:\n" + build_log)
    note("lintian: %.0f s" % (time.monotonic() - t0))

    # ---- 4-5: contents and relations ----
    paths = deb_paths(deb)
    want = ["/usr/bin/containerd", "/usr/bin/containerd-shim", "/usr/bin/ctr",
            "/usr/share/man/man8/containerd.8.gz", "/usr/share/man/man8/containerd-shim.8.gz",
            "/usr/share/man/man1/ctr.1.gz", "/lib/systemd/system/containerd.service",
            "/lib/systemd/system/containerd.socket", "/usr/share/bash-completion/completions/ctr",
            "/usr/share/doc/ctrd/README.md", "/usr/share/doc/ctrd/README.Debian",
            "/usr/share/doc/ctrd/docs/docker.md", "/usr/share/doc/ctrd/copyright",
            "/usr/share/doc/ctrd/changelog.gz"]
    missing = [p for p in want if p not in paths]
    tap(not missing, "the .deb ships the three binaries, man pages, both units in "
        "/lib/systemd/system, ctr's bash completion and the docs", "missing: " + " ".join(missing))
    fields = {}
    for k in ("Conflicts", "Provides", "Depends"):
        fields[k] = run(["dpkg-deb", "-f", deb, k]).stdout.strip()
    conflicts = [c.strip().split()[0] for c in fields["Conflicts"].split(",") if c.strip()]
    provides = [c.strip().split()[0] for c in fields["Provides"].split(",") if c.strip()]
    tap({"containerd", "containerd.io"} <= set(conflicts) and "containerd" not in provides
        and "runc" in fields["Depends"],
        "control: Conflicts: containerd, containerd.io; no Provides: containerd; Depends: runc",
        repr(fields))

    # ---- 6-8: install ----
    pre_exist = {p for p in paths if os.path.lexists(p)}
    pre_files = sorted(p for p in pre_exist if not os.path.isdir(p))
    pre_run = os.path.lexists("/run/containerd")
    pre_traces = unit_traces()
    if pre_files:
        tap(False, "no file of the package is on this machine before installation", pre_files)
        return False, None
    inst = run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "--no-remove",
                "-o", "DPkg::Lock::Timeout=600", deb])
    listed = run(["dpkg", "-L", "ctrd"]).stdout.split("\n")
    listed = sorted(p for p in listed if p and p != "/.")
    installed = "install ok installed" in dpkg_status("ctrd")
    tap(installed and listed == sorted(paths) and all(os.path.lexists(p) for p in paths),
        "apt-get installs the .deb; dpkg -L lists its %d paths and all exist" % len(paths),
        inst.stdout + "\ndpkg -L: %s" % listed)
    if not installed:
        return False, None
    traces = unit_traces()
    want_links = ["/etc/systemd/system/multi-user.target.wants/containerd.service",
                  "/etc/systemd/system/sockets.target.wants/containerd.socket"]
    tap(all(p in traces for p in want_links),
        "postinst enabled containerd.service and containerd.socket (the unit links)", traces)
    procs = procs_running({"/usr/bin/containerd", "/usr/bin/containerd-shim"})
    tap(not procs and (pre_run or not os.path.lexists("/run/containerd")),
        "postinst started no daemon (no /usr/bin/containerd process, no /run/containerd)",
        "processes: %s; /run/containerd exists: %s" % (procs, os.path.lexists("/run/containerd")))

    # ---- 9-14: the installed daemon, as the unit runs it ----
    unit = "/lib/systemd/system/containerd.service"
    try:
        argv = exec_start(unit)
        err = None
    except (OSError, ValueError) as e:
        argv, err = [], str(e)
    # Only a line that takes its socket from systemd (fd://) runs here: any
    # other would listen on the machine's /run/containerd/containerd.sock.
    if not tap(bool(argv) and argv[0] in paths and argv[1:3] == ["--listen", "fd://"]
               and "--state-dir" not in argv,
               "ExecStart of the installed containerd.service runs a file of the package with "
               "--listen fd:// (%s)" % " ".join(argv), err):
        return True, None
    run_dir = os.path.join(tmp, "run")
    os.makedirs(run_dir)
    sock = os.path.join(run_dir, "containerd.sock")
    state = os.path.join(run_dir, "state")
    dlog = os.path.join(out, "containerd.log")
    daemon = Daemon(argv + ["--state-dir", state], sock, os.path.join(run_dir, "notify"), dlog)
    ready, why = daemon.wait_ready()
    tap(ready, "the installed daemon, started with that line on a private socket and "
        "--state-dir, sends READY=1", why + "\n" + open(dlog).read())
    if not ready:
        return True, daemon
    ctr = ["/usr/bin/ctr", "--address", "unix://" + sock, "--conn-timeout", "10s"]
    v = run(ctr + ["version"], env={"PATH": SYSTEMD_PATH})
    tap(v.returncode == 0 and v.stdout.startswith("daemon version %s commit: %s\n"
                                                  % (version, rev)),
        "the installed ctr version against it: daemon version %s commit %s"
        % (version, rev[:12] or "(none)"), v.stdout)
    bundle = os.path.join(tmp, "bundle")
    mb = run(["sh", os.path.join(TOP, "tests", "make-bundle.sh"), bundle, "sh", "-c",
              "echo hello from the package"])
    cid = "ctrd-deb-%d" % os.getpid()
    c = run(ctr + ["containers", "start", "--attach", cid, bundle], env={"PATH": SYSTEMD_PATH},
            timeout=GUARD) if mb.returncode == 0 else mb
    tap(c.returncode == 0 and "hello from the package" in c.stdout,
        "a busybox container runs through the installed daemon, shim and runc "
        "(ctr containers start --attach)", c.stdout + "\n" + open(dlog).read())
    # ctr returns at the exit event; the container's shim still runs the
    # runtime's delete then. Wait for it to exit (pidfd), then stop the daemon.
    shim_left = wait_exit(shims_of(cid))
    st = daemon.stop()
    left = procs_running({"/usr/bin/containerd", "/usr/bin/containerd-shim"})
    tap(st == 0 and not left and not shim_left, "the container's shim exits, SIGTERM stops the "
        "daemon (exit status 0); no daemon or shim process is left",
        "status %s, shim still running after %d s: %s, left: %s\n%s"
        % (st, GUARD, shim_left, left, open(dlog).read()))
    daemon.close()
    daemon = None
    tap((pre_run or not os.path.lexists("/run/containerd")) and os.path.exists(state),
        "the daemon kept to its private state dir (no /run/containerd)",
        "/run/containerd exists: %s" % os.path.lexists("/run/containerd"))

    # ---- 15-17: purge ----
    p = run(["apt-get", "purge", "-y", "-qq", "-o", "DPkg::Lock::Timeout=600", "ctrd"])
    gone = dpkg_status("ctrd") == "" and not [f for f in os.listdir("/var/lib/dpkg/info")
                                               if f.startswith("ctrd.")]
    tap(gone, "apt-get purge ctrd: dpkg knows no ctrd, no /var/lib/dpkg/info/ctrd.*",
        p.stdout + dpkg_status("ctrd"))
    if not gone:
        return True, None
    left = [x for x in paths if x not in pre_exist and os.path.lexists(x)]
    lost = [x for x in pre_exist if not os.path.lexists(x)]
    tap(not left and not lost, "every path the package installed is gone (%d), the %d "
        "directories that were there before stay" % (len(paths) - len(pre_exist), len(pre_exist)),
        "left: %s; lost: %s" % (left, lost))
    traces = unit_traces()
    tap(traces == pre_traces and not procs_running({"/usr/bin/containerd", "/usr/bin/containerd-shim"}),
        "no unit link, deb-systemd-helper state or process of the package is left", traces)
    return False, None


if __name__ == "__main__":
    main()
