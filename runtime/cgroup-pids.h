/* The pids of a container (docs/api.md "Container": every pid of its cgroup
 * and of the cgroups below it, what `runc ps` lists, without forking it).
 * For State, without looking the cgroup up again on every call: the cgroup
 * directory is found once (runtime/cgdirs.h, the hierarchy `runc ps` reads:
 * devices first, or the unified one when it holds the same path) and held
 * open while the container runs. */
#ifndef CTRD_RUNTIME_CGROUP_PIDS_H
#define CTRD_RUNTIME_CGROUP_PIDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"

struct cgroup_pids
{
  int dirfd;     /* the cgroup directory, -1 when closed */
  int procsfd;   /* its cgroup.procs on cgroup2, -1 on v1 (reopened per read) */
  bool cgroupfs; /* st_nlink counts sub-directories (kernfs): else always walk */
};

/* A growing array of pids. */
struct pidvec
{
  uint32_t *v;
  size_t n, cap;
};

#define CGROUP_PIDS_CLOSED ((struct cgroup_pids){ -1, -1, false })

/* Find the cgroup of pid (the container's init) and open it. */
int cgroup_pids_open (struct cgroup_pids *sp, pid_t pid, struct ctrd_error **err);
void cgroup_pids_close (struct cgroup_pids *sp);

/* Replace out's contents with the pids of the cgroup and its sub-cgroups,
 * ascending. What cannot be read (the cgroup went away) is left out. Costs
 * one fstat and one read of cgroup.procs (on v1 with an openat/close around
 * it: v1 keeps serving a list made at an earlier read to an fd held open)
 * while there are no sub-cgroups (the directory's st_nlink is 2 on cgroupfs
 * then); their directories are walked only when there are some. */
void cgroup_pids_read (const struct cgroup_pids *sp, struct pidvec *out);

/* Once: open, read, close. *pids is malloc'ed (NULL when *n == 0). */
int cgroup_pids_of (pid_t pid, uint32_t **pids, size_t *n, struct ctrd_error **err);

#endif
