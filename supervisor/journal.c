#include "supervisor/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include <systemd/sd-journal.h>

#include "lib/util.h"

bool
journal_stream_matches (const char *journal_stream, int fd)
{
  unsigned long long dev, ino;
  char tail;
  struct stat st;

  if (!journal_stream || sscanf (journal_stream, "%llu:%llu%c", &dev, &ino, &tail) != 2)
    return false;
  if (fstat (fd, &st) < 0)
    return false;
  return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

static int
journal_priority (enum log_level level)
{
  switch (level)
    {
    case LOG_LVL_DEBUG:
      return LOG_DEBUG;
    case LOG_LVL_INFO:
      return LOG_INFO;
    case LOG_LVL_WARN:
      return LOG_WARNING;
    case LOG_LVL_ERROR:
      return LOG_ERR;
    case LOG_LVL_FATAL:
      return LOG_CRIT;
    }
  return LOG_INFO;
}

static size_t
journal_add (struct iovec *iov, char **bufs, size_t n, const char *key, const char *value)
{
  size_t kl = strlen (key), vl = strlen (value);
  char *s = xmalloc (kl + 1 + vl + 1);
  memcpy (s, key, kl);
  s[kl] = '=';
  memcpy (s + kl + 1, value, vl + 1);
  bufs[n] = s;
  iov[n].iov_base = s;
  iov[n].iov_len = kl + 1 + vl;
  return n + 1;
}

size_t
journal_fields (enum log_level level, const char *container_id, const char *process_id,
                const char *msg, struct iovec *iov, char **bufs)
{
  char prio[4];
  size_t n = 0;

  snprintf (prio, sizeof prio, "%d", journal_priority (level));
  n = journal_add (iov, bufs, n, "MESSAGE", msg);
  n = journal_add (iov, bufs, n, "PRIORITY", prio);
  n = journal_add (iov, bufs, n, "SYSLOG_IDENTIFIER", CTRD_DAEMON_NAME);
  if (container_id && *container_id)
    n = journal_add (iov, bufs, n, "CONTAINER_ID", container_id);
  if (process_id && *process_id)
    n = journal_add (iov, bufs, n, "PROCESS_ID", process_id);
  return n;
}

static void
journal_sink (enum log_level level, const char *container_id, const char *process_id,
              const char *msg)
{
  struct iovec iov[6];
  char *bufs[6];
  size_t n = journal_fields (level, container_id, process_id, msg, iov, bufs);

  if (sd_journal_sendv (iov, (int) n) < 0)
    fprintf (stderr, "%s\n", msg); /* journald gone: stderr still reaches somebody */
  for (size_t i = 0; i < n; i++)
    free (bufs[i]);
}

bool
journal_log_setup (void)
{
  if (!journal_stream_matches (getenv ("JOURNAL_STREAM"), 2))
    return false;
  log_set_sink_proc (journal_sink);
  return true;
}
