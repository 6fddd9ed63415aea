/* ctr containers stats: the raw StatsResponse as JSON (--json, the
 * original's output), or a table like `docker stats --no-stream` from two
 * samples a second apart, refreshed every second with --watch.
 *
 * CPU % is the container's CPU time over the host's CPU time between two
 * samples (cpuacct total_usage and system_usage of each StatsResponse),
 * times the daemon's CPU count: 100% is one CPU busy for the whole
 * interval (docker's formula). MEM USAGE is the cgroup's usage less its
 * inactive file cache (total_inactive_file on cgroup v1, inactive_file on
 * v2), as docker computes it; LIMIT is the cgroup's limit, or the
 * machine's memory when that is lower (no limit). BLOCK I/O is the bytes
 * read / written of io_service_bytes_recursive; PIDS the pids cgroup's
 * current count. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api/api.pb-c.h"
#include "ctr/containers.h"
#include "ctr/output.h"
#include "lib/pb-cleanup.h"
#include "lib/util.h"

#define INTERVAL_MS 1000

/* docker's units.BytesSize: "%.4g" with binary prefixes */
void
stats_format_bytes (double v, char *buf, size_t len)
{
  static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  size_t i = 0;
  while (v >= 1024 && i + 1 < ARRAY_SIZE (u))
    v /= 1024, i++;
  snprintf (buf, len, "%.4g%s", v, u[i]);
}

/* docker's units.HumanSizeWithPrecision(v, 3): decimal prefixes */
void
stats_format_size (double v, char *buf, size_t len)
{
  static const char *const u[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
  size_t i = 0;
  while (v >= 1000 && i + 1 < ARRAY_SIZE (u))
    v /= 1000, i++;
  snprintf (buf, len, "%.3g%s", v, u[i]);
}

static uint64_t
mem_stat (const Types__MemoryStats *m, const char *key)
{
  for (size_t i = 0; i < m->n_stats; i++)
    if (m->stats[i]->key && strcmp (m->stats[i]->key, key) == 0)
      return m->stats[i]->value;
  return 0;
}

void
stats_sample_from (struct stats_sample *s, const char *id, const Types__StatsResponse *r)
{
  memset (s, 0, sizeof *s);
  snprintf (s->id, sizeof s->id, "%s", id);
  const Types__CgroupStats *cg = r->cgroup_stats;
  if (cg == NULL)
    return;
  if (cg->cpu_stats)
    {
      s->system = cg->cpu_stats->system_usage;
      if (cg->cpu_stats->cpu_usage)
        {
          s->cpu = cg->cpu_stats->cpu_usage->total_usage;
          s->ncpus = (uint32_t) cg->cpu_stats->cpu_usage->n_percpu_usage;
        }
    }
  const Types__MemoryStats *m = cg->memory_stats;
  if (m && m->usage)
    {
      uint64_t inactive = mem_stat (m, "total_inactive_file");
      if (inactive == 0)
        inactive = mem_stat (m, "inactive_file");
      s->mem = m->usage->usage > inactive ? m->usage->usage - inactive : m->usage->usage;
      s->mem_limit = m->usage->limit;
    }
  if (cg->blkio_stats)
    for (size_t i = 0; i < cg->blkio_stats->n_io_service_bytes_recursive; i++)
      {
        const Types__BlkioStatsEntry *e = cg->blkio_stats->io_service_bytes_recursive[i];
        if (e->op && strcasecmp (e->op, "read") == 0)
          s->blk_read += e->value;
        else if (e->op && strcasecmp (e->op, "write") == 0)
          s->blk_write += e->value;
      }
  if (cg->pids_stats)
    s->pids = cg->pids_stats->current;
  s->valid = true;
}

void
stats_write_table (FILE *out, const struct stats_sample *prev, const struct stats_sample *cur,
                   size_t n, uint32_t machine_cpus, uint64_t machine_mem)
{
  struct table *t = table_new (20, 3);
  static const char *const head[] = { "CONTAINER", "CPU %",     "MEM USAGE / LIMIT",
                                      "MEM %",     "BLOCK I/O", "PIDS" };
  table_add (t, ARRAY_SIZE (head), head);
  for (size_t i = 0; i < n; i++)
    {
      const struct stats_sample *c = &cur[i], *p = prev ? &prev[i] : NULL;
      if (!c->valid)
        continue;
      char cpu[32] = "--", mem[80], memp[32] = "--", blk[80], pids[32];
      if (p && p->valid && c->system > p->system && c->cpu >= p->cpu)
        {
          uint32_t ncpus = machine_cpus ? machine_cpus : c->ncpus ? c->ncpus : 1;
          double pct = (double) (c->cpu - p->cpu) / (double) (c->system - p->system)
                       * (double) ncpus * 100.0;
          snprintf (cpu, sizeof cpu, "%.2f%%", pct);
        }
      uint64_t limit = c->mem_limit;
      if (machine_mem && (limit == 0 || limit > machine_mem))
        limit = machine_mem;
      char u[32], l[32], r[32], w[32];
      stats_format_bytes ((double) c->mem, u, sizeof u);
      stats_format_bytes ((double) limit, l, sizeof l);
      snprintf (mem, sizeof mem, "%s / %s", u, l);
      if (limit)
        snprintf (memp, sizeof memp, "%.2f%%", (double) c->mem / (double) limit * 100.0);
      stats_format_size ((double) c->blk_read, r, sizeof r);
      stats_format_size ((double) c->blk_write, w, sizeof w);
      snprintf (blk, sizeof blk, "%s / %s", r, w);
      snprintf (pids, sizeof pids, "%llu", (unsigned long long) c->pids);
      const char *const row[] = { c->id, cpu, mem, memp, blk, pids };
      table_add (t, ARRAY_SIZE (row), row);
    }
  table_write (t, out);
  table_free (t);
}

/* ---- the command ---------------------------------------------------------- */

struct stats_run
{
  struct ctr_ctx *ctx;
  const char *id; /* "" = every container */
  uint32_t machine_cpus;
  uint64_t machine_mem; /* bytes */
  struct stats_sample *prev, *cur;
  size_t n_prev, n_cur;
};

static int
id_cmp (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* One sample of every container (or of the one): State lists them, then a
 * Stats each. With every container, one that is gone or not running by
 * its Stats call is left out; the one named must answer. */
static int
stats_sample_all (struct stats_run *s, struct ctrd_error **err)
{
  Types__StateRequest sreq = TYPES__STATE_REQUEST__INIT;
  sreq.id = (char *) s->id;
  cleanup_pb Types__StateResponse *st = NULL;
  if (ctr_rpc (s->ctx, "State", s->id, &sreq.base, &types__state_response__descriptor,
               (ProtobufCMessage **) &st, err)
      < 0)
    return -1;
  if (st->machine)
    {
      s->machine_cpus = st->machine->cpus;
      s->machine_mem = st->machine->memory * 1024 * 1024;
    }
  size_t n = *s->id ? 1 : st->n_containers;
  char **ids = xmalloc0 ((n ? n : 1) * sizeof *ids);
  if (*s->id)
    ids[0] = (char *) s->id;
  for (size_t i = 0; !*s->id && i < n; i++)
    ids[i] = st->containers[i]->id;
  qsort (ids, n, sizeof *ids, id_cmp);
  struct stats_sample *cur = xmalloc0 ((n ? n : 1) * sizeof *cur);
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++)
    {
      Types__StatsRequest req = TYPES__STATS_REQUEST__INIT;
      req.id = ids[i];
      cleanup_pb Types__StatsResponse *resp = NULL;
      cleanup_error struct ctrd_error *e = NULL;
      if (ctr_rpc (s->ctx, "Stats", ids[i], &req.base, &types__stats_response__descriptor,
                   (ProtobufCMessage **) &resp, &e)
          < 0)
        {
          if (*s->id)
            {
              *err = take_ptr (&e);
              r = -1;
            }
          continue;
        }
      stats_sample_from (&cur[i], ids[i], resp);
    }
  free (ids);
  if (r < 0)
    {
      free (cur);
      return -1;
    }
  /* the previous sample of each id, in the new order */
  struct stats_sample *prev = xmalloc0 ((n ? n : 1) * sizeof *prev);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < s->n_cur; k++)
      if (strcmp (s->cur[k].id, cur[i].id) == 0)
        prev[i] = s->cur[k];
  free (s->prev);
  free (s->cur);
  s->prev = prev;
  s->cur = cur;
  s->n_prev = s->n_cur = n;
  return 0;
}

/* Wait one display interval. 1 when SIGINT/SIGTERM arrived (sfd). */
static int
stats_wait (int sfd)
{
  struct pollfd p = { .fd = sfd, .events = POLLIN };
  int r;
  do
    r = poll (&p, 1, INTERVAL_MS);
  while (r < 0 && errno == EINTR);
  if (r <= 0)
    return 0;
  /* taken, so that unblocking it later does not kill us */
  struct signalfd_siginfo si;
  if (read (sfd, &si, sizeof si) < 0)
    return 1;
  return 1;
}

static const struct ctr_command cmd_stats = {
  "stats", "print resource usage of a container, or of all of them", "[ID]", NULL
};

static const char stats_description[] =
    "\nDESCRIPTION:\n"
    "   Prints a table like `docker stats` for the container ID, or for every container\n"
    "   without one: CONTAINER, CPU %, MEM USAGE / LIMIT, MEM %, BLOCK I/O, PIDS.\n"
    "   CPU % needs two samples, taken one second apart: the container's CPU time over\n"
    "   the host's CPU time between them, times the number of CPUs (100% is one CPU\n"
    "   busy). MEM USAGE is the cgroup's usage less its inactive file cache; LIMIT is\n"
    "   the cgroup's limit, or the machine's memory when that is lower. BLOCK I/O is\n"
    "   the bytes read / written. --json prints one raw StatsResponse instead.\n";

int
containers_stats_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  bool json = false, watch = false;
  struct goflag flags[] = {
    { "json", NULL, GOFLAG_BOOL, &json,
      "print the raw StatsResponse of the container ID as JSON (one sample)", NULL, false },
    { "watch", NULL, GOFLAG_BOOL, &watch,
      "refresh the table every second until interrupted (SIGINT ends it with status 0)", NULL,
      false },
  };
  int first = ctr_parse_flags (ctx, "containers stats", &cmd_stats, flags, ARRAY_SIZE (flags), argc,
                               argv, err);
  if (first == GOFLAG_HELP)
    fputs (stats_description, ctx->out);
  if (first < 0)
    return first == GOFLAG_HELP ? 0 : -1;
  if (ctr_check_args (argc, argv, first, 1, err) < 0)
    return -1;
  const char *id = ctr_arg (argc, argv, first);
  if (json)
    {
      if (watch)
        return ctrd_error_set (err, 0, "--json and --watch cannot be combined");
      if (*id == '\0')
        return ctrd_error_set (err, 0, "container id cannot be empty");
      Types__StatsRequest req = TYPES__STATS_REQUEST__INIT;
      req.id = (char *) id;
      cleanup_pb ProtobufCMessage *resp = NULL;
      if (ctr_rpc (ctx, "Stats", id, &req.base, &types__stats_response__descriptor, &resp, err) < 0)
        return -1;
      json_write_message (ctx->out, resp, false);
      return 0;
    }

  /* SIGINT/SIGTERM end the wait between samples cleanly */
  sigset_t ss, old;
  sigemptyset (&ss);
  sigaddset (&ss, SIGINT);
  sigaddset (&ss, SIGTERM);
  sigprocmask (SIG_BLOCK, &ss, &old);
  int sfd = signalfd (-1, &ss, SFD_CLOEXEC);
  struct stats_run s = { .ctx = ctx, .id = id };
  int rc = -1;
  if (sfd < 0)
    ctrd_error_set (err, errno, "signalfd");
  else if (stats_sample_all (&s, err) == 0)
    for (bool tty = isatty (fileno (ctx->out));;)
      {
        if (stats_wait (sfd))
          {
            rc = watch ? 0 : 130;
            break;
          }
        if (stats_sample_all (&s, err) < 0)
          break;
        if (watch && tty)
          fputs ("\033[2J\033[H", ctx->out);
        stats_write_table (ctx->out, s.prev, s.cur, s.n_cur, s.machine_cpus, s.machine_mem);
        fflush (ctx->out);
        if (!watch)
          {
            rc = 0;
            break;
          }
      }
  if (sfd >= 0)
    close (sfd);
  sigprocmask (SIG_SETMASK, &old, NULL);
  free (s.prev);
  free (s.cur);
  return rc;
}
