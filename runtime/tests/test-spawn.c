/* spawn_process's fallbacks, which this kernel never takes on its own: a
 * kernel without close_range (the child copies the fd table with unshare
 * and closes what is above its slots itself), one where both fail (the spawn fails, the
 * daemon's table untouched), and an fd limit too low for the reserved slots
 * (a clear error, nothing leaked, and a later spawn reserves them). The
 * kernel's answers are changed with a seccomp filter in a forked child, so
 * the test process itself never loses the real calls; each check runs in
 * its own child, before that child ever spawned (the slots are reserved
 * once per process). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <seccomp.h>

#include "lib/tests/testutil.h"
#include "lib/util.h"
#include "runtime/job.h"

/* Make close_range fail as on a kernel before 5.9 (ENOSYS), and with
 * also_unshare, unshare as in a sandbox that forbids it (EPERM), in this
 * process and what it execs. */
static void
deny_calls (bool also_unshare)
{
  scmp_filter_ctx f = seccomp_init (SCMP_ACT_ALLOW);
  if (f == NULL || seccomp_rule_add (f, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (close_range), 0) < 0
      || (also_unshare && seccomp_rule_add (f, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (unshare), 0) < 0)
      || seccomp_load (f) < 0)
    {
      fprintf (stderr, "seccomp set-up failed\n");
      _exit (99);
    }
  seccomp_release (f);
}

/* Run fn in a child; its exit status (0: every check in it held). */
static int
in_child (int (*fn) (void))
{
  fflush (NULL);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    _exit (fn ());
  int st;
  assert_int_equal (waitpid (pid, &st, 0), pid);
  return WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
}

#define CHECK(cond)                                                                                \
  do                                                                                               \
    {                                                                                              \
      if (!(cond))                                                                                 \
        {                                                                                          \
          fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                \
          return 1;                                                                                \
        }                                                                                          \
    }                                                                                              \
  while (0)

/* fd 1 of this process, to see that a spawn never replaced it */
static bool
same_file (int fd, const struct stat *want)
{
  struct stat st;
  return fstat (fd, &st) == 0 && st.st_dev == want->st_dev && st.st_ino == want->st_ino;
}

/* ls /proc/self/fd in a child spawned with stdout on a pipe: its output */
static int
spawn_ls (char *out, size_t cap, struct ctrd_error **err)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return -1;
  char *argv[] = { "ls", "/proc/self/fd", NULL };
  struct spawn_opts o = { .stdin_fd = -1, .stdout_fd = p[1], .stderr_fd = -1, .pass_fd = -1 };
  pid_t pid;
  int r = spawn_process (argv, &o, &pid, err);
  close (p[1]);
  size_t n = 0;
  ssize_t k;
  while (r == 0 && n + 1 < cap && (k = read (p[0], out + n, cap - 1 - n)) > 0)
    n += (size_t) k;
  out[n] = '\0';
  close (p[0]);
  if (r == 0)
    waitpid (pid, NULL, 0);
  return r;
}

static int
unshare_fallback (void)
{
  struct stat out1;
  CHECK (fstat (1, &out1) == 0);
  /* a close-on-exec fd high up, as the daemon's own are, and one without
   * the flag, as a daemon can inherit from whoever started it (make and
   * the shell leave some in this test too) */
  int high = fcntl (1, F_DUPFD_CLOEXEC, 200);
  CHECK (high >= 200);
  int inherited = fcntl (1, F_DUPFD, 300);
  CHECK (inherited >= 300);
  deny_calls (false);
  CHECK (syscall (SYS_close_range, 500, 600, 0) == -1 && errno == ENOSYS);
  char out[256];
  struct ctrd_error *err = NULL;
  CHECK (spawn_ls (out, sizeof out, &err) == 0);
  /* ls's own: its stdio and the directory it reads; nothing of ours */
  if (strcmp (out, "0\n1\n2\n3\n") != 0)
    fprintf (stderr, "ls /proc/self/fd in the child: %s\n", out);
  CHECK (strcmp (out, "0\n1\n2\n3\n") == 0);
  CHECK (same_file (1, &out1));
  return 0;
}

static void
test_unshare_fallback (void **state UNUSED)
{
  assert_int_equal (in_child (unshare_fallback), 0);
}

static int
no_own_table (void)
{
  struct stat out1;
  CHECK (fstat (1, &out1) == 0);
  deny_calls (true);
  char out[256];
  struct ctrd_error *err = NULL;
  CHECK (spawn_ls (out, sizeof out, &err) == -1);
  CHECK (err && strstr (err->msg, "exec ls") && err->status == EPERM);
  ctrd_error_free (&err);
  /* the daemon's stdio untouched: the child failed before any dup2 */
  CHECK (same_file (1, &out1));
  return 0;
}

static void
test_no_own_table (void **state UNUSED)
{
  assert_int_equal (in_child (no_own_table), 0);
}

static int
reserve_fails (void)
{
  int before = test_count_fds ();
  struct rlimit rl;
  CHECK (getrlimit (RLIMIT_NOFILE, &rl) == 0);
  /* room for spawn_ls's pipe and /dev/null, not for the four slots */
  int lowest = fcntl (0, F_DUPFD, 0);
  CHECK (lowest >= 0);
  close (lowest);
  struct rlimit low = { .rlim_cur = (rlim_t) lowest + 3, .rlim_max = rl.rlim_max };
  CHECK (setrlimit (RLIMIT_NOFILE, &low) == 0);
  char out[256];
  struct ctrd_error *err = NULL;
  CHECK (spawn_ls (out, sizeof out, &err) == -1);
  CHECK (err && strstr (err->msg, "reserving fds for spawning") && err->status == EMFILE);
  ctrd_error_free (&err);
  CHECK (test_count_fds () == before);
  /* with room again, the next spawn reserves them and works */
  CHECK (setrlimit (RLIMIT_NOFILE, &rl) == 0);
  CHECK (spawn_ls (out, sizeof out, &err) == 0);
  if (strcmp (out, "0\n1\n2\n3\n") != 0)
    fprintf (stderr, "ls /proc/self/fd in the child: %s\n", out);
  CHECK (strcmp (out, "0\n1\n2\n3\n") == 0);
  return 0;
}

static void
test_reserve_fails (void **state UNUSED)
{
  assert_int_equal (in_child (reserve_fails), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_unshare_fallback),
    cmocka_unit_test (test_no_own_table),
    cmocka_unit_test (test_reserve_fails),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
