#!/usr/bin/python3
"""Start containerd in the background and return once it is serving.

Readiness comes from the daemon itself: it sends READY=1 over $NOTIFY_SOCKET
(sd_notify) once the socket serves, so nothing here polls or sleeps.
Prints the daemon's pid. Usage: run-daemon.py LOGFILE TIMEOUT_S -- CMD...
"""
import os, socket, subprocess, sys, tempfile

def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit("usage: run-daemon.py LOGFILE TIMEOUT_S -- CMD...")
    log, timeout, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[4:]
    d = tempfile.mkdtemp(prefix="ctrd-notify-")
    path = os.path.join(d, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(timeout)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    with open(log, "ab") as out:
        p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                             start_new_session=True)
    try:
        while True:
            msg = s.recv(4096).decode(errors="replace")
            if "READY=1" in msg.split("\n"):
                break
    except socket.timeout:
        p.kill()
        sys.exit("containerd did not report READY=1 within %gs (see %s)" % (timeout, log))
    finally:
        s.close()
        os.unlink(path)
        os.rmdir(d)
    if p.poll() is not None:
        sys.exit("containerd exited with status %d (see %s)" % (p.returncode, log))
    print(p.pid)

main()
