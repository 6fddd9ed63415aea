"""containerd's command line and listeners (docs/daemon.md §1-§2): bad --listen
values, tcp://, fd:// (socket activation), --version, SIGTERM. TAP."""
import os
import signal
import socket
import subprocess

import daemon_harness as h
from daemon_harness import pb

t = h.Tap(13)


def run(*args):
    p = subprocess.run([h.DAEMON] + list(args), capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout + p.stderr


tmp = os.path.join("/tmp", "ctrd-cli-" + h.RUN_TAG)
os.makedirs(tmp, exist_ok=True)
try:
    rc, out = run("--version")
    t.ok(rc == 0 and out.startswith("containerd version 0.2.3"), "--version", out)
    rc, out = run("--state-dir", tmp + "/s", "--listen", "foo")
    t.ok(rc == 1 and "bad listen address format foo, expected proto://address" in out,
         "listen address without proto:// → exit 1 with the original's text", out)
    rc, out = run("--state-dir", tmp + "/s", "--listen", "bogus://x")
    t.ok(rc == 1 and 'invalid protocol format: "bogus"' in out, "unknown protocol → exit 1", out)
    rc, out = run("--state-dir", tmp + "/s", "--listen", "unix:///nonexistent-dir/x/y.sock/")
    t.ok(rc == 1 and "can't create unix socket" in out, "unusable unix path → exit 1", out)
    rc, out = run("--no-such-flag")
    t.ok(rc == 1 and "flag provided but not defined: -no-such-flag" in out, "unknown flag", out)

    # tcp
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    d = h.Daemon()
    try:
        d.start(listen="tcp://127.0.0.1:%d" % port, target="127.0.0.1:%d" % port)
        code, r = h.rpc_error(d.stub.GetServerVersion, pb.GetServerVersionRequest())
        t.ok(code is None and r.major == 0 and r.minor == 2, "serves on tcp://", (code, r))
        rc = d.stop(signal.SIGTERM)
        t.ok(rc == 0, "SIGTERM → exit 0", rc)
    finally:
        d.cleanup()

    # fd:// (systemd socket activation: LISTEN_FDS=1, fd 3)
    d = h.Daemon()
    try:
        path = os.path.join(d.tmp, "activated.sock")
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(path)
        ls.listen(16)
        d.start(listen="fd://", target="unix://" + path, listen_fd=ls.fileno())
        ls.close()
        code, r = h.rpc_error(d.stub.State, pb.StateRequest())
        t.ok(code is None and r.machine.cpus > 0, "serves on a socket passed by fd://", (code, r))
        d.stop(signal.SIGINT)
        t.ok(d.proc.returncode == 0, "SIGINT → exit 0", d.proc.returncode)
    finally:
        d.cleanup()

    # --runtime-args reach every runtime call (shim's create/delete, daemon's start)
    d = h.Daemon()
    try:
        root = os.path.join(d.tmp, "runc-root")
        d.args = ["--runtime-args", "--root=" + root]
        d.start()
        d.start_events()
        b = h.make_bundle(d.tmp, "ra", ["sh", "-c", "read x"])
        inp = os.path.join(d.tmp, "ra.in")
        os.mkfifo(inp)
        wfd = os.open(inp, os.O_RDWR)
        cid = h.uid("ra")
        code, r = h.rpc_error(d.create, cid, b, stdin=inp)
        listed = subprocess.run(["runc", "--root", root, "list", "-q"], capture_output=True,
                                text=True).stdout.split()
        t.ok(code is None and cid in listed and cid not in h.runc_list_ids(),
             "--runtime-args --root: the container lives under that runc root", (code, listed))
        os.write(wfd, b"x\n")
        os.close(wfd)
        ev = d.wait_exit(cid)
        h.settle(d, cid)
        listed = subprocess.run(["runc", "--root", root, "list", "-q"], capture_output=True,
                                text=True).stdout.split()
        t.ok(ev is not None and ev.status == 0 and cid not in listed,
             "and is deleted there at its exit", (ev, listed))
    finally:
        d.cleanup()

    # relative --state-dir and unix:// path (resolved against the cwd)
    d = h.Daemon()
    try:
        os.chdir(d.tmp)
        d.state = "rel-state"  # passed relative
        d.start(listen="unix://rel.sock", target="unix://" + os.path.join(d.tmp, "rel.sock"))
        d.state = os.path.join(d.tmp, "rel-state")
        code, r = h.rpc_error(d.stub.State, pb.StateRequest())
        t.ok(code is None and os.path.isdir(os.path.join(d.tmp, "rel-state")),
             "relative unix:// path and state dir", (code, r))
        b = h.make_bundle(d.tmp, "rel", ["true"])
        d.start_events()
        code, r = h.rpc_error(d.create, h.uid("rel"), b)
        ev = d.wait_exit(h.uid("rel"))
        t.ok(code is None and ev is not None and ev.status == 0,
             "a container runs with a relative state dir (shims get absolute paths)", (code, ev))
    finally:
        os.chdir("/")
        d.cleanup()
finally:
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
