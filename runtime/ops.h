/* Operations on a live container besides start, exec and signals: pause and
 * resume, resource update, checkpoints (docs/runtime.md §2 #7, #8, #12, #13, §3,
 * §5; docs/api.md UpdateContainer, Create/Delete/ListCheckpoint).
 *
 * Every runtime call is an asynchronous job on the daemon's loop (the
 * original ran them, CRIU included, inside its only loop). At most one such
 * operation runs per container: a second one while the first is in flight is
 * refused with ABORTED instead of racing the runtime on the same container
 * (Docker serialises these per container itself, so it never sees that).
 * pause/resume/update runtime calls are killed after 2 minutes (a stuck
 * runtime must not hold that slot forever); checkpoints are not bounded.
 *
 * Completion: a function returning 0 calls done exactly once, later, from
 * the loop; it never calls it before returning. -1 means nothing was started
 * (and, for checkpoints, nothing was created). The container may be gone by
 * the time done runs (its init exited meanwhile); done still runs. */
#ifndef CTRD_RUNTIME_OPS_H
#define CTRD_RUNTIME_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"

struct container;

typedef void (*ops_done_fn) (const struct ctrd_error *err, void *data);

/* `<rt> <g> pause <id>` (pause = true) or `resume`. On success the `pause` /
 * `resume` event is emitted (runtime_config.emit) just before done. The
 * container must be running (else FAILED_PRECONDITION). */
int ops_pause (struct container *c, bool pause, ops_done_fn done, void *data,
               struct ctrd_error **err);
/* Is the cgroup of process pid frozen (v1 freezer.state FROZEN or
 * FREEZING, else v2 cgroup.freeze 1)? false when it cannot be read. Reads
 * the files: for the moments c->paused is not known otherwise (adoption,
 * a failed pause), never per State. */
bool ops_cgroup_frozen (pid_t pid);

/* UpdateResource (docs/api.md) with proto3 semantics: 0 / "" = not given. */
struct ops_resources
{
  uint64_t blkio_weight, cpu_shares, cpu_period, cpu_quota, cpu_rt_period;
  int64_t cpu_rt_runtime;
  const char *cpuset_cpus, *cpuset_mems;
  uint64_t memory_limit, memory_swap, memory_reservation, kernel_memory, kernel_tcp_memory;
  uint64_t pids_limit;
  /* Not updatable through `<rt> update`: refused when set. */
  uint64_t blkio_leaf_weight;
  size_t n_blkio_devices; /* weight + throttle device entries, all lists */
};

/* True when no field is given (the update is a no-op). */
bool ops_resources_empty (const struct ops_resources *r);
/* The resources document for `<rt> update -r -` (runtime-spec 1.0
 * LinuxResources, single line + "\n"), with only the given fields (docs/runtime.md
 * §5: zeros are "unchanged" for the runtime anyway, and runc would
 * persist them). The uint64 fields the original reinterprets as int64 are
 * printed signed (Docker's 2^64-1 swap is -1 = unlimited). Errors
 * (INVALID_ARGUMENT / UNIMPLEMENTED): blkio weight outside 10..1000, leaf
 * weight or device lists given. */
char *ops_update_json (const struct ops_resources *r, struct ctrd_error **err);
/* Run `<rt> <g> update -r - <id>` with that document on stdin. A blkio
 * weight on a host whose I/O scheduler has no weight file in the
 * container's cgroup → FAILED_PRECONDITION before the runtime runs. A
 * runtime failure's message is its combined output (docs/runtime.md §5). */
int ops_update (struct container *c, const struct ops_resources *r, ops_done_fn done, void *data,
                struct ctrd_error **err);

/* Checkpoint options (docs/api.md Checkpoint). empty_ns: NULL-terminated or NULL. */
struct ops_checkpoint
{
  const char *name;
  bool exit, tcp, unix_sockets, shell;
  char *const *empty_ns;
};

/* A checkpoint name becomes a directory name and part of runc's argv:
 * "" → "checkpoint name cannot be empty"; "..", "a/b", "-x", control bytes,
 * over 128 bytes → INVALID_ARGUMENT. */
int ops_checkpoint_name_check (const char *name, struct ctrd_error **err);
/* The checkpoint parent directory of a request: checkpoint_dir made
 * absolute, or <bundle>/checkpoints when empty. Caller frees. */
char *ops_checkpoint_parent (const struct container *c, const char *checkpoint_dir);
/* The checkpoint's config.json (docs/runtime.md §3.2): keys created, name, tcp,
 * unixSockets, shell, exit, emptyNS (omitted when empty), one line + "\n";
 * created = created_ns as Go RFC 3339 nano in the local zone. */
char *ops_checkpoint_config (const struct ops_checkpoint *cp, int64_t created_ns);
/* Subcommand part of docs/runtime.md #13 (after the runtime's global args):
 * checkpoint --image-path <image_dir> --work-path <image_dir>/criu.work
 * [--leave-running] [--shell-job] [--tcp-established] [--ext-unix-sk]
 * [--empty-ns <ns>]... <id>. NULL-terminated; strv_free. */
char **ops_checkpoint_sub (const char *image_dir, const struct ops_checkpoint *cp, const char *id);
/* CreateCheckpoint: validate, mkdir -p <parent> (0755), mkdir
 * <parent>/<name> (EEXIST → ALREADY_EXISTS "mkdir <path>: file exists"),
 * write config.json, run the checkpoint job. A failure's message names the
 * CRIU log (<image_dir>/criu.work/dump.log); the directory is then kept for
 * that log (docs/runtime.md §3.3). With cp->exit the container's processes end
 * after the dump and the usual exit event follows. */
int ops_checkpoint_create (struct container *c, const char *parent, const struct ops_checkpoint *cp,
                           ops_done_fn done, void *data, struct ctrd_error **err);

/* One entry of a checkpoint directory, from its config.json. */
struct ops_checkpoint_info
{
  char *name;
  bool exit, tcp, unix_sockets, shell;
  char **empty_ns; /* NULL-terminated or NULL */
};
/* ListCheckpoint: every sub-directory of parent (sorted bytewise by name;
 * files and symlinks skipped) must hold a valid config.json, else the whole
 * call fails naming the file. parent missing → NOT_FOUND. */
int ops_checkpoint_list (const char *parent, struct ops_checkpoint_info **out, size_t *n,
                         struct ctrd_error **err);
void ops_checkpoint_list_free (struct ops_checkpoint_info *v, size_t n);
/* DeleteCheckpoint: name checked, rm -rf <parent>/<name> (absent is fine)
 * only when it is what CreateCheckpoint made: a directory (not a symlink)
 * with a regular config.json holding "created" and "name" == name; anything
 * else is FAILED_PRECONDITION and left alone. */
int ops_checkpoint_delete (const char *parent, const char *name, struct ctrd_error **err);

#endif
