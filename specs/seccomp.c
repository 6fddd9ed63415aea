/* linux.seccomp validation with libseccomp: names the runtime would reject
 * (or, for syscall names, silently ignore) are reported at create time. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seccomp.h>

#include "lib/util.h"
#include "specs/spec.h"
#include "specs/json-util.h"

#define MAX_ARCHES 32

static const char *const actions[] = {
  "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
};

static const char *const ops[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
  "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

static const char *const flags[] = {
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static bool
in_list (const char *s, const char *const *list, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (s, list[i]) == 0)
      return true;
  return false;
}

static int bad (struct ctrd_error **err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
bad (struct ctrd_error **err, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "%s", msg);
}

/* An optional string field that must be one of list. */
static int
check_enum (json_object *o, const char *key, const char *where, const char *const *list, size_t n,
            bool required, struct ctrd_error **err)
{
  json_object *v = spec_get (o, key);
  if (!v)
    return required ? bad (err, "%s%s: missing", where, key) : 0;
  if (!json_object_is_type (v, json_type_string))
    return bad (err, "%s%s: not a string", where, key);
  if (!in_list (json_object_get_string (v), list, n))
    {
      cleanup_free char *w = xasprintf ("%s%s", where, key);
      return bad (err, "%s: unknown value \"%s\"", w, json_object_get_string (v));
    }
  return 0;
}

/* OCI "SCMP_ARCH_X86_64" → libseccomp token for "x86_64"; 0 when unknown. */
static uint32_t
arch_token (const char *oci)
{
  if (strncmp (oci, "SCMP_ARCH_", 10) != 0 || !oci[10] || strlen (oci) > 64)
    return 0;
  char name[64];
  size_t i;
  for (i = 0; oci[10 + i]; i++)
    name[i] = (char) tolower ((unsigned char) oci[10 + i]);
  name[i] = 0;
  return seccomp_arch_resolve_name (name);
}

static int
check_syscall (json_object *sc, size_t idx, const uint32_t *arches, size_t n_arches,
               struct ctrd_error **err)
{
  cleanup_free char *where = xasprintf ("syscalls[%zu].", idx);
  if (!json_object_is_type (sc, json_type_object))
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "syscalls[%zu]: not an object", idx);
  if (check_enum (sc, "action", where, actions, ARRAY_SIZE (actions), true, err) < 0)
    return -1;
  json_object *names = spec_get (sc, "names");
  if (!names)
    {
      /* runtime-spec rc versions used a single "name". */
      json_object *one = spec_get (sc, "name");
      if (!one)
        return bad (err, "%s%s: missing", where, "names");
      if (!json_object_is_type (one, json_type_string))
        return bad (err, "%s%s: not a string", where, "name");
      names = NULL;
      const char *s = json_object_get_string (one);
      bool ok = seccomp_syscall_resolve_name (s) != __NR_SCMP_ERROR;
      for (size_t a = 0; !ok && a < n_arches; a++)
        ok = seccomp_syscall_resolve_name_arch (arches[a], s) != __NR_SCMP_ERROR;
      if (!ok)
        return bad (err, "%sname: unknown syscall \"%s\"", where, s);
    }
  else
    {
      if (!json_object_is_type (names, json_type_array))
        return bad (err, "%s%s: not an array", where, "names");
      for (size_t i = 0; i < json_object_array_length (names); i++)
        {
          json_object *n = json_object_array_get_idx (names, i);
          if (!json_object_is_type (n, json_type_string))
            return bad (err, "%s%s: not a string", where, "names");
          const char *s = json_object_get_string (n);
          bool ok = seccomp_syscall_resolve_name (s) != __NR_SCMP_ERROR;
          for (size_t a = 0; !ok && a < n_arches; a++)
            ok = seccomp_syscall_resolve_name_arch (arches[a], s) != __NR_SCMP_ERROR;
          if (!ok)
            return bad (err, "%snames: unknown syscall \"%s\"", where, s);
        }
    }
  json_object *args = spec_get (sc, "args");
  if (!args)
    return 0;
  if (!json_object_is_type (args, json_type_array))
    return bad (err, "%s%s: not an array", where, "args");
  for (size_t i = 0; i < json_object_array_length (args); i++)
    {
      json_object *arg = json_object_array_get_idx (args, i);
      cleanup_free char *aw = xasprintf ("%sargs[%zu].", where, i);
      if (check_enum (arg, "op", aw, ops, ARRAY_SIZE (ops), true, err) < 0)
        return -1;
      json_object *index = spec_get (arg, "index");
      if (!index)
        return bad (err, "%s%s: missing", aw, "index");
      if (!json_object_is_type (index, json_type_int) || json_object_get_int64 (index) < 0
          || json_object_get_int64 (index) > 5)
        return bad (err, "%s%s: not an argument number 0-5", aw, "index");
    }
  return 0;
}

int
spec_validate_seccomp (json_object *seccomp, struct ctrd_error **err)
{
  if (!seccomp || json_object_is_type (seccomp, json_type_null))
    return 0;
  if (!json_object_is_type (seccomp, json_type_object))
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "not an object");
  if (check_enum (seccomp, "defaultAction", "", actions, ARRAY_SIZE (actions), true, err) < 0)
    return -1;

  uint32_t arches[MAX_ARCHES];
  size_t n_arches = 0;
  json_object *a = spec_get (seccomp, "architectures");
  if (a)
    {
      if (!json_object_is_type (a, json_type_array))
        return bad (err, "%s%s: not an array", "", "architectures");
      for (size_t i = 0; i < json_object_array_length (a); i++)
        {
          json_object *e = json_object_array_get_idx (a, i);
          if (!json_object_is_type (e, json_type_string))
            return bad (err, "%s%s: not a string", "", "architectures");
          uint32_t t = arch_token (json_object_get_string (e));
          if (t == 0)
            return bad (err, "%s\"%s\"", "architectures: unknown architecture ",
                        json_object_get_string (e));
          if (n_arches < MAX_ARCHES)
            arches[n_arches++] = t;
        }
    }

  json_object *f = spec_get (seccomp, "flags");
  if (f)
    {
      if (!json_object_is_type (f, json_type_array))
        return bad (err, "%s%s: not an array", "", "flags");
      for (size_t i = 0; i < json_object_array_length (f); i++)
        {
          json_object *e = json_object_array_get_idx (f, i);
          if (!json_object_is_type (e, json_type_string)
              || !in_list (json_object_get_string (e), flags, ARRAY_SIZE (flags)))
            return bad (err, "%s\"%s\"", "flags: unknown flag ",
                        json_object_is_type (e, json_type_string) ? json_object_get_string (e)
                                                                  : "(not a string)");
        }
    }

  json_object *sc = spec_get (seccomp, "syscalls");
  if (!sc)
    return 0;
  if (!json_object_is_type (sc, json_type_array))
    return bad (err, "%s%s: not an array", "", "syscalls");
  for (size_t i = 0; i < json_object_array_length (sc); i++)
    if (check_syscall (json_object_array_get_idx (sc, i), i, arches, n_arches, err) < 0)
      return -1;
  return 0;
}
