/* Checkpoints (docs/runtime.md §3, #13): create through `<rt> checkpoint` and
 * CRIU, list and delete by reading the checkpoint directory. Restore is
 * CreateContainer's business (container.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/id.h"
#include "lib/json-cleanup.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "runtime/internal.h"
#include "runtime/ops-internal.h"

#define CHECKPOINT_CONFIG "config.json"
#define CHECKPOINT_CONFIG_MAX (1 << 20)

int
ops_checkpoint_name_check (const char *name, struct ctrd_error **err)
{
  if (!name || !*name)
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "checkpoint name cannot be empty");
  return id_validate (name, "checkpoint name", err);
}

/* The namespaces runc's (and crun's) --empty-ns knows (runtime-spec names). */
static int
ops_empty_ns_check (char *const *ns, struct ctrd_error **err)
{
  static const char *const known[] = { "network", "pid",  "mount",  "ipc",
                                       "uts",     "user", "cgroup", NULL };
  for (size_t i = 0; ns && ns[i]; i++)
    {
      bool ok = false;
      for (size_t k = 0; known[k]; k++)
        ok = ok || strcmp (ns[i], known[k]) == 0;
      if (!ok)
        return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT,
                                "checkpoint emptyNS: unknown namespace \"%s\" (expected network, "
                                "pid, mount, ipc, uts, user or cgroup)",
                                ns[i]);
    }
  return 0;
}

char *
ops_checkpoint_parent (const struct container *c, const char *checkpoint_dir)
{
  if (checkpoint_dir && *checkpoint_dir)
    return path_absolute (checkpoint_dir);
  cleanup_free char *d = path_join (c->bundle, "checkpoints");
  return path_absolute (d);
}

char *
ops_checkpoint_config (const struct ops_checkpoint *cp, int64_t created_ns)
{
  char ts[64];
  if (time_format_rfc3339_nano (created_ns, false, ts, sizeof ts) < 0)
    ts[0] = '\0';
  cleanup_json json_object *o = json_object_new_object ();
  json_object_object_add (o, "created", json_object_new_string (ts));
  json_object_object_add (o, "name", json_object_new_string (cp->name));
  json_object_object_add (o, "tcp", json_object_new_boolean (cp->tcp));
  json_object_object_add (o, "unixSockets", json_object_new_boolean (cp->unix_sockets));
  json_object_object_add (o, "shell", json_object_new_boolean (cp->shell));
  json_object_object_add (o, "exit", json_object_new_boolean (cp->exit));
  if (cp->empty_ns && cp->empty_ns[0])
    {
      json_object *a = json_object_new_array ();
      for (size_t i = 0; cp->empty_ns[i]; i++)
        json_object_array_add (a, json_object_new_string (cp->empty_ns[i]));
      json_object_object_add (o, "emptyNS", a);
    }
  return xasprintf ("%s\n", json_object_to_json_string_ext (
                                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

char **
ops_checkpoint_sub (const char *image_dir, const struct ops_checkpoint *cp, const char *id)
{
  char **v = NULL;
  cleanup_free char *work = path_join (image_dir, "criu.work");
  strv_push (&v, "checkpoint");
  strv_push (&v, "--image-path");
  strv_push (&v, image_dir);
  strv_push (&v, "--work-path");
  strv_push (&v, work);
  if (!cp->exit)
    strv_push (&v, "--leave-running");
  if (cp->shell)
    strv_push (&v, "--shell-job");
  if (cp->tcp)
    strv_push (&v, "--tcp-established");
  if (cp->unix_sockets)
    strv_push (&v, "--ext-unix-sk");
  for (size_t i = 0; cp->empty_ns && cp->empty_ns[i]; i++)
    {
      strv_push (&v, "--empty-ns");
      strv_push (&v, cp->empty_ns[i]);
    }
  strv_push (&v, id);
  return v;
}

int
ops_checkpoint_create (struct container *c, const char *parent, const struct ops_checkpoint *cp,
                       ops_done_fn done, void *data, struct ctrd_error **err)
{
  if (ops_checkpoint_name_check (cp->name, err) < 0 || ops_empty_ns_check (cp->empty_ns, err) < 0
      || ops_check_container (c, err) < 0)
    return -1;
  if (mkdir_p (parent, 0755, err) < 0)
    return -1;
  cleanup_free char *image = path_join (parent, cp->name);
  if (mkdir (image, 0755) < 0)
    {
      if (errno == EEXIST)
        return ctrd_error_grpc (err, GRPC_ALREADY_EXISTS, "mkdir %s: file exists", image);
      return ctrd_error_set (err, errno, "mkdir %s", image);
    }
  cleanup_free char *cfg = ops_checkpoint_config (cp, time_now_real_ns ());
  cleanup_free char *cfg_path = path_join (image, CHECKPOINT_CONFIG);
  cleanup_strv char **sub = ops_checkpoint_sub (image, cp, c->id);
  cleanup_free char *hint = xasprintf ("CRIU log: %s/criu.work/dump.log", image);
  if (write_file_atomic (cfg_path, cfg, strlen (cfg), 0644, err) < 0
      || ops_run (c, OPS_CHECKPOINT, (const char *const *) sub, NULL, 0, hint, done, data, err) < 0)
    {
      /* Nothing ran: leave no half-made checkpoint that List would show. */
      rm_rf (image, NULL);
      return -1;
    }
  return 0;
}

static int
config_bool (json_object *o, const char *key, bool *out, const char *path, struct ctrd_error **err)
{
  json_object *v;
  *out = false;
  if (!json_object_object_get_ex (o, key, &v) || v == NULL)
    return 0;
  if (!json_object_is_type (v, json_type_boolean))
    return ctrd_error_set (err, 0, "checkpoint %s: \"%s\" is not a boolean", path, key);
  *out = json_object_get_boolean (v);
  return 0;
}

/* Read one checkpoint's config.json into info (name defaults to dirname). */
static int
ops_checkpoint_read (const char *parent, const char *dirname, struct ops_checkpoint_info *info,
                     struct ctrd_error **err)
{
  cleanup_free char *path = xasprintf ("%s/%s/%s", parent, dirname, CHECKPOINT_CONFIG);
  cleanup_free char *text = NULL;
  size_t len;
  if (read_file (path, &text, &len, CHECKPOINT_CONFIG_MAX, err) < 0)
    return -1;
  enum json_tokener_error jerr;
  cleanup_json json_object *o = json_tokener_parse_verbose (text, &jerr);
  if (!o || !json_object_is_type (o, json_type_object))
    return ctrd_error_set (err, 0, "checkpoint %s: not a JSON object (%s)", path,
                           o ? "wrong type" : json_tokener_error_desc (jerr));
  json_object *v;
  if (json_object_object_get_ex (o, "name", &v) && v)
    {
      if (!json_object_is_type (v, json_type_string))
        return ctrd_error_set (err, 0, "checkpoint %s: \"name\" is not a string", path);
      info->name = xstrdup (json_object_get_string (v));
    }
  else
    info->name = xstrdup (dirname);
  if (config_bool (o, "tcp", &info->tcp, path, err) < 0
      || config_bool (o, "unixSockets", &info->unix_sockets, path, err) < 0
      || config_bool (o, "shell", &info->shell, path, err) < 0
      || config_bool (o, "exit", &info->exit, path, err) < 0)
    return -1;
  if (json_object_object_get_ex (o, "emptyNS", &v) && v)
    {
      if (!json_object_is_type (v, json_type_array))
        return ctrd_error_set (err, 0, "checkpoint %s: \"emptyNS\" is not an array", path);
      for (size_t i = 0; i < json_object_array_length (v); i++)
        {
          json_object *e = json_object_array_get_idx (v, i);
          if (!json_object_is_type (e, json_type_string))
            return ctrd_error_set (err, 0, "checkpoint %s: \"emptyNS\" holds a non-string", path);
          strv_push (&info->empty_ns, json_object_get_string (e));
        }
    }
  return 0;
}

static int
name_cmp (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

void
ops_checkpoint_list_free (struct ops_checkpoint_info *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    {
      free (v[i].name);
      strv_free (v[i].empty_ns);
    }
  free (v);
}

int
ops_checkpoint_list (const char *parent, struct ops_checkpoint_info **out, size_t *n,
                     struct ctrd_error **err)
{
  *out = NULL;
  *n = 0;
  cleanup_dir DIR *d = opendir (parent);
  if (!d)
    return ctrd_error_set (err, errno, "open %s", parent);
  cleanup_strv char **names = NULL;
  struct dirent *de;
  errno = 0;
  while ((de = readdir (d)))
    {
      struct stat st;
      if (!strcmp (de->d_name, ".") || !strcmp (de->d_name, ".."))
        continue;
      /* As Go's ReadDir (lstat): a symlink is not a checkpoint. */
      if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue; /* removed meanwhile */
          return ctrd_error_set (err, errno, "stat %s/%s", parent, de->d_name);
        }
      if (S_ISDIR (st.st_mode))
        strv_push (&names, de->d_name);
      errno = 0;
    }
  if (errno)
    return ctrd_error_set (err, errno, "read %s", parent);
  size_t count = strv_len (names);
  if (count == 0)
    return 0;
  qsort (names, count, sizeof *names, name_cmp);
  struct ops_checkpoint_info *v = xmalloc0 (count * sizeof *v);
  for (size_t i = 0; i < count; i++)
    if (ops_checkpoint_read (parent, names[i], &v[i], err) < 0)
      {
        ops_checkpoint_list_free (v, count);
        return -1;
      }
  *out = v;
  *n = count;
  return 0;
}

int
ops_checkpoint_delete (const char *parent, const char *name, struct ctrd_error **err)
{
  if (ops_checkpoint_name_check (name, err) < 0)
    return -1;
  cleanup_free char *image = path_join (parent, name);
  /* Only what CreateCheckpoint wrote (ctrd: the original removed any path
   * named by checkpointDir + name, a bundle or /etc alike): a real directory
   * (not a symlink) holding a regular config.json that List reads, with
   * "created" and a "name" equal to the name asked for. */
  struct stat st;
  if (lstat (image, &st) < 0)
    {
      if (errno == ENOENT)
        return 0; /* absent is fine, as the original's RemoveAll */
      return ctrd_error_set (err, errno, "stat %s", image);
    }
  cleanup_free char *cfg = path_join (image, CHECKPOINT_CONFIG);
  struct stat cst;
  const char *why = NULL;
  if (!S_ISDIR (st.st_mode))
    why = "not a directory";
  else if (lstat (cfg, &cst) < 0 || !S_ISREG (cst.st_mode))
    why = "no " CHECKPOINT_CONFIG;
  else
    {
      struct ops_checkpoint_info info = { 0 };
      cleanup_error struct ctrd_error *e = NULL;
      cleanup_free char *text = NULL;
      size_t len;
      cleanup_json json_object *o = NULL;
      json_object *created = NULL;
      if (ops_checkpoint_read (parent, name, &info, &e) < 0)
        why = "its " CHECKPOINT_CONFIG " is not a checkpoint's";
      else if (strcmp (info.name, name) != 0
               || read_file (cfg, &text, &len, CHECKPOINT_CONFIG_MAX, NULL) < 0
               || !(o = json_tokener_parse (text)) || !json_object_object_get_ex (o, "name", NULL)
               || !json_object_object_get_ex (o, "created", &created)
               || !json_object_is_type (created, json_type_string))
        why = "its " CHECKPOINT_CONFIG " was not written by CreateCheckpoint";
      free (info.name);
      strv_free (info.empty_ns);
    }
  if (why)
    return ctrd_error_grpc (err, GRPC_FAILED_PRECONDITION, "%s is not a checkpoint: %s", image,
                            why);
  return rm_rf (image, err);
}
