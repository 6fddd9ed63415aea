/* runtime/oom: real cgroup v1 OOM kills (a process allocating beyond a
 * 32 MiB limit) give exactly one fn call each, cgroup removal gives none;
 * the v2 path (inotify on memory.events) against a sample file, as this
 * host's cgroup2 hierarchy has no memory controller. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/util.h"
#include "lib/tests/testutil.h"
#include "runtime/oom.h"
#include "runtime/tests/cgtest.h"

struct exit_info
{
  bool done;
  int code, status;
};

static void
on_oom (void *data)
{
  (*(int *) data)++;
}

static int
on_child (sd_event_source *s UNUSED, const siginfo_t *si, void *data)
{
  struct exit_info *e = data;
  e->done = true;
  e->code = si->si_code;
  e->status = si->si_status;
  return 0;
}

/* A child that waits for a byte on *go, then allocates until killed. */
static pid_t
hog_start (int *go, bool allocate)
{
  int p[2];
  assert_int_equal (pipe (p), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      char c;
      close (p[1]);
      if (read (p[0], &c, 1) != 1)
        _exit (2);
      for (int i = 0; allocate && i < 2048; i++)
        {
          char *m = malloc (1 << 20);
          if (!m)
            _exit (3);
          memset (m, i, 1 << 20);
        }
      _exit (0);
    }
  close (p[0]);
  *go = p[1];
  return pid;
}

/* Run the loop until cond is true; each iteration bounded by 10 s (a stuck
 * test fails instead of hanging). */
#define RUN_UNTIL(loop, cond)                                                                      \
  do                                                                                               \
    {                                                                                              \
      while (!(cond))                                                                              \
        {                                                                                          \
          int r_ = sd_event_run ((loop), 10 * 1000000ULL);                                         \
          assert_true (r_ > 0);                                                                    \
        }                                                                                          \
    }                                                                                              \
  while (0)

static void
run_hog (sd_event *loop, struct cgtest *cg, bool allocate, struct exit_info *e)
{
  int go;
  pid_t pid = hog_start (&go, allocate);
  assert_true (cgtest_add (cg, pid));
  sd_event_source *cs = NULL;
  memset (e, 0, sizeof *e);
  assert_true (sd_event_add_child (loop, &cs, pid, WEXITED, on_child, e) >= 0);
  assert_int_equal (write (go, "g", 1), 1);
  close (go);
  RUN_UNTIL (loop, e->done);
  sd_event_source_unref (cs);
}

static bool
real_cgroups_usable (void)
{
  return geteuid () == 0 && access ("/sys/fs/cgroup/memory/cgroup.event_control", F_OK) == 0;
}

static void
limit_memory (struct cgtest *cg)
{
  assert_true (cgtest_write (cg, CGDIRS_MEMORY, "memory.limit_in_bytes", "33554432"));
  /* with swap on, memsw must be limited too or the hog swaps instead */
  cgtest_write (cg, CGDIRS_MEMORY, "memory.memsw.limit_in_bytes", "33554432");
}

static void
test_oom_v1_kills (void **state UNUSED)
{
  if (!real_cgroups_usable ())
    skip ();
  char name[64];
  snprintf (name, sizeof name, "ctrd-oom-test-%d", (int) getpid ());
  struct cgtest cg;
  assert_true (cgtest_create (&cg, name));
  limit_memory (&cg);
  sd_event *loop = NULL;
  assert_true (sd_event_new (&loop) >= 0);
  int count = 0;
  struct oom_watch *w = NULL;
  struct ctrd_error *err = NULL;
  /* registered on our own pid's cgroup dirs? no: on the new cgroup */
  assert_int_equal (oom_watch_new_dirs (loop, &cg.dirs, on_oom, &count, &w, &err), 0);
  assert_true (oom_watch_active (w));

  struct exit_info e;
  run_hog (loop, &cg, true, &e);
  assert_int_equal (e.code, CLD_KILLED);
  assert_int_equal (e.status, SIGKILL);
  printf ("# fn calls seen by the loop before the exit was handled: %d\n", count);
  oom_watch_drain (w); /* as the daemon does when handling the exit */
  assert_int_equal (count, 1);

  run_hog (loop, &cg, true, &e);
  assert_int_equal (e.code, CLD_KILLED);
  oom_watch_drain (w);
  assert_int_equal (count, 2);

  /* a process that stays under the limit: no OOM */
  run_hog (loop, &cg, false, &e);
  assert_int_equal (e.code, CLD_EXITED);
  oom_watch_drain (w);
  assert_int_equal (count, 2);

  /* removal wakes the eventfd: not an OOM */
  cgtest_destroy (&cg);
  RUN_UNTIL (loop, !oom_watch_active (w));
  assert_int_equal (count, 2);
  oom_watch_free (w);
  sd_event_unref (loop);
}

/* pid-based registration and a cgroup whose only process exits normally. */
static void
test_oom_v1_removal_only (void **state UNUSED)
{
  if (!real_cgroups_usable ())
    skip ();
  char name[64];
  snprintf (name, sizeof name, "ctrd-oom-test2-%d", (int) getpid ());
  struct cgtest cg;
  assert_true (cgtest_create (&cg, name));
  limit_memory (&cg);
  sd_event *loop = NULL;
  assert_true (sd_event_new (&loop) >= 0);
  int go, count = 0;
  pid_t pid = hog_start (&go, false);
  assert_true (cgtest_add (&cg, pid));
  struct oom_watch *w = NULL;
  assert_int_equal (oom_watch_new (loop, pid, on_oom, &count, &w, NULL), 0);
  struct exit_info e = { 0 };
  sd_event_source *cs = NULL;
  assert_true (sd_event_add_child (loop, &cs, pid, WEXITED, on_child, &e) >= 0);
  assert_int_equal (write (go, "g", 1), 1);
  close (go);
  RUN_UNTIL (loop, e.done);
  sd_event_source_unref (cs);
  assert_int_equal (e.code, CLD_EXITED);
  cgtest_destroy (&cg);
  RUN_UNTIL (loop, !oom_watch_active (w));
  oom_watch_drain (w); /* no-op once inactive */
  assert_int_equal (count, 0);
  oom_watch_free (w);
  sd_event_unref (loop);
}

static int
on_pidfd (sd_event_source *s UNUSED, int fd UNUSED, uint32_t revents UNUSED, void *data)
{
  *(bool *) data = true;
  return 0;
}

/* A real runc container with a 32 MiB limit whose shell grows a string
 * until the kernel kills it: the watch is registered between `runc create`
 * and `runc start` on the init pid (as the daemon does), fn runs once; the
 * cgroup's removal by `runc delete` is no OOM. */
static void
test_oom_runc_container (void **state UNUSED)
{
  struct runc_bundle rb;
  if (!real_cgroups_usable ()
      || !runc_bundle_make (&rb, "oom", "--memory 33554432",
                            "sh -c 'x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done'"))
    skip ();
  cleanup_free char *create = xasprintf ("runc create --bundle %s --pid-file %s %s "
                                         "</dev/null >/dev/null 2>%s/create.err",
                                         rb.bundle, rb.pidfile, rb.id, rb.dir);
  cleanup_free char *start = xasprintf ("runc start %s", rb.id);
  cleanup_free char *del = xasprintf ("runc delete -f %s >/dev/null 2>&1", rb.id);
  bool ok = false;
  int count = 0;
  sd_event *loop = NULL;
  struct oom_watch *w = NULL;
  sd_event_source *ps = NULL;
  int pidfd = -1;
  assert_true (sd_event_new (&loop) >= 0);
  if (test_sh (create) != 0)
    {
      fprintf (stderr, "# runc create failed\n");
      goto out;
    }
  char *pidtext = NULL;
  if (read_file (rb.pidfile, &pidtext, NULL, 64, NULL) < 0)
    goto out;
  pid_t pid = atoi (pidtext);
  free (pidtext);
  struct ctrd_error *err = NULL;
  if (oom_watch_new (loop, pid, on_oom, &count, &w, &err) < 0)
    {
      fprintf (stderr, "# %s\n", err->msg);
      ctrd_error_free (&err);
      goto out;
    }
  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  bool dead = false;
  if (pidfd < 0 || sd_event_add_io (loop, &ps, pidfd, EPOLLIN, on_pidfd, &dead) < 0)
    goto out;
  if (test_sh (start) != 0)
    goto out;
  RUN_UNTIL (loop, dead);
  oom_watch_drain (w);
  printf ("# oom fn calls after the container's death: %d\n", count);
  if (count != 1)
    goto out;
  if (test_sh (del) != 0)
    goto out;
  RUN_UNTIL (loop, !oom_watch_active (w));
  ok = count == 1;
out:
  test_sh (del);
  sd_event_source_disable_unref (ps);
  if (pidfd >= 0)
    close (pidfd);
  oom_watch_free (w);
  sd_event_unref (loop);
  runc_bundle_remove (&rb);
  assert_true (ok);
}

static void
test_oom_errors (void **state UNUSED)
{
  sd_event *loop = NULL;
  assert_true (sd_event_new (&loop) >= 0);
  struct cgdirs none = { { NULL } };
  struct oom_watch *w = NULL;
  struct ctrd_error *err = NULL;
  assert_int_equal (oom_watch_new_dirs (loop, &none, on_oom, NULL, &w, &err), -1);
  assert_int_equal (err->status, EOPNOTSUPP);
  ctrd_error_free (&err);
  assert_int_equal (oom_watch_new (loop, 0x7ffffff0, on_oom, NULL, &w, &err), -1);
  assert_int_equal (err->status, ENOENT);
  ctrd_error_free (&err);
  /* a v2 cgroup without the memory controller (no memory.events) */
  char t[] = "/tmp/ctrd-oom-test.XXXXXX";
  assert_non_null (mkdtemp (t));
  none.dir[CGDIRS_UNIFIED] = t;
  assert_int_equal (oom_watch_new_dirs (loop, &none, on_oom, NULL, &w, &err), -1);
  assert_int_equal (err->status, EOPNOTSUPP);
  ctrd_error_free (&err);
  rmdir (t);
  oom_watch_free (NULL);
  sd_event_unref (loop);
}

static void
events_write (const char *path, int oom, int kill)
{
  char buf[128];
  int n = snprintf (buf, sizeof buf, "low 0\nhigh 0\nmax %d\noom %d\noom_kill %d\n", oom * 3, oom,
                    kill);
  assert_int_equal (write_file (path, buf, (size_t) n, 0644, NULL), 0);
}

static void
test_oom_v2_events (void **state UNUSED)
{
  char t[] = "/tmp/ctrd-oom-test.XXXXXX";
  assert_non_null (mkdtemp (t));
  cleanup_free char *ev = path_join (t, "memory.events");
  events_write (ev, 2, 1); /* kills before the watch do not count */
  sd_event *loop = NULL;
  assert_true (sd_event_new (&loop) >= 0);
  struct cgdirs d = { { NULL } };
  d.dir[CGDIRS_UNIFIED] = t;
  int count = 0;
  struct oom_watch *w = NULL;
  assert_int_equal (oom_watch_new_dirs (loop, &d, on_oom, &count, &w, NULL), 0);

  events_write (ev, 3, 1); /* "oom" before the kill: nothing yet */
  events_write (ev, 3, 2); /* the kill */
  RUN_UNTIL (loop, count == 1);
  events_write (ev, 4, 2); /* no kill */
  events_write (ev, 6, 4); /* two kills */
  RUN_UNTIL (loop, count >= 3);
  oom_watch_drain (w);
  assert_int_equal (count, 3);

  assert_int_equal (unlink (ev), 0);
  RUN_UNTIL (loop, !oom_watch_active (w));
  assert_int_equal (count, 3);
  oom_watch_free (w);
  sd_event_unref (loop);
  assert_int_equal (rm_rf (t, NULL), 0);
}

int
main (void)
{
  test_block_sigchld (); /* sd_event_add_child needs SIGCHLD blocked */
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_oom_v1_kills),       cmocka_unit_test (test_oom_v1_removal_only),
    cmocka_unit_test (test_oom_runc_container), cmocka_unit_test (test_oom_errors),
    cmocka_unit_test (test_oom_v2_events),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
