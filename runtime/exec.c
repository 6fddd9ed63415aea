/* AddProcess on the runtime side (docs/daemon.md §5, without its blocking wait):
 * the exec's directory, process.json, the shim in exec mode, and the undo of
 * a failed start. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/id.h"
#include "lib/log.h"
#include "lib/util.h"
#include "runtime/internal.h"
#include "runtime/statefile.h"

struct exec_ctx
{
  runtime_exec_fn done;
  void *data;
};

static void
exec_launched (struct process *p, const struct ctrd_error *err, void *data)
{
  struct exec_ctx *x = data;
  runtime_exec_fn done = x->done;
  void *d = x->data;
  free (x);
  if (!err)
    {
      done (p, NULL, d);
      runtime_emit (p->c->rt, "start-process", p->c->id, p->id, 0);
      return;
    }
  /* A shim that missed the deadline is still running (its runtime child
   * dies with it: parent-death signal); one that reported an error or
   * crashed is exiting by itself. Either way it is reaped by the loop. */
  int code = ctrd_error_code (err);
  if (p->shim_is_child && !p->shim_exited
      && (code == GRPC_DEADLINE_EXCEEDED || code == GRPC_CANCELLED))
    kill (p->shim_pid, SIGKILL);
  struct container *c = p->c;
  process_discard (p);
  done (NULL, err, d);
  container_on_exec_gone (c);
}

int
runtime_exec (struct container *c, const char *pid, json_object *spec, runtime_exec_fn done,
              void *data, struct ctrd_error **err)
{
  if (!pid || !*pid)
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "process id cannot be empty");
  if (id_validate (pid, "process id", err) < 0)
    return -1;
  if (c->state != CONTAINER_RUNNING || !c->init || c->init->state != PROCESS_RUNNING)
    return ctrd_error_grpc (err, GRPC_FAILED_PRECONDITION,
                            "container %s is not running: cannot exec into it", c->id);
  cleanup_free char *dir = path_join (c->dir, pid);
  if (statefile_make_dir (dir, err) < 0)
    return -1;
  struct process *p = process_new (c, pid);
  struct exec_ctx *x = xmalloc0 (sizeof *x);
  x->done = done;
  x->data = data;
  if (process_write_spec (p, spec, err) < 0 || process_launch (p, exec_launched, x, err) < 0)
    {
      free (x);
      if (p->shim_pid > 0 && !p->shim_exited)
        kill (p->shim_pid, SIGKILL);
      process_discard (p);
      return -1;
    }
  return 0;
}

void
runtime_exec_cancel (struct container *c, const char *pid)
{
  struct process *p = container_find_process (c, pid);
  if (!p || p->state != PROCESS_STARTING || p->launched != exec_launched)
    return;
  void *x = p->launched_data;
  p->launched = NULL;
  cleanup_error struct ctrd_error *err = NULL;
  ctrd_error_grpc (&err, GRPC_CANCELLED, "context canceled");
  exec_launched (p, err, x);
}
