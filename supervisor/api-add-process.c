/* AddProcess (docs/api.md, docs/daemon.md §5): the exec's process.json from the
 * request, then the shim in exec mode; the reply carries the host pid. No
 * wait in the loop: the runtime calls back when the shim reported. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api.pb-c.h"
#include "api/server.h"
#include "lib/json-cleanup.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "runtime/runtime.h"
#include "runtime/statefile.h"
#include "specs/spec.h"
#include "supervisor/api-container.h"
#include "supervisor/api-handlers.h"
#include "supervisor/daemon.h"
#include "supervisor/metrics.h"

/* The request in specs/' terms (no wire type below this layer); the
 * rlimits go into *rl (caller frees), the user into *u. */
static void
exec_options (const Types__AddProcessRequest *r, struct spec_exec *x, struct spec_user *u,
              struct spec_rlimit **rl)
{
  *rl = xmalloc0 ((r->n_rlimits ? r->n_rlimits : 1) * sizeof **rl);
  for (size_t i = 0; i < r->n_rlimits; i++)
    if (r->rlimits[i])
      (*rl)[i] =
          (struct spec_rlimit){ r->rlimits[i]->type, r->rlimits[i]->hard, r->rlimits[i]->soft };
  if (r->user)
    *u = (struct spec_user){ r->user->uid, r->user->gid, r->user->additionalgids,
                             r->user->n_additionalgids };
  *x = (struct spec_exec){
    .terminal = r->terminal,
    .user = r->user ? u : NULL,
    .args = r->args,
    .n_args = r->n_args,
    .env = r->env,
    .n_env = r->n_env,
    .cwd = r->cwd,
    .capabilities = r->capabilities,
    .n_capabilities = r->n_capabilities,
    .rlimits = *rl,
    .n_rlimits = r->n_rlimits,
    .no_new_privileges = r->nonewprivileges,
    .apparmor_profile = r->apparmorprofile,
    .selinux_label = r->selinuxlabel,
  };
}

/* docs/state-directory.md "process.json" for an exec: the OCI process object from the
 * request (specs/, validated), then containerd's own keys. */
static json_object *
exec_spec (struct container *c, const Types__AddProcessRequest *r, struct ctrd_error **err)
{
  json_object *init = c->init ? c->init->spec : NULL;
  /* spec_exec_process takes defaults (user, cwd) from a config's process:
   * the init's process.json is that process object. */
  cleanup_json json_object *config = json_object_new_object ();
  if (init)
    json_object_object_add (config, "process", json_object_get (init));
  struct spec_exec x;
  struct spec_user u;
  cleanup_free struct spec_rlimit *rl = NULL;
  exec_options (r, &x, &u, &rl);
  json_object *o = spec_exec_process (config, &x, err);
  if (!o)
    return NULL;
  return statefile_exec_process_spec (o, init, r->stdin, r->stdout, r->stderr, c->no_pivot);
}

struct exec_call
{
  struct api_call *call;
  struct daemon *d;
  char *id, *pid;
  int64_t t0;
};

static void
exec_on_cancel (struct api_call *call UNUSED, void *data)
{
  struct exec_call *x = data;
  if (sd_event_get_state (x->d->loop) == SD_EVENT_FINISHED)
    return; /* daemon shutdown */
  struct container *c = runtime_find (x->d->rt, x->id);
  if (c)
    runtime_exec_cancel (c, x->pid);
}

static void
exec_done (struct process *p, const struct ctrd_error *err, void *data)
{
  struct exec_call *x = data;
  struct api_call *call = x->call;
  api_call_on_cancel (call, NULL, NULL);
  if (!err)
    metrics_timer_record (x->d->metrics, METRICS_EXEC, time_now_mono_ns () - x->t0);
  free (x->id);
  free (x->pid);
  free (x);
  if (err)
    {
      api_call_fail_error (call, err);
      return;
    }
  Types__AddProcessResponse resp = TYPES__ADD_PROCESS_RESPONSE__INIT;
  resp.systempid = p->pid > 0 ? (uint32_t) p->pid : 0;
  api_call_reply (call, &resp.base);
}

void
api_add_process_handle (struct api_call *call, const ProtobufCMessage *request, void *userdata)
{
  struct daemon *d = userdata;
  const Types__AddProcessRequest *r = (const Types__AddProcessRequest *) request;
  if (!*r->id)
    {
      api_call_fail (call, GRPC_INVALID_ARGUMENT, "container id cannot be empty");
      return;
    }
  if (!*r->pid)
    {
      api_call_fail (call, GRPC_INVALID_ARGUMENT, "process id cannot be empty");
      return;
    }
  if (r->n_args == 0)
    {
      api_call_fail (call, GRPC_INVALID_ARGUMENT, "process args cannot be empty");
      return;
    }
  struct container *c = api_find_container (call, d->rt, r->id);
  if (!c)
    return;
  cleanup_error struct ctrd_error *err = NULL;
  cleanup_json json_object *spec = exec_spec (c, r, &err);
  if (!spec)
    {
      api_call_fail_error (call, err);
      return;
    }
  struct exec_call *x = xmalloc0 (sizeof *x);
  x->call = call;
  x->d = d;
  x->id = xstrdup (r->id);
  x->pid = xstrdup (r->pid);
  x->t0 = time_now_mono_ns ();
  metrics_counter_add (d->metrics, METRICS_TASKS, 1);
  int rc = runtime_exec (c, r->pid, spec, exec_done, x, &err);
  if (rc < 0)
    {
      free (x->id);
      free (x->pid);
      free (x);
      api_call_fail_error (call, err);
      return;
    }
  api_call_on_cancel (call, exec_on_cancel, x);
}
