/* A container's pids from its cgroup, through held fds (cgroup-pids.h). */
#include "runtime/cgroup-pids.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/cgdirs.h"

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define MAX_DEPTH 32

/* The cgroup path of one hierarchy in a /proc/<pid>/cgroup text: the v1
 * one listing controller ctrl, or with ctrl NULL the unified one ("0::"). */
static char *
cgroup_line_path (const char *text, const char *ctrl)
{
  size_t cl = ctrl ? strlen (ctrl) : 0;
  for (const char *p = text; p && *p;)
    {
      const char *nl = strchr (p, '\n');
      size_t len = nl ? (size_t) (nl - p) : strlen (p);
      const char *c1 = memchr (p, ':', len);
      const char *c2 = c1 ? memchr (c1 + 1, ':', len - (size_t) (c1 + 1 - p)) : NULL;
      if (c2)
        {
          const char *ctrls = c1 + 1, *path = c2 + 1;
          size_t n = (size_t) (c2 - ctrls);
          bool hit = false;
          if (!ctrl)
            hit = n == 0 && c1 - p == 1 && p[0] == '0';
          else
            for (const char *w = ctrls; w < c2 && !hit;)
              {
                const char *e = memchr (w, ',', (size_t) (c2 - w));
                size_t wl = e ? (size_t) (e - w) : (size_t) (c2 - w);
                hit = wl == cl && memcmp (w, ctrl, cl) == 0;
                w += wl + 1;
              }
          if (hit)
            return xstrndup (path, len - (size_t) (path - p));
        }
      p += len + (nl ? 1 : 0);
    }
  return NULL;
}

/* In runc's hybrid layout (cgroup v1 controllers plus the cgroup2
 * hierarchy) a container has the same cgroup path in both: then its
 * cgroup2 directory holds the same processes as the devices one, and a
 * cgroup2 cgroup.procs can stay open (one read per State, where v1 needs
 * an open and a close as well: about 3 against 12-16 µs here). */
static bool
hybrid_same_path (pid_t pid)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/cgroup", (int) pid);
  cleanup_free char *text = NULL;
  if (read_file (path, &text, NULL, 64 * 1024, NULL) < 0)
    return false;
  cleanup_free char *dev = cgroup_line_path (text, "devices");
  cleanup_free char *uni = cgroup_line_path (text, NULL);
  return dev && uni && strcmp (dev, uni) == 0;
}

int
cgroup_pids_open (struct cgroup_pids *sp, pid_t pid, struct ctrd_error **err)
{
  /* the hierarchy `runc ps` lists */
  static const enum cgdirs_controller order[] = {
    CGDIRS_DEVICES, CGDIRS_PIDS,    CGDIRS_MEMORY, CGDIRS_CPU,
    CGDIRS_CPUACCT, CGDIRS_FREEZER, CGDIRS_BLKIO,  CGDIRS_UNIFIED,
  };
  *sp = CGROUP_PIDS_CLOSED;
  struct cgdirs d;
  if (cgdirs_for_pid (pid, &d, err) < 0)
    return -1;
  const char *dir = NULL;
  if (d.dir[CGDIRS_UNIFIED] && d.dir[CGDIRS_DEVICES] && hybrid_same_path (pid))
    dir = d.dir[CGDIRS_UNIFIED];
  for (size_t i = 0; !dir && i < ARRAY_SIZE (order); i++)
    dir = d.dir[order[i]];
  if (!dir)
    {
      cgdirs_clear (&d);
      return ctrd_error_set (err, ENOENT, "no cgroup hierarchy found for pid %d", (int) pid);
    }
  sp->dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sp->dirfd < 0)
    {
      int e = errno;
      ctrd_error_set (err, e, "open `%s`", dir);
      cgdirs_clear (&d);
      return -1;
    }
  cgdirs_clear (&d);
  struct statfs fs;
  if (fstatfs (sp->dirfd, &fs) == 0)
    {
      sp->cgroupfs = fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC;
      /* v2 reads the cgroup's member list afresh at every read from 0; v1
       * would serve the list it made for this open file again (pidlist
       * cache, kept while it is read at least once a second) */
      if (fs.f_type == CGROUP2_SUPER_MAGIC)
        sp->procsfd = openat (sp->dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
    }
  return 0;
}

void
cgroup_pids_close (struct cgroup_pids *sp)
{
  if (sp->procsfd >= 0)
    close (sp->procsfd);
  if (sp->dirfd >= 0)
    close (sp->dirfd);
  *sp = CGROUP_PIDS_CLOSED;
}

static void
pidvec_push (struct pidvec *p, uint32_t v)
{
  if (p->n == p->cap)
    p->v = xrealloc (p->v, (p->cap = p->cap ? p->cap * 2 : 64) * sizeof *p->v);
  p->v[p->n++] = v;
}

/* Append the decimal numbers of a cgroup.procs file, read from offset 0 in
 * chunks (a number may straddle two). */
static void
procs_append (int fd, struct pidvec *out)
{
  char buf[4096];
  off_t off = 0;
  uint64_t cur = 0;
  bool in_num = false;
  for (;;)
    {
      ssize_t r = pread (fd, buf, sizeof buf, off);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      off += r;
      /* seq_file fills the buffer up to the last whole line that fits:
       * a read this short was the end (a pid line is < 16 bytes) */
      bool last = (size_t) r < sizeof buf - 16;
      for (ssize_t i = 0; i < r; i++)
        {
          unsigned char ch = (unsigned char) buf[i];
          if (ch >= '0' && ch <= '9')
            {
              cur = cur * 10 + (ch - '0');
              in_num = true;
            }
          else if (in_num)
            {
              pidvec_push (out, (uint32_t) cur);
              cur = 0;
              in_num = false;
            }
        }
      if (last)
        break;
    }
  if (in_num)
    pidvec_push (out, (uint32_t) cur);
}

static void
procs_append_at (int dfd, struct pidvec *out)
{
  int fd = openat (dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  procs_append (fd, out);
  close (fd);
}

static bool
has_subdirs (int dfd, bool cgroupfs)
{
  struct stat st;
  return !cgroupfs || fstat (dfd, &st) < 0 || st.st_nlink > 2;
}

/* The sub-cgroups of dfd (not dfd's own procs), depth first. */
static void
walk_below (int dfd, struct pidvec *out, bool cgroupfs, int depth)
{
  if (depth >= MAX_DEPTH)
    return;
  int own = openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = own >= 0 ? fdopendir (own) : NULL;
  if (!d)
    {
      if (own >= 0)
        close (own);
      return;
    }
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      int sub = openat (dirfd (d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (sub < 0)
        continue;
      procs_append_at (sub, out);
      if (has_subdirs (sub, cgroupfs))
        walk_below (sub, out, cgroupfs, depth + 1);
      close (sub);
    }
  closedir (d);
}

static int
cmp_u32 (const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
  return x < y ? -1 : x > y;
}

void
cgroup_pids_read (const struct cgroup_pids *sp, struct pidvec *out)
{
  out->n = 0;
  if (sp->dirfd < 0)
    return;
  if (sp->procsfd >= 0)
    procs_append (sp->procsfd, out);
  else
    procs_append_at (sp->dirfd, out);
  if (has_subdirs (sp->dirfd, sp->cgroupfs))
    walk_below (sp->dirfd, out, sp->cgroupfs, 1);
  for (size_t i = 1; i < out->n; i++)
    if (out->v[i - 1] > out->v[i])
      {
        qsort (out->v, out->n, sizeof *out->v, cmp_u32);
        break;
      }
}

int
cgroup_pids_of (pid_t pid, uint32_t **pids, size_t *n, struct ctrd_error **err)
{
  struct cgroup_pids cp;
  if (cgroup_pids_open (&cp, pid, err) < 0)
    return -1;
  struct pidvec v = { NULL, 0, 0 };
  cgroup_pids_read (&cp, &v);
  cgroup_pids_close (&cp);
  *pids = v.v;
  *n = v.n;
  return 0;
}
