/* Logging to stderr: "time=<RFC3339 nano> level=<lvl> msg=<text> [k=v]".
 * The daemon may redirect to the journal (supervisor/). Level names follow
 * logrus: debug, info, warn/warning, error, fatal, panic. */
#ifndef CTRD_LOG_H
#define CTRD_LOG_H

#include <stdarg.h>

enum log_level
{
  LOG_LVL_DEBUG = 0,
  LOG_LVL_INFO,
  LOG_LVL_WARN,
  LOG_LVL_ERROR,
  LOG_LVL_FATAL
};

/* Sink for a formatted line; the default writes to stderr. */
typedef void (*log_sink_fn) (enum log_level level, const char *container_id, const char *msg);

void log_set_level (enum log_level level);
enum log_level log_get_level (void);
/* Parse a level name; returns 0 and sets *out, or -1 when unknown. */
int log_parse_level (const char *name, enum log_level *out);
void log_set_sink (log_sink_fn sink);
void log_msg (enum log_level level, const char *container_id, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* The same with a process id ("init", an exec id, or NULL) as a structured
 * field, and a va_list: what log_msg and log_msg_proc run. */
void log_vmsg (enum log_level level, const char *container_id, const char *process_id,
               const char *fmt, va_list ap) __attribute__ ((format (printf, 4, 0)));

/* The same with a process id ("init", an exec id) as a structured field. */
typedef void (*log_sink_proc_fn) (enum log_level level, const char *container_id,
                                  const char *process_id, const char *msg);
/* A sink that also receives the process id; takes precedence over log_set_sink's. */
void log_set_sink_proc (log_sink_proc_fn sink);
void log_msg_proc (enum log_level level, const char *container_id, const char *process_id,
                   const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));

/* The messages of a runtime's logrus text output (runc's stderr: lines
 * `time="…" level=error msg="container does not exist"`), for error texts
 * that give the runtime's message, not its log line. msg values are
 * Go-unquoted. The error-level lines (error, fatal, panic) and lines that
 * are not logrus lines (crun's plain text) are joined with "; "; when there
 * are none, the messages of every line (warnings) are. Returns a malloc'd
 * string, empty when the text has no non-blank line. */
char *log_text_messages (const char *text);

#define log_debug(...) log_msg (LOG_LVL_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_msg (LOG_LVL_INFO, NULL, __VA_ARGS__)
#define log_warn(...) log_msg (LOG_LVL_WARN, NULL, __VA_ARGS__)
#define log_error(...) log_msg (LOG_LVL_ERROR, NULL, __VA_ARGS__)

#endif
