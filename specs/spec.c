/* Bundle config.json loading and validation, exec process objects. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/json-cleanup.h"
#include "lib/util.h"
#include "specs/spec.h"
#include "specs/json-util.h"

#define CONFIG_MAX (16 * 1024 * 1024)

static int bad (struct ctrd_error **err, const char *bundle, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* "bundle <b>: config.json: <what>" as INVALID_ARGUMENT. */
static int
bad (struct ctrd_error **err, const char *bundle, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *what = xvasprintf (fmt, ap);
  va_end (ap);
  return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "bundle %s: config.json: %s", bundle, what);
}

/* Parse with json-c's tokener so that the error carries the position. */
static json_object *
parse_config (const char *bundle, const char *text, size_t len, struct ctrd_error **err)
{
  json_tokener *tok = json_tokener_new ();
  /* Strict like the runtime's parser: no trailing commas, no single quotes. */
  json_tokener_set_flags (tok, JSON_TOKENER_STRICT);
  cleanup_json json_object *o = json_tokener_parse_ex (tok, text, (int) len);
  enum json_tokener_error jerr = json_tokener_get_error (tok);
  size_t end = json_tokener_get_parse_end (tok);
  json_tokener_free (tok);
  if (jerr == json_tokener_success)
    {
      /* json-c stops after the first value: anything but blanks after it is
       * garbage the runtime would reject. */
      while (end < len && strchr (" \t\r\n", text[end]))
        end++;
      if (end == len)
        return take_ptr (&o);
    }
  size_t line = 1, col = 1;
  for (size_t i = 0; i < end && i < len; i++)
    {
      if (text[i] == '\n')
        {
          line++;
          col = 1;
        }
      else
        col++;
    }
  const char *why = jerr == json_tokener_success    ? "unexpected data after the JSON value"
                    : jerr == json_tokener_continue ? "unexpected end of data"
                                                    : json_tokener_error_desc (jerr);
  bad (err, bundle, "invalid JSON at line %zu column %zu (offset %zu): %s", line, col, end, why);
  return NULL;
}

static int
check_process (const char *bundle, json_object *proc, struct ctrd_error **err)
{
  if (!proc)
    return bad (err, bundle, "process: missing");
  if (!json_object_is_type (proc, json_type_object))
    return bad (err, bundle, "process: not an object");
  json_object *args = spec_get (proc, "args");
  if (!args)
    return bad (err, bundle, "process.args: missing");
  if (!json_object_is_type (args, json_type_array))
    return bad (err, bundle, "process.args: not an array");
  size_t n = json_object_array_length (args);
  if (n == 0)
    return bad (err, bundle, "process.args: empty");
  for (size_t i = 0; i < n; i++)
    if (!json_object_is_type (json_object_array_get_idx (args, i), json_type_string))
      return bad (err, bundle, "process.args[%zu]: not a string", i);
  json_object *cwd = spec_get (proc, "cwd");
  if (!cwd)
    return bad (err, bundle, "process.cwd: missing");
  if (!json_object_is_type (cwd, json_type_string))
    return bad (err, bundle, "process.cwd: not a string");
  if (json_object_get_string (cwd)[0] != '/')
    return bad (err, bundle, "process.cwd: not an absolute path: \"%s\"",
                json_object_get_string (cwd));
  return 0;
}

static int
check_root (const char *bundle, json_object *root, struct ctrd_error **err)
{
  if (!root)
    return bad (err, bundle, "root: missing");
  if (!json_object_is_type (root, json_type_object))
    return bad (err, bundle, "root: not an object");
  json_object *p = spec_get (root, "path");
  if (!p)
    return bad (err, bundle, "root.path: missing");
  if (!json_object_is_type (p, json_type_string) || !*json_object_get_string (p))
    return bad (err, bundle, "root.path: not a non-empty string");
  const char *rel = json_object_get_string (p);
  cleanup_free char *full = rel[0] == '/' ? xstrdup (rel) : path_join (bundle, rel);
  struct stat st;
  if (stat (full, &st) < 0)
    return bad (err, bundle, "root.path: %s: %s", full, strerror (errno));
  if (!S_ISDIR (st.st_mode))
    return bad (err, bundle, "root.path: %s: not a directory", full);
  return 0;
}

json_object *
spec_load_bundle (const char *bundle, struct ctrd_error **err)
{
  if (!bundle || !*bundle)
    {
      ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "empty bundle path");
      return NULL;
    }
  if (bundle[0] != '/')
    {
      ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "bundle %s: not an absolute path", bundle);
      return NULL;
    }
  struct stat st;
  if (stat (bundle, &st) < 0)
    {
      ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "bundle %s: %s", bundle, strerror (errno));
      return NULL;
    }
  if (!S_ISDIR (st.st_mode))
    {
      ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "bundle %s: not a directory", bundle);
      return NULL;
    }

  cleanup_free char *path = path_join (bundle, "config.json");
  cleanup_free char *text = NULL;
  size_t len = 0;
  cleanup_error struct ctrd_error *e = NULL;
  if (read_file (path, &text, &len, CONFIG_MAX, &e) < 0)
    {
      /* out of fds (or memory) is the daemon's state, not a bad bundle */
      if (e->status == EMFILE || e->status == ENFILE || e->status == ENOMEM)
        ctrd_error_grpc (err, GRPC_RESOURCE_EXHAUSTED, "bundle %s: config.json: %s", bundle,
                         strerror (e->status));
      else
        bad (err, bundle, "%s", e->status ? strerror (e->status) : e->msg);
      return NULL;
    }
  cleanup_json json_object *o = parse_config (bundle, text, len, err);
  if (!o)
    return NULL;
  if (!json_object_is_type (o, json_type_object))
    {
      bad (err, bundle, "not a JSON object");
      return NULL;
    }
  if (check_process (bundle, spec_get (o, "process"), err) < 0
      || check_root (bundle, spec_get (o, "root"), err) < 0)
    return NULL;
  json_object *linux_o = spec_get (o, "linux");
  if (linux_o && !json_object_is_type (linux_o, json_type_object))
    {
      bad (err, bundle, "linux: not an object");
      return NULL;
    }
  if (spec_validate_seccomp (spec_get (linux_o, "seccomp"), err) < 0)
    {
      ctrd_error_wrap (err, "bundle %s: config.json: linux.seccomp", bundle);
      return NULL;
    }
  return take_ptr (&o);
}

bool
spec_has_own_pid_ns (json_object *spec)
{
  json_object *ns = spec_get (spec_get (spec, "linux"), "namespaces");
  if (!ns || !json_object_is_type (ns, json_type_array))
    return false;
  for (size_t i = 0; i < json_object_array_length (ns); i++)
    {
      json_object *e = json_object_array_get_idx (ns, i);
      json_object *t = spec_get (e, "type"), *p = spec_get (e, "path");
      if (t && json_object_is_type (t, json_type_string)
          && strcmp (json_object_get_string (t), "pid") == 0
          && (!p || !json_object_is_type (p, json_type_string) || !*json_object_get_string (p)))
        return true;
    }
  return false;
}

/* ---- exec process ---- */

static const char *const rlimit_names[] = {
  "RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",        "RLIMIT_DATA",
  "RLIMIT_FSIZE",  "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK",    "RLIMIT_MSGQUEUE",
  "RLIMIT_NICE",   "RLIMIT_NOFILE", "RLIMIT_NPROC",      "RLIMIT_RSS",
  "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
};

static bool
rlimit_known (const char *t)
{
  for (size_t i = 0; i < ARRAY_SIZE (rlimit_names); i++)
    if (strcmp (t, rlimit_names[i]) == 0)
      return true;
  return false;
}

static json_object *
strv_json (char *const *v, size_t n)
{
  json_object *a = json_object_new_array_ext ((int) n);
  for (size_t i = 0; i < n; i++)
    json_object_array_add (a, json_object_new_string (v[i]));
  return a;
}

static json_object *
copy (json_object *v)
{
  json_object *o = NULL;
  if (v && json_object_deep_copy (v, &o, NULL) < 0)
    abort ();
  return o;
}

static json_object *
exec_user (json_object *config, const struct spec_user *u)
{
  if (!u)
    {
      json_object *iu = spec_get (spec_get (config, "process"), "user");
      if (iu && json_object_is_type (iu, json_type_object))
        return copy (iu);
    }
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "uid", json_object_new_int64 (u ? u->uid : 0));
  json_object_object_add (o, "gid", json_object_new_int64 (u ? u->gid : 0));
  if (u && u->n_additional_gids)
    {
      json_object *g = json_object_new_array_ext ((int) u->n_additional_gids);
      for (size_t i = 0; i < u->n_additional_gids; i++)
        json_object_array_add (g, json_object_new_int64 (u->additional_gids[i]));
      json_object_object_add (o, "additionalGids", g);
    }
  return o;
}

static int
exec_check (const struct spec_exec *req, const char *cwd, struct ctrd_error **err)
{
  if (req->n_args == 0)
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "process args cannot be empty");
  for (size_t i = 0; i < req->n_args; i++)
    if (!req->args[i])
      return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "process args[%zu]: missing", i);
  if (cwd[0] != '/')
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "process cwd: not an absolute path: \"%s\"",
                            cwd);
  for (size_t i = 0; i < req->n_capabilities; i++)
    if (!spec_cap_name_ok (req->capabilities[i]))
      return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT,
                              "process capabilities: unknown "
                              "capability \"%s\"",
                              req->capabilities[i]);
  for (size_t i = 0; i < req->n_rlimits; i++)
    {
      const struct spec_rlimit *r = &req->rlimits[i];
      if (!r->type || !rlimit_known (r->type))
        return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT,
                                "process rlimits: unknown rlimit type \"%s\"",
                                r->type ? r->type : "");
      if (r->soft > r->hard)
        return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT,
                                "process rlimits: %s: soft limit %llu above hard limit %llu",
                                r->type, (unsigned long long) r->soft,
                                (unsigned long long) r->hard);
    }
  return 0;
}

json_object *
spec_exec_process (json_object *config, const struct spec_exec *req, struct ctrd_error **err)
{
  const char *cwd = req->cwd && *req->cwd ? req->cwd : NULL;
  json_object *icwd = spec_get (spec_get (config, "process"), "cwd");
  if (!cwd && icwd && json_object_is_type (icwd, json_type_string))
    cwd = json_object_get_string (icwd);
  if (!cwd || !*cwd)
    cwd = "/";
  if (exec_check (req, cwd, err) < 0)
    return NULL;

  json_object *o = json_object_new_object ();
  if (req->terminal)
    json_object_object_add (o, "terminal", json_object_new_boolean (true));
  json_object_object_add (o, "user", exec_user (config, req->user));
  json_object_object_add (o, "args", strv_json (req->args, req->n_args));
  if (req->n_env)
    json_object_object_add (o, "env", strv_json (req->env, req->n_env));
  json_object_object_add (o, "cwd", json_object_new_string (cwd));
  if (req->n_capabilities)
    {
      static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted" };
      json_object *caps = json_object_new_object ();
      for (size_t i = 0; i < ARRAY_SIZE (sets); i++)
        json_object_object_add (caps, sets[i], strv_json (req->capabilities, req->n_capabilities));
      json_object_object_add (o, "capabilities", caps);
    }
  if (req->n_rlimits)
    {
      json_object *a = json_object_new_array_ext ((int) req->n_rlimits);
      for (size_t i = 0; i < req->n_rlimits; i++)
        {
          json_object *e = json_object_new_object ();
          json_object_object_add (e, "type", json_object_new_string (req->rlimits[i].type));
          json_object_object_add (e, "hard", json_object_new_uint64 (req->rlimits[i].hard));
          json_object_object_add (e, "soft", json_object_new_uint64 (req->rlimits[i].soft));
          json_object_array_add (a, e);
        }
      json_object_object_add (o, "rlimits", a);
    }
  if (req->no_new_privileges)
    json_object_object_add (o, "noNewPrivileges", json_object_new_boolean (true));
  if (req->apparmor_profile && *req->apparmor_profile)
    json_object_object_add (o, "apparmorProfile", json_object_new_string (req->apparmor_profile));
  if (req->selinux_label && *req->selinux_label)
    json_object_object_add (o, "selinuxLabel", json_object_new_string (req->selinux_label));
  return o;
}
