/* State's pids from held cgroup fds (state_pids.h). */
#include "supervisor/state_pids.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
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

int
state_pids_open (struct state_pids *sp, pid_t pid, struct ctrd_error **err)
{
  /* the hierarchy `runc ps` lists (and runtime/stats-pids.c reads) */
  static const enum cgdirs_controller order[] = {
    CGDIRS_DEVICES, CGDIRS_PIDS, CGDIRS_MEMORY, CGDIRS_CPU, CGDIRS_CPUACCT,
    CGDIRS_FREEZER, CGDIRS_BLKIO, CGDIRS_UNIFIED,
  };
  *sp = STATE_PIDS_CLOSED;
  struct cgdirs d;
  if (cgdirs_for_pid (pid, &d, err) < 0)
    return -1;
  const char *dir = NULL;
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
state_pids_close (struct state_pids *sp)
{
  if (sp->procsfd >= 0)
    close (sp->procsfd);
  if (sp->dirfd >= 0)
    close (sp->dirfd);
  *sp = STATE_PIDS_CLOSED;
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
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0
          || strcmp (de->d_name, "..") == 0)
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
state_pids_read (const struct state_pids *sp, struct pidvec *out)
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
