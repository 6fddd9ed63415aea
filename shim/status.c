/* exitStatus that no state filesystem can lose (issue 11 #4,
 * state-directory.md "A full or read-only state filesystem").
 *
 * At start the shim creates `exitStatus.reserve` in the process directory
 * and writes STATUS_MAX_LEN bytes into it: the filesystem allocates (tmpfs)
 * or reserves (ext4/xfs delayed allocation) its block then, while a create
 * can still fail cleanly. At the exit the status is written over those
 * bytes, the file is cut to its length (neither needs a new block), fsynced
 * and renamed to `exitStatus` in the same directory (a rename allocates
 * nothing on tmpfs; on ext4 only when the directory's block has no room
 * for the name, which a process directory's dozen names never fill). So
 * "exitStatus present = exited, complete" holds as before, on a full
 * filesystem too.
 *
 * When that fails anyway (read-only, EIO, the reserve removed) the status
 * stays in memory: the shim writes "exit <status>\n" into the `exit` FIFO,
 * whose reader is the daemon (it reports from there), and does not exit
 * before the file is written: it retries when the mount table changes (a
 * remount) and on a backoff timer (1 s doubling to 60 s), or stops when the
 * daemon removed the directory (the exit was consumed). All operations are
 * relative to the directory opened at start: a directory of the same name
 * made later (an exec id reused) is never written. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/timeutil.h"
#include "lib/util.h"
#include "shim/shim.h"

#define STATUS_FILE SHIM_FILE_EXIT_STATUS
#define RESERVE_FILE SHIM_FILE_EXIT_STATUS_RESERVE
/* "255": the longest status text */
#define STATUS_MAX_LEN 3
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 60000

int
shim_status_reserve (struct shim *s, struct ctrd_error **err)
{
  s->dir_fd = open (".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dir_fd < 0)
    return ctrd_error_set (err, errno, "open process directory `%s`", s->cwd);
  s->status_fd =
      openat (s->dir_fd, RESERVE_FILE, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (s->status_fd < 0)
    return ctrd_error_set (err, errno, "reserve space for %s: create `%s/%s`", STATUS_FILE, s->cwd,
                           RESERVE_FILE);
  s->reserve_named = true;
  /* Not fsynced: the block is allocated or reserved by the write itself. */
  if (write_all (s->status_fd, "255", STATUS_MAX_LEN) < 0)
    return ctrd_error_set (err, errno, "reserve space for %s: write `%s/%s`", STATUS_FILE, s->cwd,
                           RESERVE_FILE);
  return 0;
}

/* The reserved file rewritten in place and renamed: no new block. */
static int
write_reserved (struct shim *s, const char *buf, size_t n, struct ctrd_error **err)
{
  if (s->status_fd < 0)
    return ctrd_error_set (err, ENOENT, "no reserved %s", RESERVE_FILE);
  if (pwrite (s->status_fd, buf, n, 0) != (ssize_t) n || ftruncate (s->status_fd, (off_t) n) < 0
      || fsync (s->status_fd) < 0)
    return ctrd_error_set (err, errno, "write `%s/%s`", s->cwd, RESERVE_FILE);
  if (renameat (s->dir_fd, RESERVE_FILE, s->dir_fd, STATUS_FILE) < 0)
    return ctrd_error_set (err, errno, "rename `%s/%s` to %s", s->cwd, RESERVE_FILE, STATUS_FILE);
  s->reserve_named = false;
  close (s->status_fd);
  s->status_fd = -1;
  return 0;
}

/* A new file, renamed into place (the reserve is gone or unusable). */
static int
write_new (struct shim *s, const char *buf, size_t n, struct ctrd_error **err)
{
  char tmp[64];
  snprintf (tmp, sizeof tmp, "%s.tmp.%d", STATUS_FILE, (int) getpid ());
  cleanup_close int fd =
      openat (s->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0)
    return ctrd_error_set (err, errno, "create `%s/%s`", s->cwd, tmp);
  if (write_all (fd, buf, n) < 0 || fsync (fd) < 0
      || renameat (s->dir_fd, tmp, s->dir_fd, STATUS_FILE) < 0)
    {
      int e = errno;
      unlinkat (s->dir_fd, tmp, 0);
      return ctrd_error_set (err, e, "write `%s/%s`", s->cwd, STATUS_FILE);
    }
  return 0;
}

static int
status_persist (struct shim *s, struct ctrd_error **err)
{
  char buf[16];
  int n = snprintf (buf, sizeof buf, "%d", s->exit_status);
  cleanup_error struct ctrd_error *first = NULL;
  if (write_reserved (s, buf, (size_t) n, &first) < 0 && write_new (s, buf, (size_t) n, err) < 0)
    {
      if (s->status_fd >= 0)
        ctrd_error_wrap (err, "%s", first->msg);
      return -1;
    }
  s->status_pending = false;
  /* The rename is durable with the directory (a failure here cannot be
   * helped by retrying: the file is in place). */
  fsync (s->dir_fd);
  return 0;
}

void
shim_status_write (struct shim *s)
{
  cleanup_error struct ctrd_error *err = NULL;
  s->status_pending = true;
  if (status_persist (s, &err) == 0)
    return;
  shim_log (s, "error", "%s; status %d kept until it can be written", err->msg, s->exit_status);
  /* The daemon holds the FIFO's read end and takes the status from here;
   * a short line is written whole or not at all (< PIPE_BUF). EPIPE: no
   * daemon now; a restarted one finds the file once it is written. */
  char line[32];
  int n = snprintf (line, sizeof line, SHIM_EXIT_LINE "%d\n", s->exit_status);
  if (s->exit_fd >= 0 && write (s->exit_fd, line, (size_t) n) != n)
    shim_log (s, "warn", "exit FIFO: %s", strerror (errno));
}

bool
shim_status_pending (const struct shim *s)
{
  return s->status_pending;
}

static void
status_done (struct shim *s)
{
  shim_arm_timer (s, 0);
  s->holding = false;
  s->exit_code = s->held_code;
  s->done = true;
}

void
shim_status_retry (struct shim *s)
{
  struct stat st;
  if (fstat (s->dir_fd, &st) == 0 && st.st_nlink == 0)
    {
      /* The daemon removed the directory: it has reported the exit. */
      status_done (s);
      return;
    }
  cleanup_error struct ctrd_error *err = NULL;
  if (status_persist (s, &err) == 0)
    {
      shim_log (s, "info", "exit status %d written", s->exit_status);
      status_done (s);
      return;
    }
  if (s->retry_ms == 0)
    s->retry_ms = RETRY_FIRST_MS;
  else if ((s->retry_ms *= 2) > RETRY_MAX_MS)
    s->retry_ms = RETRY_MAX_MS;
  shim_arm_timer (s, time_now_mono_ns () + s->retry_ms * NSEC_PER_MSEC);
}

void
shim_status_hold (struct shim *s, int code)
{
  s->held_code = code;
  s->holding = true;
  s->retry_ms = 0;
  shim_status_retry (s);
}

void
shim_status_close (struct shim *s)
{
  if (s->status_fd >= 0)
    close (s->status_fd);
  s->status_fd = -1;
  /* a start that failed, or a status written without it */
  if (s->reserve_named && s->dir_fd >= 0)
    unlinkat (s->dir_fd, RESERVE_FILE, 0);
  s->reserve_named = false;
  if (s->dir_fd >= 0)
    close (s->dir_fd);
  s->dir_fd = -1;
}
