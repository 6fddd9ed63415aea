#include "shim/json.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* Deep enough for any process.json or config.json; stops hostile nesting
 * from exhausting the shim's small stack. */
#define JSON_MAX_DEPTH 64

struct parser
{
  const char *start, *p, *end;
  struct ctrd_error **err;
};

static int
parse_fail (struct parser *ps, const char *what)
{
  return ctrd_error_set (ps->err, 0, "invalid JSON at offset %td: %s", ps->p - ps->start, what);
}

static void
skip_ws (struct parser *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static bool
literal (struct parser *ps, const char *word)
{
  size_t n = strlen (word);
  if ((size_t) (ps->end - ps->p) < n || memcmp (ps->p, word, n) != 0)
    return false;
  ps->p += n;
  return true;
}

static int
hex4 (struct parser *ps, unsigned *out)
{
  if (ps->end - ps->p < 4)
    return -1;
  unsigned v = 0;
  for (int i = 0; i < 4; i++)
    {
      char c = ps->p[i];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= (unsigned) (c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= (unsigned) (c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= (unsigned) (c - 'A' + 10);
      else
        return -1;
    }
  ps->p += 4;
  *out = v;
  return 0;
}

static size_t
utf8_put (char *o, unsigned cp)
{
  if (cp < 0x80)
    {
      o[0] = (char) cp;
      return 1;
    }
  if (cp < 0x800)
    {
      o[0] = (char) (0xc0 | (cp >> 6));
      o[1] = (char) (0x80 | (cp & 0x3f));
      return 2;
    }
  if (cp < 0x10000)
    {
      o[0] = (char) (0xe0 | (cp >> 12));
      o[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
      o[2] = (char) (0x80 | (cp & 0x3f));
      return 3;
    }
  o[0] = (char) (0xf0 | (cp >> 18));
  o[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
  o[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
  o[3] = (char) (0x80 | (cp & 0x3f));
  return 4;
}

/* ps->p is on the opening quote. The decoded string is never longer than
 * the source text, so one allocation of the source length suffices. */
static char *
parse_string (struct parser *ps)
{
  const char *start = ++ps->p;
  const char *q = start;
  while (q < ps->end && *q != '"')
    q += (*q == '\\') ? 2 : 1;
  if (q >= ps->end)
    {
      parse_fail (ps, "unterminated string");
      return NULL;
    }
  char *out = xmalloc ((size_t) (q - start) + 1);
  size_t n = 0;
  while (*ps->p != '"')
    {
      unsigned char c = (unsigned char) *ps->p++;
      if (c < 0x20)
        goto bad;
      if (c != '\\')
        {
          out[n++] = (char) c;
          continue;
        }
      char e = *ps->p++;
      switch (e)
        {
        case '"':
          out[n++] = '"';
          break;
        case '\\':
          out[n++] = '\\';
          break;
        case '/':
          out[n++] = '/';
          break;
        case 'b':
          out[n++] = '\b';
          break;
        case 'f':
          out[n++] = '\f';
          break;
        case 'n':
          out[n++] = '\n';
          break;
        case 'r':
          out[n++] = '\r';
          break;
        case 't':
          out[n++] = '\t';
          break;
        case 'u':
          {
            unsigned cp, lo;
            if (hex4 (ps, &cp) < 0)
              goto bad;
            if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 && ps->p[0] == '\\'
                && ps->p[1] == 'u')
              {
                const char *save = ps->p;
                ps->p += 2;
                if (hex4 (ps, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000)
                  cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                else
                  ps->p = save;
              }
            if (cp >= 0xd800 && cp < 0xe000)
              cp = 0xfffd; /* lone surrogate, as Go decodes it */
            /* \uXXXX is 6 source bytes and ≤ 3 output bytes; a pair is 12 → 4. */
            n += utf8_put (out + n, cp);
            break;
          }
        default:
          goto bad;
        }
    }
  ps->p++;
  out[n] = '\0';
  return out;
bad:
  free (out);
  parse_fail (ps, "bad string");
  return NULL;
}

static int
parse_number (struct parser *ps, struct json *j)
{
  const char *s = ps->p;
  if (ps->p < ps->end && *ps->p == '-')
    ps->p++;
  const char *digits = ps->p;
  while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
    ps->p++;
  if (ps->p == digits)
    return parse_fail (ps, "bad number");
  bool frac = false;
  if (ps->p < ps->end && *ps->p == '.')
    {
      frac = true;
      ps->p++;
      while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E'))
    {
      frac = true;
      ps->p++;
      if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
        ps->p++;
      while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    }
  j->type = JSON_NUMBER;
  if (!frac)
    {
      char tmp[32];
      size_t n = (size_t) (ps->p - s);
      if (n < sizeof tmp)
        {
          memcpy (tmp, s, n);
          tmp[n] = '\0';
          errno = 0;
          long long v = strtoll (tmp, NULL, 10);
          if (errno == 0)
            {
              j->num = v;
              j->num_is_int = true;
            }
        }
    }
  return 0;
}

static struct json *parse_value (struct parser *ps, int depth);

static int
parse_container (struct parser *ps, struct json *j, int depth)
{
  bool obj = *ps->p == '{';
  char close = obj ? '}' : ']';
  j->type = obj ? JSON_OBJECT : JSON_ARRAY;
  ps->p++;
  skip_ws (ps);
  if (ps->p < ps->end && *ps->p == close)
    {
      ps->p++;
      return 0;
    }
  struct json **tail = &j->child;
  for (;;)
    {
      char *key = NULL;
      skip_ws (ps);
      if (obj)
        {
          if (ps->p >= ps->end || *ps->p != '"')
            return parse_fail (ps, "expected member name");
          key = parse_string (ps);
          if (key == NULL)
            return -1;
          skip_ws (ps);
          if (ps->p >= ps->end || *ps->p != ':')
            {
              free (key);
              return parse_fail (ps, "expected ':'");
            }
          ps->p++;
        }
      struct json *v = parse_value (ps, depth + 1);
      if (v == NULL)
        {
          free (key);
          return -1;
        }
      v->key = key;
      *tail = v;
      tail = &v->next;
      skip_ws (ps);
      if (ps->p < ps->end && *ps->p == ',')
        {
          ps->p++;
          continue;
        }
      if (ps->p < ps->end && *ps->p == close)
        {
          ps->p++;
          return 0;
        }
      return parse_fail (ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static struct json *
parse_value (struct parser *ps, int depth)
{
  if (depth > JSON_MAX_DEPTH)
    {
      parse_fail (ps, "nesting too deep");
      return NULL;
    }
  skip_ws (ps);
  if (ps->p >= ps->end)
    {
      parse_fail (ps, "unexpected end of input");
      return NULL;
    }
  struct json *j = xmalloc0 (sizeof *j);
  int r = 0;
  char c = *ps->p;
  if (c == '{' || c == '[')
    r = parse_container (ps, j, depth);
  else if (c == '"')
    {
      j->type = JSON_STRING;
      j->str = parse_string (ps);
      r = j->str ? 0 : -1;
    }
  else if (c == '-' || (c >= '0' && c <= '9'))
    r = parse_number (ps, j);
  else if (literal (ps, "true"))
    j->type = JSON_BOOL, j->b = true;
  else if (literal (ps, "false"))
    j->type = JSON_BOOL;
  else if (literal (ps, "null"))
    j->type = JSON_NULL;
  else
    r = parse_fail (ps, "unexpected character");
  if (r < 0)
    {
      json_free (j);
      return NULL;
    }
  return j;
}

struct json *
json_parse (const char *text, size_t len, struct ctrd_error **err)
{
  struct parser ps = { .start = text, .p = text, .end = text + len, .err = err };
  struct json *j = parse_value (&ps, 0);
  if (j == NULL)
    return NULL;
  skip_ws (&ps);
  if (ps.p != ps.end)
    {
      json_free (j);
      parse_fail (&ps, "trailing data");
      return NULL;
    }
  return j;
}

void
json_free (struct json *j)
{
  while (j != NULL)
    {
      struct json *next = j->next;
      json_free (j->child);
      free (j->key);
      free (j->str);
      free (j);
      j = next;
    }
}

const struct json *
json_get (const struct json *j, const char *key)
{
  if (j == NULL || j->type != JSON_OBJECT)
    return NULL;
  const struct json *found = NULL;
  /* Go's decoder keeps the last duplicate; so do we. */
  for (const struct json *c = j->child; c != NULL; c = c->next)
    if (strcmp (c->key, key) == 0)
      found = c;
  return found;
}

static const struct json *
get_typed (const struct json *j, const char *key, enum json_type type, const char *tname,
           struct ctrd_error **err, int *rc)
{
  const struct json *v = json_get (j, key);
  *rc = 0;
  if (v == NULL || v->type == JSON_NULL)
    return NULL;
  if (v->type != type)
    {
      *rc = ctrd_error_set (err, 0, "`%s` must be %s", key, tname);
      return NULL;
    }
  return v;
}

int
json_get_bool (const struct json *j, const char *key, bool def, bool *out, struct ctrd_error **err)
{
  int rc;
  const struct json *v = get_typed (j, key, JSON_BOOL, "a boolean", err, &rc);
  *out = v ? v->b : def;
  return rc;
}

int
json_get_string (const struct json *j, const char *key, const char *def, const char **out,
                 struct ctrd_error **err)
{
  int rc;
  const struct json *v = get_typed (j, key, JSON_STRING, "a string", err, &rc);
  *out = v ? v->str : def;
  return rc;
}

int
json_get_int (const struct json *j, const char *key, long long def, long long *out,
              struct ctrd_error **err)
{
  int rc;
  const struct json *v = get_typed (j, key, JSON_NUMBER, "a number", err, &rc);
  if (v != NULL && !v->num_is_int)
    return ctrd_error_set (err, 0, "`%s` must be an integer", key);
  *out = v ? v->num : def;
  return rc;
}

int
json_get_strv (const struct json *j, const char *key, char ***out, struct ctrd_error **err)
{
  int rc;
  const struct json *v = get_typed (j, key, JSON_ARRAY, "an array of strings", err, &rc);
  *out = NULL;
  if (v == NULL)
    return rc;
  char **vec = xmalloc0 (sizeof *vec);
  for (const struct json *c = v->child; c != NULL; c = c->next)
    {
      if (c->type != JSON_STRING)
        {
          strv_free (vec);
          return ctrd_error_set (err, 0, "`%s` must be an array of strings", key);
        }
      strv_push (&vec, c->str);
    }
  *out = vec;
  return 0;
}
