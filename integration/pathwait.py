"""Waiting without polling: for a path to appear or go (inotify on its
parent directory), for a daemon's READY=1 (sd_notify). No gRPC here: fake
runtimes and tests/run-daemon.py import it too."""
import os
import shutil
import socket
import subprocess
import tempfile
import time


def wait_path_gone(path, timeout):
    """Wait (inotify on the parent directory, no polling) until path no
    longer exists. True when gone."""
    return wait_path(path, False, timeout)


def wait_path(path, exists, timeout):
    """Wait (inotify on the parent directory, no polling) until path exists
    (or, exists=False, no longer exists). True when reached."""
    import ctypes
    import select
    libc = ctypes.CDLL(None, use_errno=True)
    IN_DELETE, IN_MOVED_FROM, IN_DELETE_SELF = 0x200, 0x40, 0x400
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1")
    try:
        IN_CREATE, IN_MOVED_TO, IN_CLOSE_WRITE = 0x100, 0x80, 0x8
        libc.inotify_add_watch(fd, os.path.dirname(path).encode(),
                               IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_CREATE
                               | IN_MOVED_TO | IN_CLOSE_WRITE)
        deadline = time.monotonic() + timeout
        while os.path.lexists(path) != exists:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return os.path.lexists(path) == exists
            try:
                os.read(fd, 65536)
            except BlockingIOError:
                pass
        return True
    finally:
        os.close(fd)


def start_notified(cmd, log, timeout, env=None, notify=None, **popen):
    """Start cmd (stdin /dev/null, stdout and stderr appended to the file
    log, a session of its own) with NOTIFY_SOCKET set and wait until it sends
    READY=1 there (both ctrd's containerd and dockerd do): datagrams read
    with a timeout, no polling. env: its environment (default os.environ);
    notify: the socket's path (default one in a temp dir; removed after
    either way). With a preexec_fn, env is os.environ during the fork, so
    what the preexec_fn adds to os.environ reaches the child too. Returns
    (proc, ready); ready is False when no READY=1 came within timeout, and
    proc, still running then, is the caller's to end."""
    nd = None
    if notify is None:
        nd = tempfile.mkdtemp(prefix="ctrd-notify-")
        notify = os.path.join(nd, "notify.sock")
    elif os.path.lexists(notify):
        os.unlink(notify)
    env = dict(os.environ if env is None else env, NOTIFY_SOCKET=notify)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.bind(notify)
        s.settimeout(timeout)
        saved = None
        if popen.get("preexec_fn") is not None:
            saved = dict(os.environ)
            os.environ.clear()
            os.environ.update(env)
            env = None
        try:
            with open(log, "ab") as out:
                proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=out, start_new_session=True, **popen)
        finally:
            if saved is not None:
                os.environ.clear()
                os.environ.update(saved)
        try:
            while "READY=1" not in s.recv(4096).decode(errors="replace").split("\n"):
                pass
        except socket.timeout:
            return proc, False
        return proc, True
    finally:
        s.close()
        if nd is not None:
            shutil.rmtree(nd, ignore_errors=True)
        elif os.path.lexists(notify):
            os.unlink(notify)
