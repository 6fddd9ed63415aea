"""What the shim's exitStatus costs, old way vs reserved block (issue 11 #4).

The exit path is what delays the `exit` event (the daemon reports when
exitStatus appears); the reserve is added to every start. Both are a handful
of syscalls, far below the noise of a runc start or delete, so they are
timed here on their own, with the shim's exact sequence of calls:

  old exit:  open tmp (O_CREAT|O_TRUNC), write, fsync, close, rename,
             open dir, fsync dir, close
  new start: open dir, openat exitStatus.reserve (O_CREAT|O_TRUNC), write 3 bytes
  new exit:  pwrite, ftruncate, fsync, renameat, fsync dir (fds open)

Median of R runs of N iterations each, in microseconds (Python's per-call
overhead is in both sides alike). On a private tmpfs (the state dir of
production hosts, /run) and on the filesystem of DIR (default /var/tmp).
Usage: exit-status-bench.py [N=2000] [R=5] [DIR=/var/tmp]  (root for the tmpfs)
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
R = int(sys.argv[2]) if len(sys.argv) > 2 else 5
DISK = sys.argv[3] if len(sys.argv) > 3 else "/var/tmp"


def old_exit(d, i):
    path = os.path.join(d, "exitStatus")
    tmp = "%s.tmp.%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    os.write(fd, b"137")
    os.fsync(fd)
    os.close(fd)
    os.rename(tmp, path)
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    os.fsync(dfd)
    os.close(dfd)


def new_start(d):
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fd = os.open("exitStatus.reserve", os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
                 | os.O_CLOEXEC, 0o666, dir_fd=dfd)
    os.write(fd, b"255")
    return dfd, fd


def new_exit(dfd, fd):
    os.pwrite(fd, b"137", 0)
    os.ftruncate(fd, 3)
    os.fsync(fd)
    os.rename("exitStatus.reserve", "exitStatus", src_dir_fd=dfd, dst_dir_fd=dfd)
    os.fsync(dfd)


def run(base):
    """(old exit, new start, new exit) medians in us over R runs."""
    res = {"old exit": [], "new start": [], "new exit": []}
    for _ in range(R):
        t_old, t_start, t_exit = [], [], []
        for i in range(N):
            d = os.path.join(base, "p%d" % i)
            os.mkdir(d)
            t0 = time.perf_counter_ns()
            old_exit(d, i)
            t_old.append(time.perf_counter_ns() - t0)
            os.unlink(os.path.join(d, "exitStatus"))
            t0 = time.perf_counter_ns()
            dfd, fd = new_start(d)
            t_start.append(time.perf_counter_ns() - t0)
            t0 = time.perf_counter_ns()
            new_exit(dfd, fd)
            t_exit.append(time.perf_counter_ns() - t0)
            os.close(fd)
            os.close(dfd)
            shutil.rmtree(d)
        res["old exit"].append(statistics.median(t_old) / 1000)
        res["new start"].append(statistics.median(t_start) / 1000)
        res["new exit"].append(statistics.median(t_exit) / 1000)
    return {k: statistics.median(v) for k, v in res.items()}


def show(name, r):
    print("%-28s old exit %8.1f us | new exit %8.1f us | new start +%7.1f us"
          % (name, r["old exit"], r["new exit"], r["new start"]))


mnt = tempfile.mkdtemp(prefix="exit-status-bench-")
try:
    subprocess.check_call(["mount", "-t", "tmpfs", "-o", "size=64m", "exit-status-bench", mnt])
    try:
        show("tmpfs:", run(mnt))
    finally:
        subprocess.call(["umount", mnt])
finally:
    os.rmdir(mnt)
disk = tempfile.mkdtemp(prefix="exit-status-bench-", dir=DISK)
try:
    fs = subprocess.run(["findmnt", "-no", "FSTYPE", "--target", disk], capture_output=True,
                        text=True).stdout.strip()
    show("%s (%s):" % (DISK, fs), run(disk))
finally:
    shutil.rmtree(disk)
print("(median of %d runs of %d; each iteration a fresh process directory)" % (R, N))
