"""bench/crash-soak [N=500] [--seed S]: N crash-injection trials (see
integration/crash_harness.py), operations drawn at random, every one of
them, daemon killed at a random delay into it. Prints a line per 50
trials, then per operation: trials, answered before the kill, violations;
each violation in full; the seed (the same seed replays the same sequence
of operations and delays). Exit status 1 when any trial broke an
invariant."""
import argparse
import collections
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("CTRD_TOP_SRCDIR", "."), "integration"))
import crash_harness as ch  # noqa: E402

ap = argparse.ArgumentParser(prog="crash-soak")
ap.add_argument("n", nargs="?", type=int, default=500)
ap.add_argument("--seed", type=int, default=None)
a = ap.parse_args()
seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1 << 31)
print("crash-soak: %d trials, seed %d (replay: --seed %d)" % (a.n, seed, seed), flush=True)
s = ch.CrashSoak(seed)
if not s.criu:
    print("crash-soak: no working criu: restore and checkpoint trials become create and signal")
t0 = time.monotonic()
per = collections.defaultdict(lambda: [0, 0, 0])
fails = []
try:
    if s.criu:
        s.make_checkpoint()
    ops = [o for o in ch.OPS if s.criu or o not in ("restore", "checkpoint", "shimkill")]
    for i in range(1, a.n + 1):
        op, delay, acked, bad = s.trial(s.rng.choice(ops))
        per[op][0] += 1
        per[op][1] += acked
        if bad:
            per[op][2] += 1
            fails.append((i, op, delay, bad))
        if i % 50 == 0 or i == a.n:
            print("  %4d trials, %d with a violation, %.0f s" % (i, len(fails), time.monotonic() - t0),
                  flush=True)
finally:
    s.cleanup()
print("\n%-11s %7s %9s %11s" % ("operation", "trials", "answered", "violations"))
for op in ch.OPS:
    if op in per:
        print("%-11s %7d %9d %11d" % (op, per[op][0], per[op][1], per[op][2]))
print("%-11s %7d %9d %11d" % ("all", sum(v[0] for v in per.values()), sum(v[1] for v in per.values()),
                             len(fails)))
print("\n%.1f s, %.2f s per trial; seed %d" % (time.monotonic() - t0, (time.monotonic() - t0) / max(a.n, 1),
                                             seed))
for i, op, delay, bad in fails:
    print("\ntrial %d: %s, killed %.1f ms into it:" % (i, op, delay))
    for b in bad:
        print("  " + b)
sys.exit(1 if fails else 0)
