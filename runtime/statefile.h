/* Files of the state directory (docs/state-directory.md "File formats"): the
 * daemon reads and writes them here and only here. The other writer is the
 * shim, by the protocol of lib/shim-proto.h. */
#ifndef CTRD_RUNTIME_STATEFILE_H
#define CTRD_RUNTIME_STATEFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "lib/error.h"

struct container;

/* state.json, atomically, keys in the original's order
 * (docs/state-directory.md "state.json"). */
int statefile_write_state (const struct container *c, struct ctrd_error **err);
/* Load state.json into c's bundle/runtime/args/labels/shim/noPivot (missing
 * keys and nulls accepted). */
int statefile_read_state (struct container *c, struct ctrd_error **err);

/* process.json for the init process (docs/state-directory.md "process.json"):
 * the bundle's process object plus the containerd keys. */
json_object *statefile_init_process_spec (json_object *config, const char *in, const char *out,
                                          const char *errp, char *const *runtime_args,
                                          bool no_pivot, const char *checkpoint);
/* process.json for an exec (§3): takes over process (the OCI process object
 * of specs/spec_exec_process) and appends the containerd keys; runtimeArgs,
 * rootUID and rootGID come from the init's process.json (init, may be NULL). */
json_object *statefile_exec_process_spec (json_object *process, json_object *init, const char *in,
                                          const char *out, const char *errp, bool no_pivot);
/* The FIFO paths a process.json names for the process's stdio (fd 0, 1, 2:
 * containerdStdin, containerdStdout, containerdStderr); "" when missing. */
const char *statefile_process_stdio (json_object *spec, int fd);
int statefile_write_json (const char *path, json_object *o, struct ctrd_error **err);
int statefile_read_json (const char *path, json_object **out, struct ctrd_error **err);

/* A decimal integer file (pid, exitStatus, starttime, shim.pid): 0 and *v,
 * or -1 (ENOENT when missing, EINVAL when not a clean number). */
int statefile_read_ull (const char *dir, const char *name, unsigned long long *v);
int statefile_write_ull (const char *dir, const char *name, unsigned long long v,
                         struct ctrd_error **err);

/* An empty file <dir>/<name> (a marker such as exitReported), the directory
 * fsynced. Empty: it needs an inode and a name but no data block, so a full
 * state filesystem still takes it. */
int statefile_write_marker (const char *dir, const char *name, struct ctrd_error **err);
/* Remove a container or process directory so that a crash half-way never
 * leaves a directory a restart would read: first renamed (atomic) to
 * `.<name>.deleting` in the same parent, then removed (rm_rf: never into a
 * mount). A missing path is success. */
int statefile_remove_dir (const char *path, struct ctrd_error **err);
/* Remove every `.<name>.deleting` directory in dir (left by a crash during
 * statefile_remove_dir). */
void statefile_remove_leftovers (const char *dir);

/* ---- directories ---- */

/* mkdir path 0755: a container or process directory. An existing one is
 * ALREADY_EXISTS ("mkdir <path>: file exists"). */
int statefile_make_dir (const char *path, struct ctrd_error **err);
/* The exit and control FIFOs of a process directory (lib/shim-proto.h),
 * made before its shim starts; existing ones are kept. */
int statefile_make_fifos (const char *dir, struct ctrd_error **err);

/* ---- the runtime's bundle ---- */

/* The bundle directory ctrd writes in a container's dir when it translated a
 * pre-1.0 config.json (specs/translate.h): `.bundle`, a dot name, so never a
 * process directory (process ids cannot start with '.'), removed with the
 * container's dir. */
#define STATEFILE_BUNDLE_DIR ".bundle"

/* <dir>/.bundle/config.json: the translated config (the client's files are
 * never written), and <dir>/.bundle/client-bundle: the client's bundle path
 * (the shim's argv names .bundle). *config_path (caller frees): the
 * config.json written. */
int statefile_write_runtime_bundle (const char *dir, const char *client_bundle, json_object *config,
                                    char **config_path, struct ctrd_error **err);
/* The bundle the runtime and the shim are given: <dir>/.bundle when it holds
 * a translated config.json, else client_bundle. Caller frees. */
char *statefile_runtime_bundle (const char *dir, const char *client_bundle);
/* The client's bundle for a shim's bundle argument: the path recorded in
 * <dir>/.bundle/client-bundle when the argument is <dir>/.bundle, else the
 * argument itself (restart recovery from a shim's argv). Caller frees. */
char *statefile_client_bundle (const char *dir, const char *shim_bundle);

/* ---- the daemon's files at the top of the state directory ---- */

/* Create state_dir (and its parents) and take its lock file `.lock`: one
 * daemon per state directory. The fd (held until exit), or -1 with *holder
 * the pid holding it when known (lib/util.h lockfile_acquire). */
int statefile_lock_root (const char *state_dir, pid_t *holder, struct ctrd_error **err);
/* The event journal <state_dir>/events.log; its lines are the event bus's
 * (supervisor/events.c). Caller frees. */
char *statefile_journal_path (const char *state_dir);
/* Replace the journal atomically with data; an fd open on it for appending
 * (O_APPEND, CLOEXEC), or -1. */
int statefile_journal_rewrite (const char *path, const char *data, size_t len,
                               struct ctrd_error **err);
/* The journal for reading: 0 and *f (NULL when there is none), or -1. */
int statefile_journal_open (const char *path, FILE **f, struct ctrd_error **err);

/* Field 22 of /proc/<pid>/stat (split at the last ')'); 0 when gone. */
unsigned long long proc_starttime (pid_t pid);
/* Field want (1-based, want ≥ 3) of /proc/<pid>/stat, 0 when unreadable. */
unsigned long long proc_stat_field (pid_t pid, int want);

#endif
