/* Every file of the state directory the daemon reads or writes: state.json,
 * process.json, the small files and FIFOs of a process directory, the
 * runtime's bundle, the lock and the event journal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/json-cleanup.h"
#include "lib/log.h"
#include "lib/shim-proto.h"
#include "lib/util.h"
#include "runtime/runtime.h"
#include "runtime/statefile.h"

static json_object *
strv_to_json (char *const *v, bool null_when_empty)
{
  if (!v || !v[0])
    return null_when_empty ? NULL : json_object_new_array ();
  json_object *a = json_object_new_array ();
  for (size_t i = 0; v[i]; i++)
    json_object_array_add (a, json_object_new_string (v[i]));
  return a;
}

static char **
json_to_strv (json_object *a)
{
  char **v = NULL;
  if (!a || !json_object_is_type (a, json_type_array))
    return NULL;
  for (size_t i = 0; i < json_object_array_length (a); i++)
    {
      json_object *s = json_object_array_get_idx (a, i);
      if (json_object_is_type (s, json_type_string))
        strv_push (&v, json_object_get_string (s));
    }
  return v;
}

int
statefile_write_json (const char *path, json_object *o, struct ctrd_error **err)
{
  const char *s =
      json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  cleanup_free char *line = xasprintf ("%s\n", s);
  return write_file_atomic (path, line, strlen (line), 0666, err);
}

int
statefile_read_json (const char *path, json_object **out, struct ctrd_error **err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  if (read_file (path, &buf, &len, 16 << 20, err) < 0)
    return -1;
  json_tokener *tok = json_tokener_new ();
  cleanup_json json_object *o = json_tokener_parse_ex (tok, buf, (int) len);
  enum json_tokener_error je = json_tokener_get_error (tok);
  json_tokener_free (tok);
  if (!o || je != json_tokener_success)
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "%s: invalid JSON: %s", path,
                            json_tokener_error_desc (je));
  *out = take_ptr (&o);
  return 0;
}

int
statefile_write_state (const struct container *c, struct ctrd_error **err)
{
  cleanup_json json_object *o = json_object_new_object ();
  json_object_object_add (o, "bundle", json_object_new_string (c->bundle));
  json_object_object_add (o, "labels", strv_to_json (c->labels, true));
  json_object_object_add (o, "stdin", json_object_new_string (""));
  json_object_object_add (o, "stdout", json_object_new_string (""));
  json_object_object_add (o, "stderr", json_object_new_string (""));
  json_object_object_add (o, "runtime", json_object_new_string (c->runtime_bin));
  json_object_object_add (o, "runtimeArgs", strv_to_json (c->runtime_args, false));
  json_object_object_add (o, "shim", json_object_new_string (c->shim));
  json_object_object_add (o, "noPivotRoot", json_object_new_boolean (c->no_pivot));
  cleanup_free char *path = path_join (c->dir, "state.json");
  return statefile_write_json (path, o, err);
}

static const char *
json_str (json_object *o, const char *key)
{
  json_object *v;
  if (json_object_object_get_ex (o, key, &v) && json_object_is_type (v, json_type_string))
    return json_object_get_string (v);
  return NULL;
}

int
statefile_read_state (struct container *c, struct ctrd_error **err)
{
  cleanup_free char *path = path_join (c->dir, "state.json");
  cleanup_json json_object *o = NULL;
  json_object *v;
  if (statefile_read_json (path, &o, err) < 0)
    return -1;
  if (!json_object_is_type (o, json_type_object) || !json_str (o, "bundle"))
    return ctrd_error_set (err, EINVAL, "%s: no bundle", path);
  c->bundle = xstrdup (json_str (o, "bundle"));
  const char *rt = json_str (o, "runtime");
  c->runtime_bin = xstrdup (rt && *rt ? rt : "runc");
  const char *shim = json_str (o, "shim");
  c->shim = shim && *shim ? xstrdup (shim) : NULL;
  if (json_object_object_get_ex (o, "runtimeArgs", &v))
    c->runtime_args = json_to_strv (v);
  if (json_object_object_get_ex (o, "labels", &v))
    c->labels = json_to_strv (v);
  if (json_object_object_get_ex (o, "noPivotRoot", &v))
    c->no_pivot = json_object_get_boolean (v);
  return 0;
}

/* Host id of container id 0 from a {uid,gid}Mappings array
 * (docs/state-directory.md "rootUID and rootGID"). */
static long long
root_id (json_object *linux_o, const char *key)
{
  json_object *maps, *ns;
  bool userns = false;
  if (!linux_o || !json_object_object_get_ex (linux_o, "namespaces", &ns)
      || !json_object_is_type (ns, json_type_array))
    return 0;
  for (size_t i = 0; i < json_object_array_length (ns); i++)
    {
      const char *t = json_str (json_object_array_get_idx (ns, i), "type");
      if (t && strcmp (t, "user") == 0)
        userns = true;
    }
  if (!userns || !json_object_object_get_ex (linux_o, key, &maps)
      || !json_object_is_type (maps, json_type_array))
    return 0;
  for (size_t i = 0; i < json_object_array_length (maps); i++)
    {
      json_object *m = json_object_array_get_idx (maps, i), *v;
      long long cid = 0, hid = 0, size = 0;
      if (json_object_object_get_ex (m, "containerID", &v))
        cid = json_object_get_int64 (v);
      if (json_object_object_get_ex (m, "hostID", &v))
        hid = json_object_get_int64 (v);
      if (json_object_object_get_ex (m, "size", &v))
        size = json_object_get_int64 (v);
      if (cid <= 0 && 0 <= cid + size - 1)
        return hid;
    }
  return 0;
}

json_object *
statefile_init_process_spec (json_object *config, const char *in, const char *out, const char *errp,
                             char *const *runtime_args, bool no_pivot, const char *checkpoint)
{
  json_object *proc = NULL, *linux_o = NULL;
  json_object_object_get_ex (config, "process", &proc);
  json_object_object_get_ex (config, "linux", &linux_o);
  json_object *o = NULL;
  json_object_deep_copy (proc, &o, NULL);
  /* Keys the original drops or re-adds itself. */
  json_object_object_del (o, "exec");
  json_object_object_add (o, "exec", json_object_new_boolean (false));
  json_object_object_add (o, "containerdStdin",
                          json_object_new_string (in && *in ? in : "/dev/null"));
  json_object_object_add (o, "containerdStdout",
                          json_object_new_string (out && *out ? out : "/dev/null"));
  json_object_object_add (o, "containerdStderr",
                          json_object_new_string (errp && *errp ? errp : "/dev/null"));
  json_object_object_add (o, "runtimeArgs", strv_to_json (runtime_args, true));
  json_object_object_add (o, "noPivotRoot", json_object_new_boolean (no_pivot));
  json_object_object_add (o, "checkpoint", json_object_new_string (checkpoint ? checkpoint : ""));
  json_object_object_add (o, "rootUID", json_object_new_int64 (root_id (linux_o, "uidMappings")));
  json_object_object_add (o, "rootGID", json_object_new_int64 (root_id (linux_o, "gidMappings")));
  return o;
}

static json_object *
copy_key (json_object *from, const char *key)
{
  json_object *v, *o = NULL;
  if (from && json_object_object_get_ex (from, key, &v))
    json_object_deep_copy (v, &o, NULL);
  return o;
}

static const char *
path_or_null (const char *p)
{
  return p && *p ? p : "/dev/null";
}

json_object *
statefile_exec_process_spec (json_object *o, json_object *init, const char *in, const char *out,
                             const char *errp, bool no_pivot)
{
  json_object_object_add (o, "exec", json_object_new_boolean (true));
  json_object_object_add (o, "containerdStdin", json_object_new_string (path_or_null (in)));
  json_object_object_add (o, "containerdStdout", json_object_new_string (path_or_null (out)));
  json_object_object_add (o, "containerdStderr", json_object_new_string (path_or_null (errp)));
  json_object_object_add (o, "runtimeArgs", copy_key (init, "runtimeArgs"));
  json_object_object_add (o, "noPivotRoot", json_object_new_boolean (no_pivot));
  json_object_object_add (o, "checkpoint", json_object_new_string (""));
  json_object *uid = copy_key (init, "rootUID"), *gid = copy_key (init, "rootGID");
  json_object_object_add (o, "rootUID", uid ? uid : json_object_new_int (0));
  json_object_object_add (o, "rootGID", gid ? gid : json_object_new_int (0));
  return o;
}

const char *
statefile_process_stdio (json_object *spec, int fd)
{
  static const char *const keys[] = { "containerdStdin", "containerdStdout", "containerdStderr" };
  json_object *v;
  if (fd < 0 || fd > 2 || !spec || !json_object_object_get_ex (spec, keys[fd], &v)
      || !json_object_is_type (v, json_type_string))
    return "";
  return json_object_get_string (v);
}

int
statefile_read_ull (const char *dir, const char *name, unsigned long long *v)
{
  cleanup_free char *path = path_join (dir, name);
  cleanup_free char *buf = NULL;
  size_t len;
  cleanup_error struct ctrd_error *e = NULL;
  if (read_file (path, &buf, &len, 64, &e) < 0)
    {
      errno = e->status ? e->status : EIO;
      return -1;
    }
  if (len > 0 && buf[len - 1] == '\n')
    buf[len - 1] = '\0';
  if (parse_uint64 (buf, v) < 0)
    {
      errno = EINVAL;
      return -1;
    }
  return 0;
}

int
statefile_write_ull (const char *dir, const char *name, unsigned long long v,
                     struct ctrd_error **err)
{
  cleanup_free char *path = path_join (dir, name);
  char buf[32];
  int n = snprintf (buf, sizeof buf, "%llu", v);
  return write_file_atomic (path, buf, (size_t) n, 0644, err);
}

#define DELETING_SUFFIX ".deleting"

static char *
deleting_name (const char *path)
{
  const char *slash = strrchr (path, '/');
  if (!slash)
    return xasprintf (".%s" DELETING_SUFFIX, path);
  return xasprintf ("%.*s/.%s" DELETING_SUFFIX, (int) (slash - path), path, slash + 1);
}

int
statefile_remove_dir (const char *path, struct ctrd_error **err)
{
  cleanup_free char *gone = deleting_name (path);
  if (rename (path, gone) < 0)
    {
      if (errno == ENOENT)
        return 0;
      /* (ENOTEMPTY/EEXIST: an older leftover of the same name) */
      if ((errno != ENOTEMPTY && errno != EEXIST) || rm_rf (gone, NULL) < 0
          || rename (path, gone) < 0)
        return rm_rf (path, err);
    }
  return rm_rf (gone, err);
}

void
statefile_remove_leftovers (const char *dir)
{
  cleanup_dir DIR *d = opendir (dir);
  if (!d)
    return;
  struct dirent *de;
  size_t sl = strlen (DELETING_SUFFIX);
  while ((de = readdir (d)))
    {
      size_t n = strlen (de->d_name);
      if (de->d_name[0] != '.' || n <= sl + 1 || strcmp (de->d_name + n - sl, DELETING_SUFFIX) != 0
          || de->d_type != DT_DIR)
        continue;
      cleanup_free char *p = path_join (dir, de->d_name);
      cleanup_error struct ctrd_error *e = NULL;
      if (rm_rf (p, &e) < 0)
        log_warn ("%s", e->msg);
    }
}

int
statefile_write_marker (const char *dir, const char *name, struct ctrd_error **err)
{
  cleanup_free char *path = path_join (dir, name);
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return ctrd_error_set (err, errno, "create `%s`", path);
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || fsync (dfd) < 0)
    return ctrd_error_set (err, errno, "fsync `%s`", dir);
  return 0;
}

/* ---- directories ---- */

int
statefile_make_dir (const char *path, struct ctrd_error **err)
{
  if (mkdir (path, 0755) == 0)
    return 0;
  if (errno == EEXIST)
    return ctrd_error_grpc (err, GRPC_ALREADY_EXISTS, "mkdir %s: file exists", path);
  return ctrd_error_set (err, errno, "mkdir %s", path);
}

int
statefile_make_fifos (const char *dir, struct ctrd_error **err)
{
  cleanup_free char *ep = path_join (dir, SHIM_FILE_EXIT_FIFO);
  cleanup_free char *cp = path_join (dir, SHIM_FILE_CONTROL_FIFO);
  if (mkfifo_ok (ep, 0755, err) < 0 || mkfifo_ok (cp, 0755, err) < 0)
    return -1;
  return 0;
}

/* ---- the runtime's bundle ---- */

#define CLIENT_BUNDLE_FILE "client-bundle"

int
statefile_write_runtime_bundle (const char *dir, const char *client_bundle, json_object *config,
                                char **config_path, struct ctrd_error **err)
{
  cleanup_free char *d = path_join (dir, STATEFILE_BUNDLE_DIR);
  if (mkdir (d, 0700) < 0)
    return ctrd_error_set (err, errno, "mkdir %s", d);
  cleanup_free char *p = path_join (d, "config.json");
  const char *text = json_object_to_json_string_ext (config, JSON_C_TO_STRING_PLAIN
                                                                 | JSON_C_TO_STRING_NOSLASHESCAPE);
  cleanup_free char *cb = path_join (d, CLIENT_BUNDLE_FILE);
  if (write_file_atomic (cb, client_bundle, strlen (client_bundle), 0600, err) < 0
      || write_file_atomic (p, text, strlen (text), 0600, err) < 0)
    return -1;
  *config_path = take_ptr (&p);
  return 0;
}

char *
statefile_runtime_bundle (const char *dir, const char *client_bundle)
{
  cleanup_free char *d = path_join (dir, STATEFILE_BUNDLE_DIR);
  cleanup_free char *p = path_join (d, "config.json");
  if (access (p, F_OK) == 0)
    return take_ptr (&d);
  return xstrdup (client_bundle);
}

char *
statefile_client_bundle (const char *dir, const char *shim_bundle)
{
  cleanup_free char *d = path_join (dir, STATEFILE_BUNDLE_DIR);
  if (strcmp (shim_bundle, d) == 0)
    {
      cleanup_free char *p = path_join (d, CLIENT_BUNDLE_FILE);
      char *text = NULL;
      size_t len = 0;
      if (read_file (p, &text, &len, 4096, NULL) == 0 && len > 0 && text[0] == '/'
          && strlen (text) == len)
        return text;
      free (text);
    }
  return xstrdup (shim_bundle);
}

/* ---- the daemon's files at the top ---- */

/* Ids cannot start with '.' (lib/id.c) and restore skips such names, so
 * neither is ever taken for a container. */
#define STATE_LOCK_FILE ".lock"
#define JOURNAL_FILE "events.log"

int
statefile_lock_root (const char *state_dir, pid_t *holder, struct ctrd_error **err)
{
  if (mkdir_p (state_dir, 0755, err) < 0)
    return -1;
  return lockfile_acquire (state_dir, STATE_LOCK_FILE, holder, err);
}

char *
statefile_journal_path (const char *state_dir)
{
  return path_join (state_dir, JOURNAL_FILE);
}

int
statefile_journal_rewrite (const char *path, const char *data, size_t len, struct ctrd_error **err)
{
  if (write_file_atomic (path, data, len, 0644, err) < 0)
    return -1;
  int fd = open (path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0)
    return ctrd_error_set (err, errno, "cannot open `%s`", path);
  return fd;
}

int
statefile_journal_open (const char *path, FILE **f, struct ctrd_error **err)
{
  *f = fopen (path, "re");
  if (*f == NULL && errno != ENOENT)
    return ctrd_error_set (err, errno, "cannot open `%s`", path);
  return 0;
}

unsigned long long
proc_stat_field (pid_t pid, int want)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  cleanup_free char *buf = NULL;
  size_t len;
  cleanup_error struct ctrd_error *e = NULL;
  if (read_file (path, &buf, &len, 4096, &e) < 0)
    return 0;
  char *p = strrchr (buf, ')');
  if (!p)
    return 0;
  p++;
  /* After ')' comes field 3 (state); field 22 is the 20th token. */
  char *save = NULL, *tok = strtok_r (p, " ", &save);
  for (int field = 3; tok; field++, tok = strtok_r (NULL, " ", &save))
    if (field == want)
      return strtoull (tok, NULL, 10);
  return 0;
}

unsigned long long
proc_starttime (pid_t pid)
{
  return proc_stat_field (pid, 22);
}
