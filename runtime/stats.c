/* Cgroup statistics (docs/runtime.md §4 mapping), plain file reads relative to a
 * directory fd per controller. Files are read into one reused buffer;
 * a missing file reads as 0 (runc's optional files), a missing controller
 * leaves its section zero. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/timeutil.h"
#include "lib/util.h"
#include "runtime/stats.h"

#define UNLIMITED UINT64_MAX

struct rd
{
  char *buf;
  size_t cap;
  int ctl;        /* enum cgdirs_controller of the files being read */
  bool neg_cache; /* consult and feed the absent-file cache */
};

/* Files found absent, per v1 hierarchy. In cgroup v1 every non-root cgroup
 * of a hierarchy has the same files (those of its controllers), so a file
 * one container lacks, all lack: CFQ's blkio files with BFQ in use, BFQ's
 * debug files, a kernel's retired kmem files. Skipping them spares a path
 * lookup each (14 of the ~54 opens of a Stats call here). Entries expire,
 * so a module loaded later (bfq) is seen within ABSENT_TTL. Not for v2,
 * where a cgroup's files depend on its parent's subtree_control. Only the
 * daemon's cached reads use it (stats_cgroup_read_cached); tests that read
 * sample trees through stats_cgroup_read_dirs do not. */
#define ABSENT_MAX 48
#define ABSENT_TTL_NS (60LL * 1000000000LL)
static struct
{
  int ctl;
  char name[64];
  int64_t until;
} absent[ABSENT_MAX];
static size_t n_absent;

static bool
absent_known (int ctl, const char *name, int64_t now)
{
  for (size_t i = 0; i < n_absent; i++)
    if (absent[i].ctl == ctl && absent[i].until > now && strcmp (absent[i].name, name) == 0)
      return true;
  return false;
}

static void
absent_note (int ctl, const char *name, int64_t now)
{
  size_t slot = n_absent;
  for (size_t i = 0; i < n_absent; i++)
    if (absent[i].until <= now || (absent[i].ctl == ctl && strcmp (absent[i].name, name) == 0))
      {
        slot = i;
        break;
      }
  if (slot == ABSENT_MAX || strlen (name) >= sizeof absent[0].name)
    return;
  if (slot == n_absent)
    n_absent++;
  absent[slot].ctl = ctl;
  snprintf (absent[slot].name, sizeof absent[slot].name, "%s", name);
  absent[slot].until = now + ABSENT_TTL_NS;
}

/* Read dfd/name into r->buf (NUL-terminated); length or -1 with errno. */
static ssize_t
rd_file (struct rd *r, int dfd, const char *name)
{
  if (dfd < 0)
    {
      errno = ENOENT;
      return -1;
    }
  bool neg = r->neg_cache && r->ctl != CGDIRS_UNIFIED;
  int64_t now = neg ? time_now_mono_ns () : 0;
  if (neg && absent_known (r->ctl, name, now))
    {
      errno = ENOENT;
      return -1;
    }
  int fd = openat (dfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      if (neg && errno == ENOENT)
        absent_note (r->ctl, name, now);
      return -1;
    }
  size_t n = 0;
  for (;;)
    {
      if (r->cap - n < 2)
        r->buf = xrealloc (r->buf, r->cap *= 2);
      ssize_t k = read (fd, r->buf + n, r->cap - n - 1);
      if (k < 0 && errno == EINTR)
        continue;
      if (k < 0)
        {
          int e = errno;
          close (fd);
          errno = e;
          return -1;
        }
      if (k == 0)
        break;
      n += (size_t) k;
      /* A cgroup file is a seq_file that fills the whole user buffer unless
       * it reached its end; with more than half the buffer to spare a short
       * read is the end, and the EOF read (a syscall per file) is skipped. */
      if (n < r->cap / 2)
        break;
    }
  close (fd);
  r->buf[n] = 0;
  return (ssize_t) n;
}

/* Leading unsigned number of s; "max" → UNLIMITED; anything else 0. */
static uint64_t
num (const char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  if (strncmp (s, "max", 3) == 0)
    return UNLIMITED;
  if (*s < '0' || *s > '9')
    return 0;
  return strtoull (s, NULL, 10);
}

static uint64_t
rd_u64 (struct rd *r, int dfd, const char *name)
{
  return rd_file (r, dfd, name) < 0 ? 0 : num (r->buf);
}

/* rd_u64 of a file whose name is built from a prefix (memory.memsw., a
 * hugetlb page size) */
static uint64_t rd_u64_at (struct rd *r, int dfd, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static uint64_t
rd_u64_at (struct rd *r, int dfd, const char *fmt, ...)
{
  char name[96];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (name, sizeof name, fmt, ap);
  va_end (ap);
  return rd_u64 (r, dfd, name);
}

/* Value of "key value" in a flat-keyed file already in r->buf. */
static bool
kv_get (const char *text, const char *key, uint64_t *v)
{
  size_t kl = strlen (key);
  for (const char *p = text; *p;)
    {
      if (strncmp (p, key, kl) == 0 && (p[kl] == ' ' || p[kl] == '\t'))
        {
          *v = num (p + kl);
          return true;
        }
      const char *nl = strchr (p, '\n');
      if (!nl)
        break;
      p = nl + 1;
    }
  return false;
}

static uint64_t
kv (const char *text, const char *key)
{
  uint64_t v = 0;
  kv_get (text, key, &v);
  return v;
}

static int
open_dir (const char *d)
{
  return d ? open (d, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
}

/* ---- cpu ---- */

/* v1 cpuacct.usage is by definition the sum of cpuacct.usage_percpu (the
 * kernel sums the same per-cpu counters over the possible cpus for both):
 * the total is taken from the per-cpu line, one file fewer, and the two
 * agree exactly. cpuacct.usage only when the per-cpu file gives nothing. */
static void
cpu_v1 (struct rd *r, int acct, int cpu, struct container_stats *s)
{
  long tck = sysconf (_SC_CLK_TCK);
  if (tck <= 0)
    tck = 100;
  if (rd_file (r, acct, "cpuacct.usage_percpu") > 0)
    {
      size_t cap = 0;
      uint64_t sum = 0;
      for (char *p = r->buf, *e;; p = e)
        {
          unsigned long long v = strtoull (p, &e, 10);
          if (e == p)
            break;
          if (s->cpu.n_percpu_usage == cap)
            s->cpu.percpu_usage =
                xrealloc (s->cpu.percpu_usage, (cap = cap ? cap * 2 : 16) * sizeof (uint64_t));
          s->cpu.percpu_usage[s->cpu.n_percpu_usage++] = v;
          sum += v;
        }
      s->cpu.total_usage = sum;
    }
  if (s->cpu.n_percpu_usage == 0)
    s->cpu.total_usage = rd_u64 (r, acct, "cpuacct.usage");
  if (rd_file (r, acct, "cpuacct.stat") > 0)
    {
      s->cpu.usage_in_usermode = kv (r->buf, "user") * 1000000000ULL / (uint64_t) tck;
      s->cpu.usage_in_kernelmode = kv (r->buf, "system") * 1000000000ULL / (uint64_t) tck;
    }
  if (rd_file (r, cpu, "cpu.stat") > 0)
    {
      s->cpu.periods = kv (r->buf, "nr_periods");
      s->cpu.throttled_periods = kv (r->buf, "nr_throttled");
      s->cpu.throttled_time = kv (r->buf, "throttled_time");
    }
}

static void
cpu_v2 (struct rd *r, int dfd, struct container_stats *s)
{
  if (rd_file (r, dfd, "cpu.stat") <= 0)
    return;
  s->cpu.total_usage = kv (r->buf, "usage_usec") * 1000;
  s->cpu.usage_in_usermode = kv (r->buf, "user_usec") * 1000;
  s->cpu.usage_in_kernelmode = kv (r->buf, "system_usec") * 1000;
  s->cpu.periods = kv (r->buf, "nr_periods");
  s->cpu.throttled_periods = kv (r->buf, "nr_throttled");
  s->cpu.throttled_time = kv (r->buf, "throttled_usec") * 1000;
}

uint64_t
stats_system_usage (void)
{
  char buf[4096];
  int fd = open ("/proc/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return 0;
  buf[n] = 0;
  if (strncmp (buf, "cpu ", 4) != 0)
    return 0;
  long tck = sysconf (_SC_CLK_TCK);
  char *p = buf + 4, *e;
  uint64_t sum = 0;
  for (int i = 0; i < 7; i++)
    {
      unsigned long long v = strtoull (p, &e, 10);
      if (e == p)
        return 0; /* fewer than 8 fields */
      sum += v;
      p = e;
    }
  return tck > 0 ? sum * (1000000000ULL / (uint64_t) tck) : 0;
}

/* The host time of a loop iteration (stats_cgroup_read_cached): the calls
 * one iteration of the daemon's loop serves (requests that arrived
 * together) share one /proc/stat read, ~15 us each otherwise. One thread. */
static struct
{
  uint64_t stamp, value;
} sys_cache;

static uint64_t
system_usage_at (uint64_t stamp)
{
  if (stamp != 0 && stamp == sys_cache.stamp)
    return sys_cache.value;
  uint64_t v = stats_system_usage ();
  if (stamp != 0)
    {
      sys_cache.stamp = stamp;
      sys_cache.value = v;
    }
  return v;
}

/* ---- memory ---- */

static void
mem_v1_data (struct rd *r, int dfd, const char *prefix, struct stats_memory_data *d)
{
  d->usage = rd_u64_at (r, dfd, "%susage_in_bytes", prefix);
  d->max_usage = rd_u64_at (r, dfd, "%smax_usage_in_bytes", prefix);
  d->failcnt = rd_u64_at (r, dfd, "%sfailcnt", prefix);
  d->limit = rd_u64_at (r, dfd, "%slimit_in_bytes", prefix);
}

/* Every "key value" line of memory.stat (text, length n) into the stats
 * list: the text is kept (m->text) with each key NUL-terminated in place. */
static void
mem_raw (const char *text, size_t n, struct container_stats *s)
{
  char *t = s->memory.text = xmalloc (n + 1);
  memcpy (t, text, n + 1);
  size_t cap = 0;
  for (char *p = t; *p;)
    {
      char *nl = strchr (p, '\n');
      size_t len = nl ? (size_t) (nl - p) : strlen (p);
      char *sp = memchr (p, ' ', len);
      if (sp && sp > p)
        {
          if (s->memory.n_stats == cap)
            s->memory.stats =
                xrealloc (s->memory.stats, (cap = cap ? cap * 2 : 64) * sizeof *s->memory.stats);
          *sp = 0;
          s->memory.stats[s->memory.n_stats].key = p;
          s->memory.stats[s->memory.n_stats++].value = num (sp + 1);
        }
      p += len + (nl ? 1 : 0);
    }
}

static void
mem_v1 (struct rd *r, int dfd, struct container_stats *s)
{
  mem_v1_data (r, dfd, "memory.", &s->memory.usage);
  mem_v1_data (r, dfd, "memory.memsw.", &s->memory.swap_usage);
  mem_v1_data (r, dfd, "memory.kmem.", &s->memory.kernel_usage);
  ssize_t n = rd_file (r, dfd, "memory.stat");
  if (n > 0)
    {
      s->memory.cache = kv (r->buf, "cache");
      mem_raw (r->buf, (size_t) n, s);
    }
}

static void
mem_v2 (struct rd *r, int dfd, struct container_stats *s)
{
  struct stats_memory_data *u = &s->memory.usage, *w = &s->memory.swap_usage;
  if (rd_file (r, dfd, "memory.current") < 0)
    return; /* memory controller not enabled for this cgroup */
  u->usage = num (r->buf);
  u->limit = rd_file (r, dfd, "memory.max") < 0 ? UNLIMITED : num (r->buf);
  if (rd_file (r, dfd, "memory.swap.current") >= 0)
    {
      w->usage = num (r->buf) + u->usage;
      uint64_t sl = rd_file (r, dfd, "memory.swap.max") < 0 ? UNLIMITED : num (r->buf);
      w->limit = sl == UNLIMITED || u->limit == UNLIMITED ? UNLIMITED : sl + u->limit;
    }
  ssize_t n = rd_file (r, dfd, "memory.stat");
  if (n > 0)
    {
      s->memory.cache = kv (r->buf, "file");
      mem_raw (r->buf, (size_t) n, s);
    }
}

/* ---- blkio ---- */

static void
blk_push (struct container_stats *s, enum stats_blkio_list l, uint64_t maj, uint64_t min,
          const char *op, size_t oplen, uint64_t value)
{
  size_t n = s->blkio[l].n;
  if ((n & (n - 1)) == 0) /* grow at powers of two */
    s->blkio[l].v = xrealloc (s->blkio[l].v, (n ? n * 2 : 1) * sizeof *s->blkio[l].v);
  struct stats_blkio_entry *e = &s->blkio[l].v[n];
  e->major = maj;
  e->minor = min;
  snprintf (e->op, sizeof e->op, "%.*s", (int) oplen, op);
  e->value = value;
  s->blkio[l].n = n + 1;
}

/* v1 lines "MAJ:MIN [Op] VALUE"; "Total N" lines (no device) are skipped. */
static void
blk_parse_v1 (const char *text, struct container_stats *s, enum stats_blkio_list l)
{
  for (const char *p = text; *p;)
    {
      const char *nl = strchr (p, '\n');
      size_t len = nl ? (size_t) (nl - p) : strlen (p);
      char *e;
      unsigned long long maj = strtoull (p, &e, 10);
      if (e != p && *e == ':')
        {
          const char *q = e + 1;
          unsigned long long min = strtoull (q, &e, 10);
          if (e != q && *e == ' ')
            {
              const char *f2 = e + 1, *sp = memchr (f2, ' ', len - (size_t) (f2 - p));
              if (sp) /* "MAJ:MIN Op VALUE" */
                blk_push (s, l, maj, min, f2, (size_t) (sp - f2), num (sp + 1));
              else /* "MAJ:MIN VALUE" */
                blk_push (s, l, maj, min, "", 0, num (f2));
            }
        }
      p += len + (nl ? 1 : 0);
    }
}

/* A candidate file of a blkio list; a fallback (old kernels' non-recursive
 * throttle files) is read only when the file before it is absent: when the
 * recursive file exists and lists no device, the cgroup did no I/O, and
 * its own (non-recursive) counters, a part of the recursive ones, are
 * empty too. */
struct blk_file
{
  const char *name;
  bool if_absent;
};

/* First candidate file that exists and has device lines. */
static void
blk_v1_list (struct rd *r, int dfd, const struct blk_file *files, struct container_stats *s,
             enum stats_blkio_list l)
{
  bool prev_absent = false;
  for (; files->name && s->blkio[l].n == 0; files++)
    {
      if (files->if_absent && !prev_absent)
        continue;
      ssize_t n = rd_file (r, dfd, files->name);
      prev_absent = n < 0 && errno == ENOENT;
      if (n > 0)
        blk_parse_v1 (r->buf, s, l);
    }
}

#define FILES(...) ((const struct blk_file[]){ __VA_ARGS__, { NULL, false } })
#define F(name)                                                                                    \
  {                                                                                                \
    name, false                                                                                    \
  }
#define FALLBACK(name)                                                                             \
  {                                                                                                \
    name, true                                                                                     \
  }

static void
blk_v1 (struct rd *r, int dfd, struct container_stats *s)
{
  /* CFQ files, then BFQ's, then the throttle layer's (always present). */
  blk_v1_list (r, dfd,
               FILES (F ("blkio.io_service_bytes_recursive"),
                      F ("blkio.bfq.io_service_bytes_recursive"),
                      F ("blkio.throttle.io_service_bytes_recursive"),
                      FALLBACK ("blkio.throttle.io_service_bytes")),
               s, STATS_BLKIO_SERVICE_BYTES);
  blk_v1_list (r, dfd,
               FILES (F ("blkio.io_serviced_recursive"), F ("blkio.bfq.io_serviced_recursive"),
                      F ("blkio.throttle.io_serviced_recursive"),
                      FALLBACK ("blkio.throttle.io_serviced")),
               s, STATS_BLKIO_SERVICED);
  blk_v1_list (r, dfd, FILES (F ("blkio.io_queued_recursive"), F ("blkio.bfq.io_queued_recursive")),
               s, STATS_BLKIO_QUEUED);
  blk_v1_list (
      r, dfd,
      FILES (F ("blkio.io_service_time_recursive"), F ("blkio.bfq.io_service_time_recursive")), s,
      STATS_BLKIO_SERVICE_TIME);
  blk_v1_list (r, dfd,
               FILES (F ("blkio.io_wait_time_recursive"), F ("blkio.bfq.io_wait_time_recursive")),
               s, STATS_BLKIO_WAIT_TIME);
  blk_v1_list (r, dfd, FILES (F ("blkio.io_merged_recursive"), F ("blkio.bfq.io_merged_recursive")),
               s, STATS_BLKIO_MERGED);
  blk_v1_list (r, dfd, FILES (F ("blkio.time_recursive"), F ("blkio.bfq.time_recursive")), s,
               STATS_BLKIO_TIME);
  blk_v1_list (r, dfd, FILES (F ("blkio.sectors_recursive"), F ("blkio.bfq.sectors_recursive")), s,
               STATS_BLKIO_SECTORS);
}

/* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N". */
static void
blk_v2 (struct rd *r, int dfd, struct container_stats *s)
{
  if (rd_file (r, dfd, "io.stat") <= 0)
    return;
  for (const char *p = r->buf; *p;)
    {
      const char *nl = strchr (p, '\n');
      size_t len = nl ? (size_t) (nl - p) : strlen (p);
      char line[1024];
      snprintf (line, sizeof line, "%.*s", (int) len, p);
      p += len + (nl ? 1 : 0);
      unsigned int maj, min;
      if (sscanf (line, "%u:%u", &maj, &min) != 2)
        continue;
      char *save = NULL;
      for (char *tok = strtok_r (line, " ", &save); tok; tok = strtok_r (NULL, " ", &save))
        {
          char *eq = strchr (tok, '=');
          if (!eq)
            continue;
          *eq = 0;
          uint64_t v = num (eq + 1);
          if (strcmp (tok, "rbytes") == 0)
            blk_push (s, STATS_BLKIO_SERVICE_BYTES, maj, min, "Read", 4, v);
          else if (strcmp (tok, "wbytes") == 0)
            blk_push (s, STATS_BLKIO_SERVICE_BYTES, maj, min, "Write", 5, v);
          else if (strcmp (tok, "rios") == 0)
            blk_push (s, STATS_BLKIO_SERVICED, maj, min, "Read", 4, v);
          else if (strcmp (tok, "wios") == 0)
            blk_push (s, STATS_BLKIO_SERVICED, maj, min, "Write", 5, v);
        }
    }
}

/* ---- hugetlb ---- */

/* "hugepages-2048kB" → "2MB" (the size as runc names it: 1024-based units). */
static bool
hugepage_name (const char *dirent, char *out, size_t outlen)
{
  unsigned long long kb;
  char unit[4];
  if (sscanf (dirent, "hugepages-%llukB%3s", &kb, unit) != 1 || kb == 0)
    return false;
  static const char *const units[] = { "KB", "MB", "GB", "TB", "PB" };
  size_t u = 0;
  while (kb >= 1024 && kb % 1024 == 0 && u + 1 < ARRAY_SIZE (units))
    {
      kb /= 1024;
      u++;
    }
  snprintf (out, outlen, "%llu%s", kb, units[u]);
  return true;
}

static struct stats_hugetlb *
huge_push (struct container_stats *s, size_t *cap, const char *size)
{
  if (s->n_hugetlb == *cap)
    s->hugetlb = xrealloc (s->hugetlb, (*cap = *cap ? *cap * 2 : 4) * sizeof *s->hugetlb);
  struct stats_hugetlb *h = &s->hugetlb[s->n_hugetlb++];
  memset (h, 0, sizeof *h);
  snprintf (h->size, sizeof h->size, "%s", size);
  return h;
}

#define MAX_PAGE_SIZES 16

/* Page size names from a hugepages directory; returns how many. */
static size_t
page_sizes_list (const char *dir, char names[MAX_PAGE_SIZES][32])
{
  DIR *d = opendir (dir);
  if (!d)
    return 0;
  size_t n = 0;
  struct dirent *de;
  while (n < MAX_PAGE_SIZES && (de = readdir (d)))
    if (hugepage_name (de->d_name, names[n], sizeof names[n]))
      n++;
  closedir (d);
  return n;
}

/* The host's page sizes cannot change while it runs: list them once. */
static struct
{
  pthread_once_t once;
  size_t n;
  char names[MAX_PAGE_SIZES][32];
} host_sizes = { PTHREAD_ONCE_INIT, 0, { { 0 } } };

static void
host_sizes_init (void)
{
  host_sizes.n = page_sizes_list ("/sys/kernel/mm/hugepages", host_sizes.names);
}

static void
huge (struct rd *r, int dfd, bool v2, const char *hugepages_dir, struct container_stats *s)
{
  char own[MAX_PAGE_SIZES][32];
  char (*sizes)[32] = own;
  size_t n;
  if (hugepages_dir)
    n = page_sizes_list (hugepages_dir, own);
  else
    {
      pthread_once (&host_sizes.once, host_sizes_init);
      sizes = host_sizes.names;
      n = host_sizes.n;
    }
  size_t cap = 0;
  for (size_t i = 0; i < n; i++)
    {
      const char *size = sizes[i];
      char name[96];
      struct stats_hugetlb *h;
      if (!v2)
        {
          h = huge_push (s, &cap, size);
          h->usage = rd_u64_at (r, dfd, "hugetlb.%.31s.usage_in_bytes", size);
          h->max_usage = rd_u64_at (r, dfd, "hugetlb.%.31s.max_usage_in_bytes", size);
          h->failcnt = rd_u64_at (r, dfd, "hugetlb.%.31s.failcnt", size);
          continue;
        }
      snprintf (name, sizeof name, "hugetlb.%.31s.current", size);
      if (rd_file (r, dfd, name) < 0)
        continue; /* hugetlb not enabled in this v2 cgroup */
      h = huge_push (s, &cap, size);
      h->usage = num (r->buf);
      snprintf (name, sizeof name, "hugetlb.%.31s.events", size);
      if (rd_file (r, dfd, name) > 0)
        h->failcnt = kv (r->buf, "max");
    }
}

/* ---- the whole thing ---- */

/* The directory fds a read uses: one per controller that is read, the
 * unified one only where a v1 controller is missing (a hybrid host has all
 * of them in v1); controllers co-mounted in one hierarchy (cpu,cpuacct)
 * share one fd (own[c] false for the second). */
struct dir_fds
{
  int fd[CGDIRS_N];
  bool own[CGDIRS_N];
};

static const int read_v1[] = { CGDIRS_CPU,   CGDIRS_CPUACCT, CGDIRS_MEMORY,
                               CGDIRS_BLKIO, CGDIRS_HUGETLB, CGDIRS_PIDS };

static void
dir_fds_open (const struct cgdirs *dirs, struct dir_fds *f)
{
  for (int c = 0; c < CGDIRS_N; c++)
    {
      f->fd[c] = -1;
      f->own[c] = false;
    }
  bool need_v2 = false;
  for (size_t i = 0; i < ARRAY_SIZE (read_v1); i++)
    {
      int c = read_v1[i];
      for (size_t j = 0; j < i && dirs->dir[c]; j++)
        if (dirs->dir[read_v1[j]] && strcmp (dirs->dir[read_v1[j]], dirs->dir[c]) == 0)
          {
            f->fd[c] = f->fd[read_v1[j]];
            break;
          }
      if (f->fd[c] < 0 && dirs->dir[c])
        {
          f->fd[c] = open_dir (dirs->dir[c]);
          f->own[c] = f->fd[c] >= 0;
        }
      need_v2 |= f->fd[c] < 0;
    }
  if (need_v2)
    {
      f->fd[CGDIRS_UNIFIED] = open_dir (dirs->dir[CGDIRS_UNIFIED]);
      f->own[CGDIRS_UNIFIED] = f->fd[CGDIRS_UNIFIED] >= 0;
    }
}

static void
dir_fds_close (struct dir_fds *f)
{
  for (int c = 0; c < CGDIRS_N; c++)
    {
      if (f->own[c])
        close (f->fd[c]);
      f->fd[c] = -1;
      f->own[c] = false;
    }
}

static void
read_fds (const struct dir_fds *f, const char *hugepages_dir, bool neg_cache, uint64_t stamp,
          struct container_stats *s)
{
  struct rd r = { xmalloc (8192), 8192, 0, neg_cache };
  const int *fd = f->fd;
  int v2 = fd[CGDIRS_UNIFIED];
  memset (s, 0, sizeof *s);

  if (fd[CGDIRS_CPUACCT] >= 0 || fd[CGDIRS_CPU] >= 0)
    {
      r.ctl = CGDIRS_CPUACCT; /* cpuacct.* and cpu.* names do not collide */
      cpu_v1 (&r, fd[CGDIRS_CPUACCT], fd[CGDIRS_CPU], s);
    }
  else if (v2 >= 0)
    {
      r.ctl = CGDIRS_UNIFIED;
      cpu_v2 (&r, v2, s);
    }
  s->cpu.system_usage = system_usage_at (stamp);

  r.ctl = fd[CGDIRS_MEMORY] >= 0 ? CGDIRS_MEMORY : CGDIRS_UNIFIED;
  if (fd[CGDIRS_MEMORY] >= 0)
    mem_v1 (&r, fd[CGDIRS_MEMORY], s);
  else if (v2 >= 0)
    mem_v2 (&r, v2, s);

  r.ctl = fd[CGDIRS_BLKIO] >= 0 ? CGDIRS_BLKIO : CGDIRS_UNIFIED;
  if (fd[CGDIRS_BLKIO] >= 0)
    blk_v1 (&r, fd[CGDIRS_BLKIO], s);
  else if (v2 >= 0)
    blk_v2 (&r, v2, s);

  r.ctl = fd[CGDIRS_HUGETLB] >= 0 ? CGDIRS_HUGETLB : CGDIRS_UNIFIED;
  if (fd[CGDIRS_HUGETLB] >= 0)
    huge (&r, fd[CGDIRS_HUGETLB], false, hugepages_dir, s);
  else if (v2 >= 0)
    huge (&r, v2, true, hugepages_dir, s);

  int pfd = fd[CGDIRS_PIDS] >= 0 ? fd[CGDIRS_PIDS] : v2;
  r.ctl = fd[CGDIRS_PIDS] >= 0 ? CGDIRS_PIDS : CGDIRS_UNIFIED;
  if (pfd >= 0 && rd_file (&r, pfd, "pids.current") >= 0)
    {
      s->pids.current = num (r.buf);
      uint64_t lim = rd_u64 (&r, pfd, "pids.max");
      s->pids.limit = lim == UNLIMITED ? 0 : lim;
    }
  free (r.buf);
}

int
stats_cgroup_read_dirs (const struct cgdirs *dirs, const char *hugepages_dir,
                        struct container_stats *out, struct ctrd_error **err UNUSED)
{
  struct dir_fds f;
  dir_fds_open (dirs, &f);
  read_fds (&f, hugepages_dir, false, 0, out);
  dir_fds_close (&f);
  return 0;
}

struct stats_cache
{
  pid_t pid; /* whose directories fds holds; 0: none yet */
  struct dir_fds fds;
};

struct stats_cache *
stats_cache_new (void)
{
  struct stats_cache *c = xmalloc0 (sizeof (struct stats_cache));
  for (int i = 0; i < CGDIRS_N; i++)
    c->fds.fd[i] = -1;
  return c;
}

void
stats_cache_free (struct stats_cache *c)
{
  if (!c)
    return;
  dir_fds_close (&c->fds);
  free (c);
}

int
stats_cache_fds (const struct stats_cache *c)
{
  int n = 0;
  for (int i = 0; c && i < CGDIRS_N; i++)
    n += c->fds.own[i];
  return n;
}

int
stats_cgroup_read_cached (struct stats_cache *c, pid_t pid, uint64_t loop_stamp,
                          struct container_stats *out, struct ctrd_error **err)
{
  if (c->pid != pid)
    {
      struct cgdirs d;
      if (cgdirs_for_pid (pid, &d, err) < 0)
        {
          memset (out, 0, sizeof *out);
          return -1;
        }
      dir_fds_close (&c->fds);
      dir_fds_open (&d, &c->fds);
      cgdirs_clear (&d);
      c->pid = pid;
    }
  read_fds (&c->fds, NULL, true, loop_stamp, out);
  return 0;
}

int
stats_cgroup_read (pid_t pid, struct container_stats *out, struct ctrd_error **err)
{
  struct cgdirs d;
  if (cgdirs_for_pid (pid, &d, err) < 0)
    {
      memset (out, 0, sizeof *out);
      return -1;
    }
  int ret = stats_cgroup_read_dirs (&d, NULL, out, err);
  cgdirs_clear (&d);
  return ret;
}

void
container_stats_clear (struct container_stats *s)
{
  free (s->cpu.percpu_usage);
  free (s->memory.stats);
  free (s->memory.text);
  for (int l = 0; l < STATS_BLKIO_N; l++)
    free (s->blkio[l].v);
  free (s->hugetlb);
  memset (s, 0, sizeof *s);
}
