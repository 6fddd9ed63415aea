#include "supervisor/promtext.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static void
put (struct promtext *t, const char *s, size_t n)
{
  if (t->len + n + 1 > t->cap)
    {
      t->cap = (t->len + n + 1) * 2 + 1024;
      t->buf = xrealloc (t->buf, t->cap);
    }
  memcpy (t->buf + t->len, s, n);
  t->len += n;
  t->buf[t->len] = '\0';
}

static void
puts_ (struct promtext *t, const char *s)
{
  put (t, s, strlen (s));
}

/* s with backslash and newline escaped, and quote too when quotes */
static void
put_escaped (struct promtext *t, const char *s, int quotes)
{
  for (; *s; s++)
    if (*s == '\\')
      puts_ (t, "\\\\");
    else if (*s == '\n')
      puts_ (t, "\\n");
    else if (*s == '"' && quotes)
      puts_ (t, "\\\"");
    else
      put (t, s, 1);
}

void
promtext_format_double (double v, char *buf, size_t len)
{
  if (isnan (v))
    {
      snprintf (buf, len, "NaN");
      return;
    }
  if (isinf (v))
    {
      snprintf (buf, len, v > 0 ? "+Inf" : "-Inf");
      return;
    }
  if (v == 0)
    {
      snprintf (buf, len, "0");
      return;
    }
  /* the fewest significant digits that read back exactly */
  int prec = 1;
  for (; prec < 17; prec++)
    {
      snprintf (buf, len, "%.*e", prec - 1, v);
      if (strtod (buf, NULL) == v)
        break;
    }
  snprintf (buf, len, "%.*e", prec - 1, v);
  int exp = atoi (strchr (buf, 'e') + 1);
  /* Go's 'g' with the shortest precision: exponent form below 1e-4 and
   * from 1e+06 up (the C form has the same sign and two-digit exponent) */
  if (exp >= -4 && exp < 6)
    snprintf (buf, len, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
}

void
promtext_family (struct promtext *t, const char *name, const char *type, const char *help)
{
  puts_ (t, "# HELP ");
  puts_ (t, name);
  puts_ (t, " ");
  put_escaped (t, help, 0);
  puts_ (t, "\n# TYPE ");
  puts_ (t, name);
  puts_ (t, " ");
  puts_ (t, type);
  puts_ (t, "\n");
}

/* name{labels[,extra="extra_value"]} value */
static void
sample_line (struct promtext *t, const char *name, const char *suffix, const char *const *labels,
             const char *extra, const char *extra_value, double value)
{
  puts_ (t, name);
  puts_ (t, suffix);
  int n = 0;
  for (size_t i = 0; labels && labels[i] && labels[i + 1]; i += 2, n++)
    {
      puts_ (t, n ? "," : "{");
      puts_ (t, labels[i]);
      puts_ (t, "=\"");
      put_escaped (t, labels[i + 1], 1);
      puts_ (t, "\"");
    }
  if (extra)
    {
      puts_ (t, n++ ? "," : "{");
      puts_ (t, extra);
      puts_ (t, "=\"");
      puts_ (t, extra_value);
      puts_ (t, "\"");
    }
  if (n)
    puts_ (t, "}");
  char v[40];
  promtext_format_double (value, v, sizeof v);
  puts_ (t, " ");
  puts_ (t, v);
  puts_ (t, "\n");
}

void
promtext_sample (struct promtext *t, const char *name, const char *const *labels, double value)
{
  sample_line (t, name, "", labels, NULL, NULL, value);
}

void
promtext_histogram (struct promtext *t, const char *name, const char *const *labels,
                    const double *bounds, const uint64_t *counts, size_t n, double sum)
{
  uint64_t cum = 0;
  char le[40];
  for (size_t i = 0; i <= n; i++)
    {
      cum += counts[i];
      if (i < n)
        promtext_format_double (bounds[i], le, sizeof le);
      else
        snprintf (le, sizeof le, "+Inf");
      sample_line (t, name, "_bucket", labels, "le", le, (double) cum);
    }
  sample_line (t, name, "_sum", labels, NULL, NULL, sum);
  sample_line (t, name, "_count", labels, NULL, NULL, (double) cum);
}

char *
promtext_take (struct promtext *t, size_t *len)
{
  if (t->buf == NULL)
    put (t, "", 0);
  char *r = t->buf;
  *len = t->len;
  t->buf = NULL;
  t->len = t->cap = 0;
  return r;
}
