/* AddProcess (api.md, daemon.md §5): the exec's process.json from the
 * request, then the shim in exec mode; the reply carries the host pid. No
 * wait in the loop: the runtime calls back when the shim reported. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api.pb-c.h"
#include "api/server.h"
#include "lib/util.h"
#include "runtime/runtime.h"
#include "supervisor/api_handlers.h"
#include "supervisor/daemon.h"

static json_object *
strv_json (char **v, size_t n)
{
  json_object *a = json_object_new_array ();
  for (size_t i = 0; i < n; i++)
    json_object_array_add (a, json_object_new_string (v[i]));
  return a;
}

static json_object *
copy_key (json_object *from, const char *key)
{
  json_object *v, *o = NULL;
  if (from && json_object_object_get_ex (from, key, &v))
    json_object_deep_copy (v, &o, NULL);
  return o;
}

/* state-and-shim.md §3 for an exec: OCI process keys from the request (in
 * the original's order), then containerd's own keys. */
static json_object *
exec_spec (struct container *c, const Types__AddProcessRequest *r)
{
  json_object *init = c->init ? c->init->spec : NULL;
  json_object *o = json_object_new_object ();
  if (r->terminal)
    json_object_object_add (o, "terminal", json_object_new_boolean (true));
  json_object *u = json_object_new_object ();
  json_object_object_add (u, "uid", json_object_new_int64 (r->user ? r->user->uid : 0));
  json_object_object_add (u, "gid", json_object_new_int64 (r->user ? r->user->gid : 0));
  if (r->user && r->user->n_additionalgids)
    {
      json_object *g = json_object_new_array ();
      for (size_t i = 0; i < r->user->n_additionalgids; i++)
        json_object_array_add (g, json_object_new_int64 (r->user->additionalgids[i]));
      json_object_object_add (u, "additionalGids", g);
    }
  json_object_object_add (o, "user", u);
  json_object_object_add (o, "args", strv_json (r->args, r->n_args));
  if (r->n_env)
    json_object_object_add (o, "env", strv_json (r->env, r->n_env));
  /* runc needs an absolute cwd: an empty one means the init's. */
  const char *cwd = r->cwd && *r->cwd ? r->cwd : NULL;
  json_object *icwd = NULL;
  if (!cwd && init && json_object_object_get_ex (init, "cwd", &icwd))
    cwd = json_object_get_string (icwd);
  json_object_object_add (o, "cwd", json_object_new_string (cwd ? cwd : "/"));
  if (r->n_capabilities)
    {
      json_object *caps = json_object_new_object ();
      static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted" };
      for (size_t i = 0; i < 4; i++)
        json_object_object_add (caps, sets[i], strv_json (r->capabilities, r->n_capabilities));
      json_object_object_add (o, "capabilities", caps);
    }
  if (r->n_rlimits)
    {
      json_object *a = json_object_new_array ();
      for (size_t i = 0; i < r->n_rlimits; i++)
        {
          json_object *e = json_object_new_object ();
          json_object_object_add (e, "type", json_object_new_string (r->rlimits[i]->type));
          json_object_object_add (e, "hard", json_object_new_uint64 (r->rlimits[i]->hard));
          json_object_object_add (e, "soft", json_object_new_uint64 (r->rlimits[i]->soft));
          json_object_array_add (a, e);
        }
      json_object_object_add (o, "rlimits", a);
    }
  if (r->nonewprivileges)
    json_object_object_add (o, "noNewPrivileges", json_object_new_boolean (true));
  if (r->apparmorprofile && *r->apparmorprofile)
    json_object_object_add (o, "apparmorProfile", json_object_new_string (r->apparmorprofile));
  if (r->selinuxlabel && *r->selinuxlabel)
    json_object_object_add (o, "selinuxLabel", json_object_new_string (r->selinuxlabel));
  json_object_object_add (o, "exec", json_object_new_boolean (true));
  json_object_object_add (o, "containerdStdin",
                          json_object_new_string (*r->stdin ? r->stdin : "/dev/null"));
  json_object_object_add (o, "containerdStdout",
                          json_object_new_string (*r->stdout ? r->stdout : "/dev/null"));
  json_object_object_add (o, "containerdStderr",
                          json_object_new_string (*r->stderr ? r->stderr : "/dev/null"));
  json_object *ra = copy_key (init, "runtimeArgs");
  json_object_object_add (o, "runtimeArgs", ra);
  json_object_object_add (o, "noPivotRoot", json_object_new_boolean (c->no_pivot));
  json_object_object_add (o, "checkpoint", json_object_new_string (""));
  json_object *uid = copy_key (init, "rootUID"), *gid = copy_key (init, "rootGID");
  json_object_object_add (o, "rootUID", uid ? uid : json_object_new_int (0));
  json_object_object_add (o, "rootGID", gid ? gid : json_object_new_int (0));
  return o;
}

static void
exec_done (struct process *p, const struct ctrd_error *err, void *data)
{
  struct api_call *call = data;
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
  struct container *c = runtime_find (d->rt, r->id);
  if (!c)
    {
      api_call_fail (call, GRPC_NOT_FOUND, "containerd: container not found");
      return;
    }
  json_object *spec = exec_spec (c, r);
  cleanup_error struct ctrd_error *err = NULL;
  int rc = runtime_exec (c, r->pid, spec, exec_done, call, &err);
  json_object_put (spec);
  if (rc < 0)
    api_call_fail_error (call, err);
}
