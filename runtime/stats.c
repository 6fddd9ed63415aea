/* Cgroup statistics (docs/runtime.md §4 mapping), plain file reads relative to a
 * directory fd per controller. Files are read into one reused buffer;
 * a missing file reads as 0 (runc's optional files), a missing controller
 * leaves its section zero. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

static void
cpu_v1 (struct rd *r, int acct, int cpu, Types__CpuUsage *u, Types__ThrottlingData *t)
{
  long tck = sysconf (_SC_CLK_TCK);
  if (tck <= 0)
    tck = 100;
  u->total_usage = rd_u64 (r, acct, "cpuacct.usage");
  if (rd_file (r, acct, "cpuacct.usage_percpu") > 0)
    {
      size_t cap = 0;
      for (char *p = r->buf, *e;; p = e)
        {
          unsigned long long v = strtoull (p, &e, 10);
          if (e == p)
            break;
          if (u->n_percpu_usage == cap)
            u->percpu_usage = xrealloc (u->percpu_usage, (cap = cap ? cap * 2 : 16)
                                                             * sizeof (uint64_t));
          u->percpu_usage[u->n_percpu_usage++] = v;
        }
    }
  if (rd_file (r, acct, "cpuacct.stat") > 0)
    {
      u->usage_in_usermode = kv (r->buf, "user") * 1000000000ULL / (uint64_t) tck;
      u->usage_in_kernelmode = kv (r->buf, "system") * 1000000000ULL / (uint64_t) tck;
    }
  if (rd_file (r, cpu, "cpu.stat") > 0)
    {
      t->periods = kv (r->buf, "nr_periods");
      t->throttled_periods = kv (r->buf, "nr_throttled");
      t->throttled_time = kv (r->buf, "throttled_time");
    }
}

static void
cpu_v2 (struct rd *r, int dfd, Types__CpuUsage *u, Types__ThrottlingData *t)
{
  if (rd_file (r, dfd, "cpu.stat") <= 0)
    return;
  u->total_usage = kv (r->buf, "usage_usec") * 1000;
  u->usage_in_usermode = kv (r->buf, "user_usec") * 1000;
  u->usage_in_kernelmode = kv (r->buf, "system_usec") * 1000;
  t->periods = kv (r->buf, "nr_periods");
  t->throttled_periods = kv (r->buf, "nr_throttled");
  t->throttled_time = kv (r->buf, "throttled_usec") * 1000;
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

/* ---- map entries: key and value always on the wire ----
 * protobuf-c packs a proto3 scalar only when it is not zero, and a map
 * entry is a message of two such fields (key 1, value 2): a memory.stat
 * line "swap 0" went out as an entry with no value. Docker 1.12's Go
 * protobuf (golang/protobuf of 2016) rejects such an entry ("proto: bad map
 * data: missing key/val"), fails the whole Stats reply and retries it every
 * second: `docker stats` hangs. Current decoders take it, as proto3 says;
 * the encoders of containerd's era always wrote both fields.
 *
 * protobuf-c packs a sub-message with the descriptor of the instance
 * (message->descriptor), not the field's: each map entry we build points
 * at a copy of its generated descriptor whose two fields are
 * LABEL_REQUIRED, which protobuf-c always packs (0, "", or an empty message
 * for a NULL one). Everything else about the copy is the generated
 * descriptor's (name, offsets, sizes, magic), so freeing and packing work
 * as for the generated type; decoders (ctr) keep the generated, tolerant
 * descriptors. */
struct strict_entry
{
  ProtobufCMessageDescriptor desc;
  ProtobufCFieldDescriptor fields[2];
};

static struct strict_entry strict_mem_stat, strict_hugetlb;
static pthread_once_t strict_once = PTHREAD_ONCE_INIT;

static void
strict_entry_make (struct strict_entry *s, const ProtobufCMessageDescriptor *gen)
{
  /* a map entry has exactly the key and the value (protoc's MapEntry) */
  if (gen->n_fields != 2 || gen->fields[0].id != 1 || gen->fields[1].id != 2)
    abort ();
  s->desc = *gen;
  for (unsigned i = 0; i < 2; i++)
    {
      s->fields[i] = gen->fields[i];
      s->fields[i].label = PROTOBUF_C_LABEL_REQUIRED;
    }
  s->desc.fields = s->fields;
}

static void
strict_init (void)
{
  strict_entry_make (&strict_mem_stat, &types__memory_stats__stats_entry__descriptor);
  strict_entry_make (&strict_hugetlb, &types__cgroup_stats__hugetlb_stats_entry__descriptor);
}

const ProtobufCMessageDescriptor *
stats_strict_entry_descriptor (const ProtobufCMessageDescriptor *gen)
{
  pthread_once (&strict_once, strict_init);
  if (gen == &types__memory_stats__stats_entry__descriptor)
    return &strict_mem_stat.desc;
  if (gen == &types__cgroup_stats__hugetlb_stats_entry__descriptor)
    return &strict_hugetlb.desc;
  abort (); /* a map field of api.proto this file does not know */
}

/* ---- memory ---- */

static Types__MemoryData *
mem_data (void)
{
  Types__MemoryData *d = xmalloc (sizeof *d);
  types__memory_data__init (d);
  return d;
}

static void
mem_v1_data (struct rd *r, int dfd, const char *prefix, Types__MemoryData *d)
{
  char name[96];
  snprintf (name, sizeof name, "%susage_in_bytes", prefix);
  d->usage = rd_u64 (r, dfd, name);
  snprintf (name, sizeof name, "%smax_usage_in_bytes", prefix);
  d->max_usage = rd_u64 (r, dfd, name);
  snprintf (name, sizeof name, "%sfailcnt", prefix);
  d->failcnt = rd_u64 (r, dfd, name);
  snprintf (name, sizeof name, "%slimit_in_bytes", prefix);
  d->limit = rd_u64 (r, dfd, name);
}

/* Every "key value" line of memory.stat (in r->buf) into the stats map. */
static void
mem_raw (const char *text, Types__MemoryStats *m)
{
  size_t cap = 0;
  for (const char *p = text; *p;)
    {
      const char *nl = strchr (p, '\n');
      size_t len = nl ? (size_t) (nl - p) : strlen (p);
      const char *sp = memchr (p, ' ', len);
      if (sp && sp > p)
        {
          if (m->n_stats == cap)
            m->stats = xrealloc (m->stats, (cap = cap ? cap * 2 : 64) * sizeof *m->stats);
          Types__MemoryStats__StatsEntry *e = xmalloc (sizeof *e);
          types__memory_stats__stats_entry__init (e);
          e->base.descriptor
              = stats_strict_entry_descriptor (&types__memory_stats__stats_entry__descriptor);
          e->key = xstrndup (p, (size_t) (sp - p));
          e->value = num (sp + 1);
          m->stats[m->n_stats++] = e;
        }
      p += len + (nl ? 1 : 0);
    }
}

static void
mem_v1 (struct rd *r, int dfd, Types__MemoryStats *m)
{
  mem_v1_data (r, dfd, "memory.", m->usage);
  mem_v1_data (r, dfd, "memory.memsw.", m->swap_usage);
  mem_v1_data (r, dfd, "memory.kmem.", m->kernel_usage);
  if (rd_file (r, dfd, "memory.stat") > 0)
    {
      m->cache = kv (r->buf, "cache");
      mem_raw (r->buf, m);
    }
}

static void
mem_v2 (struct rd *r, int dfd, Types__MemoryStats *m)
{
  if (rd_file (r, dfd, "memory.current") < 0)
    return; /* memory controller not enabled for this cgroup */
  m->usage->usage = num (r->buf);
  m->usage->limit = rd_file (r, dfd, "memory.max") < 0 ? UNLIMITED : num (r->buf);
  if (rd_file (r, dfd, "memory.swap.current") >= 0)
    {
      m->swap_usage->usage = num (r->buf) + m->usage->usage;
      uint64_t sl = rd_file (r, dfd, "memory.swap.max") < 0 ? UNLIMITED : num (r->buf);
      m->swap_usage->limit = sl == UNLIMITED || m->usage->limit == UNLIMITED
                                 ? UNLIMITED
                                 : sl + m->usage->limit;
    }
  if (rd_file (r, dfd, "memory.stat") > 0)
    {
      m->cache = kv (r->buf, "file");
      mem_raw (r->buf, m);
    }
}

/* ---- blkio ---- */

static void
blk_push (Types__BlkioStatsEntry ***list, size_t *n, uint64_t maj, uint64_t min,
          const char *op, size_t oplen, uint64_t value)
{
  if ((*n & (*n - 1)) == 0) /* grow at powers of two */
    *list = xrealloc (*list, (*n ? *n * 2 : 1) * sizeof **list);
  Types__BlkioStatsEntry *e = xmalloc (sizeof *e);
  types__blkio_stats_entry__init (e);
  e->major = maj;
  e->minor = min;
  e->op = xstrndup (op, oplen);
  e->value = value;
  (*list)[(*n)++] = e;
}

/* v1 lines "MAJ:MIN [Op] VALUE"; "Total N" lines (no device) are skipped. */
static void
blk_parse_v1 (const char *text, Types__BlkioStatsEntry ***list, size_t *n)
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
                blk_push (list, n, maj, min, f2, (size_t) (sp - f2), num (sp + 1));
              else /* "MAJ:MIN VALUE" */
                blk_push (list, n, maj, min, "", 0, num (f2));
            }
        }
      p += len + (nl ? 1 : 0);
    }
}

/* First candidate file that exists and has device lines. */
static void
blk_v1_list (struct rd *r, int dfd, const char *const *files, Types__BlkioStatsEntry ***list,
             size_t *n)
{
  for (; *files && *n == 0; files++)
    if (rd_file (r, dfd, *files) > 0)
      blk_parse_v1 (r->buf, list, n);
}

#define FILES(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void
blk_v1 (struct rd *r, int dfd, Types__BlkioStats *b)
{
  /* CFQ files, then BFQ's, then the throttle layer's (always present). */
  blk_v1_list (r, dfd,
               FILES ("blkio.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive",
                      "blkio.throttle.io_service_bytes_recursive",
                      "blkio.throttle.io_service_bytes"),
               &b->io_service_bytes_recursive, &b->n_io_service_bytes_recursive);
  blk_v1_list (r, dfd,
               FILES ("blkio.io_serviced_recursive", "blkio.bfq.io_serviced_recursive",
                      "blkio.throttle.io_serviced_recursive", "blkio.throttle.io_serviced"),
               &b->io_serviced_recursive, &b->n_io_serviced_recursive);
  blk_v1_list (r, dfd, FILES ("blkio.io_queued_recursive", "blkio.bfq.io_queued_recursive"),
               &b->io_queued_recursive, &b->n_io_queued_recursive);
  blk_v1_list (r, dfd,
               FILES ("blkio.io_service_time_recursive", "blkio.bfq.io_service_time_recursive"),
               &b->io_service_time_recursive, &b->n_io_service_time_recursive);
  blk_v1_list (r, dfd,
               FILES ("blkio.io_wait_time_recursive", "blkio.bfq.io_wait_time_recursive"),
               &b->io_wait_time_recursive, &b->n_io_wait_time_recursive);
  blk_v1_list (r, dfd, FILES ("blkio.io_merged_recursive", "blkio.bfq.io_merged_recursive"),
               &b->io_merged_recursive, &b->n_io_merged_recursive);
  blk_v1_list (r, dfd, FILES ("blkio.time_recursive", "blkio.bfq.time_recursive"),
               &b->io_time_recursive, &b->n_io_time_recursive);
  blk_v1_list (r, dfd, FILES ("blkio.sectors_recursive", "blkio.bfq.sectors_recursive"),
               &b->sectors_recursive, &b->n_sectors_recursive);
}

/* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N". */
static void
blk_v2 (struct rd *r, int dfd, Types__BlkioStats *b)
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
      uint64_t v;
      char *save = NULL;
      for (char *tok = strtok_r (line, " ", &save); tok; tok = strtok_r (NULL, " ", &save))
        {
          char *eq = strchr (tok, '=');
          if (!eq)
            continue;
          *eq = 0;
          v = num (eq + 1);
          if (strcmp (tok, "rbytes") == 0)
            blk_push (&b->io_service_bytes_recursive, &b->n_io_service_bytes_recursive, maj,
                      min, "Read", 4, v);
          else if (strcmp (tok, "wbytes") == 0)
            blk_push (&b->io_service_bytes_recursive, &b->n_io_service_bytes_recursive, maj,
                      min, "Write", 5, v);
          else if (strcmp (tok, "rios") == 0)
            blk_push (&b->io_serviced_recursive, &b->n_io_serviced_recursive, maj, min, "Read",
                      4, v);
          else if (strcmp (tok, "wios") == 0)
            blk_push (&b->io_serviced_recursive, &b->n_io_serviced_recursive, maj, min, "Write",
                      5, v);
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

static void
huge_push (Types__CgroupStats *s, size_t *cap, const char *size, Types__HugetlbStats **hs)
{
  if (s->n_hugetlb_stats == *cap)
    s->hugetlb_stats = xrealloc (s->hugetlb_stats, (*cap = *cap ? *cap * 2 : 4)
                                                       * sizeof *s->hugetlb_stats);
  Types__CgroupStats__HugetlbStatsEntry *e = xmalloc (sizeof *e);
  types__cgroup_stats__hugetlb_stats_entry__init (e);
  e->base.descriptor
      = stats_strict_entry_descriptor (&types__cgroup_stats__hugetlb_stats_entry__descriptor);
  e->key = xstrdup (size);
  e->value = xmalloc (sizeof *e->value);
  types__hugetlb_stats__init (e->value);
  s->hugetlb_stats[s->n_hugetlb_stats++] = e;
  *hs = e->value;
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
huge (struct rd *r, int dfd, bool v2, const char *hugepages_dir, Types__CgroupStats *s)
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
      Types__HugetlbStats *h;
      if (!v2)
        {
          huge_push (s, &cap, size, &h);
          snprintf (name, sizeof name, "hugetlb.%.31s.usage_in_bytes", size);
          h->usage = rd_u64 (r, dfd, name);
          snprintf (name, sizeof name, "hugetlb.%.31s.max_usage_in_bytes", size);
          h->max_usage = rd_u64 (r, dfd, name);
          snprintf (name, sizeof name, "hugetlb.%.31s.failcnt", size);
          h->failcnt = rd_u64 (r, dfd, name);
          continue;
        }
      snprintf (name, sizeof name, "hugetlb.%.31s.current", size);
      if (rd_file (r, dfd, name) < 0)
        continue; /* hugetlb not enabled in this v2 cgroup */
      huge_push (s, &cap, size, &h);
      h->usage = num (r->buf);
      snprintf (name, sizeof name, "hugetlb.%.31s.events", size);
      if (rd_file (r, dfd, name) > 0)
        h->failcnt = kv (r->buf, "max");
    }
}

/* ---- the whole thing ---- */

static Types__CgroupStats *
stats_new (void)
{
  Types__CgroupStats *s = xmalloc (sizeof *s);
  types__cgroup_stats__init (s);
  s->cpu_stats = xmalloc (sizeof *s->cpu_stats);
  types__cpu_stats__init (s->cpu_stats);
  s->cpu_stats->cpu_usage = xmalloc (sizeof *s->cpu_stats->cpu_usage);
  types__cpu_usage__init (s->cpu_stats->cpu_usage);
  s->cpu_stats->throttling_data = xmalloc (sizeof *s->cpu_stats->throttling_data);
  types__throttling_data__init (s->cpu_stats->throttling_data);
  s->memory_stats = xmalloc (sizeof *s->memory_stats);
  types__memory_stats__init (s->memory_stats);
  s->memory_stats->usage = mem_data ();
  s->memory_stats->swap_usage = mem_data ();
  s->memory_stats->kernel_usage = mem_data ();
  s->blkio_stats = xmalloc (sizeof *s->blkio_stats);
  types__blkio_stats__init (s->blkio_stats);
  s->pids_stats = xmalloc (sizeof *s->pids_stats);
  types__pids_stats__init (s->pids_stats);
  return s;
}

static void
closep (int *fd)
{
  if (*fd >= 0)
    close (*fd);
}

static int
read_dirs (const struct cgdirs *dirs, const char *hugepages_dir, bool neg_cache,
           Types__CgroupStats **out)
{
  struct rd r = { xmalloc (8192), 8192, 0, neg_cache };
  Types__CgroupStats *s = stats_new ();
  int fd[CGDIRS_N];
  for (int c = 0; c < CGDIRS_N; c++)
    fd[c] = -1;
  /* The v1 directories that are read; the unified one only where a v1
   * controller is missing (a hybrid host has all of them in v1). */
  static const int v1[] = { CGDIRS_CPU, CGDIRS_CPUACCT, CGDIRS_MEMORY,
                            CGDIRS_BLKIO, CGDIRS_HUGETLB, CGDIRS_PIDS };
  bool need_v2 = false;
  for (size_t i = 0; i < ARRAY_SIZE (v1); i++)
    {
      fd[v1[i]] = open_dir (dirs->dir[v1[i]]);
      need_v2 |= fd[v1[i]] < 0;
    }
  if (need_v2)
    fd[CGDIRS_UNIFIED] = open_dir (dirs->dir[CGDIRS_UNIFIED]);
  int v2 = fd[CGDIRS_UNIFIED];

  Types__CpuStats *cpu = s->cpu_stats;
  if (fd[CGDIRS_CPUACCT] >= 0 || fd[CGDIRS_CPU] >= 0)
    {
      r.ctl = CGDIRS_CPUACCT; /* cpuacct.* and cpu.* names do not collide */
      cpu_v1 (&r, fd[CGDIRS_CPUACCT], fd[CGDIRS_CPU], cpu->cpu_usage, cpu->throttling_data);
    }
  else if (v2 >= 0)
    {
      r.ctl = CGDIRS_UNIFIED;
      cpu_v2 (&r, v2, cpu->cpu_usage, cpu->throttling_data);
    }
  cpu->system_usage = stats_system_usage ();

  r.ctl = fd[CGDIRS_MEMORY] >= 0 ? CGDIRS_MEMORY : CGDIRS_UNIFIED;
  if (fd[CGDIRS_MEMORY] >= 0)
    mem_v1 (&r, fd[CGDIRS_MEMORY], s->memory_stats);
  else if (v2 >= 0)
    mem_v2 (&r, v2, s->memory_stats);

  r.ctl = fd[CGDIRS_BLKIO] >= 0 ? CGDIRS_BLKIO : CGDIRS_UNIFIED;
  if (fd[CGDIRS_BLKIO] >= 0)
    blk_v1 (&r, fd[CGDIRS_BLKIO], s->blkio_stats);
  else if (v2 >= 0)
    blk_v2 (&r, v2, s->blkio_stats);

  r.ctl = fd[CGDIRS_HUGETLB] >= 0 ? CGDIRS_HUGETLB : CGDIRS_UNIFIED;
  if (fd[CGDIRS_HUGETLB] >= 0)
    huge (&r, fd[CGDIRS_HUGETLB], false, hugepages_dir, s);
  else if (v2 >= 0)
    huge (&r, v2, true, hugepages_dir, s);

  int pfd = fd[CGDIRS_PIDS] >= 0 ? fd[CGDIRS_PIDS] : v2;
  r.ctl = fd[CGDIRS_PIDS] >= 0 ? CGDIRS_PIDS : CGDIRS_UNIFIED;
  if (pfd >= 0 && rd_file (&r, pfd, "pids.current") >= 0)
    {
      s->pids_stats->current = num (r.buf);
      uint64_t lim = rd_u64 (&r, pfd, "pids.max");
      s->pids_stats->limit = lim == UNLIMITED ? 0 : lim;
    }

  for (int c = 0; c < CGDIRS_N; c++)
    closep (&fd[c]);
  free (r.buf);
  *out = s;
  return 0;
}

int
stats_cgroup_read_dirs (const struct cgdirs *dirs, const char *hugepages_dir,
                        Types__CgroupStats **out, struct ctrd_error **err UNUSED)
{
  return read_dirs (dirs, hugepages_dir, false, out);
}

struct stats_cache
{
  pid_t pid; /* whose directories dirs holds; 0: none yet */
  struct cgdirs dirs;
};

struct stats_cache *
stats_cache_new (void)
{
  return xmalloc0 (sizeof (struct stats_cache));
}

void
stats_cache_free (struct stats_cache *c)
{
  if (!c)
    return;
  cgdirs_clear (&c->dirs);
  free (c);
}

int
stats_cgroup_read_cached (struct stats_cache *c, pid_t pid, Types__CgroupStats **out,
                          struct ctrd_error **err)
{
  if (c->pid != pid)
    {
      struct cgdirs d;
      if (cgdirs_for_pid (pid, &d, err) < 0)
        return -1;
      cgdirs_clear (&c->dirs);
      c->dirs = d;
      c->pid = pid;
    }
  return read_dirs (&c->dirs, NULL, true, out);
}

int
stats_cgroup_read (pid_t pid, Types__CgroupStats **out, struct ctrd_error **err)
{
  struct cgdirs d;
  if (cgdirs_for_pid (pid, &d, err) < 0)
    return -1;
  int ret = stats_cgroup_read_dirs (&d, NULL, out, err);
  cgdirs_clear (&d);
  return ret;
}

void
stats_cgroup_free (Types__CgroupStats *s)
{
  /* Everything hangs off s and was allocated with malloc: protobuf-c's
   * default allocator frees it the same way as an unpacked message. */
  if (s)
    protobuf_c_message_free_unpacked (&s->base, NULL);
}
