/* Shared between the files of runtime/ only. */
#ifndef CTRD_RUNTIME_INTERNAL_H
#define CTRD_RUNTIME_INTERNAL_H

#include <signal.h>

#include "runtime/runtime.h"

struct runtime
{
  struct runtime_config cfg; /* strings owned (copied) */
  struct container **buckets;
  size_t nbuckets, count;
  bool shutting_down;         /* runtime_free: leave shims running, unreaped */
  struct container *draining; /* DRAINING containers (not in the table) */
  bool (*exit_reported) (void *data, const char *id, const char *pid); /* restore only */
  void *exit_reported_data;
};

/* A CreateContainer waiting for a DRAINING container of the same id. */
struct pending_create
{
  struct pending_create *next;
  struct container_create req; /* strings owned */
  char **labels, **runtime_args;
  void (*done) (struct container *c, const struct ctrd_error *err, void *data);
  void *data;
};
void pending_free (struct pending_create *pc);

/* Marker file in a DRAINING container's dir: its exit was already reported
 * (a restart must not report it again). */
#define EXIT_REPORTED_FILE "exitReported"

/* Event source priorities (sd-event: lower runs first among pending ones).
 * An OOM notification before the exit it causes (oom.c), and an exit before
 * any API request that is pending at the same time: a request sent after a
 * process's exit became observable sees the process exited, never a stale
 * "running" (the API server's sources run at SD_EVENT_PRIORITY_NORMAL). */
#define RUNTIME_PRIORITY_EXIT (SD_EVENT_PRIORITY_IMPORTANT / 2)

/* container.c */
/* The bundle the runtime and the shim are given (statefile_runtime_bundle).
 * Caller frees. */
char *container_runtime_bundle (const struct container *c);
void runtime_table_add (struct runtime *rt, struct container *c);
void runtime_table_remove (struct runtime *rt, struct container *c);
struct container *container_alloc (struct runtime *rt, const char *id);
void container_free (struct container *c);
void runtime_emit (struct runtime *rt, const char *type, const char *id, const char *pid,
                   uint32_t status);
/* The container lifecycle table (docs/daemon.md "The container
 * lifecycle"): every event of a container is one of these, dispatched by
 * container_event() to container_action (state, event). */
enum container_event
{
  CONTAINER_EV_LAUNCHED,      /* the init's shim said "ok <pid>" (p) */
  CONTAINER_EV_LAUNCH_FAILED, /* its sync error, EOF or start timeout (p, err) */
  CONTAINER_EV_CANCEL,        /* the client cancelled CreateContainer */
  CONTAINER_EV_JOB_DONE,      /* c->job ended (r) */
  CONTAINER_EV_REAP_DONE,     /* reap_start's end (clean) */
  CONTAINER_EV_INIT_EXIT,     /* the init's status is known (p) */
  CONTAINER_EV_EXEC_EXIT,     /* an exec's status is known (p) */
  CONTAINER_EV_EXEC_GONE,     /* an exec that failed to start was removed */
  CONTAINER_EV_SHIM_EXIT,     /* one of c's shims, spawned by us, reaped (p) */
  CONTAINER_EV_SHIM_DONE,     /* p's shim hung up after its exit was taken (p) */
  CONTAINER_EV_OOM,           /* OOM kill in the memory cgroup */
  CONTAINER_NEVENTS
};
struct container_ev
{
  enum container_event type;
  struct process *p;
  const struct ctrd_error *err;
  const struct job_result *r;
  bool clean;
};
typedef void container_action_fn (struct container *c, const struct container_ev *ev);
/* The table's entry; never NULL for a valid pair (runtime/tests/test-core:
 * no hole). container_illegal marks an event that cannot happen there. */
container_action_fn *container_action (enum container_state s, enum container_event e);
void container_illegal (struct container *c, const struct container_ev *ev);
/* Run the action of c's state for ev (it may free c). An illegal event is
 * logged and changes nothing: -1. */
int container_event (struct container *c, const struct container_ev *ev);
const char *container_state_name (enum container_state s);
const char *container_event_name (enum container_event e);
/* An exec that failed to start was removed (EXEC_GONE: STOPPING may end). */
void container_on_exec_gone (struct container *c);
/* A process's status became known (state EXITED); report and clean up. */
void container_on_process_exit (struct process *p);
/* One of c's shims (spawned by us) was reaped. */
void container_on_shim_exit (struct process *p);
/* p's shim is gone after its exit was taken from exitStatus. */
void container_on_shim_done (struct process *p);
/* DRAINING → gone: rm -rf, free, run the waiting creates. */
void container_drain_finish (struct container *c);
void container_drain_add (struct container *c);
/* Restart: c's init never started; hold the id (DRAIN_REAP) while what its
 * operation started is reaped, then `<rt> delete -f` (DRAIN_DELETE) and
 * container_drain_finish; when the reap is not clean, nothing is deleted
 * and the id stays held. */
struct reap_target;
void container_drain_reap (struct container *c, const struct reap_target *t);
/* The init's shim is gone (HUP, and reaped if ours): delete the runtime's
 * state if that shim may not have, then container_drain_finish. */
void container_drain_settle (struct container *c);
/* Arm c->oom for the init's memory cgroup (failures are logged). */
void container_watch_oom (struct container *c);

/* process.c */
/* The process lifecycle table (docs/daemon.md "The process lifecycle"),
 * dispatched by process_event() to process_action (state, event). */
enum process_event
{
  PROCESS_EV_SYNC_LINE,     /* the shim's sync line (line; NULL: EOF) */
  PROCESS_EV_START_TIMEOUT, /* --start-timeout passed while STARTING */
  PROCESS_EV_STATUS_FILE,   /* exitStatus appeared in the process dir (inotify) */
  PROCESS_EV_EXIT_LINE,     /* "exit <status>" on the exit FIFO (status) */
  PROCESS_EV_SHIM_GONE,     /* exit FIFO hung up, or the shim found dead at restore */
  PROCESS_EV_PID_GONE,      /* the pidfd of the killed container process is readable */
  PROCESS_EV_SHIM_REAPED,   /* our shim reaped (si) */
  PROCESS_NEVENTS
};
struct process_ev
{
  enum process_event type;
  const char *line;
  long long status;
  const siginfo_t *si;
  bool taken; /* set by the action: EXIT_LINE's status was taken */
};
typedef void process_action_fn (struct process *p, struct process_ev *ev);
process_action_fn *process_action (enum process_state s, enum process_event e);
void process_illegal (struct process *p, struct process_ev *ev);
/* Run the action of p's state for ev (it may free p); illegal: logged, -1. */
int process_event (struct process *p, struct process_ev *ev);
const char *process_state_name (enum process_state s);
const char *process_event_name (enum process_event e);
void process_free (struct process *p);
/* The first "level":"error" msg of a runtime log (log.json), or NULL. */
char *runtime_log_first_error (const char *path);
/* Start monitoring an already running process (restore): exit FIFO opened
 * and registered; returns -1 when the FIFO cannot be watched. */
int process_watch_exit (struct process *p, struct ctrd_error **err);
/* The shim is gone (HUP, or found dead at restore): determine the status. */
void process_handle_shim_gone (struct process *p);
/* Unlink p from its container and free it; its directory stays. */
void process_forget (struct process *p);
/* Open p->pidfd for p->pid if it still has p->starttime. */
void process_open_pidfd (struct process *p);

#endif
