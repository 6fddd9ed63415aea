/* Container statistics read directly from cgroup files (docs/runtime.md §4, §4.1):
 * no `runc events --stats` fork, no thread. cgroup v1 (per-controller or
 * co-mounted hierarchies), v2, and hybrid hosts (v1 controllers preferred,
 * v2 files for the rest). Plain C: the API layer translates a struct
 * container_stats into the wire message (supervisor/stats-message.h), as it
 * translates CreateContainer into struct container_create. */
#ifndef CTRD_RUNTIME_STATS_H
#define CTRD_RUNTIME_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"
#include "runtime/cgdirs.h"

/* One device line of a blkio (v1) or io.stat (v2) file. op is "Read",
 * "Write", "Sync", "Async", "Discard", "Total" (v1) or "" for files without
 * an op column (sectors, time). */
struct stats_blkio_entry
{
  uint64_t major, minor;
  char op[16];
  uint64_t value;
};

/* The blkio lists, in the order of the wire's BlkioStats fields 1..8. */
enum stats_blkio_list
{
  STATS_BLKIO_SERVICE_BYTES,
  STATS_BLKIO_SERVICED,
  STATS_BLKIO_QUEUED,
  STATS_BLKIO_SERVICE_TIME,
  STATS_BLKIO_WAIT_TIME,
  STATS_BLKIO_MERGED,
  STATS_BLKIO_TIME,
  STATS_BLKIO_SECTORS,
  STATS_BLKIO_N
};

struct stats_memory_data
{
  uint64_t usage, max_usage, failcnt, limit;
};

/* One "key value" line of memory.stat; key points into the owning
 * container_stats (memory.text). */
struct stats_memory_kv
{
  const char *key;
  uint64_t value;
};

/* One huge page size, named as runc names it ("2MB", "1GB"). The wire's
 * HugetlbStats.limit is always 0 (runc reports none). */
struct stats_hugetlb
{
  char size[32];
  uint64_t usage, max_usage, failcnt;
};

/* Everything a Stats call reports about a container's cgroups. Times in ns.
 * A controller that is absent leaves its part zero/empty. Owns its arrays:
 * release with container_stats_clear. */
struct container_stats
{
  struct
  {
    uint64_t total_usage, usage_in_kernelmode, usage_in_usermode;
    uint64_t *percpu_usage;
    size_t n_percpu_usage;
    uint64_t periods, throttled_periods, throttled_time;
    uint64_t system_usage; /* host cpu time (stats_system_usage) */
  } cpu;
  struct
  {
    uint64_t cache;
    struct stats_memory_data usage, swap_usage, kernel_usage;
    struct stats_memory_kv *stats; /* every memory.stat line, in file order */
    size_t n_stats;
    char *text; /* memory.stat's text the keys point into */
  } memory;
  struct
  {
    struct stats_blkio_entry *v;
    size_t n;
  } blkio[STATS_BLKIO_N];
  struct stats_hugetlb *hugetlb;
  size_t n_hugetlb;
  struct
  {
    uint64_t current, limit; /* limit 0: none ("max") */
  } pids;
};

/* Frees what s holds and zeroes it (a zeroed one is fine). */
void container_stats_clear (struct container_stats *s);

/* Statistics of the cgroups of pid (the container's init) into *out
 * (overwritten, not freed first). Fails only when the pid's cgroups cannot
 * be found (no such process → ENOENT); *out is then zero. */
int stats_cgroup_read (pid_t pid, struct container_stats *out, struct ctrd_error **err);

/* The same from known directories (tests with a sample tree).
 * hugepages_dir lists the huge page sizes, NULL for /sys/kernel/mm/hugepages. */
int stats_cgroup_read_dirs (const struct cgdirs *dirs, const char *hugepages_dir,
                            struct container_stats *out, struct ctrd_error **err);

/* The daemon's per-container reads: the cgroup directories of pid are
 * found and opened once (again when pid changes, e.g. after a restore) and
 * held as directory fds (at most one per distinct directory, ≤ 7) until
 * stats_cache_free, which the container's end calls: nothing stays behind
 * a container that is gone. v1 files found absent are not looked up again
 * for a minute. loop_stamp: the time of the daemon loop's iteration
 * (sd_event_now); the calls with the same non-zero stamp share one read of
 * /proc/stat for system_usage, 0 reads it afresh. The caches are
 * process-wide and unlocked: call from one thread, the daemon's loop. */
struct stats_cache;
struct stats_cache *stats_cache_new (void);
void stats_cache_free (struct stats_cache *c); /* NULL is fine */
int stats_cgroup_read_cached (struct stats_cache *c, pid_t pid, uint64_t loop_stamp,
                              struct container_stats *out, struct ctrd_error **err);
/* Directory fds c holds (tests: they come back after stats_cache_free). */
int stats_cache_fds (const struct stats_cache *c);

/* Host CPU time in ns: the first `cpu` line of /proc/stat, fields 2-8 summed,
 * × 10^9 / CLK_TCK (docs/runtime.md §4); 0 on any error. */
uint64_t stats_system_usage (void);

#endif
