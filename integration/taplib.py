"""TAP output of the Python integration tests (no dependency beyond the
standard library: test-docker.py, which needs no grpcio, uses it too)."""
import os
import sys

# Under CI a skip of a part scripts/setup.sh provides is a failure.
IN_CI = os.environ.get("CI") == "true"


def skip_all(reason):
    print("1..0 # SKIP " + reason, flush=True)
    sys.exit(0)


def skip_all_expected(reason):
    if not IN_CI:
        skip_all(reason)
    print("1..1\nnot ok 1 - %s (CI: expected part missing)" % reason, flush=True)
    sys.exit(1)


class Tap:
    """TAP printer: plan up front, one line per check, exit status at the end."""

    def __init__(self, plan):
        self.plan, self.n, self.failed = plan, 0, 0
        print("1..%d" % plan, flush=True)

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, name), flush=True)
        if not cond and diag is not None:
            for line in str(diag).splitlines():
                print("# " + line, flush=True)
        return cond

    def skip(self, name, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, reason), flush=True)

    def skip_expected(self, name, reason):
        """Skip of a part scripts/setup.sh provides (runc, crun, CRIU, ...):
        a SKIP normally, a failure under CI=true."""
        if not IN_CI:
            self.skip(name, reason)
            return
        self.n += 1
        self.failed += 1
        print("not ok %d - %s: %s (CI: expected part missing)" % (self.n, name, reason), flush=True)

    def note(self, msg):
        for line in str(msg).splitlines():
            print("# " + line, flush=True)

    def done(self):
        while self.n < self.plan:
            self.ok(False, "not reached")
        sys.exit(1 if self.failed else 0)
