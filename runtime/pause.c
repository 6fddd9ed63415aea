/* Pause/resume (docs/runtime.md #7, #8) and the job plumbing shared by every
 * container operation of ops.h. */
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"
#include "runtime/cgdirs.h"
#include "runtime/internal.h"
#include "runtime/job.h"
#include "runtime/ops-internal.h"

/* One runtime call on behalf of a container. The job's callback gets this,
 * never the container: the container may be freed while the job runs (its
 * init exited), so it is looked up again by id and recognised by its
 * ops_op back-pointer, which a new container of the same id cannot have. */
#define OPS_QUICK_TIMEOUT_NS (120 * 1000000000LL)

struct ops_op
{
  struct runtime *rt;
  struct container *c; /* compared, not dereferenced, after the job */
  char *id;
  enum ops_kind kind;
  char *log_hint;
  ops_done_fn done;
  void *data;
};

static const char *
ops_kind_name (enum ops_kind k)
{
  switch (k)
    {
    case OPS_PAUSE:
      return "pause";
    case OPS_RESUME:
      return "resume";
    case OPS_UPDATE:
      return "update";
    case OPS_CHECKPOINT:
      return "checkpoint";
    }
  return "?";
}

int
ops_check_container (const struct container *c, struct ctrd_error **err)
{
  if (c->state != CONTAINER_RUNNING || !c->init || c->init->state != PROCESS_RUNNING)
    return ctrd_error_grpc (err, GRPC_FAILED_PRECONDITION, "container %s is not running", c->id);
  if (c->ops_op)
    return ctrd_error_grpc (err, GRPC_ABORTED,
                            "container %s: a %s is still in progress, try again when it is done",
                            c->id, ops_kind_name (c->ops_op->kind));
  return 0;
}

/* The message of a failed runtime call. update reports the runtime's output
 * alone (docs/runtime.md §5), as its messages, not its logrus lines (ctrd: the
 * original passed runc's `time=… level=error msg=…` through); everything
 * else as the original: `exit status N: "<output>"`. */
static char *
ops_error_text (const struct ops_op *op, const struct job_result *r)
{
  if (op->kind == OPS_UPDATE && !r->timed_out && r->out_len + r->err_len > 0)
    {
      cleanup_free char *both = xasprintf ("%s\n%s", r->out, r->err);
      char *t = log_text_messages (both);
      if (*t)
        return t;
      free (t);
    }
  return job_error_text (r);
}

bool
ops_cgroup_frozen (pid_t pid)
{
  struct cgdirs dirs;
  cleanup_error struct ctrd_error *err = NULL;
  if (pid <= 0 || cgdirs_for_pid (pid, &dirs, &err) < 0)
    return false;
  bool frozen = false;
  cleanup_free char *buf = NULL;
  size_t len;
  if (dirs.dir[CGDIRS_FREEZER])
    {
      cleanup_free char *f = path_join (dirs.dir[CGDIRS_FREEZER], "freezer.state");
      if (read_file (f, &buf, &len, 64, &err) == 0)
        frozen = strncmp (buf, "FROZEN", 6) == 0 || strncmp (buf, "FREEZING", 8) == 0;
    }
  else if (dirs.dir[CGDIRS_UNIFIED])
    {
      cleanup_free char *f = path_join (dirs.dir[CGDIRS_UNIFIED], "cgroup.freeze");
      if (read_file (f, &buf, &len, 64, &err) == 0)
        frozen = buf[0] == '1';
    }
  cgdirs_clear (&dirs);
  return frozen;
}

/* c->paused after op: what a successful pause/resume did; after anything
 * that may have left the freezer otherwise (a failed or killed pause or
 * resume, a checkpoint: CRIU freezes) what the freezer says. */
static void
ops_note_paused (struct container *c, const struct ops_op *op, bool ok)
{
  if (ok && op->kind == OPS_PAUSE)
    c->paused = true;
  else if (ok && op->kind == OPS_RESUME)
    c->paused = false;
  else if (op->kind != OPS_UPDATE && c->init)
    c->paused = ops_cgroup_frozen (c->init->pid);
}

static void
ops_job_done (const struct job_result *r, void *data)
{
  struct ops_op *op = data;
  struct container *c = runtime_find (op->rt, op->id);
  if (c && c == op->c && c->ops_op == op)
    {
      c->ops_op = NULL;
      ops_note_paused (c, op, job_succeeded (r));
    }
  cleanup_error struct ctrd_error *err = NULL;
  if (job_succeeded (r) && op->kind == OPS_UPDATE && strcasestr (r->err, "kernel memory")
      && strstr (r->err, "ignored"))
    {
      /* runc ≥ 1.0 accepts kernel memory limits and drops them with a
       * warning: say so instead of reporting a limit that is not there. */
      ctrd_error_grpc (&err, GRPC_FAILED_PRECONDITION,
                       "kernelMemoryLimit/kernelTCPMemoryLimit not applied: the OCI runtime "
                       "ignores kernel memory limits (the request's other limits were applied)");
      log_msg (LOG_LVL_WARN, op->id, "update: %s", r->err);
    }
  else if (job_succeeded (r))
    {
      if (r->err_len > 0)
        log_msg (LOG_LVL_WARN, op->id, "%s: %s", ops_kind_name (op->kind), r->err);
      if (op->kind == OPS_PAUSE || op->kind == OPS_RESUME)
        runtime_emit (op->rt, ops_kind_name (op->kind), op->id, NULL, 0);
    }
  else
    {
      cleanup_free char *t = ops_error_text (op, r);
      if (op->log_hint)
        ctrd_error_set (&err, 0, "%s (%s)", t, op->log_hint);
      else
        ctrd_error_set (&err, 0, "%s", t);
      log_msg (LOG_LVL_INFO, op->id, "%s failed: %s", ops_kind_name (op->kind), err->msg);
    }
  op->done (err, op->data);
  free (op->id);
  free (op->log_hint);
  free (op);
}

int
ops_run (struct container *c, enum ops_kind kind, const char *const *sub, const char *stdin_data,
         size_t stdin_len, const char *log_hint, ops_done_fn done, void *data,
         struct ctrd_error **err)
{
  struct ops_op *op = xmalloc0 (sizeof *op);
  op->rt = c->rt;
  op->c = c;
  op->id = xstrdup (c->id);
  op->kind = kind;
  op->log_hint = log_hint ? xstrdup (log_hint) : NULL;
  op->done = done;
  op->data = data;
  /* pause/resume/update are quick; a runtime stuck in them (a freezer that
   * never settles) must not hold the container's one operation slot
   * forever. A checkpoint's duration grows with the memory CRIU dumps, and
   * killing CRIU mid-dump can leave the tasks frozen: no bound there. */
  int64_t timeout = kind == OPS_CHECKPOINT ? 0 : OPS_QUICK_TIMEOUT_NS;
  cleanup_strv char **argv = runtime_argv (c->runtime_bin, c->runtime_args, sub);
  /* The daemon's death does not stop it half-way (job.h). */
  if (job_run (c->rt->cfg.loop, c->rt->cfg.state_dir, argv, stdin_data, stdin_len, timeout,
               JOB_OUTLIVE_DAEMON, ops_job_done, op, NULL, err)
      < 0)
    {
      free (op->id);
      free (op->log_hint);
      free (op);
      return ctrd_error_wrap (err, "%s %s", c->runtime_bin, ops_kind_name (kind));
    }
  c->ops_op = op;
  return 0;
}

int
ops_pause (struct container *c, bool pause, ops_done_fn done, void *data, struct ctrd_error **err)
{
  if (ops_check_container (c, err) < 0)
    return -1;
  const char *sub[] = { pause ? "pause" : "resume", c->id, NULL };
  return ops_run (c, pause ? OPS_PAUSE : OPS_RESUME, sub, NULL, 0, NULL, done, data, err);
}
