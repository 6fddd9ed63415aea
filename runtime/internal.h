/* Shared between the files of runtime/ only. */
#ifndef CTRD_RUNTIME_INTERNAL_H
#define CTRD_RUNTIME_INTERNAL_H

#include "runtime/runtime.h"

struct runtime
{
  struct runtime_config cfg; /* strings owned (copied) */
  struct container **buckets;
  size_t nbuckets, count;
  bool shutting_down; /* runtime_free: leave shims running, unreaped */
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


/* The bundle directory ctrd writes in a container's dir when it translated a
 * pre-1.0 config.json (specs/translate.h): `.bundle`, a dot name, so never a
 * process directory (process ids cannot start with '.'), removed with the
 * container's dir. */
#define RUNTIME_BUNDLE_DIR ".bundle"

/* container.c */
/* The bundle the runtime and the shim are given: <dir>/.bundle when it holds
 * a translated config.json, else the client's bundle. Caller frees. */
char *container_runtime_bundle (const struct container *c);
/* The client's bundle for a shim's bundle argument: the path recorded in
 * <dir>/.bundle/client-bundle when the argument is <dir>/.bundle, else the
 * argument itself (restart recovery from a shim's argv). Caller frees. */
char *container_client_bundle (const struct container *c, const char *shim_bundle);
void runtime_table_add (struct runtime *rt, struct container *c);
void runtime_table_remove (struct runtime *rt, struct container *c);
struct container *container_alloc (struct runtime *rt, const char *id);
void container_free (struct container *c);
void runtime_emit (struct runtime *rt, const char *type, const char *id, const char *pid,
                   uint32_t status);
/* STOPPING: emit init's exit once every exec's exit was emitted. */
void container_maybe_finish (struct container *c);
/* A process's status became known (state EXITED); report and clean up. */
void container_on_process_exit (struct process *p);
/* One of c's shims (spawned by us) was reaped. */
void container_on_shim_exit (struct process *p);
/* p's shim is gone after its exit was taken from exitStatus. */
void container_on_shim_done (struct process *p);
/* DRAINING → gone: rm -rf, free, run the waiting creates. */
void container_drain_finish (struct container *c);
void container_drain_add (struct container *c);
/* Completion of a DRAINING container's `<rt> delete -f` job (data = c):
 * logs a failure, removes what the runtime left (reap_remove_leftovers),
 * then container_drain_finish. */
struct job_result;
void container_drain_delete_done (const struct job_result *r, void *data);
/* The init's shim is gone (HUP, and reaped if ours): delete the runtime's
 * state if that shim may not have, then container_drain_finish. */
void container_drain_settle (struct container *c);
/* Arm c->oom for the init's memory cgroup (failures are logged). */
void container_watch_oom (struct container *c);

/* process.c */
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
