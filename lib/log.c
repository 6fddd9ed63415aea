#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/timeutil.h"

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
  static const struct { const char *n; enum log_level l; } t[] = {
    { "debug", LOG_LVL_DEBUG }, { "info", LOG_LVL_INFO },   { "warn", LOG_LVL_WARN },
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
           container_id ? " id=" : "", container_id ? container_id : "",
           process_id ? " pid=" : "", process_id ? process_id : "");
}

void
log_msg (enum log_level level, const char *container_id, const char *fmt, ...)
{
  if (level < current_level)
    return;
  char buf[2048];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  log_emit (level, container_id, NULL, buf);
}

void
log_msg_proc (enum log_level level, const char *container_id, const char *process_id,
              const char *fmt, ...)
{
  if (level < current_level)
    return;
  char buf[2048];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  log_emit (level, container_id, process_id, buf);
}
