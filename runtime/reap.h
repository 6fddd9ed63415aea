/* Recovery of an operation whose daemon died (restart recovery): before
 * anything of it is deleted, every process the operation started is killed
 * and gone, and what the runtime and CRIU mounted for it is unmounted.
 *
 * Why: a `<rt> restore` (CRIU) that is still running has bind-mounted the
 * bundle's rootfs under the runtime's state dir (runc: <root>/<id>/criu-root);
 * `<rt> delete -f` removes that state dir recursively, through the mount, into
 * the user's files. So: kill and wait first, unmount, then delete.
 *
 * The set of processes (found by scanning /proc, rare and only at recovery):
 *   - the shim, when it is alive and still that process's shim, and every
 *     member of its process group (the shim leads one: process.c spawns it
 *     with its own pgid); when the shim is gone, members of that group whose
 *     argv names the container (the runtime command);
 *   - every descendant of those (CRIU, the runtime's init), and for a
 *     restore every process whose cwd is in the CRIU work dir (CRIU, when
 *     the runtime that started it is gone);
 *   - for the init's operation (whole), every process in the container's
 *     cgroups (each v1 hierarchy and the unified one; a frozen cgroup is
 *     thawed so that SIGKILL can act).
 * Each is stopped (SIGSTOP, so that nothing forks while the set is
 * collected), then killed; its pidfd says when it is gone. The set is
 * collected again until it is empty (a bounded number of rounds, 10 s in
 * all). Only then the mounts under the runtime's state dir of the id and
 * under the CRIU work dir that ctrd chose are unmounted (lazily, deepest
 * first). */
#ifndef CTRD_RUNTIME_REAP_H
#define CTRD_RUNTIME_REAP_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/error.h"

struct container;

struct reap_target
{
  pid_t shim_pid;        /* from shim.pid, 0 when unknown */
  bool shim_verified;    /* shim_pid is alive and is this process's shim */
  bool whole;            /* the init's operation: the cgroups and mounts too */
  const char *criu_work; /* "<checkpoint>/criu.work" of a restore, or NULL */
};

/* clean: everything is gone and unmounted; false: something survived the
 * rounds (logged, with its pids): the caller must delete nothing. */
typedef void (*reap_done_fn) (struct container *c, bool clean);

/* Start the reap of c's dead operation on the runtime's loop; done runs
 * later (never from inside reap_start). -1 with err when it cannot start. */
int reap_start (struct container *c, const struct reap_target *t, reap_done_fn done,
                struct ctrd_error **err);

/* Stop and kill the set of t at once, without waiting (an exec that never
 * started: nothing of it is deleted by the runtime). */
void reap_kill_now (struct container *c, const struct reap_target *t);

/* At start-up, before any container is restored: the previous daemon's own
 * runtime invocations that still run (its jobs run in the state dir:
 * pause, update, checkpoint, start, delete …, found by that cwd) are killed
 * with their descendants (CRIU) and waited for (pidfds, at most 5 s). Returns
 * the ids (NULL-terminated, caller frees) of containers whose checkpoint was
 * among them: CRIU froze them and they stay frozen until resumed. */
char **reap_orphan_jobs (const char *state_dir);

/* Thaw c's cgroups at once (v1 freezer.state, v2 cgroup.freeze), as
 * `<rt> resume` does: a container CRIU froze for a dump that was killed. */
void reap_thaw (struct container *c);

/* After `<rt> delete -f`: remove what the runtime created for c and may
 * have left when it died before writing its own state: the empty cgroup
 * dirs of the container in every hierarchy, and the runtime's state dir of
 * the id (never crossing a mount). Failures are logged. */
void reap_remove_leftovers (struct container *c);

/* The runtime's state dir of c: `--root` of its runtime args, else
 * /run/crun for crun, /run/runc for any other; then /<id>. */
char *reap_runtime_state_dir (const struct container *c);

#endif
