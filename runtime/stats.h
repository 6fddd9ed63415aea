/* Container statistics read directly from cgroup files (docs/runtime.md §4, §4.1):
 * no `runc events --stats` fork, no thread; one call is ~40 file reads,
 * about 100 microseconds (median, measured on a loaded 2-core VM).
 * cgroup v1 (per-controller or co-mounted hierarchies), v2, and hybrid hosts
 * (v1 controllers preferred, v2 files for the rest). */
#ifndef CTRD_RUNTIME_STATS_H
#define CTRD_RUNTIME_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/api.pb-c.h"
#include "lib/error.h"
#include "runtime/cgdirs.h"

/* Statistics of the cgroups of pid (the container's init). cpu_stats (with
 * cpu_usage, throttling_data and system_usage), memory_stats (usage,
 * swap_usage, kernel_usage, all memory.stat keys), blkio_stats and
 * pids_stats are always set; a controller that is absent leaves its section
 * zero/empty, never an error. Fails only when the pid's cgroups cannot be
 * found (no such process → ENOENT). Free with stats_cgroup_free. */
int stats_cgroup_read (pid_t pid, Types__CgroupStats **out, struct ctrd_error **err);

/* The same from known directories (callers that cache cgdirs; tests with a
 * sample tree). hugepages_dir lists the huge page sizes, NULL for
 * /sys/kernel/mm/hugepages. */
int stats_cgroup_read_dirs (const struct cgdirs *dirs, const char *hugepages_dir,
                            Types__CgroupStats **out, struct ctrd_error **err);

/* The daemon's per-container reads: the cgroup directories of pid are
 * found once (again when pid changes, e.g. after a restore), and v1 files
 * found absent are not looked up again for a minute (stats.c). That cache
 * is process-wide and unlocked: call from one thread (the daemon's loop). */
struct stats_cache;
struct stats_cache *stats_cache_new (void);
void stats_cache_free (struct stats_cache *c); /* NULL is fine */
int stats_cgroup_read_cached (struct stats_cache *c, pid_t pid, Types__CgroupStats **out,
                              struct ctrd_error **err);

void stats_cgroup_free (Types__CgroupStats *s);

/* The descriptor the entries of a map field get in the statistics built
 * here (gen: the generated descriptor of MemoryStats.StatsEntry or
 * CgroupStats.HugetlbStatsEntry; any other aborts): the same message with
 * key and value always packed, zero or not (stats.c says why: Docker 1.12
 * rejects an entry missing either). Anyone building such entries for the
 * wire sets e->base.descriptor to it. */
const ProtobufCMessageDescriptor *
stats_strict_entry_descriptor (const ProtobufCMessageDescriptor *gen);

/* Host CPU time in ns: the first `cpu` line of /proc/stat, fields 2-8 summed,
 * × 10^9 / CLK_TCK (docs/runtime.md §4); 0 on any error. */
uint64_t stats_system_usage (void);

/* Every pid in the cgroup of pid and its sub-cgroups (what `runc ps` lists:
 * the devices hierarchy on v1, else pids/memory/cpu..., the unified one on
 * v2), ascending. *pids is malloc'ed (NULL when *n == 0). */
int stats_pids_in_cgroup (pid_t pid, uint32_t **pids, size_t *n, struct ctrd_error **err);

#endif
