/* Reading process.json, <checkpoint>/config.json, the bundle's config.json
 * (namespaces only) and runc's log.json. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "shim/json.h"
#include "shim/shim.h"

#define SHIM_JSON_MAX (4u << 20)

static struct json *
load_json (const char *path, struct ctrd_error **err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (read_file (path, &text, &len, SHIM_JSON_MAX, err) < 0)
    return NULL;
  struct json *j = json_parse (text, len, err);
  if (j == NULL)
    {
      ctrd_error_wrap (err, "parse `%s`", path);
      return NULL;
    }
  if (j->type != JSON_OBJECT)
    {
      json_free (j);
      ctrd_error_set (err, 0, "`%s`: not a JSON object", path);
      return NULL;
    }
  return j;
}

static int
load_uid (const struct json *j, const char *key, unsigned *out, struct ctrd_error **err)
{
  long long v;
  if (json_get_int (j, key, 0, &v, err) < 0)
    return -1;
  if (v < 0 || v > 0xfffffffeLL)
    return ctrd_error_set (err, 0, "`%s` out of range: %lld", key, v);
  *out = (unsigned) v;
  return 0;
}

static int
load_process (struct shim_config *c, const char *path, struct ctrd_error **err)
{
  struct json *j = load_json (path, err);
  if (j == NULL)
    return -1;
  const char *in, *out, *er, *ck;
  int r = -1;
  if (json_get_bool (j, "terminal", false, &c->terminal, err) < 0
      || json_get_bool (j, "exec", false, &c->exec, err) < 0
      || json_get_bool (j, "noPivotRoot", false, &c->no_pivot, err) < 0
      || json_get_string (j, "containerdStdin", "", &in, err) < 0
      || json_get_string (j, "containerdStdout", "", &out, err) < 0
      || json_get_string (j, "containerdStderr", "", &er, err) < 0
      || json_get_string (j, "checkpoint", "", &ck, err) < 0
      || json_get_strv (j, "runtimeArgs", &c->runtime_args, err) < 0
      || load_uid (j, "rootUID", &c->root_uid, err) < 0
      || load_uid (j, "rootGID", &c->root_gid, err) < 0)
    goto out;
  /* The daemon always fills these (stdin: /dev/null when none); an empty
   * path means a broken process.json, not "no stdio". */
  if (*in == '\0' || *out == '\0' || (*er == '\0' && !c->terminal))
    {
      ctrd_error_set (err, 0, "missing containerdStdin/containerdStdout/containerdStderr");
      goto out;
    }
  c->stdin_path = xstrdup (in);
  c->stdout_path = xstrdup (out);
  c->stderr_path = xstrdup (er);
  c->checkpoint = xstrdup (ck);
  r = 0;
out:
  json_free (j);
  if (r < 0)
    ctrd_error_wrap (err, "read `%s`", path);
  return r;
}

static int
load_checkpoint (struct shim_config *c, struct ctrd_error **err)
{
  cleanup_free char *path = path_join (c->checkpoint, "config.json");
  struct json *j = load_json (path, err);
  if (j == NULL)
    return -1;
  int r = 0;
  if (json_get_bool (j, "tcp", false, &c->ck_tcp, err) < 0
      || json_get_bool (j, "unixSockets", false, &c->ck_unix_sockets, err) < 0
      || json_get_bool (j, "shell", false, &c->ck_shell, err) < 0
      || json_get_strv (j, "emptyNS", &c->ck_empty_ns, err) < 0)
    r = ctrd_error_wrap (err, "read `%s`", path);
  json_free (j);
  return r;
}

/* Only a PID namespace the container creates (no "path") makes its init the
 * namespace's reaper, whose death kills everything else in it. */
static bool
bundle_own_pid_ns (const char *bundle)
{
  cleanup_free char *path = path_join (bundle, "config.json");
  struct json *j = load_json (path, NULL);
  if (j == NULL)
    return false;
  bool own = false;
  const struct json *ns = json_get (json_get (j, "linux"), "namespaces");
  if (ns != NULL && ns->type == JSON_ARRAY)
    for (const struct json *e = ns->child; e != NULL; e = e->next)
      {
        const struct json *t = json_get (e, "type"), *p = json_get (e, "path");
        if (t != NULL && t->type == JSON_STRING && strcmp (t->str, "pid") == 0)
          own = p == NULL || p->type != JSON_STRING || p->str[0] == '\0';
      }
  json_free (j);
  return own;
}

int
shim_config_load (struct shim *s, struct ctrd_error **err)
{
  struct shim_config *c = &s->cfg;
  if (load_process (c, SHIM_FILE_PROCESS, err) < 0)
    return -1;
  if (c->checkpoint[0] != '\0' && load_checkpoint (c, err) < 0)
    return -1;
  if (!c->exec)
    c->own_pid_ns = bundle_own_pid_ns (s->bundle);
  return 0;
}

void
shim_config_free (struct shim_config *c)
{
  free (c->stdin_path);
  free (c->stdout_path);
  free (c->stderr_path);
  free (c->checkpoint);
  strv_free (c->runtime_args);
  strv_free (c->ck_empty_ns);
  memset (c, 0, sizeof *c);
}

char *
shim_runtime_log_error (const char *path)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (read_file (path, &text, &len, SHIM_JSON_MAX, NULL) < 0)
    return NULL;
  char *line = text;
  while (line < text + len)
    {
      char *nl = memchr (line, '\n', (size_t) (text + len - line));
      size_t n = nl ? (size_t) (nl - line) : (size_t) (text + len - line);
      struct json *j = json_parse (line, n, NULL);
      line += n + 1;
      if (j == NULL)
        continue;
      const struct json *lvl = json_get (j, "level"), *msg = json_get (j, "msg");
      char *found = NULL;
      if (lvl && lvl->type == JSON_STRING && strcmp (lvl->str, "error") == 0 && msg
          && msg->type == JSON_STRING)
        found = xstrdup (msg->str);
      json_free (j);
      if (found)
        return found;
    }
  return NULL;
}
