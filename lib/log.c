#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/timeutil.h"
#include "lib/util.h"

static enum log_level current_level = LOG_LVL_INFO;
static log_sink_fn current_sink;
static log_sink_proc_fn current_sink_proc;

static const char *const level_names[] = { "debug", "info", "warning", "error", "fatal" };

void
log_set_level (enum log_level level)
{
  current_level = level;
}

enum log_level
log_get_level (void)
{
  return current_level;
}

int
log_parse_level (const char *name, enum log_level *out)
{
  static const struct
  {
    const char *n;
    enum log_level l;
  } t[] = {
    { "debug", LOG_LVL_DEBUG },  { "info", LOG_LVL_INFO },   { "warn", LOG_LVL_WARN },
    { "warning", LOG_LVL_WARN }, { "error", LOG_LVL_ERROR }, { "fatal", LOG_LVL_FATAL },
    { "panic", LOG_LVL_FATAL },
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcasecmp (name, t[i].n) == 0)
      {
        *out = t[i].l;
        return 0;
      }
  return -1;
}

void
log_set_sink (log_sink_fn sink)
{
  current_sink = sink;
}

void
log_set_sink_proc (log_sink_proc_fn sink)
{
  current_sink_proc = sink;
}

static void
log_emit (enum log_level level, const char *container_id, const char *process_id, const char *buf)
{
  if (current_sink_proc)
    {
      current_sink_proc (level, container_id, process_id, buf);
      return;
    }
  if (current_sink)
    {
      current_sink (level, container_id, buf);
      return;
    }
  char ts[64];
  time_format_rfc3339_nano (time_now_real_ns (), false, ts, sizeof ts);
  fprintf (stderr, "time=\"%s\" level=%s msg=\"%s\"%s%s%s%s\n", ts, level_names[level], buf,
           container_id ? " id=" : "", container_id ? container_id : "", process_id ? " pid=" : "",
           process_id ? process_id : "");
}

void
log_vmsg (enum log_level level, const char *container_id, const char *process_id, const char *fmt,
          va_list ap)
{
  if (level < current_level)
    return;
  char buf[2048];
  vsnprintf (buf, sizeof buf, fmt, ap);
  log_emit (level, container_id, process_id, buf);
}

void
log_msg (enum log_level level, const char *container_id, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  log_vmsg (level, container_id, NULL, fmt, ap);
  va_end (ap);
}

void
log_msg_proc (enum log_level level, const char *container_id, const char *process_id,
              const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  log_vmsg (level, container_id, process_id, fmt, ap);
  va_end (ap);
}

/* The value of key= in a logrus text line (Go-unquoted when quoted), or NULL. */
static char *
logrus_field (const char *line, size_t len, const char *key)
{
  size_t kl = strlen (key);
  for (size_t i = 0; i + kl + 1 <= len; i++)
    {
      if ((i > 0 && line[i - 1] != ' ') || strncmp (line + i, key, kl) != 0 || line[i + kl] != '=')
        continue;
      const char *v = line + i + kl + 1, *end = line + len;
      if (v < end && *v == '"')
        {
          char *out = xmalloc ((size_t) (end - v) + 1), *o = out;
          for (v++; v < end && *v != '"'; v++)
            {
              if (*v == '\\' && v + 1 < end)
                {
                  v++;
                  *o++ = *v == 'n' ? '\n' : *v == 't' ? '\t' : *v;
                }
              else
                *o++ = *v;
            }
          *o = '\0';
          return out;
        }
      size_t n = 0;
      while (v + n < end && v[n] != ' ')
        n++;
      return xstrndup (v, n);
    }
  return NULL;
}

static void
append_msg (char **acc, const char *m)
{
  if (*m == '\0')
    return;
  char *n = *acc ? xasprintf ("%s; %s", *acc, m) : xstrdup (m);
  free (*acc);
  *acc = n;
}

char *
log_text_messages (const char *text)
{
  char *errors = NULL, *all = NULL;
  for (const char *p = text; p && *p;)
    {
      const char *nl = strchr (p, '\n');
      size_t len = nl ? (size_t) (nl - p) : strlen (p);
      while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' '))
        len--;
      const char *line = p;
      p = nl ? nl + 1 : p + strlen (p);
      while (len > 0 && *line == ' ')
        line++, len--;
      if (len == 0)
        continue;
      char *level = logrus_field (line, len, "level");
      char *msg = level ? logrus_field (line, len, "msg") : NULL;
      if (msg)
        {
          append_msg (&all, msg);
          if (!strcmp (level, "error") || !strcmp (level, "fatal") || !strcmp (level, "panic"))
            append_msg (&errors, msg);
        }
      else
        {
          char *raw = xstrndup (line, len);
          append_msg (&all, raw);
          append_msg (&errors, raw);
          free (raw);
        }
      free (level);
      free (msg);
    }
  if (errors)
    {
      free (all);
      return errors;
    }
  return all ? all : xstrdup ("");
}
