/* Where a process's cgroups are: the directory of each controller ctrd
 * reads (cgroup v1, one hierarchy per controller or co-mounted), and of the
 * unified (v2) hierarchy, from the daemon's mountinfo and /proc/<pid>/cgroup.
 * Used by stats (runtime/stats.h) and OOM watches (runtime/oom.h). */
#ifndef CTRD_RUNTIME_CGDIRS_H
#define CTRD_RUNTIME_CGDIRS_H

#include <sys/types.h>

#include "lib/error.h"

enum cgdirs_controller
{
  CGDIRS_CPU,
  CGDIRS_CPUACCT,
  CGDIRS_MEMORY,
  CGDIRS_BLKIO,
  CGDIRS_HUGETLB,
  CGDIRS_PIDS,
  CGDIRS_DEVICES,
  CGDIRS_FREEZER,
  CGDIRS_UNIFIED, /* the cgroup2 hierarchy ("0::" line) */
  CGDIRS_N
};

/* Absolute directory per controller; NULL where the controller is not
 * mounted (v1) or the process has no such line. */
struct cgdirs
{
  char *dir[CGDIRS_N];
};

/* From the texts of a mountinfo file and a /proc/<pid>/cgroup file. The
 * hierarchy's mount root (4th mountinfo field) is stripped from the path when
 * it is a prefix (the daemon itself running in a cgroup namespace or a
 * bind-mounted sub-hierarchy). Only fails on a malformed cgroup line. */
int cgdirs_parse (const char *mountinfo, const char *proc_cgroup, struct cgdirs *out,
                  struct ctrd_error **err);

/* cgdirs_parse on /proc/self/mountinfo and /proc/<pid>/cgroup. A pid that
 * does not exist gives ENOENT (→ NOT_FOUND). */
int cgdirs_for_pid (pid_t pid, struct cgdirs *out, struct ctrd_error **err);

void cgdirs_clear (struct cgdirs *d);

#endif
