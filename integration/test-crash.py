"""Crash injection in `make check` (integration/crash_harness.py says what
a trial does and checks): 20 trials, every operation at least twice, the
daemon SIGKILLed at a random delay into it. The seed is printed; set
CTRD_CRASH_SEED to replay a run. bench/crash-soak runs any number."""
import os
import random
import time

import crash_harness as ch
import daemon_harness as h

TRIALS = 20
t = h.Tap(TRIALS + 2)
seed = int(os.environ.get("CTRD_CRASH_SEED") or random.SystemRandom().randrange(1 << 31))
t.note("seed %d (CTRD_CRASH_SEED=%d replays the same operations and delays)" % (seed, seed))
s = None
try:
    t0 = time.monotonic()
    s = ch.CrashSoak(seed, note=t.note)
    ops = list(ch.OPS)
    if not s.criu:
        ops = [o for o in ops if o not in ("restore", "checkpoint", "shimkill")]
        t.skip_expected("restore and checkpoint trials", "criu check fails or no criu")
    else:
        s.make_checkpoint()
        t.ok(True, "daemon, bundle and a checkpoint to restore from")
    plan = ops * (TRIALS // len(ops)) + [s.rng.choice(ops) for _ in range(TRIALS % len(ops))]
    s.rng.shuffle(plan)
    for op in plan:
        op, delay, acked, bad = s.trial(op)
        t.ok(not bad, "trial %d: %s, daemon killed %.0f ms into it (%s): bundle intact, nothing "
             "leaked, exits reported once" % (s.k, op, delay, "answered" if acked else "unanswered"),
             "\n".join(bad))
    t.note("%d trials in %.1f s" % (TRIALS, time.monotonic() - t0))
except Exception as e:  # noqa: BLE001 (a harness failure is a failed check)
    import traceback
    t.ok(False, "harness: %s" % e, traceback.format_exc() + (s.d.read_log() if s else ""))
finally:
    while t.n < t.plan - 1:
        t.ok(False, "not reached")
    if s is not None:
        tmp = s.d.tmp
        s.cleanup()
        t.ok(not os.path.exists(tmp), "cleanup: the temp dir is gone")
    else:
        t.ok(False, "cleanup: no harness")
t.done()
