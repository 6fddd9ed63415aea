/* Container and Process messages from the runtime model (api-container.h). */
#include "supervisor/api-container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/server.h"
#include "lib/log.h"
#include "lib/util.h"
#include "runtime/runtime.h"
#include "runtime/statefile.h"
#include "runtime/cgroup-pids.h"

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
      v[(*n)++] =
          xstrdup (json_object_is_type (s, json_type_string) ? json_object_get_string (s) : "");
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
        m->user->additionalgids[i] =
            (uint32_t) json_object_get_int64 (json_object_array_get_idx (ag, i));
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

static bool
container_running (const struct container *c)
{
  return c->init && c->init->state == PROCESS_RUNNING && c->init->pid > 0
         && (c->state == CONTAINER_RUNNING || c->state == CONTAINER_STARTING);
}

Types__Container *
api_container_message (struct container *c)
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
  return m;
}

const char *
api_container_status (const struct container *c)
{
  if (!container_running (c))
    return "stopped";
  return c->paused ? "paused" : "running";
}

/* ---- State: cached encodings ---------------------------------------------- */

/* What a process's message is made of: a running process (pid and
 * starttime known) is this one as long as these are unchanged, and its id
 * and spec never change. */
struct proc_key
{
  const struct process *p;
  const json_object *spec;
  pid_t pid;
  unsigned long long starttime;
};

/* c->state_cache. The Container message is fields 1–7 in order; 4 (status)
 * and 6 (pids) are written at each State, the rest is packed once: bytes
 * holds fields 1–3, then 5, then 7. */
struct state_cache
{
  uint8_t *bytes;
  size_t len13, len5, len7;
  struct proc_key *keys;
  size_t n_keys;
  bool valid;
  struct cgroup_pids pids;
  bool pids_tried; /* opened (or failed to) once: never again */
};

static void
state_cache_free (void *data)
{
  struct state_cache *sc = data;
  if (!sc)
    return;
  cgroup_pids_close (&sc->pids);
  free (sc->bytes);
  free (sc->keys);
  free (sc);
}

static size_t
proc_count (const struct container *c)
{
  size_t n = 0;
  for (const struct process *p = c->procs; p; p = p->next)
    n++;
  return n;
}

/* Are the cached bytes those of c's processes now? */
static bool
state_cache_current (const struct state_cache *sc, const struct container *c)
{
  if (!sc->valid)
    return false;
  size_t i = 0;
  for (const struct process *p = c->procs; p; p = p->next, i++)
    {
      if (i >= sc->n_keys)
        return false;
      const struct proc_key *k = &sc->keys[i];
      if (k->p != p || k->spec != p->spec || k->pid != p->pid || k->starttime != p->starttime)
        return false;
    }
  return i == sc->n_keys;
}

static size_t
pack_into (const ProtobufCMessage *m, uint8_t **buf, size_t *cap, size_t at)
{
  size_t len = protobuf_c_message_get_packed_size (m);
  if (len == 0)
    return 0; /* (no labels, no runtime): *buf may still be NULL */
  if (at + len > *cap)
    *buf = xrealloc (*buf, *cap = at + len);
  protobuf_c_message_pack (m, *buf + at);
  return len;
}

static void
state_cache_build (struct state_cache *sc, struct container *c)
{
  Types__Container *m = api_container_message (c);
  size_t cap = 0;
  uint8_t *buf = NULL;
  /* the pieces, each a message holding only some fields: protobuf packs
   * fields in number order, so their concatenation (with 4 and 6 between)
   * is the whole message's canonical encoding */
  char *status = m->status, *runtime = m->runtime;
  char **labels = m->labels;
  size_t n_labels = m->n_labels;
  m->status = NULL;
  m->runtime = NULL;
  m->labels = NULL;
  m->n_labels = 0;
  sc->len13 = pack_into (&m->base, &buf, &cap, 0);
  Types__Container part = TYPES__CONTAINER__INIT;
  part.labels = labels;
  part.n_labels = n_labels;
  sc->len5 = pack_into (&part.base, &buf, &cap, sc->len13);
  part.labels = NULL;
  part.n_labels = 0;
  part.runtime = runtime;
  sc->len7 = pack_into (&part.base, &buf, &cap, sc->len13 + sc->len5);
  m->status = status;
  m->runtime = runtime;
  m->labels = labels;
  m->n_labels = n_labels;
  protobuf_c_message_free_unpacked (&m->base, NULL);
  free (sc->bytes);
  sc->bytes = buf;
  /* cached only when every process is running with a known identity: a
   * starting one (pid 0) could be replaced by another at the same address */
  sc->n_keys = proc_count (c);
  sc->keys = xrealloc (sc->keys, (sc->n_keys ? sc->n_keys : 1) * sizeof *sc->keys);
  sc->valid = true;
  size_t i = 0;
  for (const struct process *p = c->procs; p; p = p->next, i++)
    {
      sc->keys[i] = (struct proc_key){ p, p->spec, p->pid, p->starttime };
      if (p->pid <= 0 || p->starttime == 0)
        sc->valid = false;
    }
}

static struct state_cache *
state_cache_of (struct container *c)
{
  if (c->state_cache_free != state_cache_free)
    {
      container_drop_state_cache (c);
      struct state_cache *sc = xmalloc0 (sizeof *sc);
      sc->pids = CGROUP_PIDS_CLOSED;
      c->state_cache = sc;
      c->state_cache_free = state_cache_free;
    }
  return c->state_cache;
}

static void
bytes_reserve (struct api_bytes *b, size_t more)
{
  if (b->n + more <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->n + more)
    cap *= 2;
  b->v = xrealloc (b->v, cap);
  b->cap = cap;
}

static size_t
varint_len (uint64_t v)
{
  size_t n = 1;
  while (v >= 0x80)
    {
      v >>= 7;
      n++;
    }
  return n;
}

/* Unchecked: the caller reserved the room. */
static void
put_varint (struct api_bytes *b, uint64_t v)
{
  while (v >= 0x80)
    {
      b->v[b->n++] = (uint8_t) (v | 0x80);
      v >>= 7;
    }
  b->v[b->n++] = (uint8_t) v;
}

static void
put_bytes (struct api_bytes *b, const void *p, size_t len)
{
  if (len)
    memcpy (b->v + b->n, p, len);
  b->n += len;
}

#define TAG_LEN(field) ((uint8_t) ((field) << 3 | 2)) /* length-delimited */

void
api_container_state_append (struct container *c, struct api_bytes *out, struct pidvec *pids)
{
  struct state_cache *sc = state_cache_of (c);
  if (!state_cache_current (sc, c))
    state_cache_build (sc, c);
  bool running = container_running (c);
  pids->n = 0;
  if (running)
    {
      if (!sc->pids_tried)
        {
          sc->pids_tried = true;
          cleanup_error struct ctrd_error *err = NULL;
          if (cgroup_pids_open (&sc->pids, c->init->pid, &err) < 0)
            log_msg (LOG_LVL_DEBUG, c->id, "State: no pids: %s", err->msg);
        }
      cgroup_pids_read (&sc->pids, pids);
    }
  else if (sc->pids.dirfd >= 0)
    cgroup_pids_close (&sc->pids); /* the init is gone: its cgroup goes too */
  const char *status = api_container_status (c);
  size_t status_len = strlen (status);
  size_t pids_payload = 0;
  for (size_t i = 0; i < pids->n; i++)
    pids_payload += varint_len (pids->v[i]);
  size_t body = sc->len13 + 1 + varint_len (status_len) + status_len + sc->len5 + sc->len7;
  if (pids->n)
    body += 1 + varint_len (pids_payload) + pids_payload;
  bytes_reserve (out, 1 + varint_len (body) + body);
  out->v[out->n++] = TAG_LEN (1); /* StateResponse.containers */
  put_varint (out, body);
  put_bytes (out, sc->bytes, sc->len13);
  out->v[out->n++] = TAG_LEN (4);
  put_varint (out, status_len);
  put_bytes (out, status, status_len);
  put_bytes (out, sc->bytes + sc->len13, sc->len5);
  if (pids->n)
    {
      out->v[out->n++] = TAG_LEN (6); /* packed */
      put_varint (out, pids_payload);
      for (size_t i = 0; i < pids->n; i++)
        put_varint (out, pids->v[i]);
    }
  put_bytes (out, sc->bytes + sc->len13 + sc->len5, sc->len7);
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
api_find_process (struct api_call *call, struct runtime *rt, const char *id, const char *pid)
{
  struct container *c = api_find_container (call, rt, id);
  if (!c)
    return NULL;
  struct process *p = container_find_process (c, pid);
  if (!p)
    api_call_fail (call, GRPC_NOT_FOUND, "containerd: process not found for container");
  return p;
}
