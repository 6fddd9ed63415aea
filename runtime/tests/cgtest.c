/* Test cgroups: see cgtest.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/tests/testutil.h"
#include "lib/util.h"
#include "runtime/tests/cgtest.h"

static const enum cgdirs_controller used[] = {
  CGDIRS_CPU,     CGDIRS_CPUACCT, CGDIRS_MEMORY,  CGDIRS_BLKIO,
  CGDIRS_HUGETLB, CGDIRS_PIDS,    CGDIRS_DEVICES, CGDIRS_UNIFIED,
};

bool
cgtest_create (struct cgtest *cg, const char *name)
{
  struct cgdirs own;
  memset (cg, 0, sizeof *cg);
  if (cgdirs_for_pid (getpid (), &own, NULL) < 0)
    return false;
  bool ok = true;
  for (size_t i = 0; i < ARRAY_SIZE (used); i++)
    {
      enum cgdirs_controller c = used[i];
      if (!own.dir[c]
          || (c == CGDIRS_CPUACCT && cg->dirs.dir[CGDIRS_CPU]
              && strcmp (own.dir[c], own.dir[CGDIRS_CPU]) == 0))
        continue;
      char *d = path_join (own.dir[c], name);
      if (mkdir (d, 0755) < 0 && errno != EEXIST)
        {
          if (c == CGDIRS_UNIFIED)
            {
              /* the cgroup2 hierarchy is optional (read-only on some hosts) */
              free (d);
              continue;
            }
          fprintf (stderr, "# mkdir %s: %s\n", d, strerror (errno));
          free (d);
          ok = false;
          continue;
        }
      cg->dirs.dir[c] = d;
    }
  /* co-mounted cpu,cpuacct: the same directory serves both */
  if (!cg->dirs.dir[CGDIRS_CPUACCT] && own.dir[CGDIRS_CPUACCT] && cg->dirs.dir[CGDIRS_CPU])
    cg->dirs.dir[CGDIRS_CPUACCT] = xstrdup (cg->dirs.dir[CGDIRS_CPU]);
  cgdirs_clear (&own);
  return ok;
}

bool
cgtest_write (struct cgtest *cg, enum cgdirs_controller c, const char *file, const char *value)
{
  if (!cg->dirs.dir[c])
    return false;
  char *p = path_join (cg->dirs.dir[c], file);
  int fd = open (p, O_WRONLY | O_CLOEXEC);
  free (p);
  if (fd < 0)
    return false;
  bool ok = write (fd, value, strlen (value)) == (ssize_t) strlen (value);
  close (fd);
  return ok;
}

bool
cgtest_add (struct cgtest *cg, pid_t pid)
{
  char v[32];
  snprintf (v, sizeof v, "%d", (int) pid);
  bool ok = true;
  for (size_t i = 0; i < ARRAY_SIZE (used); i++)
    if (cg->dirs.dir[used[i]] && !cgtest_write (cg, used[i], "cgroup.procs", v))
      {
        if (used[i] == CGDIRS_UNIFIED)
          {
            /* optional: read as absent from then on */
            rmdir (cg->dirs.dir[used[i]]);
            free (cg->dirs.dir[used[i]]);
            cg->dirs.dir[used[i]] = NULL;
            continue;
          }
        fprintf (stderr, "# cannot move %d into %s: %s\n", (int) pid, cg->dirs.dir[used[i]],
                 strerror (errno));
        ok = false;
      }
  return ok;
}

void
cgtest_destroy (struct cgtest *cg)
{
  for (size_t i = 0; i < ARRAY_SIZE (used); i++)
    {
      const char *d = cg->dirs.dir[used[i]];
      if (d && rmdir (d) < 0 && errno != ENOENT)
        fprintf (stderr, "# rmdir %s: %s\n", d, strerror (errno));
    }
  cgdirs_clear (&cg->dirs);
}

bool
runc_bundle_make (struct runc_bundle *rb, const char *name, const char *opts, const char *cmd)
{
  memset (rb, 0, sizeof *rb);
  const char *src = getenv ("CTRD_TOP_SRCDIR");
  if (!src || test_sh ("command -v runc >/dev/null 2>&1") != 0)
    return false;
  cleanup_free char *tmpname = xasprintf ("%s-runc", name);
  rb->dir = test_tmpdir (tmpname);
  snprintf (rb->id, sizeof rb->id, "ctrd-%s-test-%d", name, (int) getpid ());
  rb->bundle = path_join (rb->dir, "bundle");
  rb->pidfile = path_join (rb->dir, "pid");
  cleanup_free char *mk =
      xasprintf ("%s/tests/make-bundle.sh %s %s %s >/dev/null 2>&1", src, opts, rb->bundle, cmd);
  if (test_sh (mk) != 0)
    {
      runc_bundle_remove (rb);
      return false;
    }
  return true;
}

void
runc_bundle_remove (struct runc_bundle *rb)
{
  if (rb->dir)
    rm_rf (rb->dir, NULL);
  free (rb->dir);
  free (rb->bundle);
  free (rb->pidfile);
  memset (rb, 0, sizeof *rb);
}
