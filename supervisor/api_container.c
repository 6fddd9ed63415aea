/* Container and Process messages from the runtime model (api_container.h). */
#include "supervisor/api_container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/server.h"
#include "lib/util.h"
#include "runtime/cgdirs.h"
#include "runtime/runtime.h"
#include "runtime/stats.h"
#include "runtime/statefile.h"

static char *
jstr (json_object *o, const char *key)
{
  json_object *v;
  if (o && json_object_object_get_ex (o, key, &v) && json_object_is_type (v, json_type_string))
    return xstrdup (json_object_get_string (v));
  return xstrdup ("");
}

static bool
jbool (json_object *o, const char *key)
{
  json_object *v;
  return o && json_object_object_get_ex (o, key, &v) && json_object_get_boolean (v);
}

static char **
jstrv (json_object *a, size_t *n)
{
  *n = 0;
  if (!a || !json_object_is_type (a, json_type_array) || json_object_array_length (a) == 0)
    return NULL;
  size_t len = json_object_array_length (a);
  char **v = xmalloc0 (len * sizeof *v);
  for (size_t i = 0; i < len; i++)
    {
      json_object *s = json_object_array_get_idx (a, i);
      v[(*n)++] = xstrdup (json_object_is_type (s, json_type_string) ? json_object_get_string (s)
                                                                     : "");
    }
  return v;
}

static json_object *
jget (json_object *o, const char *key)
{
  json_object *v = NULL;
  if (o)
    json_object_object_get_ex (o, key, &v);
  return v;
}

static Types__Process *
process_message (struct process *p)
{
  json_object *s = p->spec;
  Types__Process *m = xmalloc (sizeof *m);
  types__process__init (m);
  m->pid = xstrdup (p->id);
  m->terminal = jbool (s, "terminal");
  m->user = xmalloc (sizeof *m->user);
  types__user__init (m->user);
  json_object *u = jget (s, "user"), *v;
  if ((v = jget (u, "uid")))
    m->user->uid = (uint32_t) json_object_get_int64 (v);
  if ((v = jget (u, "gid")))
    m->user->gid = (uint32_t) json_object_get_int64 (v);
  json_object *ag = jget (u, "additionalGids");
  if (ag && json_object_is_type (ag, json_type_array) && json_object_array_length (ag) > 0)
    {
      size_t len = json_object_array_length (ag);
      m->user->additionalgids = xmalloc (len * sizeof (uint32_t));
      for (size_t i = 0; i < len; i++)
        m->user->additionalgids[i] = (uint32_t) json_object_get_int64 (json_object_array_get_idx (ag, i));
      m->user->n_additionalgids = len;
    }
  m->args = jstrv (jget (s, "args"), &m->n_args);
  m->env = jstrv (jget (s, "env"), &m->n_env);
  m->cwd = jstr (s, "cwd");
  m->systempid = p->pid > 0 ? (uint32_t) p->pid : 0;
  m->stdin = xstrdup (statefile_process_stdio (s, 0));
  m->stdout = xstrdup (statefile_process_stdio (s, 1));
  m->stderr = xstrdup (statefile_process_stdio (s, 2));
  m->capabilities = jstrv (jget (jget (s, "capabilities"), "effective"), &m->n_capabilities);
  m->apparmorprofile = jstr (s, "apparmorProfile");
  m->selinuxlabel = jstr (s, "selinuxLabel");
  m->nonewprivileges = jbool (s, "noNewPrivileges");
  json_object *rl = jget (s, "rlimits");
  if (rl && json_object_is_type (rl, json_type_array) && json_object_array_length (rl) > 0)
    {
      size_t len = json_object_array_length (rl);
      m->rlimits = xmalloc (len * sizeof *m->rlimits);
      for (size_t i = 0; i < len; i++)
        {
          json_object *e = json_object_array_get_idx (rl, i);
          Types__Rlimit *r = xmalloc (sizeof *r);
          types__rlimit__init (r);
          r->type = jstr (e, "type");
          if ((v = jget (e, "soft")))
            r->soft = (uint64_t) json_object_get_int64 (v);
          if ((v = jget (e, "hard")))
            r->hard = (uint64_t) json_object_get_int64 (v);
          m->rlimits[m->n_rlimits++] = r;
        }
    }
  return m;
}

static void
container_pids (Types__Container *m, pid_t init_pid)
{
  cleanup_error struct ctrd_error *err = NULL;
  uint32_t *pids = NULL;
  size_t n = 0;
  /* what `runc ps` lists, read from cgroup.procs: no runtime fork */
  if (stats_pids_in_cgroup (init_pid, &pids, &n, &err) < 0)
    return;
  m->pids = pids;
  m->n_pids = n;
}

/* Frozen by `<rt> pause`? (freezer v1, cgroup.freeze on v2) */
static bool
container_frozen (pid_t init_pid)
{
  struct cgdirs dirs;
  cleanup_error struct ctrd_error *err = NULL;
  if (cgdirs_for_pid (init_pid, &dirs, &err) < 0)
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

static bool
container_running (const struct container *c)
{
  return c->init && c->init->state == PROCESS_RUNNING && c->init->pid > 0
         && (c->state == CONTAINER_RUNNING || c->state == CONTAINER_STARTING);
}

Types__Container *
api_container_message (struct container *c, bool with_pids)
{
  Types__Container *m = xmalloc (sizeof *m);
  types__container__init (m);
  m->id = xstrdup (c->id);
  m->bundlepath = xstrdup (c->bundle ? c->bundle : "");
  m->runtime = xstrdup (c->runtime_bin ? c->runtime_bin : "");
  size_t n = 0;
  for (struct process *p = c->procs; p; p = p->next)
    n++;
  if (n)
    m->processes = xmalloc (n * sizeof *m->processes);
  /* init first, then execs in creation order (procs is newest first) */
  if (c->init)
    m->processes[m->n_processes++] = process_message (c->init);
  size_t first_exec = m->n_processes;
  for (struct process *p = c->procs; p; p = p->next)
    if (p != c->init)
      m->processes[m->n_processes++] = process_message (p);
  for (size_t i = first_exec, j = m->n_processes; j > i + 1; i++, j--)
    {
      Types__Process *t = m->processes[i];
      m->processes[i] = m->processes[j - 1];
      m->processes[j - 1] = t;
    }
  for (size_t i = 0; c->labels && c->labels[i]; i++)
    m->n_labels++;
  if (m->n_labels)
    {
      m->labels = xmalloc (m->n_labels * sizeof *m->labels);
      for (size_t i = 0; i < m->n_labels; i++)
        m->labels[i] = xstrdup (c->labels[i]);
    }
  m->status = xstrdup (api_container_status (c));
  if (with_pids && container_running (c))
    container_pids (m, c->init->pid);
  return m;
}

const char *
api_container_status (struct container *c)
{
  if (!container_running (c))
    return "stopped";
  return container_frozen (c->init->pid) ? "paused" : "running";
}

struct container *
api_find_container (struct api_call *call, struct runtime *rt, const char *id)
{
  struct container *c = runtime_find (rt, id);
  if (!c)
    api_call_fail (call, GRPC_NOT_FOUND, "containerd: container not found");
  return c;
}

struct process *
api_find_process (struct api_call *call, struct container *c, const char *pid)
{
  struct process *p = container_find_process (c, pid);
  if (!p)
    api_call_fail (call, GRPC_NOT_FOUND, "containerd: process not found for container");
  return p;
}
