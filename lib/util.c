#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

void *
xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (p == NULL)
    abort ();
  return p;
}

void *
xmalloc0 (size_t n)
{
  void *p = calloc (1, n ? n : 1);
  if (p == NULL)
    abort ();
  return p;
}

void *
xrealloc (void *p, size_t n)
{
  p = realloc (p, n ? n : 1);
  if (p == NULL)
    abort ();
  return p;
}

char *
xstrdup (const char *s)
{
  char *r = strdup (s ? s : "");
  if (r == NULL)
    abort ();
  return r;
}

char *
xstrndup (const char *s, size_t n)
{
  char *r = strndup (s, n);
  if (r == NULL)
    abort ();
  return r;
}

char *
xvasprintf (const char *fmt, va_list ap)
{
  char *r = NULL;
  if (vasprintf (&r, fmt, ap) < 0)
    abort ();
  return r;
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *r = xvasprintf (fmt, ap);
  va_end (ap);
  return r;
}

void
cleanup_freep (void *p)
{
  free (*(void **) p);
}

void
cleanup_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

void
cleanup_strvp (char ***v)
{
  strv_free (*v);
}

void
cleanup_fclosep (FILE **f)
{
  if (*f != NULL)
    {
      int saved = errno;
      fclose (*f);
      errno = saved;
    }
}

void
cleanup_closedirp (DIR **d)
{
  if (*d != NULL)
    {
      int saved = errno;
      closedir (*d);
      errno = saved;
    }
}

size_t
strv_len (char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

void
strv_free (char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free (v[i]);
  free (v);
}

char **
strv_dup (char *const *v)
{
  size_t n = strv_len (v);
  char **r = xmalloc ((n + 1) * sizeof *r);
  for (size_t i = 0; i < n; i++)
    r[i] = xstrdup (v[i]);
  r[n] = NULL;
  return r;
}

void
strv_push (char ***v, const char *s)
{
  size_t n = strv_len (*v);
  *v = xrealloc (*v, (n + 2) * sizeof **v);
  (*v)[n] = xstrdup (s);
  (*v)[n + 1] = NULL;
}

int
fd_set_cloexec (int fd, bool on)
{
  int f = fcntl (fd, F_GETFD);
  if (f < 0)
    return -1;
  f = on ? (f | FD_CLOEXEC) : (f & ~FD_CLOEXEC);
  return fcntl (fd, F_SETFD, f);
}

int
fd_set_nonblock (int fd, bool on)
{
  int f = fcntl (fd, F_GETFL);
  if (f < 0)
    return -1;
  f = on ? (f | O_NONBLOCK) : (f & ~O_NONBLOCK);
  return fcntl (fd, F_SETFL, f);
}

ssize_t
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  size_t done = 0;
  while (done < len)
    {
      ssize_t w = write (fd, p + done, len - done);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      done += (size_t) w;
    }
  return (ssize_t) done;
}

ssize_t
read_all (int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t done = 0;
  while (done < len)
    {
      ssize_t r = read (fd, p + done, len - done);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      if (r == 0)
        break;
      done += (size_t) r;
    }
  return (ssize_t) done;
}

char *
find_executable (const char *name)
{
  if (name == NULL || name[0] == '\0')
    {
      errno = ENOENT;
      return NULL;
    }
  if (strchr (name, '/') != NULL)
    return xstrdup (name);
  const char *path = getenv ("PATH");
  if (path == NULL)
    path = "/bin:/usr/bin";
  int err = ENOENT;
  for (const char *p = path;; p++)
    {
      const char *end = strchrnul (p, ':');
      /* An empty element means the current directory, as for execvp. */
      char *cand =
          end == p ? xasprintf ("./%s", name) : xasprintf ("%.*s/%s", (int) (end - p), p, name);
      struct stat st;
      if (stat (cand, &st) == 0 && S_ISREG (st.st_mode))
        {
          if (access (cand, X_OK) == 0)
            return cand;
          err = EACCES;
        }
      free (cand);
      if (*end == '\0')
        break;
      p = end;
    }
  errno = err;
  return NULL;
}

int
read_file_at (int dirfd, const char *path, char **out, size_t *len, size_t max,
              struct ctrd_error **err)
{
  cleanup_close int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ctrd_error_set (err, errno, "open `%s`", path);
  size_t cap = 4096, n = 0;
  cleanup_free char *buf = xmalloc (cap);
  for (;;)
    {
      if (n + 1 >= cap)
        {
          if (cap > max)
            return ctrd_error_set (err, EFBIG, "read `%s`", path);
          cap *= 2;
          buf = xrealloc (buf, cap);
        }
      ssize_t r = read (fd, buf + n, cap - n - 1);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          return ctrd_error_set (err, errno, "read `%s`", path);
        }
      if (r == 0)
        break;
      n += (size_t) r;
      if (n > max)
        return ctrd_error_set (err, EFBIG, "read `%s`", path);
    }
  buf[n] = '\0';
  if (len)
    *len = n;
  *out = take_ptr (&buf);
  return 0;
}

static int
fsync_parent_dir (const char *path)
{
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  if (slash == NULL)
    strcpy (dir, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return -1;
  return fsync (dfd);
}

int
write_file_atomic (const char *path, const void *data, size_t len, mode_t mode,
                   struct ctrd_error **err)
{
  cleanup_free char *tmp = xasprintf ("%s.tmp.%d", path, (int) getpid ());
  cleanup_close int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return ctrd_error_set (err, errno, "create `%s`", tmp);
  if (write_all (fd, data, len) < 0 || fsync (fd) < 0)
    {
      int e = errno;
      unlink (tmp);
      return ctrd_error_set (err, e, "write `%s`", tmp);
    }
  if (close (take_fd (&fd)) < 0)
    {
      int e = errno;
      unlink (tmp);
      return ctrd_error_set (err, e, "close `%s`", tmp);
    }
  if (rename (tmp, path) < 0)
    {
      int e = errno;
      unlink (tmp);
      return ctrd_error_set (err, e, "rename `%s` to `%s`", tmp, path);
    }
  if (fsync_parent_dir (path) < 0)
    return ctrd_error_set (err, errno, "fsync directory of `%s`", path);
  return 0;
}

int
lockfile_acquire (const char *dir, const char *name, pid_t *holder, struct ctrd_error **err)
{
  cleanup_free char *path = path_join (dir, name);
  if (holder)
    *holder = 0;
  cleanup_close int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    return ctrd_error_set (err, errno, "lock file %s", path);
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      int e = errno;
      if (e != EWOULDBLOCK)
        return ctrd_error_set (err, e, "lock %s", path);
      char buf[32] = "";
      ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
      buf[n > 0 ? n : 0] = '\0';
      buf[strcspn (buf, "\n")] = '\0';
      unsigned long long pid = 0;
      if (parse_uint64 (buf, &pid) < 0)
        pid = 0;
      if (holder)
        *holder = (pid_t) pid;
      if (pid)
        ctrd_error_grpc (err, GRPC_UNAVAILABLE, "state dir %s is in use: pid %llu holds %s", dir,
                         pid, path);
      else
        ctrd_error_grpc (err, GRPC_UNAVAILABLE,
                         "state dir %s is in use: another process holds %s (pid not yet written)",
                         dir, path);
      errno = e;
      return -1;
    }
  char buf[32];
  int len = snprintf (buf, sizeof buf, "%ld\n", (long) getpid ());
  if (ftruncate (fd, 0) < 0 || pwrite (fd, buf, (size_t) len, 0) != len)
    return ctrd_error_set (err, errno, "write %s", path);
  return take_fd (&fd);
}

int
mkdir_p (const char *path, mode_t mode, struct ctrd_error **err)
{
  if (path == NULL || *path == '\0')
    return ctrd_error_set (err, EINVAL, "mkdir: empty path");
  cleanup_free char *p = xstrdup (path);
  for (char *s = p + 1; *s; s++)
    {
      if (*s != '/')
        continue;
      *s = '\0';
      if (mkdir (p, mode) < 0 && errno != EEXIST)
        return ctrd_error_set (err, errno, "mkdir `%s`", p);
      *s = '/';
    }
  if (mkdir (p, mode) < 0)
    {
      struct stat st;
      if (errno != EEXIST)
        return ctrd_error_set (err, errno, "mkdir `%s`", p);
      if (stat (p, &st) < 0 || !S_ISDIR (st.st_mode))
        return ctrd_error_set (err, ENOTDIR, "mkdir `%s`", p);
    }
  return 0;
}

/* The mount id of name in parent (not following a symlink), 0 when unknown. */
static uint64_t
mount_id_at (int parent, const char *name)
{
  struct statx sx;
  if (statx (parent, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_MNT_ID, &sx) < 0
      || !(sx.stx_mask & STATX_MNT_ID))
    return 0;
  return sx.stx_mnt_id;
}

/* Never into another mount: a directory on another mount (a bind mount of
 * somebody's files, even of the same filesystem) fails with EXDEV and is
 * left whole. */
static int
rm_rf_at (int parent, const char *name, int depth, uint64_t mnt)
{
  if (depth > 256)
    {
      errno = ELOOP;
      return -1;
    }
  if (unlinkat (parent, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return -1;
  uint64_t here = mount_id_at (parent, name);
  if (depth == 0)
    mnt = here;
  else if (here != mnt)
    {
      errno = EXDEV;
      return -1;
    }
  int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : -1;
  DIR *d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return -1;
    }
  int ret = 0, saved = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (rm_rf_at (dirfd (d), de->d_name, depth + 1, mnt) < 0)
        {
          ret = -1;
          saved = errno;
        }
    }
  closedir (d);
  if (ret < 0)
    {
      errno = saved;
      return -1;
    }
  if (unlinkat (parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return -1;
  return 0;
}

int
rm_rf (const char *path, struct ctrd_error **err)
{
  if (rm_rf_at (AT_FDCWD, path, 0, 0) < 0)
    {
      int e = errno;
      return ctrd_error_set (err, e,
                             e == EXDEV ? "remove `%s`: a mount point is inside it; left "
                                          "in place"
                                        : "remove `%s`",
                             path);
    }
  return 0;
}

int
mkfifo_ok (const char *path, mode_t mode, struct ctrd_error **err)
{
  if (mkfifo (path, mode) == 0)
    return 0;
  struct stat st;
  if (errno == EEXIST && stat (path, &st) == 0 && S_ISFIFO (st.st_mode))
    return 0;
  return ctrd_error_set (err, errno, "mkfifo `%s`", path);
}

char *
path_join (const char *dir, const char *name)
{
  size_t dl = strlen (dir);
  while (dl > 1 && dir[dl - 1] == '/')
    dl--;
  while (*name == '/')
    name++;
  return xasprintf ("%.*s/%s", (int) dl, dir, name);
}

char *
path_absolute (const char *path)
{
  if (path[0] == '/')
    return xstrdup (path);
  char *cwd = getcwd (NULL, 0);
  if (cwd == NULL)
    abort ();
  char *r = path_join (cwd, path);
  free (cwd);
  return r;
}

int
parse_int64 (const char *s, long long *out, bool allow_negative)
{
  if (s == NULL || *s == '\0' || (!allow_negative && *s == '-') || *s == '+' || *s == ' ')
    return -1;
  char *end = NULL;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0')
    return -1;
  *out = v;
  return 0;
}

int
parse_uint64 (const char *s, unsigned long long *out)
{
  if (s == NULL || *s < '0' || *s > '9')
    return -1;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0')
    return -1;
  *out = v;
  return 0;
}
