#include "lib/goflag.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/timeutil.h"
#include "lib/util.h"

int
goflag_parse_bool (const char *s, bool *out)
{
  static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
  static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
  for (size_t i = 0; i < ARRAY_SIZE (yes); i++)
    {
      if (strcmp (s, yes[i]) == 0)
        {
          *out = true;
          return 0;
        }
      if (strcmp (s, no[i]) == 0)
        {
          *out = false;
          return 0;
        }
    }
  errno = EINVAL;
  return -1;
}

/* Go's underscoreOK: with base 0, '_' may only separate digits (or follow
 * the base prefix). */
static bool
underscores_ok (const char *s)
{
  char saw = '^';
  size_t i = 0, n;
  bool hex = false;
  if (*s == '-' || *s == '+')
    s++;
  n = strlen (s);
  if (n >= 2 && s[0] == '0' && strchr ("bBoOxX", s[1]) != NULL)
    {
      i = 2;
      saw = '0';
      hex = s[1] == 'x' || s[1] == 'X';
    }
  for (; i < n; i++)
    {
      if (isdigit ((unsigned char) s[i]) || (hex && isxdigit ((unsigned char) s[i])))
        {
          saw = '0';
          continue;
        }
      if (s[i] == '_')
        {
          if (saw != '0')
            return false;
          saw = '_';
          continue;
        }
      if (saw == '_')
        return false;
      saw = '!';
    }
  return saw != '_';
}

/* strconv.ParseUint(s, 0, 64) on the unsigned part (no sign). */
static int
parse_magnitude (const char *s, unsigned long long *out)
{
  const char *s0 = s;
  unsigned base = 10;
  bool underscores = false;
  unsigned long long v = 0;

  if (*s == '\0')
    goto syntax;
  if (s[0] == '0')
    {
      size_t n = strlen (s);
      char c = (char) tolower ((unsigned char) s[1]);
      if (n >= 3 && (c == 'b' || c == 'o' || c == 'x'))
        {
          base = c == 'b' ? 2 : c == 'o' ? 8 : 16;
          s += 2;
        }
      else
        {
          base = 8;
          s += 1;
        }
    }
  for (; *s; s++)
    {
      unsigned d;
      char c = *s;
      if (c == '_')
        {
          underscores = true;
          continue;
        }
      if (c >= '0' && c <= '9')
        d = (unsigned) (c - '0');
      else if (c >= 'a' && c <= 'z')
        d = (unsigned) (c - 'a' + 10);
      else if (c >= 'A' && c <= 'Z')
        d = (unsigned) (c - 'A' + 10);
      else
        goto syntax;
      if (d >= base)
        goto syntax;
      if (v > (UINT64_MAX - d) / base)
        {
          errno = ERANGE;
          return -1;
        }
      v = v * base + d;
    }
  if (underscores && !underscores_ok (s0))
    goto syntax;
  *out = v;
  return 0;
syntax:
  errno = EINVAL;
  return -1;
}

int
goflag_parse_uint (const char *s, unsigned long long *out)
{
  return parse_magnitude (s, out);
}

int
goflag_parse_int (const char *s, long long *out)
{
  bool neg = false;
  unsigned long long mag;
  const unsigned long long cutoff = 1ULL << 63;
  if (*s == '+' || *s == '-')
    neg = *s++ == '-';
  if (parse_magnitude (s, &mag) < 0)
    return -1;
  if ((!neg && mag >= cutoff) || (neg && mag > cutoff))
    {
      errno = ERANGE;
      return -1;
    }
  *out = neg ? (long long) (0 - mag) : (long long) mag;
  return 0;
}

static struct goflag *
flag_lookup (struct goflag *flags, size_t n, const char *name, size_t len)
{
  for (size_t i = 0; i < n; i++)
    {
      const char *names[2] = { flags[i].name, flags[i].alias };
      for (size_t j = 0; j < 2; j++)
        if (names[j] && strlen (names[j]) == len && memcmp (names[j], name, len) == 0)
          return &flags[i];
    }
  return NULL;
}

/* Store value into f's destination. Returns 0, or -1 with errno EINVAL/ERANGE. */
static int
flag_set (struct goflag *f, const char *value)
{
  switch (f->type)
    {
    case GOFLAG_BOOL:
      return goflag_parse_bool (value, f->dest);
    case GOFLAG_STRING:
      {
        char **d = f->dest;
        free (*d);
        *d = xstrdup (value);
        return 0;
      }
    case GOFLAG_STRINGS:
      strv_push ((char ***) f->dest, value);
      return 0;
    case GOFLAG_INT:
      return goflag_parse_int (value, f->dest);
    case GOFLAG_UINT64:
      return goflag_parse_uint (value, f->dest);
    case GOFLAG_DURATION:
      if (duration_parse (value, f->dest) < 0)
        {
          errno = EINVAL;
          return -1;
        }
      return 0;
    }
  errno = EINVAL;
  return -1;
}

static const char *
reason (int e)
{
  /* the texts of Go's flag package (errParse, errRange) */
  return e == ERANGE ? "value out of range" : "parse error";
}

int
goflag_parse (struct goflag *flags, size_t n, int argc, char **argv, int start,
              struct ctrd_error **err)
{
  int i = start;
  while (i < argc)
    {
      const char *s = argv[i];
      size_t dashes = 1;
      if (strlen (s) < 2 || s[0] != '-')
        break; /* first positional argument ("-" alone is one) */
      if (s[1] == '-')
        {
          dashes = 2;
          if (s[2] == '\0')
            return i + 1; /* "--" ends the flags and is consumed */
        }
      const char *name = s + dashes;
      if (*name == '-' || *name == '=')
        return ctrd_error_set (err, 0, "bad flag syntax: %s", s);
      i++;
      const char *eq = strchr (name, '=');
      size_t len = eq ? (size_t) (eq - name) : strlen (name);
      const char *value = eq ? eq + 1 : NULL;
      cleanup_free char *shown = xstrndup (name, len);

      struct goflag *f = flag_lookup (flags, n, name, len);
      if (f == NULL || f->dest == NULL)
        {
          if (strcmp (shown, "help") == 0 || strcmp (shown, "h") == 0)
            return GOFLAG_HELP;
          if (f == NULL)
            return ctrd_error_set (err, 0, "flag provided but not defined: -%s", shown);
          /* a table entry without destination is an action flag: help only */
          return GOFLAG_HELP;
        }
      if (f->type == GOFLAG_BOOL)
        {
          /* booleans never take the next argument: "--debug false" is a
           * flag followed by the positional "false", as in Go */
          if (flag_set (f, value ? value : "true") < 0)
            return ctrd_error_set (err, 0, "invalid boolean value \"%s\" for -%s: %s", value, shown,
                                   reason (errno));
        }
      else
        {
          if (value == NULL)
            {
              if (i >= argc)
                return ctrd_error_set (err, 0, "flag needs an argument: -%s", shown);
              value = argv[i++];
            }
          if (flag_set (f, value) < 0)
            return ctrd_error_set (err, 0, "invalid value \"%s\" for flag -%s: %s", value, shown,
                                   reason (errno));
        }
      f->set = true;
    }
  return i;
}

static char *
flag_label (const struct goflag *f)
{
  /* urfave/cli: one-letter names take one dash, others two; "value" after
   * every name of a flag that takes one */
  const char *arg = f->type == GOFLAG_BOOL || f->dest == NULL ? "" : " value";
  const char *d1 = strlen (f->name) == 1 ? "-" : "--";
  if (f->alias == NULL)
    return xasprintf ("%s%s%s", d1, f->name, arg);
  const char *d2 = strlen (f->alias) == 1 ? "-" : "--";
  return xasprintf ("%s%s%s, %s%s%s", d1, f->name, arg, d2, f->alias, arg);
}

void
goflag_print_usage (FILE *out, const struct goflag *flags, size_t n)
{
  size_t width = 0;
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *l = flag_label (&flags[i]);
      if (strlen (l) > width)
        width = strlen (l);
    }
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *l = flag_label (&flags[i]);
      fprintf (out, "   %-*s  %s", (int) width, l, flags[i].usage ? flags[i].usage : "");
      if (flags[i].default_text)
        fprintf (out, " (default: %s)", flags[i].default_text);
      fputc ('\n', out);
    }
}

void
goflag_free_values (struct goflag *flags, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      if (flags[i].dest == NULL)
        continue;
      if (flags[i].type == GOFLAG_STRING)
        {
          char **d = flags[i].dest;
          free (*d);
          *d = NULL;
        }
      else if (flags[i].type == GOFLAG_STRINGS)
        {
          char ***d = flags[i].dest;
          strv_free (*d);
          *d = NULL;
        }
    }
}
