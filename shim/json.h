/* A tiny JSON reader and string escaper for the shim (libc only: the shim
 * must not drag json-c into every container's monitor). It parses a whole
 * document into a small tree; the shim reads process.json, the bundle's and
 * a checkpoint's config.json and runc's log.json lines with it. */
#ifndef CTRD_SHIM_JSON_H
#define CTRD_SHIM_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

enum json_type
{
  JSON_NULL,
  JSON_BOOL,
  JSON_NUMBER,
  JSON_STRING,
  JSON_ARRAY,
  JSON_OBJECT
};

struct json
{
  enum json_type type;
  char *key;          /* member name when the parent is an object */
  char *str;          /* JSON_STRING: UTF-8, NUL-terminated (embedded NULs cut it short) */
  long long num;      /* JSON_NUMBER: value when num_is_int */
  bool num_is_int;    /* false for fractions, exponents and out-of-range integers */
  bool b;             /* JSON_BOOL */
  struct json *child; /* first element / member */
  struct json *next;  /* next sibling */
};

/* Parse exactly one JSON value (surrounding whitespace allowed). */
struct json *json_parse (const char *text, size_t len, struct ctrd_error **err);
void json_free (struct json *j);

/* Member lookup; NULL when j is not an object or the key is absent. */
const struct json *json_get (const struct json *j, const char *key);
/* Typed accessors: the value of key, or def when absent or null. A present
 * value of another type is an error (returns -1 and fills err). */
int json_get_bool (const struct json *j, const char *key, bool def, bool *out,
                   struct ctrd_error **err);
int json_get_string (const struct json *j, const char *key, const char *def, const char **out,
                     struct ctrd_error **err);
int json_get_int (const struct json *j, const char *key, long long def, long long *out,
                  struct ctrd_error **err);
/* A string array (or null/absent → *out = NULL) as a new NULL-terminated vector. */
int json_get_strv (const struct json *j, const char *key, char ***out, struct ctrd_error **err);

#endif
