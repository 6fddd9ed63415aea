/* Memory, scope cleanup, fd and file helpers shared by every binary.
 * libc only: the shim links this too. */
#ifndef CTRD_UTIL_H
#define CTRD_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "lib/error.h"

#define UNUSED __attribute__ ((unused))
#define ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))

/* Allocation failure aborts: there is no sane recovery in a supervisor. */
void *xmalloc (size_t n);
void *xmalloc0 (size_t n);
void *xrealloc (void *p, size_t n);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
char *xvasprintf (const char *fmt, va_list ap) __attribute__ ((format (printf, 1, 0)));

/* Ownership by scope. Each releases what the variable holds when it goes
 * out of scope (NULL / -1 is fine) and keeps errno. cleanup_file fcloses
 * and ignores the result: a FILE written to, whose fclose reports the write
 * error, is closed by hand and checked (take_ptr it out of the scope).
 * json-c objects: cleanup_json in lib/json-cleanup.h; unpacked protobuf-c
 * messages: cleanup_pb in lib/pb-cleanup.h (header-only, so this library
 * and the shim stay libc only). */
void cleanup_freep (void *p);
void cleanup_closep (int *fd);
void cleanup_strvp (char ***v);
void cleanup_fclosep (FILE **f);
void cleanup_closedirp (DIR **d);
#define cleanup_free __attribute__ ((cleanup (cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cleanup_closep)))
#define cleanup_strv __attribute__ ((cleanup (cleanup_strvp)))
#define cleanup_file __attribute__ ((cleanup (cleanup_fclosep)))
#define cleanup_dir __attribute__ ((cleanup (cleanup_closedirp)))

/* Explicit hand-over out of a cleanup scope. */
static inline int
take_fd (int *fd)
{
  int r = *fd;
  *fd = -1;
  return r;
}
static inline void *
take_ptr (void *pp)
{
  void **p = (void **) pp;
  void *r = *p;
  *p = NULL;
  return r;
}

/* NULL-terminated string vectors. */
size_t strv_len (char *const *v);
void strv_free (char **v);
char **strv_dup (char *const *v);
/* Append a copy of s; *v may be NULL. */
void strv_push (char ***v, const char *s);

/* fd flags. */
int fd_set_cloexec (int fd, bool on);
int fd_set_nonblock (int fd, bool on);
/* Write everything (retrying EINTR / short writes); -1 with errno on error. */
ssize_t write_all (int fd, const void *buf, size_t len);
/* Read until EOF or len bytes (retrying EINTR); returns bytes read or -1. */
ssize_t read_all (int fd, void *buf, size_t len);

/* The file execvp would run for name: name itself when it contains a '/',
 * else the first executable regular file of that name in $PATH (glibc's
 * default path when PATH is unset). Resolved in the parent, so that a child
 * between fork and exec makes one execve and no failing ones. NULL with errno
 * (ENOENT, EACCES) when there is none. */
char *find_executable (const char *name);

/* Read a whole file (at most max bytes, else EFBIG) NUL-terminated into *out.
 * dirfd may be AT_FDCWD. */
int read_file_at (int dirfd, const char *path, char **out, size_t *len, size_t max,
                  struct ctrd_error **err);
static inline int
read_file (const char *path, char **out, size_t *len, size_t max, struct ctrd_error **err)
{
  return read_file_at (-100 /* AT_FDCWD */, path, out, len, max, err);
}

/* Write a file atomically: <path>.tmp.<pid> in the same directory, fsync,
 * rename over path, fsync the directory. A reader sees the old or the new
 * content, never half of it. */
int write_file_atomic (const char *path, const void *data, size_t len, mode_t mode,
                       struct ctrd_error **err);

/* mkdir -p; existing directories are fine. */
int mkdir_p (const char *path, mode_t mode, struct ctrd_error **err);
/* rm -rf without following symlinks and without leaving the tree (openat/unlinkat),
 * and never into another mount: a directory that is a mount point (a bind
 * mount of somebody's files, of the same filesystem or not) is left whole,
 * with everything above it, and the call fails with EXDEV. A missing path is
 * success. */
int rm_rf (const char *path, struct ctrd_error **err);
/* Create a FIFO; an existing FIFO at path is accepted. */
int mkfifo_ok (const char *path, mode_t mode, struct ctrd_error **err);

/* One holder per directory (ctrd: one daemon per state dir). Opens or creates
 * <dir>/<name> (O_CLOEXEC, so shims and runtimes never inherit it), takes
 * flock(LOCK_EX|LOCK_NB) and writes our pid into it, in place (the lock is on
 * the inode: the file is never replaced). Returns the fd, held until the
 * process ends. When another process holds it: -1, errno EWOULDBLOCK, the
 * holder's pid in *holder (0 when it has not written it yet) and an error
 * naming dir and the pid. */
int lockfile_acquire (const char *dir, const char *name, pid_t *holder, struct ctrd_error **err);

/* Join dir and name with one '/'. */
char *path_join (const char *dir, const char *name);
/* Make a path absolute against the current directory (no symlink resolution). */
char *path_absolute (const char *path);

/* Parse a decimal integer that must fill the whole string (no sign unless
 * allow_negative, no spaces, no trailing byte). */
int parse_int64 (const char *s, long long *out, bool allow_negative);
int parse_uint64 (const char *s, unsigned long long *out);

#endif
