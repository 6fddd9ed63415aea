/* Cgroup directory discovery from mountinfo + /proc/<pid>/cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/cgdirs.h"

static const char *const names[CGDIRS_N] = {
  [CGDIRS_CPU] = "cpu",         [CGDIRS_CPUACCT] = "cpuacct", [CGDIRS_MEMORY] = "memory",
  [CGDIRS_BLKIO] = "blkio",     [CGDIRS_HUGETLB] = "hugetlb", [CGDIRS_PIDS] = "pids",
  [CGDIRS_DEVICES] = "devices", [CGDIRS_FREEZER] = "freezer", [CGDIRS_UNIFIED] = NULL,
};

struct mount
{
  char *root;
  char *point;
};

/* Does the comma-separated list contain word? */
static bool
csv_has (const char *list, size_t len, const char *word)
{
  size_t wl = strlen (word);
  const char *p = list, *end = list + len;
  while (p < end)
    {
      const char *c = memchr (p, ',', (size_t) (end - p));
      size_t n = c ? (size_t) (c - p) : (size_t) (end - p);
      if (n == wl && memcmp (p, word, wl) == 0)
        return true;
      p += n + 1;
    }
  return false;
}

/* mountinfo escapes blanks and backslashes as \ooo. */
static char *
unescape (const char *s, size_t n)
{
  char *r = xmalloc (n + 1), *o = r;
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0'
          && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7')
        {
          *o++ = (char) (((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
          i += 3;
        }
      else
        *o++ = s[i];
    }
  *o = 0;
  return r;
}

/* One mountinfo line: "id parent maj:min root point opts [tags...] - type src superopts". */
static void
scan_mount_line (const char *line, size_t len, struct mount m[CGDIRS_N])
{
  const char *f[6];
  size_t fl[6];
  const char *p = line, *end = line + len;
  for (int i = 0; i < 6; i++)
    {
      while (p < end && *p == ' ')
        p++;
      f[i] = p;
      while (p < end && *p != ' ')
        p++;
      fl[i] = (size_t) (p - f[i]);
    }
  const char *sep = NULL;
  for (const char *q = p; q + 2 < end; q++)
    if (q[0] == ' ' && q[1] == '-' && q[2] == ' ')
      {
        sep = q + 3;
        break;
      }
  if (!sep)
    return;
  const char *type = sep, *te = memchr (sep, ' ', (size_t) (end - sep));
  if (!te)
    return;
  size_t tl = (size_t) (te - type);
  const char *src = te + 1, *se = memchr (src, ' ', (size_t) (end - src));
  if (!se)
    return;
  const char *opts = se + 1;
  size_t ol = (size_t) (end - opts);
  bool v2 = tl == 7 && memcmp (type, "cgroup2", 7) == 0;
  bool v1 = tl == 6 && memcmp (type, "cgroup", 6) == 0;
  if (!v1 && !v2)
    return;
  for (int c = 0; c < CGDIRS_N; c++)
    {
      if (m[c].point)
        continue; /* first mount of a hierarchy wins */
      if (v2 ? c != CGDIRS_UNIFIED : (c == CGDIRS_UNIFIED || !csv_has (opts, ol, names[c])))
        continue;
      m[c].root = unescape (f[3], fl[3]);
      m[c].point = unescape (f[4], fl[4]);
    }
}

static char *
dir_for (const struct mount *m, const char *path, size_t pl)
{
  size_t rl = strlen (m->root);
  if (strcmp (m->root, "/") != 0 && pl >= rl && memcmp (path, m->root, rl) == 0
      && (pl == rl || path[rl] == '/'))
    {
      path += rl;
      pl -= rl;
    }
  while (pl > 0 && path[pl - 1] == '/')
    pl--;
  return xasprintf ("%s%.*s", m->point, (int) pl, path);
}

static void
mounts_scan (const char *mountinfo, struct mount m[CGDIRS_N])
{
  for (const char *p = mountinfo; p && *p;)
    {
      const char *nl = strchr (p, '\n');
      size_t len = nl ? (size_t) (nl - p) : strlen (p);
      scan_mount_line (p, len, m);
      p += len + (nl ? 1 : 0);
    }
}

static void
mounts_free (struct mount m[CGDIRS_N])
{
  for (int c = 0; c < CGDIRS_N; c++)
    {
      free (m[c].root);
      free (m[c].point);
      m[c].root = m[c].point = NULL;
    }
}

static int
resolve (const struct mount m[CGDIRS_N], const char *proc_cgroup, struct cgdirs *out,
         struct ctrd_error **err)
{
  memset (out, 0, sizeof *out);
  for (const char *p = proc_cgroup; p && *p;)
    {
      const char *nl = strchr (p, '\n');
      size_t len = nl ? (size_t) (nl - p) : strlen (p);
      const char *c1 = memchr (p, ':', len);
      const char *c2 = c1 ? memchr (c1 + 1, ':', len - (size_t) (c1 + 1 - p)) : NULL;
      if (len > 0 && (!c2 || *(c2 + 1) != '/'))
        {
          cgdirs_clear (out);
          return ctrd_error_set (err, EINVAL, "malformed cgroup line \"%.*s\"", (int) len, p);
        }
      if (len > 0)
        {
          const char *ctrls = c1 + 1, *path = c2 + 1;
          size_t cl = (size_t) (c2 - ctrls), pl = len - (size_t) (path - p);
          bool unified = cl == 0 && c1 - p == 1 && p[0] == '0';
          for (int c = 0; c < CGDIRS_N; c++)
            {
              if (out->dir[c] || !m[c].point)
                continue;
              if (unified ? c == CGDIRS_UNIFIED
                          : (c != CGDIRS_UNIFIED && csv_has (ctrls, cl, names[c])))
                out->dir[c] = dir_for (&m[c], path, pl);
            }
        }
      p += len + (nl ? 1 : 0);
    }
  return 0;
}

int
cgdirs_parse (const char *mountinfo, const char *proc_cgroup, struct cgdirs *out,
              struct ctrd_error **err)
{
  struct mount m[CGDIRS_N] = { { NULL, NULL } };
  mounts_scan (mountinfo, m);
  int ret = resolve (m, proc_cgroup, out, err);
  mounts_free (m);
  return ret;
}

/* Read a small /proc file from the start of fd into a growing buffer. */
static int
slurp_fd (int fd, const char *path, char **out, struct ctrd_error **err)
{
  size_t cap = 8192, n = 0;
  cleanup_free char *buf = xmalloc (cap);
  for (;;)
    {
      if (cap - n < 2)
        buf = xrealloc (buf, cap *= 2);
      ssize_t r = pread (fd, buf + n, cap - n - 1, (off_t) n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return ctrd_error_set (err, errno, "read `%s`", path);
      if (r == 0)
        break;
      n += (size_t) r;
    }
  buf[n] = 0;
  *out = take_ptr (&buf);
  return 0;
}

/* The cgroup mount table of the daemon's mount namespace, parsed once and
 * again only when the kernel says it changed (poll on a mountinfo fd reports
 * POLLPRI|POLLERR after any mount or umount). A process-wide cache of kernel
 * state: reading and parsing mountinfo on every Stats call costs more than
 * all the cgroup files together on a host with many mounts. */
static struct
{
  pthread_mutex_t lock;
  int fd;
  struct mount m[CGDIRS_N];
} mount_cache = { PTHREAD_MUTEX_INITIALIZER, -1, { { NULL, NULL } } };

static int
mounts_refresh_locked (struct ctrd_error **err)
{
  bool stale = false;
  if (mount_cache.fd < 0)
    {
      mount_cache.fd = open ("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
      if (mount_cache.fd < 0)
        return ctrd_error_set (err, errno, "open `/proc/self/mountinfo`");
      stale = true;
    }
  struct pollfd p = { mount_cache.fd, POLLPRI, 0 };
  if (poll (&p, 1, 0) > 0 && (p.revents & (POLLPRI | POLLERR)))
    stale = true;
  if (!stale)
    return 0;
  cleanup_free char *text = NULL;
  if (slurp_fd (mount_cache.fd, "/proc/self/mountinfo", &text, err) < 0)
    return -1;
  mounts_free (mount_cache.m);
  mounts_scan (text, mount_cache.m);
  return 0;
}

int
cgdirs_for_pid (pid_t pid, struct cgdirs *out, struct ctrd_error **err)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/cgroup", (int) pid);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ctrd_error_set (err, errno, "open `%s`", path);
  cleanup_free char *cg = NULL;
  if (slurp_fd (fd, path, &cg, err) < 0)
    return -1;
  pthread_mutex_lock (&mount_cache.lock);
  int ret = mounts_refresh_locked (err);
  if (ret == 0)
    ret = resolve (mount_cache.m, cg, out, err);
  pthread_mutex_unlock (&mount_cache.lock);
  return ret;
}

void
cgdirs_clear (struct cgdirs *d)
{
  for (int c = 0; c < CGDIRS_N; c++)
    {
      free (d->dir[c]);
      d->dir[c] = NULL;
    }
}
