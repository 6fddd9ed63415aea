/* The pids of a container from its cgroup (State's `pids`) without forking
 * `runc ps`: cgroup.procs of the cgroup and every sub-cgroup. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/stats.h"

struct pidv
{
  uint32_t *v;
  size_t n, cap;
};

static void
procs_read (int dfd, struct pidv *p)
{
  char *text = NULL;
  if (read_file_at (dfd, "cgroup.procs", &text, NULL, 64 * 1024 * 1024, NULL) < 0)
    return;
  for (char *s = text, *e;; s = e)
    {
      unsigned long v = strtoul (s, &e, 10);
      if (e == s)
        break;
      if (p->n == p->cap)
        p->v = xrealloc (p->v, (p->cap = p->cap ? p->cap * 2 : 32) * sizeof *p->v);
      p->v[p->n++] = (uint32_t) v;
    }
  free (text);
}

/* Depth-first over sub-directories (sub-cgroups); takes ownership of dfd. */
static void
walk (int dfd, struct pidv *p, int depth)
{
  procs_read (dfd, p);
  DIR *d = depth < 32 ? fdopendir (dfd) : NULL;
  if (!d)
    {
      close (dfd);
      return;
    }
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      int sub = openat (dirfd (d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (sub >= 0)
        walk (sub, p, depth + 1);
    }
  closedir (d);
}

static int
cmp_u32 (const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
  return x < y ? -1 : x > y;
}

int
stats_pids_in_cgroup (pid_t pid, uint32_t **pids, size_t *n, struct ctrd_error **err)
{
  static const enum cgdirs_controller order[] = {
    CGDIRS_DEVICES, CGDIRS_PIDS,    CGDIRS_MEMORY, CGDIRS_CPU,
    CGDIRS_CPUACCT, CGDIRS_FREEZER, CGDIRS_BLKIO,  CGDIRS_UNIFIED,
  };
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
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    {
      int e = errno;
      ctrd_error_set (err, e, "open `%s`", dir);
      cgdirs_clear (&d);
      return -1;
    }
  cgdirs_clear (&d);
  struct pidv p = { NULL, 0, 0 };
  walk (dfd, &p, 0);
  qsort (p.v, p.n, sizeof *p.v, cmp_u32);
  *pids = p.v;
  *n = p.n;
  return 0;
}
