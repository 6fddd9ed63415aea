#!/usr/bin/python3
"""Start containerd in the background and return once it is serving.

Readiness comes from the daemon itself: it sends READY=1 over $NOTIFY_SOCKET
(sd_notify) once the socket serves, so nothing here polls or sleeps (the
wait is integration/pathwait.py's, shared with the Python tests).
Prints the daemon's pid. Usage: run-daemon.py LOGFILE TIMEOUT_S -- CMD...
"""
import os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from pathwait import start_notified  # noqa: E402

def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit("usage: run-daemon.py LOGFILE TIMEOUT_S -- CMD...")
    log, timeout, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[4:]
    p, ready = start_notified(cmd, log, timeout)
    if not ready:
        p.kill()
        sys.exit("containerd did not report READY=1 within %gs (see %s)" % (timeout, log))
    if p.poll() is not None:
        sys.exit("containerd exited with status %d (see %s)" % (p.returncode, log))
    print(p.pid)

main()
