/* The container and process model (docs/daemon.md §4–§7, docs/state-directory.md).
 *
 * One `struct runtime` owns every container (a hash table keyed by id) and
 * is the single source of truth (docs/failure-modes.md #5): the state directory is
 * written from here and only here, and every transition goes through the
 * state machines below, on the daemon's one sd-event loop.
 *
 * Both lifecycles are state × event tables (container_actions in
 * container.c, process_actions in process.c), drawn in docs/daemon.md "The
 * container lifecycle" and "The process lifecycle": every event goes
 * through container_event()/process_event(), and the entry [state][event]
 * is the one place that says what it does in that state. In short:
 *
 *   CREATING → STARTING → RUNNING → STOPPING[_DELETE] → (DRAINING…) → gone
 *   CREATING/STARTING failure → ABORT_* (reap, delete -f, rm -rf, reply the
 *   error; nothing emitted) → gone
 *
 * Process: STARTING → RUNNING → (EXITING: shim died) → EXITED, or CLEANUP
 * (status from exitStatus while the shim still cleans up) → EXITED.
 *
 * Exits are reported through cfg.emit; each process's exit is emitted once
 * and its directory removed in the same loop iteration, so an id can be
 * re-created as soon as a client sees its exit event. */
#ifndef CTRD_RUNTIME_RUNTIME_H
#define CTRD_RUNTIME_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "lib/error.h"
#include "lib/shim-proto.h"

struct runtime;
struct container;
struct process;
struct job;
struct job_result;

typedef void (*runtime_emit_fn) (void *data, const char *type, const char *id, const char *pid,
                                 uint32_t status);

/* Durations for the daemon's metrics (docs/daemon.md §9). */
enum runtime_timing
{
  RUNTIME_TIMING_EXIT,   /* init exit noticed → its exit event emitted */
  RUNTIME_TIMING_DELETE, /* init exit noticed → the container's state removed */
};
typedef void (*runtime_timing_fn) (void *data, enum runtime_timing what, int64_t ns);

struct runtime_config
{
  sd_event *loop;
  const char *state_dir;     /* absolute, exists */
  const char *shim;          /* --shim */
  const char *runtime;       /* --runtime */
  char *const *runtime_args; /* --runtime-args, NULL-terminated or NULL */
  int64_t start_timeout_ns;  /* --start-timeout */
  runtime_emit_fn emit;      /* events: start-container, exit, ... */
  void *emit_data;
  runtime_timing_fn timing; /* optional; called with emit_data */
};

/* docs/daemon.md "The container lifecycle" (the sub-states of one phase are
 * adjacent: container_state_aborting & co.). */
enum container_state
{
  CONTAINER_CREATING, /* shim spawned, its sync line awaited */
  CONTAINER_STARTING, /* `<rt> start` job running */
  CONTAINER_RUNNING,
  CONTAINER_STOPPING,           /* init's status known; execs' exits awaited */
  CONTAINER_STOPPING_DELETE,    /* then `<rt> delete -f` (need_delete) */
  CONTAINER_ABORT_INSPECT,      /* "already exists": `<rt> state <id>` job */
  CONTAINER_ABORT_STALE_DELETE, /* that state was stale (stopped): `<rt> delete` */
  CONTAINER_ABORT_REAP,         /* what the start left running being reaped (reap.h) */
  CONTAINER_ABORT_KILL,         /* the killed shim awaited before `delete -f` */
  CONTAINER_ABORT_DELETE,       /* `<rt> delete -f` job */
  CONTAINER_ABORT_SETTLE,       /* runtime's state handled; our shim's end awaited */
  CONTAINER_DRAINING,           /* exit reported; the init's shim's end awaited */
  CONTAINER_DRAIN_REAP,         /* restart: a dead create's operation being reaped */
  CONTAINER_DRAIN_DELETE,       /* `<rt> delete -f` before the id is free */
  CONTAINER_NSTATES
};

static inline bool
container_state_aborting (enum container_state s)
{
  return s >= CONTAINER_ABORT_INSPECT && s <= CONTAINER_ABORT_SETTLE;
}

static inline bool
container_state_stopping (enum container_state s)
{
  return s == CONTAINER_STOPPING || s == CONTAINER_STOPPING_DELETE;
}

static inline bool
container_state_draining (enum container_state s)
{
  return s >= CONTAINER_DRAINING && s <= CONTAINER_DRAIN_DELETE;
}

/* docs/daemon.md "The process lifecycle" */
enum process_state
{
  PROCESS_STARTING, /* shim spawned, its sync line awaited */
  PROCESS_RUNNING,  /* exit FIFO and exitStatus watched */
  PROCESS_EXITING,  /* shim died without exitStatus: the container pid being killed */
  PROCESS_EXITED,   /* status known and reported; the shim is gone */
  PROCESS_CLEANUP,  /* status known (exitStatus) and reported; the shim still cleans up */
  PROCESS_NSTATES
};

/* Launch completion for process_launch(): err NULL on success (the process
 * is RUNNING), else the start error (the process dir is left to the caller). */
typedef void (*process_launched_fn) (struct process *p, const struct ctrd_error *err, void *data);

struct process
{
  struct container *c;
  struct process *next; /* in c->procs */
  char *id;             /* "init" or the exec id */
  char *dir;            /* <state>/<cid>/<id> */
  enum process_state state;
  json_object *spec;            /* process.json (OCI process + containerd keys) */
  pid_t pid;                    /* host pid of the container process, 0 unknown */
  unsigned long long starttime; /* /proc/<pid>/stat field 22, 0 unknown */
  int pidfd;                    /* of pid, opened once starttime was checked; -1 */
  int exit_fd, control_fd;      /* FIFOs, -1 when closed */
  sd_event_source *exit_src;    /* HUP on exit_fd */
  pid_t shim_pid;
  bool shim_is_child; /* spawned by this daemon (else adopted at restore) */
  bool shim_exited;
  sd_event_source *shim_src; /* child source (our shims) */
  int status;                /* exit status once EXITED */
  int64_t exited_ns;         /* CLOCK_MONOTONIC when the status became known */
  bool shim_died;            /* shim ended without writing exitStatus */
  bool shim_killed;          /* our shim was reaped killed by a signal */
  int shim_code;             /* our shim's exit code once reaped (lib/shim-proto.h) */
  /* while STARTING */
  int sync_fd;
  sd_event_source *sync_src, *timer_src;
  char *sync_buf;
  process_launched_fn launched;
  void *launched_data;
  /* while EXITING */
  sd_event_source *pidfd_src;
  struct job *job;
  /* exitStatus appearing in dir (inotify): the exit is known before the
   * shim finished its cleanup (runtime delete): CLEANUP. */
  sd_event_source *status_src;
};

/* p's exit status is known (EXITED or CLEANUP). */
static inline bool
process_has_status (const struct process *p)
{
  return p->state == PROCESS_EXITED || p->state == PROCESS_CLEANUP;
}

struct container
{
  struct runtime *rt;
  struct container *chain; /* hash bucket chain (runtime-private) */
  char *id, *dir, *bundle, *runtime_bin, *shim;
  char **runtime_args; /* NULL-terminated, NULL when none */
  char **labels;
  bool no_pivot;
  enum container_state state;
  struct process *init;
  struct process *procs; /* every process incl. init */
  /* creation */
  void (*created) (struct container *c, const struct ctrd_error *err, void *data);
  void *created_data;
  struct ctrd_error *abort_err;
  /* The runtime said "already exists": its state of this id is not ours.
   * A stopped one (stale: a cleanup that never ran) is deleted and the
   * create retried once from retry; anything else is ALREADY_EXISTS and
   * is never deleted. */
  struct pending_create *retry;
  /* Facts of an abort (its steps are the ABORT_* states): the error said
   * "already exists" (foreign), the shim is being killed (kill), the stale
   * state was deleted (the create is retried). */
  bool abort_foreign, abort_kill, stale_cleared;
  struct job *job;  /* the job of the state (start, state, delete) */
  int start_lock;   /* STARTING: flock on the init's dir, or -1 (lib/shim-proto.h) */
  bool need_delete; /* STOPPING: the shim left the runtime's state */
  int64_t exit_ns;  /* init exit known (CLOCK_MONOTONIC), for metrics */
  /* DRAINING: exit reported, id held until init's shim finished cleaning
   * up; creates of the same id wait in pending (runtime-private). */
  struct container *drain_next;
  struct pending_create *pending;
  struct oom_watch *oom;     /* memory cgroup OOM notifications, or NULL */
  struct stats_cache *stats; /* cgroup dirs for Stats, made on the first call */
  /* ops (runtime/ops.h): the pause/resume/update/checkpoint job in flight */
  struct ops_op *ops_op;
  /* Frozen: set when this daemon's `<rt> pause` succeeded, cleared by a
   * resume; read from the freezer once when adopted at restart and after a
   * pause/resume that failed or a checkpoint (runtime/pause.c). */
  bool paused;
  /* State's cache of this container's message and cgroup fds
   * (supervisor/api-container.c), released by state_cache_free (set with
   * it) when the init's exit is reported and when the container is freed. */
  void *state_cache;
  void (*state_cache_free) (void *cache);
};

/* Release c's state_cache (runtime/container.c). */
void container_drop_state_cache (struct container *c);

struct runtime *runtime_new (const struct runtime_config *cfg);
/* Free the model; shims and containers keep running (daemon shutdown). */
void runtime_free (struct runtime *rt);
const struct runtime_config *runtime_config (const struct runtime *rt);

struct container *runtime_find (struct runtime *rt, const char *id);
/* Iterate: pass NULL first; returns NULL at the end. Do not modify the table meanwhile. */
struct container *runtime_next (struct runtime *rt, struct container *prev);
size_t runtime_count (const struct runtime *rt);
/* No container at all: none in the table and none whose id is still held
 * while its shim cleans up. */
bool runtime_empty (const struct runtime *rt);
struct process *container_find_process (struct container *c, const char *pid);

struct container_create
{
  const char *id, *bundle;
  const char *stdin_path, *stdout_path, *stderr_path; /* NULL/"" → /dev/null */
  char *const *labels;
  bool no_pivot;
  const char *runtime;       /* "" → daemon default (and default args) */
  char *const *runtime_args; /* used when runtime is non-empty */
  const char *checkpoint, *checkpoint_dir;
  bool stale_cleared; /* internal: a retry after stale state was deleted */
};

/* CreateContainer (docs/daemon.md §4). Synchronous validation errors return -1
 * with nothing created; otherwise done runs later exactly once: with the
 * RUNNING container, or with the error (then nothing is left: no dir, no
 * shim, no runtime state). start-container is emitted right after done. */
int runtime_container_create (struct runtime *rt, const struct container_create *req,
                              void (*done) (struct container *c, const struct ctrd_error *err,
                                            void *data),
                              void *data, struct ctrd_error **err);

/* The client gave up on CreateContainer (RPC cancelled) while the shim of
 * container id is still starting: kill the shim and undo everything; its
 * done callback then runs with CANCELLED "context canceled". In a later
 * phase (`<rt> start` running) the start completes normally. */
void runtime_container_create_cancel (struct runtime *rt, const char *id);

/* For AddProcess (and create): allocate a process of c in <c->dir>/<id>
 * (the dir must exist and process.json be written by the caller:
 * process_write_spec), then launch its shim. */
struct process *process_new (struct container *c, const char *id);
int process_write_spec (struct process *p, json_object *spec, struct ctrd_error **err);
/* Make the FIFOs, spawn the shim with the sync pipe, and wait (async) for
 * its sync line under the start timeout. exec: true for AddProcess. */
int process_launch (struct process *p, process_launched_fn done, void *data,
                    struct ctrd_error **err);
/* Free a process that failed to launch (after its callback): removes its
 * dir and unlinks it from the container. */
void process_discard (struct process *p);

/* AddProcess: mkdir <c>/<pid> (EEXIST → ALREADY_EXISTS "mkdir <dir>: file
 * exists"), write spec as its process.json (a complete exec process object:
 * `exec: true`, containerd keys), launch the shim in exec mode. A container
 * that is not running → FAILED_PRECONDITION. Synchronous errors return -1
 * with nothing left; otherwise done runs later exactly once, with the
 * RUNNING process (then start-process is emitted) or with the error (then
 * the process directory is gone and its shim killed/reaped). */
typedef void (*runtime_exec_fn) (struct process *p, const struct ctrd_error *err, void *data);
int runtime_exec (struct container *c, const char *pid, json_object *spec, runtime_exec_fn done,
                  void *data, struct ctrd_error **err);

/* The client gave up on AddProcess while the exec's shim is starting:
 * kill it and undo; done then runs with CANCELLED "context canceled". */
void runtime_exec_cancel (struct container *c, const char *pid);

/* Write one control message (docs/state-directory.md "The control FIFO") to p's `control` FIFO:
 * SHIM_CONTROL_CLOSE_STDIN (a = b = 0) or SHIM_CONTROL_RESIZE (a = width,
 * b = height). */
int process_control (struct process *p, enum shim_control type, unsigned a, unsigned b,
                     struct ctrd_error **err);

/* Send sig to the process's host pid through its pidfd (the pid-reuse
 * check was done when the pidfd was opened). Errors: Go's lowercase errno
 * texts ("no such process"). */
int process_signal (struct process *p, int sig, struct ctrd_error **err);

/* Run `<rt> <g> <sub...>` for c as a job (docs/runtime.md §2). */
int container_runtime_job (struct container *c, const char *const *sub, const char *stdin_data,
                           size_t stdin_len, void (*done) (const struct job_result *r, void *data),
                           void *data, struct job **out, struct ctrd_error **err);

/* Restart recovery (docs/daemon.md §7): adopt every container directory. Never
 * fails the daemon: what cannot be loaded is logged and skipped/removed.
 * Exits that happened while the daemon was down are reported via emit. */
void runtime_restore (struct runtime *rt);
/* For the next runtime_restore only (forgotten when it returns): fn says
 * whether the last start or exit event of process pid of container id in
 * the event log is its exit. A process directory found after a crash
 * between that event and the directory's removal is then cleaned up
 * without reporting the exit a second time. */
void runtime_set_exit_reported (struct runtime *rt,
                                bool (*fn) (void *data, const char *id, const char *pid),
                                void *data);

#endif
