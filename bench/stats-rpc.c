/* Stats RPC latency against a private containerd (real shim, runc, cgroups),
 * through ctrd's C client; for comparison, what the original paid per call
 * (`runc events --stats`, one fork+exec of the runtime).
 *
 *   make -C bench stats-rpc && CTRD_TOP_BUILDDIR=$PWD bench/stats-rpc [N=500] [C=50]
 *
 * N calls on one container (min/median/p90/p99), then one call per
 * container for C containers (the sweep Docker's `docker stats` does), and
 * 5 `runc events --stats` invocations. Run as root. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integration/ops-harness.h"
#include "lib/util.h"

static int
cmp_i64 (const void *a, const void *b)
{
  int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
  return x < y ? -1 : x > y;
}

static double
us (int64_t ns)
{
  return (double) ns / 1000.0;
}

static int64_t
stats_call (const char *id)
{
  Types__StatsRequest req = TYPES__STATS_REQUEST__INIT;
  req.id = (char *) id;
  Types__StatsResponse *resp = NULL;
  cleanup_error struct ctrd_error *err = NULL;
  int64_t t0 = time_now_mono_ns ();
  if (rpc ("Stats", &req, &types__stats_response__descriptor, &resp, &err) < 0)
    {
      fprintf (stderr, "Stats %s: %s\n", id, err->msg);
      return -1;
    }
  int64_t dt = time_now_mono_ns () - t0;
  protobuf_c_message_free_unpacked (&resp->base, NULL);
  return dt;
}

int
main (int argc, char **argv)
{
  int n = argc > 1 ? atoi (argv[1]) : 500;
  int c = argc > 2 ? atoi (argv[2]) : 50;
  if (n < 10 || c < 1)
    {
      fprintf (stderr, "usage: stats-rpc [N≥10] [C≥1]\n");
      return 2;
    }
  int r = harness_start ();
  if (r != 0)
    return r > 0 ? 0 : 1;
  int rc = 1;
  cleanup_free char *b = make_bundle ("sleeper", "while :; do sleep 1; done");
  if (!b)
    goto out;
  for (int i = 0; i < c; i++)
    {
      char id[32];
      snprintf (id, sizeof id, "stats-%d", i);
      cleanup_error struct ctrd_error *err = NULL;
      if (create (id, b, NULL, &err) == 0)
        {
          fprintf (stderr, "create %s: %s\n", id, err->msg);
          goto out;
        }
    }
  for (int i = 0; i < 10; i++)
    stats_call ("stats-0");
  int64_t *lat = xmalloc ((size_t) n * sizeof *lat);
  for (int i = 0; i < n; i++)
    if ((lat[i] = stats_call ("stats-0")) < 0)
      goto out;
  qsort (lat, (size_t) n, sizeof *lat, cmp_i64);
  printf ("Stats RPC, one container, %d calls: min %.0f us, median %.0f us, p90 %.0f us, "
          "p99 %.0f us\n",
          n, us (lat[0]), us (lat[n / 2]), us (lat[n * 9 / 10]), us (lat[n * 99 / 100]));
  free (lat);

  int64_t t0 = time_now_mono_ns ();
  for (int i = 0; i < c; i++)
    {
      char id[32];
      snprintf (id, sizeof id, "stats-%d", i);
      if (stats_call (id) < 0)
        goto out;
    }
  int64_t sweep = time_now_mono_ns () - t0;
  printf ("Stats of %d containers one after the other: %.2f ms (%.0f us each)\n", c,
          (double) sweep / 1e6, us (sweep / c));

  int64_t runc_t[5];
  for (int i = 0; i < 5; i++)
    {
      char *const rv[] = { (char *) "runc", (char *) "events", (char *) "--stats",
                           (char *) "stats-0", NULL };
      int64_t s = time_now_mono_ns ();
      run (rv);
      runc_t[i] = time_now_mono_ns () - s;
    }
  qsort (runc_t, 5, sizeof *runc_t, cmp_i64);
  printf ("for comparison, `runc events --stats` (the original's per-call fork): median %.2f ms\n",
          (double) runc_t[2] / 1e6);
  rc = 0;
out:
  harness_cleanup ();
  return rc;
}
