/* The container table and the container state machine (runtime.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/id.h"
#include "lib/json-cleanup.h"
#include "lib/log.h"
#include "lib/shim-proto.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "runtime/internal.h"
#include "runtime/job.h"
#include "runtime/oom.h"
#include "runtime/stats.h"
#include "runtime/reap.h"
#include "runtime/statefile.h"
#include "specs/spec.h"
#include "specs/translate.h"

/* ---- table: chained hash keyed by id ---- */

static size_t
hash_id (const char *s)
{
  size_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ULL;
  return h;
}

struct runtime *
runtime_new (const struct runtime_config *cfg)
{
  struct runtime *rt = xmalloc0 (sizeof *rt);
  rt->cfg = *cfg;
  rt->cfg.state_dir = xstrdup (cfg->state_dir);
  rt->cfg.shim = xstrdup (cfg->shim);
  rt->cfg.runtime = xstrdup (cfg->runtime);
  rt->cfg.runtime_args = strv_dup (cfg->runtime_args);
  rt->nbuckets = 64;
  rt->buckets = xmalloc0 (rt->nbuckets * sizeof *rt->buckets);
  /* While the fd numbers are low: spawning's slots (job.h). */
  cleanup_error struct ctrd_error *err = NULL;
  if (spawn_reserve_fds (&err) < 0)
    log_msg (LOG_LVL_WARN, NULL, "%s (retried at the first spawn)", err->msg);
  return rt;
}

const struct runtime_config *
runtime_config (const struct runtime *rt)
{
  return &rt->cfg;
}

struct container *
runtime_find (struct runtime *rt, const char *id)
{
  for (struct container *c = rt->buckets[hash_id (id) % rt->nbuckets]; c; c = c->chain)
    if (strcmp (c->id, id) == 0)
      return c;
  return NULL;
}

static void
runtime_rehash (struct runtime *rt)
{
  size_t n = rt->nbuckets * 2;
  struct container **b = xmalloc0 (n * sizeof *b);
  for (size_t i = 0; i < rt->nbuckets; i++)
    for (struct container *c = rt->buckets[i], *next; c; c = next)
      {
        next = c->chain;
        size_t h = hash_id (c->id) % n;
        c->chain = b[h];
        b[h] = c;
      }
  free (rt->buckets);
  rt->buckets = b;
  rt->nbuckets = n;
}

void
runtime_table_add (struct runtime *rt, struct container *c)
{
  if (rt->count + 1 > rt->nbuckets)
    runtime_rehash (rt);
  size_t h = hash_id (c->id) % rt->nbuckets;
  c->chain = rt->buckets[h];
  rt->buckets[h] = c;
  rt->count++;
}

void
runtime_table_remove (struct runtime *rt, struct container *c)
{
  for (struct container **pp = &rt->buckets[hash_id (c->id) % rt->nbuckets]; *pp;
       pp = &(*pp)->chain)
    if (*pp == c)
      {
        *pp = c->chain;
        rt->count--;
        return;
      }
}

struct container *
runtime_next (struct runtime *rt, struct container *prev)
{
  size_t i = 0;
  if (prev)
    {
      if (prev->chain)
        return prev->chain;
      i = hash_id (prev->id) % rt->nbuckets + 1;
    }
  for (; i < rt->nbuckets; i++)
    if (rt->buckets[i])
      return rt->buckets[i];
  return NULL;
}

size_t
runtime_count (const struct runtime *rt)
{
  return rt->count;
}

bool
runtime_empty (const struct runtime *rt)
{
  return rt->count == 0 && rt->draining == NULL;
}

struct container *
container_alloc (struct runtime *rt, const char *id)
{
  struct container *c = xmalloc0 (sizeof *c);
  c->rt = rt;
  c->id = xstrdup (id);
  c->dir = path_join (rt->cfg.state_dir, id);
  c->start_lock = -1;
  return c;
}

/* Hold the init's start lock while `<rt> start` runs (lib/shim-proto.h):
 * the shim's `<rt> delete` waits for it. Never blocks the daemon. */
static void
container_start_lock (struct container *c)
{
  cleanup_free char *dir = path_join (c->init->dir, SHIM_LOCK_START_DIR);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      log_msg (LOG_LVL_WARN, c->id, "open %s: %s; starting without the start lock", dir,
               strerror (errno));
      return;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      /* The shim holds it: the init died before its start and is being
       * deleted; the start fails on its own. */
      close (fd);
      return;
    }
  c->start_lock = fd;
}

static void
container_start_unlock (struct container *c)
{
  if (c->start_lock >= 0)
    close (c->start_lock);
  c->start_lock = -1;
}

void
container_drop_state_cache (struct container *c)
{
  if (c->state_cache_free)
    c->state_cache_free (c->state_cache);
  c->state_cache = NULL;
  c->state_cache_free = NULL;
}

void
container_free (struct container *c)
{
  container_drop_state_cache (c);
  while (c->procs)
    {
      struct process *p = c->procs;
      c->procs = p->next;
      process_free (p);
    }
  job_cancel (c->job);
  container_start_unlock (c);
  oom_watch_free (c->oom);
  stats_cache_free (c->stats);
  while (c->pending)
    {
      struct pending_create *pc = c->pending;
      c->pending = pc->next;
      pending_free (pc);
    }
  ctrd_error_free (&c->abort_err);
  if (c->retry)
    pending_free (c->retry);
  free (c->id);
  free (c->dir);
  free (c->bundle);
  free (c->runtime_bin);
  free (c->shim);
  strv_free (c->runtime_args);
  strv_free (c->labels);
  free (c);
}

void
runtime_free (struct runtime *rt)
{
  if (!rt)
    return;
  rt->shutting_down = true;
  for (size_t i = 0; i < rt->nbuckets; i++)
    for (struct container *c = rt->buckets[i], *next; c; c = next)
      {
        next = c->chain;
        container_free (c);
      }
  while (rt->draining)
    {
      struct container *c = rt->draining;
      rt->draining = c->drain_next;
      container_free (c);
    }
  free (rt->buckets);
  free ((char *) rt->cfg.state_dir);
  free ((char *) rt->cfg.shim);
  free ((char *) rt->cfg.runtime);
  strv_free ((char **) rt->cfg.runtime_args);
  free (rt);
}

void
runtime_emit (struct runtime *rt, const char *type, const char *id, const char *pid,
              uint32_t status)
{
  if (rt->cfg.emit)
    rt->cfg.emit (rt->cfg.emit_data, type, id, pid, status);
}

struct process *
container_find_process (struct container *c, const char *pid)
{
  for (struct process *p = c->procs; p; p = p->next)
    if (strcmp (p->id, pid) == 0)
      return p;
  return NULL;
}

int
container_runtime_job (struct container *c, const char *const *sub, const char *stdin_data,
                       size_t stdin_len, void (*done) (const struct job_result *r, void *data),
                       void *data, struct job **out, struct ctrd_error **err)
{
  cleanup_strv char **argv = runtime_argv (c->runtime_bin, c->runtime_args, sub);
  /* Never the bundle: a client may remove it once it has the exit event. */
  if (job_run (c->rt->cfg.loop, c->rt->cfg.state_dir, argv, stdin_data, stdin_len, 0, 0, done, data,
               out, err)
      < 0)
    return -1;
  return 0;
}

static void
container_timing (struct container *c, enum runtime_timing what)
{
  const struct runtime_config *cfg = &c->rt->cfg;
  if (cfg->timing && c->exit_ns > 0)
    cfg->timing (cfg->emit_data, what, time_now_mono_ns () - c->exit_ns);
}

/* ---- the lifecycle table (docs/daemon.md "The container lifecycle") ----
 *
 * Every event of a container goes through container_event(): the action is
 * container_actions[state][event], so what happens when, say, the init
 * exits while `<rt> start` still runs is the one entry
 * [STARTING][INIT_EXIT]. An action sets the next state itself (it may also
 * free c: nothing touches c after it). */

static const char *const container_state_names[CONTAINER_NSTATES] = {
  [CONTAINER_CREATING] = "CREATING",
  [CONTAINER_STARTING] = "STARTING",
  [CONTAINER_RUNNING] = "RUNNING",
  [CONTAINER_STOPPING] = "STOPPING",
  [CONTAINER_STOPPING_DELETE] = "STOPPING_DELETE",
  [CONTAINER_ABORT_INSPECT] = "ABORT_INSPECT",
  [CONTAINER_ABORT_STALE_DELETE] = "ABORT_STALE_DELETE",
  [CONTAINER_ABORT_REAP] = "ABORT_REAP",
  [CONTAINER_ABORT_KILL] = "ABORT_KILL",
  [CONTAINER_ABORT_DELETE] = "ABORT_DELETE",
  [CONTAINER_ABORT_SETTLE] = "ABORT_SETTLE",
  [CONTAINER_DRAINING] = "DRAINING",
  [CONTAINER_DRAIN_REAP] = "DRAIN_REAP",
  [CONTAINER_DRAIN_DELETE] = "DRAIN_DELETE",
};

static const char *const container_event_names[CONTAINER_NEVENTS] = {
  [CONTAINER_EV_LAUNCHED] = "LAUNCHED",
  [CONTAINER_EV_LAUNCH_FAILED] = "LAUNCH_FAILED",
  [CONTAINER_EV_CANCEL] = "CANCEL",
  [CONTAINER_EV_JOB_DONE] = "JOB_DONE",
  [CONTAINER_EV_REAP_DONE] = "REAP_DONE",
  [CONTAINER_EV_INIT_EXIT] = "INIT_EXIT",
  [CONTAINER_EV_EXEC_EXIT] = "EXEC_EXIT",
  [CONTAINER_EV_EXEC_GONE] = "EXEC_GONE",
  [CONTAINER_EV_SHIM_EXIT] = "SHIM_EXIT",
  [CONTAINER_EV_SHIM_DONE] = "SHIM_DONE",
  [CONTAINER_EV_OOM] = "OOM",
};

const char *
container_state_name (enum container_state s)
{
  return (unsigned) s < CONTAINER_NSTATES ? container_state_names[s] : "?";
}

const char *
container_event_name (enum container_event e)
{
  return (unsigned) e < CONTAINER_NEVENTS ? container_event_names[e] : "?";
}

/* The event cannot happen in this state (a bug if it does): logged, and
 * nothing changes. */
void
container_illegal (struct container *c, const struct container_ev *ev)
{
  log_msg (LOG_LVL_ERROR, c->id, "lifecycle: event %s in state %s ignored",
           container_event_name (ev->type), container_state_name (c->state));
}

/* The event means nothing in this state. */
static void
ev_ignore (struct container *c UNUSED, const struct container_ev *ev UNUSED)
{
}

static container_action_fn *const container_actions[CONTAINER_NSTATES][CONTAINER_NEVENTS];

container_action_fn *
container_action (enum container_state s, enum container_event e)
{
  if ((unsigned) s >= CONTAINER_NSTATES || (unsigned) e >= CONTAINER_NEVENTS)
    return NULL;
  return container_actions[s][e];
}

int
container_event (struct container *c, const struct container_ev *ev)
{
  container_action_fn *fn = container_action (c->state, ev->type);
  if (!fn || fn == container_illegal)
    {
      container_illegal (c, ev);
      return -1;
    }
  fn (c, ev);
  return 0;
}

static void
container_post (struct container *c, enum container_event type, struct process *p)
{
  struct container_ev ev = { .type = type, .p = p };
  container_event (c, &ev);
}

/* Completion of c->job, whichever it is: the state says (the start, an
 * abort's state/delete, the stop's or the drain's delete -f). */
static void
container_job_done (const struct job_result *r, void *data)
{
  struct container *c = data;
  c->job = NULL;
  struct container_ev ev = { .type = CONTAINER_EV_JOB_DONE, .r = r };
  container_event (c, &ev);
}

/* reap_start's completion (reap.h) for an abort or a restart's dead init. */
static void
container_reap_done (struct container *c, bool clean)
{
  struct container_ev ev = { .type = CONTAINER_EV_REAP_DONE, .clean = clean };
  container_event (c, &ev);
}

/* Start `<rt> sub...` as c->job, completing with JOB_DONE. */
static int
container_start_job (struct container *c, const char *const *sub, struct ctrd_error **err)
{
  return container_runtime_job (c, sub, NULL, 0, container_job_done, c, &c->job, err);
}

static bool
job_failed_not_missing (const struct job_result *r)
{
  return !job_succeeded (r) && !strstr (r->err, "does not exist")
         && !strstr (r->out, "does not exist");
}

/* Start `<rt> delete -f <id>` as the job of state s. False (logged, the
 * state as it was) when it cannot run. */
static bool
container_delete_f (struct container *c, enum container_state s)
{
  const char *sub[] = { "delete", "-f", c->id, NULL };
  cleanup_error struct ctrd_error *err = NULL;
  enum container_state was = c->state;
  c->state = s;
  if (container_start_job (c, sub, &err) == 0)
    return true;
  c->state = was;
  log_msg (LOG_LVL_WARN, c->id, "%s", err->msg);
  return false;
}

/* A `<rt> delete -f` ended: its failure logged (a missing container is
 * none), and what a runtime killed early leaves without recording it
 * (cgroups, state) removed. */
static void
container_delete_f_done (struct container *c, const struct job_result *r)
{
  if (job_failed_not_missing (r))
    {
      cleanup_free char *t = job_error_text (r);
      log_msg (LOG_LVL_WARN, c->id, "%s delete -f: %s", c->runtime_bin, t);
    }
  reap_remove_leftovers (c);
}

/* any state: an OOM kill the kernel signalled */
static void
ev_oom_report (struct container *c, const struct container_ev *ev UNUSED)
{
  log_msg (LOG_LVL_INFO, c->id, "OOM kill in the container's memory cgroup");
  runtime_emit (c->rt, "oom", c->id, NULL, 0);
}

/* any state: an exec's status is known: reported, its directory removed */
static void
ev_exec_report (struct container *c, const struct container_ev *ev)
{
  cleanup_free char *pid = xstrdup (ev->p->id);
  runtime_emit (c->rt, "exit", c->id, pid, (uint32_t) ev->p->status);
  process_discard (ev->p);
}

/* ---- stopping: every exit reported once, init last ---- */

static void container_stop_finish (struct container *c);

/* STOPPING: once every exec's exit was emitted, the runtime's state deleted
 * if the shim left it (STOPPING_DELETE), then the init's exit. */
static void
container_stop_step (struct container *c)
{
  /* Every exec's exit must be emitted before init's. */
  for (struct process *p = c->procs; p; p = p->next)
    if (p != c->init)
      return;
  if (c->need_delete)
    {
      c->state = CONTAINER_STOPPING;
      if (container_delete_f (c, CONTAINER_STOPPING_DELETE))
        return;
      c->need_delete = false;
    }
  container_stop_finish (c);
}

/* [STOPPING][EXEC_EXIT] */
static void
ev_stopping_exec_exit (struct container *c, const struct container_ev *ev)
{
  ev_exec_report (c, ev);
  container_stop_step (c);
}

/* [STOPPING][EXEC_GONE]: an exec that failed to start is gone */
static void
ev_stopping_exec_gone (struct container *c, const struct container_ev *ev UNUSED)
{
  container_stop_step (c);
}

/* [RUNNING][INIT_EXIT] → STOPPING */
static void
ev_running_init_exit (struct container *c, const struct container_ev *ev)
{
  struct process *p = ev->p;
  c->state = CONTAINER_STOPPING;
  /* The shim ran `<rt> delete` itself before exiting; only a shim that died
   * leaves the runtime's state behind. */
  c->need_delete =
      p->shim_died
      || (p->shim_is_child && p->shim_exited && p->shim_code == SHIM_EXIT_DELETE_FAILED);
  container_stop_step (c);
}

/* [STOPPING_DELETE][JOB_DONE] → STOPPING → the init's exit */
static void
ev_stop_delete_done (struct container *c, const struct container_ev *ev)
{
  const struct job_result *r = ev->r;
  if (job_failed_not_missing (r))
    {
      cleanup_free char *t = job_error_text (r);
      log_msg (LOG_LVL_WARN, c->id, "%s delete: %s", c->runtime_bin, t);
    }
  c->need_delete = false;
  c->state = CONTAINER_STOPPING;
  container_stop_step (c);
}

/* Emit the init's exit, drop c from the table; then free it, or hold the id
 * (DRAINING) while the init's shim still cleans up. */
static void
container_stop_finish (struct container *c)
{
  struct runtime *rt = c->rt;
  int status = c->init ? c->init->status : 255;
  cleanup_free char *id = xstrdup (c->id);
  /* An OOM kill the kernel signalled is reported before the exit. */
  oom_watch_drain (c->oom);
  oom_watch_free (c->oom);
  c->oom = NULL;
  container_drop_state_cache (c);
  /* Emit first (events.log is appended synchronously), then remove: a crash
   * in between reports the exit again rather than never. Both happen in
   * this one loop iteration, so a client reacting to the event finds the
   * id free (or, while the shim still deletes the runtime's state, held
   * for its CreateContainer, which then waits: DRAINING). */
  c->exit_ns = c->init && c->init->exited_ns ? c->init->exited_ns : time_now_mono_ns ();
  runtime_emit (rt, "exit", id, "init", (uint32_t) status);
  container_timing (c, RUNTIME_TIMING_EXIT);
  runtime_table_remove (rt, c);
  /* Our shim hung up but is not reaped yet: its exit code says whether
   * its `<rt> delete` worked, so the id is held until then too. */
  struct process *ip = c->init;
  if (ip
      && (ip->state == PROCESS_CLEANUP
          || (ip->shim_is_child && !ip->shim_exited && !ip->shim_died)))
    {
      cleanup_error struct ctrd_error *err = NULL;
      if (statefile_write_marker (c->dir, EXIT_REPORTED_FILE, &err) < 0)
        log_msg (LOG_LVL_WARN, id, "%s", err->msg);
      container_drain_add (c);
      return;
    }
  cleanup_error struct ctrd_error *err = NULL;
  if (statefile_remove_dir (c->dir, &err) < 0)
    log_msg (LOG_LVL_ERROR, id, "%s", err->msg);
  container_timing (c, RUNTIME_TIMING_DELETE);
  container_free (c);
}

/* ---- draining: id held until the init's shim has finished ---- */

static struct pending_create *
pending_new (const struct container_create *r)
{
  struct pending_create *pc = xmalloc0 (sizeof *pc);
#define DUP(f) pc->req.f = r->f ? xstrdup (r->f) : NULL
  DUP (id);
  DUP (bundle);
  DUP (stdin_path);
  DUP (stdout_path);
  DUP (stderr_path);
  DUP (runtime);
  DUP (checkpoint);
  DUP (checkpoint_dir);
#undef DUP
  pc->labels = strv_dup (r->labels);
  pc->runtime_args = strv_dup (r->runtime_args);
  pc->req.labels = pc->labels;
  pc->req.runtime_args = pc->runtime_args;
  pc->req.no_pivot = r->no_pivot;
  return pc;
}

void
pending_free (struct pending_create *pc)
{
  free ((char *) pc->req.id);
  free ((char *) pc->req.bundle);
  free ((char *) pc->req.stdin_path);
  free ((char *) pc->req.stdout_path);
  free ((char *) pc->req.stderr_path);
  free ((char *) pc->req.runtime);
  free ((char *) pc->req.checkpoint);
  free ((char *) pc->req.checkpoint_dir);
  strv_free (pc->labels);
  strv_free (pc->runtime_args);
  free (pc);
}

void
container_drain_add (struct container *c)
{
  c->state = CONTAINER_DRAINING;
  c->drain_next = c->rt->draining;
  c->rt->draining = c;
}

static struct container *
runtime_find_draining (struct runtime *rt, const char *id)
{
  for (struct container *c = rt->draining; c; c = c->drain_next)
    if (strcmp (c->id, id) == 0)
      return c;
  return NULL;
}

void
container_drain_finish (struct container *c)
{
  struct runtime *rt = c->rt;
  for (struct container **pp = &rt->draining; *pp; pp = &(*pp)->drain_next)
    if (*pp == c)
      {
        *pp = c->drain_next;
        break;
      }
  cleanup_error struct ctrd_error *err = NULL;
  if (statefile_remove_dir (c->dir, &err) < 0)
    log_msg (LOG_LVL_ERROR, c->id, "%s", err->msg);
  container_timing (c, RUNTIME_TIMING_DELETE);
  struct pending_create *pend = c->pending;
  c->pending = NULL;
  container_free (c);
  /* In arrival order: the first may take the id, later ones get the
   * ordinary duplicate error. */
  struct pending_create *rev = NULL;
  while (pend)
    {
      struct pending_create *n = pend->next;
      pend->next = rev;
      rev = pend;
      pend = n;
    }
  while (rev)
    {
      struct pending_create *pc = rev;
      rev = pc->next;
      cleanup_error struct ctrd_error *e = NULL;
      if (runtime_container_create (rt, &pc->req, pc->done, pc->data, &e) < 0)
        pc->done (NULL, e, pc->data);
      pending_free (pc);
    }
}

/* [DRAIN_DELETE][JOB_DONE]: the `<rt> delete -f` of a DRAINING container */
static void
ev_drain_delete_done (struct container *c, const struct container_ev *ev)
{
  container_delete_f_done (c, ev->r);
  container_drain_finish (c);
}

/* Run `<rt> delete -f` (DRAIN_DELETE), then container_drain_finish. */
static void
container_drain_delete (struct container *c)
{
  if (!container_delete_f (c, CONTAINER_DRAIN_DELETE))
    container_drain_finish (c);
}

void
container_drain_settle (struct container *c)
{
  struct process *p = c->init;
  /* Our shim: wait until it is reaped too, to know how it ended. */
  if (p && p->shim_is_child && !p->shim_exited)
    return;
  /* A shim killed during its cleanup, one whose `<rt> delete` failed
   * (exit code 2), or one we cannot tell about may have left the runtime's
   * state behind: delete it before the id is free again. */
  bool failed = p && p->shim_is_child && !p->shim_killed && p->shim_code == SHIM_EXIT_DELETE_FAILED;
  if (failed)
    {
      cleanup_free char *log = path_join (p->dir, SHIM_FILE_RUNTIME_LOG);
      cleanup_free char *msg = runtime_log_first_error (log);
      log_msg (LOG_LVL_WARN, c->id, "%s delete failed in the shim (%s); running %s delete -f",
               c->runtime_bin, msg ? msg : "no message in log.json", c->runtime_bin);
    }
  if (!p || !p->shim_is_child || p->shim_killed || failed)
    {
      container_drain_delete (c);
      return;
    }
  container_drain_finish (c);
}

/* [DRAINING][SHIM_DONE]: the init's shim hung up after exitStatus */
static void
ev_draining_shim_done (struct container *c, const struct container_ev *ev)
{
  if (ev->p == c->init)
    container_drain_settle (c);
}

/* [DRAINING][SHIM_EXIT]: our init's shim reaped, its exit FIFO already
 * hung up */
static void
ev_draining_shim_exit (struct container *c, const struct container_ev *ev)
{
  if (ev->p == c->init && ev->p->state != PROCESS_CLEANUP)
    container_drain_settle (c);
}

void
container_drain_reap (struct container *c, const struct reap_target *t)
{
  container_drain_add (c);
  c->state = CONTAINER_DRAIN_REAP;
  cleanup_error struct ctrd_error *err = NULL;
  if (reap_start (c, t, container_reap_done, &err) < 0)
    {
      c->state = CONTAINER_DRAINING;
      log_msg (LOG_LVL_ERROR, c->id, "%s; deleting nothing of it, left in %s", err->msg, c->dir);
    }
}

/* [DRAIN_REAP][REAP_DONE] */
static void
ev_drain_reap_done (struct container *c, const struct container_ev *ev)
{
  if (!ev->clean)
    {
      /* Something of the dead operation lives on: delete nothing, hold the
       * id (the next start tries again). */
      c->state = CONTAINER_DRAINING;
      log_msg (LOG_LVL_ERROR, c->id, "left in %s for the next start", c->dir);
      return;
    }
  c->state = CONTAINER_DRAINING;
  if (container_delete_f (c, CONTAINER_DRAIN_DELETE))
    return;
  reap_remove_leftovers (c);
  container_drain_finish (c);
}

void
container_on_shim_done (struct process *p)
{
  container_post (p->c, CONTAINER_EV_SHIM_DONE, p);
}

void
container_on_process_exit (struct process *p)
{
  container_post (p->c, p == p->c->init ? CONTAINER_EV_INIT_EXIT : CONTAINER_EV_EXEC_EXIT, p);
}

void
container_on_exec_gone (struct container *c)
{
  container_post (c, CONTAINER_EV_EXEC_GONE, NULL);
}

/* ---- the runtime's bundle ---- */

char *
container_runtime_bundle (const struct container *c)
{
  return statefile_runtime_bundle (c->dir, c->bundle);
}

/* Logged once, at the container's create. */
static int
container_write_runtime_bundle (struct container *c, json_object *config, const char *summary,
                                struct ctrd_error **err)
{
  cleanup_free char *p = NULL;
  if (statefile_write_runtime_bundle (c->dir, c->bundle, config, &p, err) < 0)
    return -1;
  log_msg (LOG_LVL_INFO, c->id,
           "bundle %s: pre-1.0 config.json translated for the runtime into %s: %s", c->bundle, p,
           summary);
  return 0;
}

/* ---- creation and its undo ---- */

/* Undo a failed start: shim gone, runtime state deleted, directory removed,
 * then the caller hears the error (the ABORT_* states). */
static void
container_abort_finish (struct container *c)
{
  cleanup_error struct ctrd_error *err = NULL;
  if (statefile_remove_dir (c->dir, &err) < 0)
    log_msg (LOG_LVL_ERROR, c->id, "%s", err->msg);
  runtime_table_remove (c->rt, c);
  void (*done) (struct container *, const struct ctrd_error *, void *) = c->created;
  void *data = c->created_data;
  cleanup_error struct ctrd_error *e = ctrd_error_steal (&c->abort_err);
  struct runtime *rt = c->rt;
  struct pending_create *retry = c->stale_cleared ? c->retry : NULL;
  if (retry)
    c->retry = NULL;
  container_free (c);
  if (retry)
    {
      retry->req.stale_cleared = true;
      cleanup_error struct ctrd_error *e2 = NULL;
      if (runtime_container_create (rt, &retry->req, done, data, &e2) < 0)
        done (NULL, e2, data);
      pending_free (retry);
      return;
    }
  done (NULL, e, data);
}

static bool
container_shim_gone (const struct container *c)
{
  const struct process *p = c->init;
  return !p || !p->shim_is_child || p->shim_exited;
}

/* ABORT_SETTLE: the runtime's state is gone (or must not be touched); the
 * undo ends once our shim is gone. */
static void
container_abort_settle (struct container *c)
{
  c->state = CONTAINER_ABORT_SETTLE;
  if (container_shim_gone (c))
    container_abort_finish (c);
}

/* [ABORT_SETTLE][SHIM_EXIT] */
static void
ev_abort_settle_shim_exit (struct container *c, const struct container_ev *ev UNUSED)
{
  container_abort_settle (c);
}

/* Killed shim: delete after it is gone (its runtime child dies with it;
 * ABORT_KILL until then). Start failure: delete first, so the created
 * process dies and the shim can finish (ABORT_DELETE). */
static void
container_abort_delete (struct container *c)
{
  if (!container_shim_gone (c) && c->abort_kill)
    {
      c->state = CONTAINER_ABORT_KILL;
      return;
    }
  c->state = CONTAINER_ABORT_DELETE;
  if (container_delete_f (c, CONTAINER_ABORT_DELETE))
    return;
  container_abort_settle (c);
}

/* [ABORT_KILL][SHIM_EXIT] */
static void
ev_abort_kill_shim_exit (struct container *c, const struct container_ev *ev UNUSED)
{
  container_abort_delete (c);
}

/* [ABORT_DELETE][JOB_DONE] */
static void
ev_abort_delete_done (struct container *c, const struct container_ev *ev)
{
  container_delete_f_done (c, ev->r);
  container_abort_settle (c);
}

/* [ABORT_STALE_DELETE][JOB_DONE] */
static void
ev_abort_stale_delete_done (struct container *c, const struct container_ev *ev)
{
  const struct job_result *r = ev->r;
  if (job_succeeded (r))
    c->stale_cleared = true;
  else
    {
      cleanup_free char *t = job_error_text (r);
      log_msg (LOG_LVL_WARN, c->id, "%s delete of stale state: %s", c->runtime_bin, t);
    }
  container_abort_settle (c);
}

/* [ABORT_INSPECT][JOB_DONE]: `<rt> state <id>` of the state that made the
 * create fail. */
static void
ev_abort_inspect_done (struct container *c, const struct container_ev *ev)
{
  const struct job_result *r = ev->r;
  const char *status = NULL;
  cleanup_json json_object *o = job_succeeded (r) ? json_tokener_parse (r->out) : NULL;
  json_object *st;
  if (o && json_object_object_get_ex (o, "status", &st))
    status = json_object_get_string (st);
  if (status && strcmp (status, "stopped") == 0 && c->retry)
    {
      log_msg (LOG_LVL_WARN, c->id,
               "%s has stale state of a stopped container with this id; deleting it and "
               "creating again",
               c->runtime_bin);
      const char *sub[] = { "delete", c->id, NULL };
      cleanup_error struct ctrd_error *err = NULL;
      c->state = CONTAINER_ABORT_STALE_DELETE;
      if (container_start_job (c, sub, &err) == 0)
        return;
      log_msg (LOG_LVL_WARN, c->id, "%s", err->msg);
    }
  else
    {
      cleanup_error struct ctrd_error *e = NULL;
      ctrd_error_grpc (&e, GRPC_ALREADY_EXISTS, "%s: container %s already exists (%s)",
                       c->runtime_bin, c->id, status ? status : "state unknown");
      ctrd_error_free (&c->abort_err);
      c->abort_err = ctrd_error_steal (&e);
    }
  container_abort_settle (c);
}

/* [ABORT_REAP][REAP_DONE]: what the start left running was reaped; when
 * not all of it (clean false), nothing of it is deleted. */
static void
ev_abort_reap_done (struct container *c, const struct container_ev *ev)
{
  if (!ev->clean)
    container_abort_settle (c); /* delete nothing */
  else
    container_abort_delete (c);
}

/* The first abort state: ABORT_INSPECT for state that is not ours,
 * ABORT_REAP when a shim was spawned, else ABORT_DELETE/ABORT_KILL. */
static void
container_abort_begin (struct container *c)
{
  struct process *p = c->init;
  if (c->abort_foreign)
    {
      /* Not ours: look, never `delete -f`. */
      const char *sub[] = { "state", c->id, NULL };
      cleanup_error struct ctrd_error *err = NULL;
      c->state = CONTAINER_ABORT_INSPECT;
      if (container_start_job (c, sub, &err) == 0)
        return;
      log_msg (LOG_LVL_WARN, c->id, "%s", err->msg);
      container_abort_settle (c);
      return;
    }
  if (p && p->shim_pid > 0)
    {
      /* Whatever the create or restore started may still run (the shim,
       * CRIU, the runtime's init; a killed `runc restore` leaves the rootfs
       * bind-mounted under its state dir, and `delete -f` would remove the
       * user's files through it): reap it all first (reap.h). */
      struct reap_target t = { .shim_pid = p->shim_pid,
                               .whole = true,
                               .shim_verified = p->shim_is_child && !p->shim_exited };
      cleanup_free char *ck = NULL;
      json_object *v;
      if (p->spec && json_object_object_get_ex (p->spec, "checkpoint", &v)
          && json_object_is_type (v, json_type_string) && json_object_get_string_len (v) > 0)
        ck = path_join (json_object_get_string (v), "criu.work");
      t.criu_work = ck;
      cleanup_error struct ctrd_error *err = NULL;
      c->state = CONTAINER_ABORT_REAP;
      if (reap_start (c, &t, container_reap_done, &err) == 0)
        return;
      log_msg (LOG_LVL_ERROR, c->id, "%s; deleting nothing of it", err->msg);
      container_abort_settle (c);
      return;
    }
  container_abort_delete (c);
}

static void
container_abort (struct container *c, const struct ctrd_error *err, bool kill_shim)
{
  ctrd_error_grpc (&c->abort_err, ctrd_error_code (err), "%s", err->msg);
  c->abort_kill = kill_shim;
  c->abort_foreign = strstr (err->msg, "already exists") != NULL;
  struct process *p = c->init;
  if (p)
    {
      /* Its exit is part of the undo, not an event. */
      p->exit_src = sd_event_source_disable_unref (p->exit_src);
      if (kill_shim && p->shim_is_child && !p->shim_exited)
        kill (p->shim_pid, SIGKILL);
    }
  container_abort_begin (c);
}

/* [CREATING][CANCEL] */
static void
ev_creating_cancel (struct container *c, const struct container_ev *ev UNUSED)
{
  cleanup_error struct ctrd_error *err = NULL;
  ctrd_error_grpc (&err, GRPC_CANCELLED, "context canceled");
  /* The init's launch callback must not run any more. */
  if (c->init)
    c->init->launched = NULL;
  container_abort (c, err, true);
}

void
runtime_container_create_cancel (struct runtime *rt, const char *id)
{
  struct container *c = runtime_find (rt, id);
  if (c)
    container_post (c, CONTAINER_EV_CANCEL, NULL);
}

void
container_on_shim_exit (struct process *p)
{
  container_post (p->c, CONTAINER_EV_SHIM_EXIT, p);
}

/* → RUNNING: reply, start-container; an exit that arrived meanwhile
 * (INIT_EXIT deferred in CREATING/STARTING) is taken now. */
static void
container_started (struct container *c)
{
  c->state = CONTAINER_RUNNING;
  c->created (c, NULL, c->created_data);
  runtime_emit (c->rt, "start-container", c->id, NULL, 0);
  if (c->init && process_has_status (c->init))
    container_on_process_exit (c->init);
}

/* [CREATING|STARTING][INIT_EXIT]: `<rt> start` has not returned yet: the
 * exit waits for the start to end (container_started) so that
 * start-container precedes exit. */
static void
ev_init_exit_deferred (struct container *c UNUSED, const struct container_ev *ev UNUSED)
{
}

/* [STARTING][JOB_DONE]: `<rt> start` returned */
static void
ev_starting_start_done (struct container *c, const struct container_ev *ev)
{
  container_start_unlock (c);
  if (job_succeeded (ev->r))
    {
      container_started (c);
      return;
    }
  cleanup_free char *t = job_error_text (ev->r);
  cleanup_error struct ctrd_error *err = NULL;
  ctrd_error_grpc (&err, GRPC_UNKNOWN, "%s", t);
  container_abort (c, err, false);
}

static void
container_on_oom (void *data)
{
  container_post (data, CONTAINER_EV_OOM, NULL);
}

void
container_watch_oom (struct container *c)
{
  /* Only for a verified live init (pidfd opened after the start-time
   * check): a reused pid would name another process's cgroup. */
  if (c->oom || !c->init || c->init->pidfd < 0)
    return;
  cleanup_error struct ctrd_error *err = NULL;
  if (oom_watch_new (c->rt->cfg.loop, c->init->pid, container_on_oom, c, &c->oom, &err) < 0)
    log_msg (LOG_LVL_WARN, c->id, "no OOM notifications: %s", err->msg);
}

/* [CREATING][LAUNCH_FAILED] */
static void
ev_creating_launch_failed (struct container *c, const struct container_ev *ev)
{
  /* Timeout: the shim still runs; otherwise it is exiting by itself. */
  container_abort (c, ev->err, ctrd_error_code (ev->err) == GRPC_DEADLINE_EXCEEDED);
}

/* [CREATING][LAUNCHED] → STARTING */
static void
ev_creating_launched (struct container *c, const struct container_ev *ev)
{
  struct process *p = ev->p;
  cleanup_error struct ctrd_error *e = NULL;
  c->state = CONTAINER_STARTING;
  /* Between the runtime's create and start: even a container that is
   * OOM-killed 10 ms after start has its OOM seen (docs/failure-modes.md #9). */
  container_watch_oom (c);
  if (p->spec)
    {
      json_object *ck;
      if (json_object_object_get_ex (p->spec, "checkpoint", &ck) && *json_object_get_string (ck))
        {
          /* `restore -d` already started it. */
          container_started (c);
          return;
        }
    }
  const char *sub[] = { "start", c->id, NULL };
  container_start_lock (c);
  if (container_start_job (c, sub, &e) < 0)
    {
      container_start_unlock (c);
      container_abort (c, e, false);
    }
}

static void
container_init_launched (struct process *p, const struct ctrd_error *err, void *data UNUSED)
{
  struct container_ev ev = { .type = err ? CONTAINER_EV_LAUNCH_FAILED : CONTAINER_EV_LAUNCHED,
                             .p = p,
                             .err = err };
  container_event (p->c, &ev);
}

/* ---- the table ---- */

#define X container_illegal
#define I ev_ignore
_Static_assert(CONTAINER_NEVENTS == 11, "one column per event");
static container_action_fn *const container_actions[CONTAINER_NSTATES][CONTAINER_NEVENTS] = {
  /*                       LAUNCHED, LAUNCH_FAILED, CANCEL, JOB_DONE, REAP_DONE,
   *                       INIT_EXIT, EXEC_EXIT, EXEC_GONE, SHIM_EXIT, SHIM_DONE, OOM */
  [CONTAINER_CREATING] = { ev_creating_launched, ev_creating_launch_failed, ev_creating_cancel, X,
                           X, ev_init_exit_deferred, ev_exec_report, I, I, I, ev_oom_report },
  [CONTAINER_STARTING] = { X, X, I, ev_starting_start_done, X, ev_init_exit_deferred,
                           ev_exec_report, I, I, I, ev_oom_report },
  [CONTAINER_RUNNING] = { X, X, I, X, X, ev_running_init_exit, ev_exec_report, I, I, I,
                          ev_oom_report },
  [CONTAINER_STOPPING] = { X, X, I, X, X, I, ev_stopping_exec_exit, ev_stopping_exec_gone, I, I,
                           ev_oom_report },
  [CONTAINER_STOPPING_DELETE] = { X, X, I, ev_stop_delete_done, X, I, ev_exec_report, I, I, I,
                                  ev_oom_report },
  [CONTAINER_ABORT_INSPECT] = { X, X, I, ev_abort_inspect_done, X, I, ev_exec_report, I, I, I, I },
  [CONTAINER_ABORT_STALE_DELETE] = { X, X, I, ev_abort_stale_delete_done, X, I, ev_exec_report, I,
                                     I, I, I },
  [CONTAINER_ABORT_REAP] = { X, X, I, X, ev_abort_reap_done, I, ev_exec_report, I, I, I, I },
  [CONTAINER_ABORT_KILL] = { X, X, I, X, X, I, ev_exec_report, I, ev_abort_kill_shim_exit, I, I },
  [CONTAINER_ABORT_DELETE] = { X, X, I, ev_abort_delete_done, X, I, ev_exec_report, I, I, I, I },
  [CONTAINER_ABORT_SETTLE] = { X, X, I, X, X, I, ev_exec_report, I, ev_abort_settle_shim_exit, I,
                               I },
  [CONTAINER_DRAINING] = { X, X, I, X, X, I, ev_exec_report, I, ev_draining_shim_exit,
                           ev_draining_shim_done, ev_oom_report },
  [CONTAINER_DRAIN_REAP] = { X, X, I, X, ev_drain_reap_done, I, ev_exec_report, I, I, I,
                             ev_oom_report },
  [CONTAINER_DRAIN_DELETE] = { X, X, I, ev_drain_delete_done, X, I, ev_exec_report, I, I, I,
                               ev_oom_report },
};
#undef X
#undef I

int
runtime_container_create (struct runtime *rt, const struct container_create *req,
                          void (*done) (struct container *c, const struct ctrd_error *err,
                                        void *data),
                          void *data, struct ctrd_error **err)
{
  if (!req->bundle || !*req->bundle)
    return ctrd_error_grpc (err, GRPC_UNKNOWN, "empty bundle path");
  if (id_validate (req->id, "container id", err) < 0)
    return -1;
  /* Everything the runtime would only report obscurely after a shim was
   * spawned (JSON, process.args, rootfs, seccomp) is checked first. */
  cleanup_json json_object *config = spec_load_bundle (req->bundle, err);
  if (!config)
    return -1;
  /* A pre-1.0 config (Docker 1.11-1.13) is given to the runtime translated,
   * from a bundle dir of ours; a current one as it is (byte for byte). */
  cleanup_free char *translated = NULL;
  if (spec_needs_translation (config) && spec_translate (config, req->bundle, &translated, err) < 0)
    return -1;
  struct container *old = runtime_find_draining (rt, req->id);
  if (old)
    {
      /* Its exit was reported; its shim is still deleting the runtime's
       * state (milliseconds). Start this one right after. */
      struct pending_create *pc = pending_new (req);
      pc->done = done;
      pc->data = data;
      pc->next = old->pending;
      old->pending = pc;
      return 0;
    }
  cleanup_free char *dir = path_join (rt->cfg.state_dir, req->id);
  if (statefile_make_dir (dir, err) < 0)
    return -1;
  struct container *c = container_alloc (rt, req->id);
  c->bundle = xstrdup (req->bundle);
  if (req->runtime && *req->runtime)
    {
      c->runtime_bin = xstrdup (req->runtime);
      c->runtime_args = strv_dup (req->runtime_args);
    }
  else
    {
      c->runtime_bin = xstrdup (rt->cfg.runtime);
      c->runtime_args = strv_dup (rt->cfg.runtime_args);
    }
  c->labels = strv_dup (req->labels);
  c->no_pivot = req->no_pivot;
  c->shim = xstrdup (rt->cfg.shim);
  c->created = done;
  c->created_data = data;
  c->state = CONTAINER_CREATING;
  if (!req->stale_cleared)
    c->retry = pending_new (req);

  cleanup_free char *ckpt = NULL;
  if (req->checkpoint && *req->checkpoint)
    {
      cleanup_free char *cdir = req->checkpoint_dir && *req->checkpoint_dir
                                    ? xstrdup (req->checkpoint_dir)
                                    : path_join (req->bundle, "checkpoints");
      ckpt = path_join (cdir, req->checkpoint);
    }
  struct process *p = NULL;
  int r = statefile_write_state (c, err);
  if (r == 0 && translated)
    r = container_write_runtime_bundle (c, config, translated, err);
  if (r == 0)
    {
      p = process_new (c, "init");
      r = statefile_make_dir (p->dir, err);
    }
  if (r == 0)
    {
      cleanup_json json_object *spec =
          statefile_init_process_spec (config, req->stdin_path, req->stdout_path, req->stderr_path,
                                       c->runtime_args, c->no_pivot, ckpt);
      r = process_write_spec (p, spec, err);
    }
  if (r == 0)
    r = process_launch (p, container_init_launched, NULL, err);
  if (r < 0)
    {
      if (p && p->shim_pid > 0)
        {
          kill (p->shim_pid, SIGKILL);
        }
      cleanup_error struct ctrd_error *e = NULL;
      if (statefile_remove_dir (dir, &e) < 0)
        log_warn ("%s", e->msg);
      container_free (c);
      return -1;
    }
  runtime_table_add (rt, c);
  return 0;
}
