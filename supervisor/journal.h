/* Logging to the systemd journal with structured fields when the daemon's
 * stderr is connected to journald (systemd sets JOURNAL_STREAM to the
 * "device:inode" of that stream), else the default stderr lines. */
#ifndef CTRD_SUPERVISOR_JOURNAL_H
#define CTRD_SUPERVISOR_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "lib/log.h"

/* True when fd is the stream JOURNAL_STREAM (value given) names. */
bool journal_stream_matches (const char *journal_stream, int fd);

/* Route log_msg()/log_msg_proc() to the journal when stderr is journald's
 * stream. Returns true when it did. */
bool journal_log_setup (void);

/* Fill iov (at least 6 entries; strings allocated in *bufs, free each with
 * free()) with the fields of one entry: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER,
 * and CONTAINER_ID / PROCESS_ID when given. Returns the number of entries. */
size_t journal_fields (enum log_level level, const char *container_id, const char *process_id,
                       const char *msg, struct iovec *iov, char **bufs);

#endif
