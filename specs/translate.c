/* runtime-spec 0.x / 1.0.0-rcN config.json to 1.0 (translate.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "lib/json-cleanup.h"
#include "lib/util.h"
#include "specs/translate.h"
#include "specs/json-util.h"

struct tr
{
  const char *bundle; /* as the client named it (messages) */
  const char *real;   /* its real path: the runtime's cwd, where rc runtimes resolved paths */
  char **notes;       /* what was changed, each once */
  struct ctrd_error **err;
};

static void note (struct tr *t, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static int fail (struct tr *t, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
note (struct tr *t, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *s = xvasprintf (fmt, ap);
  va_end (ap);
  for (size_t i = 0; t->notes && t->notes[i]; i++)
    if (strcmp (t->notes[i], s) == 0)
      return;
  strv_push (&t->notes, s);
}

static int
fail (struct tr *t, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *s = xvasprintf (fmt, ap);
  va_end (ap);
  return ctrd_error_grpc (t->err, GRPC_INVALID_ARGUMENT, "bundle %s: config.json: %s", t->bundle,
                          s);
}

static bool
is (json_object *v, json_type type)
{
  return v && json_object_is_type (v, type);
}

/* ---- versions ---- */

/* A numeric identifier: digits, no leading zero unless it is "0". */
static const char *
parse_num (const char *s, unsigned long *out)
{
  if (!isdigit ((unsigned char) *s) || (s[0] == '0' && isdigit ((unsigned char) s[1])))
    return NULL;
  char *end;
  *out = strtoul (s, &end, 10);
  return end;
}

/* Dot-separated non-empty identifiers of [0-9A-Za-z-] up to stop or the end. */
static const char *
parse_idents (const char *s, char stop)
{
  for (;;)
    {
      const char *b = s;
      while (isalnum ((unsigned char) *s) || *s == '-')
        s++;
      if (s == b)
        return NULL;
      if (*s != '.')
        return *s == '\0' || *s == stop ? s : NULL;
      s++;
    }
}

bool
spec_version_before_1_0 (const char *s)
{
  unsigned long major, minor, patch;
  if (!s || !(s = parse_num (s, &major)) || *s++ != '.' || !(s = parse_num (s, &minor))
      || *s++ != '.' || !(s = parse_num (s, &patch)))
    return false;
  bool pre = false;
  if (*s == '-')
    {
      if (!(s = parse_idents (s + 1, '+')))
        return false;
      pre = true;
    }
  if (*s == '+' && !(s = parse_idents (s + 1, '\0')))
    return false;
  if (*s)
    return false;
  return major == 0 || (major == 1 && minor == 0 && patch == 0 && pre);
}

bool
spec_needs_translation (json_object *config)
{
  json_object *v = spec_get (config, "ociVersion");
  return is (v, json_type_string) && spec_version_before_1_0 (json_object_get_string (v));
}

/* ---- helpers ---- */

/* Object members that are JSON null: pre-1.0 writers (Go pointers without
 * omitempty) could emit them; 1.0 forbids them (#662, #804). */
static void
drop_nulls (struct tr *t, json_object *o, const char *where)
{
  if (is (o, json_type_array))
    {
      for (size_t i = 0; i < json_object_array_length (o); i++)
        drop_nulls (t, json_object_array_get_idx (o, i), where);
      return;
    }
  if (!is (o, json_type_object))
    return;
  char **nulls = NULL;
  json_object_object_foreach (o, key, val)
  {
    if (!val)
      strv_push (&nulls, key);
    else
      {
        cleanup_free char *w = *where ? xasprintf ("%s.%s", where, key) : xstrdup (key);
        drop_nulls (t, val, w);
      }
  }
  for (size_t i = 0; nulls && nulls[i]; i++)
    {
      note (t, "null %s%s%s dropped", where, *where ? "." : "", nulls[i]);
      json_object_object_del (o, nulls[i]);
    }
  strv_free (nulls);
}

/* An integer written as a Go uint64 above INT64_MAX (a -1 cast to uint64:
 * "unlimited" in the rc versions). */
static bool
is_huge (json_object *v)
{
  return is (v, json_type_int) && json_object_get_int64 (v) == INT64_MAX
         && json_object_get_uint64 (v) > (uint64_t) INT64_MAX;
}

static int
check_int (struct tr *t, json_object *v, const char *where)
{
  if (v && !is (v, json_type_int))
    return fail (t, "%s: not an integer", where);
  return 0;
}

/* uint64 fields that became int64 in 1.0 (-1: unlimited). */
static int
to_int64 (struct tr *t, json_object *o, const char *key, const char *where)
{
  json_object *v = spec_get (o, key);
  cleanup_free char *w = xasprintf ("%s.%s", where, key);
  if (check_int (t, v, w) < 0)
    return -1;
  if (is_huge (v))
    {
      note (t, "%s: uint64 %llu -> int64 -1 (unlimited)", w,
            (unsigned long long) json_object_get_uint64 (v));
      json_object_object_add (o, key, json_object_new_int64 (-1));
    }
  return 0;
}

/* ---- platform ---- */

/* Go's GOARCH for this host (what runc rc2 compared platform.arch with). */
static const char *
host_goarch (void)
{
  static const struct
  {
    const char *machine, *go;
  } map[] = {
    { "x86_64", "amd64" },    { "aarch64", "arm64" }, { "i386", "386" },    { "i486", "386" },
    { "i586", "386" },        { "i686", "386" },      { "armv7l", "arm" },  { "armv6l", "arm" },
    { "ppc64le", "ppc64le" }, { "ppc64", "ppc64" },   { "s390x", "s390x" }, { "mips64", "mips64" },
    { "riscv64", "riscv64" },
  };
  static struct utsname u;
  if (!u.machine[0] && uname (&u) < 0)
    return NULL;
  for (size_t i = 0; i < ARRAY_SIZE (map); i++)
    if (strcmp (u.machine, map[i].machine) == 0)
      return map[i].go;
  return u.machine;
}

static int
tr_platform (struct tr *t, json_object *config)
{
  json_object *p = spec_get (config, "platform");
  if (!p)
    return 0;
  if (!is (p, json_type_object))
    return fail (t, "platform: not an object");
  json_object *os = spec_get (p, "os"), *arch = spec_get (p, "arch");
  if (os && !is (os, json_type_string))
    return fail (t, "platform.os: not a string");
  if (arch && !is (arch, json_type_string))
    return fail (t, "platform.arch: not a string");
  if (os && strcmp (json_object_get_string (os), "linux") != 0)
    return fail (t, "platform.os: \"%s\": only linux containers can run here",
                 json_object_get_string (os));
  const char *host = host_goarch ();
  if (arch && host && strcmp (json_object_get_string (arch), host) != 0)
    return fail (t, "platform.arch: \"%s\" is not this host's architecture (%s)",
                 json_object_get_string (arch), host);
  json_object_object_del (config, "platform");
  note (t, "platform dropped (removed in 1.0.0-rc6; it matches this host)");
  return 0;
}

/* ---- process ---- */

/* runc 1.0.0-rc2 set the bounding, effective, inheritable and permitted sets
 * to the list (ambient only in builds with the `ambient` tag, which Docker's
 * packages did not use), and an absent list meant no capability at all; in
 * 1.0 an absent object means the runtime leaves the capabilities alone. */
static int
tr_capabilities (struct tr *t, json_object *proc)
{
  json_object *caps = spec_get (proc, "capabilities");
  if (is (caps, json_type_object))
    return 0;
  if (caps && !is (caps, json_type_array))
    return fail (t, "process.capabilities: not a list of names");
  size_t n = caps ? json_object_array_length (caps) : 0;
  for (size_t i = 0; i < n; i++)
    {
      json_object *c = json_object_array_get_idx (caps, i);
      if (!is (c, json_type_string))
        return fail (t, "process.capabilities[%zu]: not a string", i);
      if (!spec_cap_name_ok (json_object_get_string (c)))
        return fail (t, "process.capabilities[%zu]: \"%s\" is not a capability name (CAP_...)", i,
                     json_object_get_string (c));
    }
  static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted" };
  json_object *o = json_object_new_object ();
  for (size_t s = 0; s < ARRAY_SIZE (sets); s++)
    {
      json_object *a = json_object_new_array_ext ((int) n);
      for (size_t i = 0; i < n; i++)
        json_object_array_add (a, json_object_get (json_object_array_get_idx (caps, i)));
      json_object_object_add (o, sets[s], a);
    }
  json_object_object_add (proc, "capabilities", o);
  if (n)
    note (t, "process.capabilities: list of %zu -> bounding, effective, inheritable, permitted", n);
  else
    note (t,
          "process.capabilities: %s -> empty bounding, effective, inheritable, permitted "
          "(rc runtimes dropped every capability)",
          caps ? "empty list" : "absent");
  return 0;
}

static int
tr_console (struct tr *t, json_object *proc)
{
  json_object *cs = spec_get (proc, "consoleSize");
  if (!cs)
    return 0;
  if (!is (cs, json_type_object))
    return fail (t, "process.consoleSize: not an object");
  json_object *h = spec_get (cs, "height"), *w = spec_get (cs, "width");
  if (check_int (t, h, "process.consoleSize.height") < 0
      || check_int (t, w, "process.consoleSize.width") < 0)
    return -1;
  if ((!h || json_object_get_int64 (h) == 0) && (!w || json_object_get_int64 (w) == 0))
    {
      /* Go's zero value, written by every rc writer (not a pointer before
       * rc6): no size. Docker sets the size with a resize. */
      json_object_object_del (proc, "consoleSize");
      note (t, "process.consoleSize 0x0 dropped (unset)");
    }
  return 0;
}

/* rlimit types were made unique in rc4; the rc runtimes applied each entry
 * in order, so the last of a type won. */
static int
tr_rlimits (struct tr *t, json_object *proc)
{
  json_object *rl = spec_get (proc, "rlimits");
  if (!rl)
    return 0;
  if (!is (rl, json_type_array))
    return fail (t, "process.rlimits: not a list");
  cleanup_json json_object *out = json_object_new_array ();
  size_t n = json_object_array_length (rl);
  for (size_t i = 0; i < n; i++)
    {
      json_object *e = json_object_array_get_idx (rl, i), *type = spec_get (e, "type");
      if (!is (type, json_type_string))
        return fail (t, "process.rlimits[%zu].type: not a string", i);
      bool later = false;
      for (size_t j = i + 1; j < n && !later; j++)
        {
          json_object *tj = spec_get (json_object_array_get_idx (rl, j), "type");
          later = is (tj, json_type_string)
                  && strcmp (json_object_get_string (tj), json_object_get_string (type)) == 0;
        }
      if (later)
        note (t, "process.rlimits: duplicate %s: the last one kept", json_object_get_string (type));
      else
        json_object_array_add (out, json_object_get (e));
    }
  json_object_object_add (proc, "rlimits", take_ptr (&out));
  return 0;
}

static int
tr_user (struct tr *t, json_object *proc)
{
  json_object *u = spec_get (proc, "user");
  if (!u)
    return 0;
  if (!is (u, json_type_object))
    return fail (t, "process.user: not an object");
  if (check_int (t, spec_get (u, "uid"), "process.user.uid") < 0
      || check_int (t, spec_get (u, "gid"), "process.user.gid") < 0)
    return -1;
  json_object *g = spec_get (u, "additionalGids");
  if (g && !is (g, json_type_array))
    return fail (t, "process.user.additionalGids: not a list");
  for (size_t i = 0; g && i < json_object_array_length (g); i++)
    if (!is (json_object_array_get_idx (g, i), json_type_int))
      return fail (t, "process.user.additionalGids[%zu]: not an integer", i);
  return 0;
}

/* ---- root, mounts ---- */

static int
tr_root (struct tr *t, json_object *config)
{
  json_object *root = spec_get (config, "root");
  const char *p =
      json_object_get_string (spec_get (root, "path")); /* checked by spec_load_bundle */
  if (p[0] == '/')
    return 0;
  char *abs = path_join (t->real, p);
  json_object_object_add (root, "path", json_object_new_string (abs));
  free (abs);
  note (t, "root.path made absolute (the client's bundle)");
  return 0;
}

static bool
is_bind (json_object *m)
{
  json_object *type = spec_get (m, "type"), *opts = spec_get (m, "options");
  if (is (type, json_type_string) && strcmp (json_object_get_string (type), "bind") == 0)
    return true;
  for (size_t i = 0; is (opts, json_type_array) && i < json_object_array_length (opts); i++)
    {
      const char *o = json_object_get_string (json_object_array_get_idx (opts, i));
      if (o && (strcmp (o, "bind") == 0 || strcmp (o, "rbind") == 0))
        return true;
    }
  return false;
}

static int
tr_mounts (struct tr *t, json_object *config)
{
  json_object *ms = spec_get (config, "mounts");
  if (!ms)
    return 0;
  if (!is (ms, json_type_array))
    return fail (t, "mounts: not a list");
  for (size_t i = 0; i < json_object_array_length (ms); i++)
    {
      json_object *m = json_object_array_get_idx (ms, i);
      if (!is (m, json_type_object))
        return fail (t, "mounts[%zu]: not an object", i);
      json_object *d = spec_get (m, "destination"), *s = spec_get (m, "source");
      if (!is (d, json_type_string) || !*json_object_get_string (d))
        return fail (t, "mounts[%zu].destination: not a non-empty string", i);
      if (s && !is (s, json_type_string))
        return fail (t, "mounts[%zu].source: not a string", i);
      json_object *opts = spec_get (m, "options");
      if (opts && !is (opts, json_type_array))
        return fail (t, "mounts[%zu].options: not a list", i);
      if (json_object_get_string (d)[0] != '/')
        {
          /* rc runtimes read it relative to the rootfs; 1.0 requires "/". */
          char *abs = xasprintf ("/%s", json_object_get_string (d));
          json_object_object_add (m, "destination", json_object_new_string (abs));
          free (abs);
          note (t, "mounts[].destination: relative -> absolute in the container");
        }
      if (s && is_bind (m) && *json_object_get_string (s) && json_object_get_string (s)[0] != '/')
        {
          /* relative to the bundle, which the runtime is no longer given */
          char *abs = path_join (t->real, json_object_get_string (s));
          json_object_object_add (m, "source", json_object_new_string (abs));
          free (abs);
          note (t, "mounts[].source of a bind mount: relative -> absolute (the client's bundle)");
        }
    }
  return 0;
}

/* ---- linux ---- */

static int
tr_namespaces (struct tr *t, json_object *linux_o)
{
  json_object *ns = spec_get (linux_o, "namespaces");
  if (!ns)
    return 0;
  if (!is (ns, json_type_array))
    return fail (t, "linux.namespaces: not a list");
  for (size_t i = 0; i < json_object_array_length (ns); i++)
    {
      json_object *e = json_object_array_get_idx (ns, i), *type = spec_get (e, "type");
      json_object *p = spec_get (e, "path");
      if (!is (type, json_type_string))
        return fail (t, "linux.namespaces[%zu].type: not a string", i);
      if (p && !is (p, json_type_string))
        return fail (t, "linux.namespaces[%zu].path: not a string", i);
      const char *ps = p ? json_object_get_string (p) : "";
      if (*ps && ps[0] != '/')
        return fail (t, "linux.namespaces[%zu].path: \"%s\" is not an absolute path", i, ps);
    }
  return 0;
}

static int
tr_idmaps (struct tr *t, json_object *linux_o, const char *key)
{
  json_object *m = spec_get (linux_o, key);
  if (!m)
    return 0;
  if (!is (m, json_type_array))
    return fail (t, "linux.%s: not a list", key);
  static const char *const fields[] = { "hostID", "containerID", "size" };
  for (size_t i = 0; i < json_object_array_length (m); i++)
    for (size_t f = 0; f < ARRAY_SIZE (fields); f++)
      if (!is (spec_get (json_object_array_get_idx (m, i), fields[f]), json_type_int))
        return fail (t, "linux.%s[%zu].%s: not an integer", key, i, fields[f]);
  return 0;
}

static int
tr_seccomp (struct tr *t, json_object *linux_o)
{
  json_object *sc = spec_get (spec_get (linux_o, "seccomp"), "syscalls");
  if (!is (sc, json_type_array)) /* shapes checked by spec_validate_seccomp */
    return 0;
  size_t renamed = 0;
  for (size_t i = 0; i < json_object_array_length (sc); i++)
    {
      json_object *e = json_object_array_get_idx (sc, i), *name = spec_get (e, "name");
      if (spec_get (e, "comment"))
        {
          json_object_object_del (e, "comment"); /* rc5 only, removed in rc6 */
          note (t, "linux.seccomp.syscalls[].comment dropped");
        }
      if (!name)
        continue;
      if (!is (name, json_type_string))
        return fail (t, "linux.seccomp.syscalls[%zu].name: not a string", i);
      json_object *names = spec_get (e, "names");
      if (names && !is (names, json_type_array))
        return fail (t, "linux.seccomp.syscalls[%zu].names: not a list", i);
      if (!names)
        {
          names = json_object_new_array ();
          json_object_object_add (e, "names", names);
        }
      json_object_array_add (names, json_object_get (name));
      json_object_object_del (e, "name");
      renamed++;
    }
  if (renamed)
    note (t, "linux.seccomp.syscalls: %zu entries' name -> names [name]", renamed);
  return 0;
}

static int
tr_devices (struct tr *t, json_object *linux_o)
{
  json_object *d = spec_get (linux_o, "devices");
  if (!d)
    return 0;
  if (!is (d, json_type_array))
    return fail (t, "linux.devices: not a list");
  for (size_t i = 0; i < json_object_array_length (d); i++)
    {
      json_object *e = json_object_array_get_idx (d, i);
      if (!is (spec_get (e, "path"), json_type_string)
          || !is (spec_get (e, "type"), json_type_string))
        return fail (t, "linux.devices[%zu]: path and type must be strings", i);
    }
  return 0;
}

static void
rename_key (struct tr *t, json_object *o, const char *from, const char *to, const char *where)
{
  json_object *v = spec_get (o, from);
  if (!v)
    return;
  if (!spec_get (o, to))
    json_object_object_add (o, to, json_object_get (v));
  json_object_object_del (o, from);
  note (t, "%s.%s -> %s", where, from, to);
}

static int
tr_blockio (struct tr *t, json_object *res)
{
  json_object *b = spec_get (res, "blockIO");
  if (!b)
    return 0;
  if (!is (b, json_type_object))
    return fail (t, "linux.resources.blockIO: not an object");
  static const char *const keys[] = { "Weight",
                                      "LeafWeight",
                                      "WeightDevice",
                                      "ThrottleReadBpsDevice",
                                      "ThrottleWriteBpsDevice",
                                      "ThrottleReadIOPSDevice",
                                      "ThrottleWriteIOPSDevice" };
  for (size_t i = 0; i < ARRAY_SIZE (keys); i++)
    {
      char from[64], to[64];
      snprintf (from, sizeof from, "blkio%s", keys[i]);
      snprintf (to, sizeof to, "%s", keys[i]);
      to[0] = (char) tolower ((unsigned char) to[0]);
      rename_key (t, b, from, to, "linux.resources.blockIO");
    }
  /* 0 was "not set" for the rc runtimes (Go's zero value); in 1.0 it would
   * be a weight outside 10-1000. */
  static const char *const weights[] = { "weight", "leafWeight" };
  for (size_t i = 0; i < ARRAY_SIZE (weights); i++)
    {
      json_object *w = spec_get (b, weights[i]);
      cleanup_free char *where = xasprintf ("linux.resources.blockIO.%s", weights[i]);
      if (check_int (t, w, where) < 0)
        return -1;
      if (w && json_object_get_int64 (w) == 0)
        {
          json_object_object_del (b, weights[i]);
          note (t, "%s 0 dropped (unset)", where);
        }
    }
  return 0;
}

static int
tr_memory (struct tr *t, json_object *res)
{
  json_object *m = spec_get (res, "memory");
  json_object *oom = spec_get (res, "disableOOMKiller");
  if (m && !is (m, json_type_object))
    return fail (t, "linux.resources.memory: not an object");
  if (oom)
    {
      if (!is (oom, json_type_boolean))
        return fail (t, "linux.resources.disableOOMKiller: not a boolean");
      if (!m)
        {
          m = json_object_new_object ();
          json_object_object_add (res, "memory", m);
        }
      if (!spec_get (m, "disableOOMKiller"))
        json_object_object_add (m, "disableOOMKiller", json_object_get (oom));
      json_object_object_del (res, "disableOOMKiller");
      note (t, "linux.resources.disableOOMKiller -> linux.resources.memory.disableOOMKiller");
    }
  if (!m)
    return 0;
  static const char *const keys[] = { "limit", "reservation", "swap", "kernel", "kernelTCP" };
  for (size_t i = 0; i < ARRAY_SIZE (keys); i++)
    if (to_int64 (t, m, keys[i], "linux.resources.memory") < 0)
      return -1;
  json_object *sw = spec_get (m, "swappiness");
  if (check_int (t, sw, "linux.resources.memory.swappiness") < 0)
    return -1;
  if (sw && (is_huge (sw) || json_object_get_int64 (sw) < 0 || json_object_get_int64 (sw) > 100))
    {
      /* Docker's "not set" is -1 written as a uint64 */
      json_object_object_del (m, "swappiness");
      note (t, "linux.resources.memory.swappiness outside 0-100 dropped (unset)");
    }
  return 0;
}

static int
tr_cpu (struct tr *t, json_object *res)
{
  json_object *c = spec_get (res, "cpu");
  if (!c)
    return 0;
  if (!is (c, json_type_object))
    return fail (t, "linux.resources.cpu: not an object");
  if (to_int64 (t, c, "quota", "linux.resources.cpu") < 0
      || to_int64 (t, c, "realtimeRuntime", "linux.resources.cpu") < 0)
    return -1;
  static const char *const u[] = { "shares", "period", "realtimePeriod" };
  for (size_t i = 0; i < ARRAY_SIZE (u); i++)
    {
      cleanup_free char *w = xasprintf ("linux.resources.cpu.%s", u[i]);
      if (check_int (t, spec_get (c, u[i]), w) < 0)
        return -1;
    }
  static const char *const s[] = { "cpus", "mems" };
  for (size_t i = 0; i < ARRAY_SIZE (s); i++)
    if (spec_get (c, s[i]) && !is (spec_get (c, s[i]), json_type_string))
      return fail (t, "linux.resources.cpu.%s: not a string", s[i]);
  return 0;
}

static int
tr_pids (struct tr *t, json_object *res)
{
  json_object *p = spec_get (res, "pids");
  if (!p)
    return 0;
  if (!is (p, json_type_object))
    return fail (t, "linux.resources.pids: not an object");
  json_object *l = spec_get (p, "limit");
  if (check_int (t, l, "linux.resources.pids.limit") < 0)
    return -1;
  if (!l || json_object_get_int64 (l) == 0)
    {
      /* rc: an optional limit, 0 meaning none; 1.0: a required limit */
      json_object_object_del (res, "pids");
      note (t, "linux.resources.pids without a limit (0) dropped (unset)");
    }
  return 0;
}

static int
tr_cgroup_devices (struct tr *t, json_object *res)
{
  json_object *d = spec_get (res, "devices");
  if (!d)
    return 0;
  if (!is (d, json_type_array))
    return fail (t, "linux.resources.devices: not a list");
  for (size_t i = 0; i < json_object_array_length (d); i++)
    {
      json_object *e = json_object_array_get_idx (d, i);
      if (!is (spec_get (e, "allow"), json_type_boolean))
        return fail (t, "linux.resources.devices[%zu].allow: not a boolean", i);
      json_object *ty = spec_get (e, "type"), *ac = spec_get (e, "access");
      if ((ty && !is (ty, json_type_string)) || (ac && !is (ac, json_type_string)))
        return fail (t, "linux.resources.devices[%zu]: type and access must be strings", i);
    }
  return 0;
}

static int
tr_resources (struct tr *t, json_object *config, json_object *linux_o)
{
  json_object *res = spec_get (linux_o, "resources");
  if (!res)
    return 0;
  if (!is (res, json_type_object))
    return fail (t, "linux.resources: not an object");
  json_object *adj = spec_get (res, "oomScoreAdj");
  if (adj)
    {
      if (!is (adj, json_type_int))
        return fail (t, "linux.resources.oomScoreAdj: not an integer");
      json_object *proc = spec_get (config, "process");
      if (!spec_get (proc, "oomScoreAdj"))
        json_object_object_add (proc, "oomScoreAdj", json_object_get (adj));
      json_object_object_del (res, "oomScoreAdj");
      note (t, "linux.resources.oomScoreAdj -> process.oomScoreAdj");
    }
  if (tr_memory (t, res) < 0 || tr_cpu (t, res) < 0 || tr_pids (t, res) < 0
      || tr_blockio (t, res) < 0 || tr_cgroup_devices (t, res) < 0)
    return -1;
  return 0;
}

static int
tr_hooks (struct tr *t, json_object *config)
{
  json_object *h = spec_get (config, "hooks");
  if (!h)
    return 0;
  if (!is (h, json_type_object))
    return fail (t, "hooks: not an object");
  json_object_object_foreach (h, kind, list)
  {
    if (!is (list, json_type_array))
      return fail (t, "hooks.%s: not a list", kind);
    for (size_t i = 0; i < json_object_array_length (list); i++)
      {
        json_object *e = json_object_array_get_idx (list, i), *p = spec_get (e, "path");
        if (!is (p, json_type_string) || json_object_get_string (p)[0] != '/')
          return fail (t, "hooks.%s[%zu].path: not an absolute path", kind, i);
      }
  }
  return 0;
}

int
spec_translate (json_object *config, const char *bundle, char **summary, struct ctrd_error **err)
{
  /* The rc runtimes ran in the bundle and joined relative paths to their
   * getcwd(), which has no symlink (e.g. /var/run -> /run): the same here. */
  cleanup_free char *real = realpath (bundle, NULL);
  struct tr t = { .bundle = bundle, .real = real ? real : bundle, .err = err };
  cleanup_free char *from = xstrdup (json_object_get_string (spec_get (config, "ociVersion")));
  json_object *proc = spec_get (config, "process"), *linux_o = spec_get (config, "linux");
  note (&t, "ociVersion %s -> %s", from, SPEC_TRANSLATED_VERSION);
  drop_nulls (&t, config, "");
  int r = tr_platform (&t, config);
  if (r == 0)
    r = tr_capabilities (&t, proc);
  if (r == 0)
    r = tr_console (&t, proc);
  if (r == 0)
    r = tr_rlimits (&t, proc);
  if (r == 0)
    r = tr_user (&t, proc);
  if (r == 0)
    r = tr_root (&t, config);
  if (r == 0)
    r = tr_mounts (&t, config);
  if (r == 0)
    r = tr_hooks (&t, config);
  if (r == 0 && linux_o)
    {
      if (tr_namespaces (&t, linux_o) < 0 || tr_idmaps (&t, linux_o, "uidMappings") < 0
          || tr_idmaps (&t, linux_o, "gidMappings") < 0 || tr_seccomp (&t, linux_o) < 0
          || tr_devices (&t, linux_o) < 0 || tr_resources (&t, config, linux_o) < 0)
        r = -1;
    }
  if (r == 0)
    {
      json_object_object_add (config, "ociVersion",
                              json_object_new_string (SPEC_TRANSLATED_VERSION));
      if (summary)
        {
          size_t len = 0;
          for (size_t i = 0; t.notes && t.notes[i]; i++)
            len += strlen (t.notes[i]) + 2;
          char *s = xmalloc (len + 1), *p = s;
          *p = '\0';
          for (size_t i = 0; t.notes && t.notes[i]; i++)
            p += sprintf (p, "%s%s", i ? "; " : "", t.notes[i]);
          *summary = s;
        }
    }
  strv_free (t.notes);
  return r;
}
