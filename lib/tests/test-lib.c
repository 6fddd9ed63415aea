/* Unit tests for lib/: IDs, time formats, durations, files, errors. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/error.h"
#include "lib/id.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "lib/tests/testutil.h"

static void
test_id_valid (void **state UNUSED)
{
  const char *ok[] = { "c1", "redis", "a.b_c-d", "0123456789abcdef", "x..y" };
  for (size_t i = 0; i < ARRAY_SIZE (ok); i++)
    assert_int_equal (id_validate (ok[i], "container id", NULL), 0);
}

static void
test_id_hostile (void **state UNUSED)
{
  char longid[CTRD_ID_MAX + 2];
  memset (longid, 'a', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  const char *bad[] = { "",          ".",       "..",  "../x",  "a/b",     "/abs", "a\nb",
                        "tab\there", "del\x7f", "-rf", ".lock", ".hidden", longid };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      struct ctrd_error *err = NULL;
      assert_int_equal (id_validate (bad[i], "container id", &err), -1);
      assert_non_null (err);
      assert_int_equal (ctrd_error_code (err), GRPC_INVALID_ARGUMENT);
      assert_non_null (strstr (err->msg, "container id"));
      ctrd_error_free (&err);
    }
  assert_int_equal (id_validate (NULL, "process id", NULL), -1);
  /* exactly the limit is fine */
  longid[CTRD_ID_MAX] = '\0';
  assert_int_equal (id_validate (longid, "container id", NULL), 0);
}

static void
test_error_codes (void **state UNUSED)
{
  struct ctrd_error *err = NULL;
  assert_int_equal (ctrd_error_set (&err, EEXIST, "mkdir %s", "/x"), -1);
  assert_string_equal (err->msg, "mkdir /x: File exists");
  assert_int_equal (ctrd_error_code (err), GRPC_ALREADY_EXISTS);
  ctrd_error_wrap (&err, "create %s", "c1");
  assert_string_equal (err->msg, "create c1: mkdir /x: File exists");
  ctrd_error_free (&err);
  assert_null (err);
  ctrd_error_set (&err, ENOENT, "x");
  assert_int_equal (ctrd_error_code (err), GRPC_NOT_FOUND);
  ctrd_error_set (&err, EPERM, "x");
  assert_int_equal (ctrd_error_code (err), GRPC_PERMISSION_DENIED);
  ctrd_error_set (&err, EIO, "x");
  assert_int_equal (ctrd_error_code (err), GRPC_UNKNOWN);
  ctrd_error_set (&err, EMFILE, "x");
  assert_int_equal (ctrd_error_code (err), GRPC_RESOURCE_EXHAUSTED);
  ctrd_error_set (&err, ENFILE, "x");
  assert_int_equal (ctrd_error_code (err), GRPC_RESOURCE_EXHAUSTED);
  ctrd_error_grpc (&err, GRPC_FAILED_PRECONDITION, "container %s is stopped", "c1");
  assert_int_equal (ctrd_error_code (err), GRPC_FAILED_PRECONDITION);
  assert_string_equal (err->msg, "container c1 is stopped");
  ctrd_error_free (&err);
  assert_int_equal (ctrd_error_code (NULL), GRPC_OK);
}

static void
test_rfc3339 (void **state UNUSED)
{
  char buf[64];
  int64_t ns = 1496160783LL * NSEC_PER_SEC + 123456789;
  time_format_rfc3339_nano (ns, true, buf, sizeof buf);
  assert_string_equal (buf, "2017-05-30T16:13:03.123456789Z");
  time_format_rfc3339_nano (1496160783LL * NSEC_PER_SEC + 500000000, true, buf, sizeof buf);
  assert_string_equal (buf, "2017-05-30T16:13:03.5Z");
  time_format_rfc3339_nano (1496160783LL * NSEC_PER_SEC, true, buf, sizeof buf);
  assert_string_equal (buf, "2017-05-30T16:13:03Z");

  int64_t bs;
  int32_t bn;
  assert_int_equal (time_parse_rfc3339 ("2017-05-30T16:13:03.123456789Z", &bs, &bn), 0);
  assert_true (bs == 1496160783LL && bn == 123456789);
  assert_int_equal (time_parse_rfc3339 ("2017-05-30T09:13:03.123456789-07:00", &bs, &bn), 0);
  assert_true (bs == 1496160783LL && bn == 123456789);
  assert_int_equal (time_parse_rfc3339 ("2017-05-30T16:13:03.5Z", &bs, &bn), 0);
  assert_true (bs == 1496160783LL && bn == 500000000);
  assert_int_equal (time_parse_rfc3339 ("0001-01-01T00:00:00Z", &bs, &bn), 0);
  assert_true (bs == -62135596800LL && bn == 0);
  assert_int_equal (time_parse_rfc3339 ("2017-05-30 16:13:03Z", &bs, &bn), -1);
  assert_int_equal (time_parse_rfc3339 ("2017-05-30T16:13:03", &bs, &bn), -1);
  assert_int_equal (time_parse_rfc3339 ("garbage", &bs, &bn), -1);
  assert_int_equal (time_parse_rfc3339 ("2017-05-30T16:13:03.Z", &bs, &bn), -1);

  int64_t s;
  int32_t n;
  time_to_timestamp (-1, &s, &n);
  assert_true (s == -1 && n == 999999999);
}

static void
test_duration (void **state UNUSED)
{
  int64_t ns;
  struct
  {
    const char *s;
    int64_t v;
  } ok[] = {
    { "0", 0 },
    { "300ms", 300 * NSEC_PER_MSEC },
    { "30s", 30 * NSEC_PER_SEC },
    { "2m", 120 * NSEC_PER_SEC },
    { "1h30m", 5400 * NSEC_PER_SEC },
    { "5m0s", 300 * NSEC_PER_SEC },
    { "1.5s", 1500 * NSEC_PER_MSEC },
    { "10us", 10 * NSEC_PER_USEC },
    { "-2m", -120 * NSEC_PER_SEC },
  };
  for (size_t i = 0; i < ARRAY_SIZE (ok); i++)
    {
      assert_int_equal (duration_parse (ok[i].s, &ns), 0);
      assert_true (ns == ok[i].v);
    }
  const char *bad[] = { "", "5", "s", "1x", "--1s", "1s ", "abc" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    assert_int_equal (duration_parse (bad[i], &ns), -1);

  char buf[32];
  duration_format (300 * NSEC_PER_SEC, buf, sizeof buf);
  assert_string_equal (buf, "5m0s");
  duration_format (30 * NSEC_PER_SEC, buf, sizeof buf);
  assert_string_equal (buf, "30s");
  duration_format (0, buf, sizeof buf);
  assert_string_equal (buf, "0s");
  duration_format (1500 * NSEC_PER_MSEC, buf, sizeof buf);
  assert_string_equal (buf, "1.5s");
  duration_format (300 * NSEC_PER_MSEC, buf, sizeof buf);
  assert_string_equal (buf, "300ms");
  duration_format (5400 * NSEC_PER_SEC, buf, sizeof buf);
  assert_string_equal (buf, "1h30m0s");
}

/* One holder per directory: a second open of the lock (another open file
 * description, as another daemon would have) fails at once, naming the dir
 * and the holder's pid; a child process sees the same; closing frees it. */
static void
test_lockfile (void **state UNUSED)
{
  char dir[] = "/tmp/ctrd-lock-XXXXXX";
  assert_non_null (mkdtemp (dir));
  pid_t holder = -1;
  struct ctrd_error *err = NULL;
  int fd = lockfile_acquire (dir, ".lock", &holder, &err);
  assert_true (fd >= 0);
  assert_null (err);
  assert_int_equal (holder, 0);
  assert_true (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  char *path = path_join (dir, ".lock"), *text = NULL;
  size_t len;
  assert_int_equal (read_file (path, &text, &len, 64, NULL), 0);
  char want[32];
  snprintf (want, sizeof want, "%ld\n", (long) getpid ());
  assert_string_equal (text, want);
  free (text);

  assert_int_equal (lockfile_acquire (dir, ".lock", &holder, &err), -1);
  assert_int_equal (errno, EWOULDBLOCK);
  assert_int_equal (holder, getpid ());
  assert_non_null (err);
  assert_non_null (strstr (err->msg, dir));
  char pidtext[32];
  snprintf (pidtext, sizeof pidtext, "pid %ld", (long) getpid ());
  assert_non_null (strstr (err->msg, pidtext));
  ctrd_error_free (&err);

  pid_t c = fork ();
  assert_true (c >= 0);
  if (c == 0)
    {
      pid_t h = 0;
      _exit (lockfile_acquire (dir, ".lock", &h, NULL) == -1 && h == getppid () ? 0 : 1);
    }
  int st;
  assert_int_equal (waitpid (c, &st, 0), c);
  assert_true (WIFEXITED (st) && WEXITSTATUS (st) == 0);

  close (fd);
  fd = lockfile_acquire (dir, ".lock", &holder, &err);
  assert_true (fd >= 0);
  close (fd);
  unlink (path);
  free (path);
  rmdir (dir);
}

/* A runtime's logrus lines give their messages, error lines first. */
static void
test_log_text_messages (void **state UNUSED)
{
  struct
  {
    const char *in, *want;
  } cases[] = {
    { "time=\"2026-12-02T14:27:29Z\" level=error msg=\"container does not exist\"\n",
      "container does not exist" },
    { "time=\"t\" level=warning msg=\"kernel memory is ignored\"\n"
      "time=\"t\" level=error msg=\"failed to write \\\"999\\\": write cpuset.cpus: invalid "
      "argument\"\n",
      "failed to write \"999\": write cpuset.cpus: invalid argument" },
    { "time=\"t\" level=warning msg=\"only a warning\"\n", "only a warning" },
    { "time=\"t\" level=error msg=unquoted\n", "unquoted" },
    { "error: plain crun text\n\n", "error: plain crun text" },
    { "time=\"t\" level=error msg=\"a\"\ntime=\"t\" level=fatal msg=\"b\"\n", "a; b" },
    { "", "" },
    { "  \n\n", "" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char *got = log_text_messages (cases[i].in);
      assert_string_equal (got, cases[i].want);
      free (got);
    }
}

static void
test_files (void **state UNUSED)
{
  char tmpl[] = "/tmp/ctrd-test-lib-XXXXXX";
  assert_non_null (mkdtemp (tmpl));
  cleanup_free char *p = path_join (tmpl, "a/b/c");
  assert_int_equal (mkdir_p (p, 0755, NULL), 0);
  assert_int_equal (mkdir_p (p, 0755, NULL), 0);
  cleanup_free char *f = path_join (p, "state.json");
  assert_int_equal (write_file_atomic (f, "{\"x\":1}\n", 8, 0644, NULL), 0);
  assert_int_equal (write_file_atomic (f, "{}\n", 3, 0644, NULL), 0);
  char *data = NULL;
  size_t len = 0;
  assert_int_equal (read_file (f, &data, &len, 1 << 20, NULL), 0);
  assert_int_equal (len, 3);
  assert_string_equal (data, "{}\n");
  free (data);
  /* no temporary file is left beside it */
  cleanup_free char *tmp = xasprintf ("%s.tmp.%d", f, (int) getpid ());
  assert_int_equal (access (tmp, F_OK), -1);
  /* size limit */
  struct ctrd_error *err = NULL;
  assert_int_equal (read_file (f, &data, &len, 2, &err), -1);
  assert_int_equal (err->status, EFBIG);
  ctrd_error_free (&err);
  /* missing file names the path */
  assert_int_equal (read_file ("/nonexistent/x", &data, &len, 10, &err), -1);
  assert_non_null (strstr (err->msg, "/nonexistent/x"));
  assert_int_equal (ctrd_error_code (err), GRPC_NOT_FOUND);
  ctrd_error_free (&err);
  /* fifo */
  cleanup_free char *fifo = path_join (p, "exit");
  assert_int_equal (mkfifo_ok (fifo, 0700, NULL), 0);
  assert_int_equal (mkfifo_ok (fifo, 0700, NULL), 0);
  assert_int_equal (mkfifo_ok (f, 0700, NULL), -1);
  /* rm -rf does not follow a symlink out of the tree */
  cleanup_free char *outside = path_join (tmpl, "outside");
  assert_int_equal (mkdir_p (outside, 0755, NULL), 0);
  cleanup_free char *keep = path_join (outside, "keep");
  assert_int_equal (write_file (keep, "k", 1, 0644, NULL), 0);
  cleanup_free char *link = path_join (p, "link");
  assert_int_equal (symlink (outside, link), 0);
  cleanup_free char *top = path_join (tmpl, "a");
  assert_int_equal (rm_rf (top, NULL), 0);
  assert_int_equal (access (top, F_OK), -1);
  assert_int_equal (access (keep, F_OK), 0);
  assert_int_equal (rm_rf (top, NULL), 0); /* missing is fine */
  assert_int_equal (rm_rf (tmpl, NULL), 0);
  assert_int_equal (access (tmpl, F_OK), -1);
}

/* rm -rf never goes into a mount: a bind mount of somebody's files inside
 * the tree (a dead `runc restore` leaves the rootfs bind-mounted under
 * runc's state dir) keeps every file; the call fails with EXDEV. A bind
 * mount of the same filesystem has the same st_dev: the mount id tells. */
static void
test_rm_rf_mount (void **state UNUSED)
{
  char tmpl[] = "/tmp/ctrd-rmrf-XXXXXX";
  assert_non_null (mkdtemp (tmpl));
  cleanup_free char *user = path_join (tmpl, "user");
  cleanup_free char *file = path_join (user, "precious");
  cleanup_free char *tree = path_join (tmpl, "tree");
  cleanup_free char *mp = path_join (tree, "sub/criu-root");
  assert_int_equal (mkdir_p (user, 0755, NULL), 0);
  assert_int_equal (write_file (file, "p", 1, 0644, NULL), 0);
  assert_int_equal (mkdir_p (mp, 0755, NULL), 0);
  if (mount (user, mp, NULL, MS_BIND, NULL) < 0)
    {
      /* not root: nothing to check here (CI runs as root) */
      rm_rf (tmpl, NULL);
      skip ();
    }
  struct ctrd_error *err = NULL;
  assert_int_equal (rm_rf (tree, &err), -1);
  assert_int_equal (err->status, EXDEV);
  assert_non_null (strstr (err->msg, "mount point"));
  ctrd_error_free (&err);
  assert_int_equal (access (file, F_OK), 0);
  assert_int_equal (umount2 (mp, MNT_DETACH), 0);
  assert_int_equal (rm_rf (tree, NULL), 0);
  assert_int_equal (access (tree, F_OK), -1);
  assert_int_equal (access (file, F_OK), 0);
  assert_int_equal (rm_rf (tmpl, NULL), 0);
}

static void
test_parse_ints (void **state UNUSED)
{
  long long v;
  unsigned long long u;
  assert_int_equal (parse_int64 ("1234", &v, false), 0);
  assert_true (v == 1234);
  assert_int_equal (parse_int64 ("1234\n", &v, false), -1);
  assert_int_equal (parse_int64 ("-5", &v, false), -1);
  assert_int_equal (parse_int64 ("-5", &v, true), 0);
  assert_int_equal (parse_int64 ("", &v, true), -1);
  assert_int_equal (parse_uint64 ("18446744073709551615", &u), 0);
  assert_true (u == 18446744073709551615ULL);
  assert_int_equal (parse_uint64 ("18446744073709551616", &u), -1);
  assert_int_equal (parse_uint64 ("-1", &u), -1);
}

static void
test_strv (void **state UNUSED)
{
  cleanup_strv char **v = NULL;
  assert_int_equal (strv_len (v), 0);
  strv_push (&v, "a");
  strv_push (&v, "b");
  assert_int_equal (strv_len (v), 2);
  cleanup_strv char **d = strv_dup (v);
  assert_string_equal (d[1], "b");
  assert_null (d[2]);
}

/* cleanup_file / cleanup_dir close at the end of the scope, accept NULL and
 * keep errno. */
static void
test_cleanup_file_dir (void **state UNUSED)
{
  int ffd, dfd;
  {
    cleanup_file FILE *f = fopen ("/proc/self/status", "re");
    cleanup_dir DIR *d = opendir ("/proc/self/fd");
    cleanup_file FILE *no_file = NULL;
    cleanup_dir DIR *no_dir = NULL;
    assert_non_null (f);
    assert_non_null (d);
    assert_null (no_file);
    assert_null (no_dir);
    ffd = fileno (f);
    dfd = dirfd (d);
    assert_true (fcntl (ffd, F_GETFD) >= 0);
    assert_true (fcntl (dfd, F_GETFD) >= 0);
    errno = EXDEV;
  }
  assert_int_equal (errno, EXDEV);
  assert_int_equal (fcntl (ffd, F_GETFD), -1);
  assert_int_equal (errno, EBADF);
  assert_int_equal (fcntl (dfd, F_GETFD), -1);
  assert_int_equal (errno, EBADF);
}

static char last_cid[64], last_pid[64], last_msg[128];
static int sink_calls;

static void
proc_sink (enum log_level level UNUSED, const char *cid, const char *pid, const char *msg)
{
  sink_calls++;
  snprintf (last_cid, sizeof last_cid, "%s", cid ? cid : "(null)");
  snprintf (last_pid, sizeof last_pid, "%s", pid ? pid : "(null)");
  snprintf (last_msg, sizeof last_msg, "%s", msg);
}

static void
test_log_sink_proc (void **state UNUSED)
{
  log_set_level (LOG_LVL_INFO);
  log_set_sink_proc (proc_sink);
  log_msg_proc (LOG_LVL_WARN, "c1", "init", "exit %d", 3);
  assert_int_equal (sink_calls, 1);
  assert_string_equal (last_cid, "c1");
  assert_string_equal (last_pid, "init");
  assert_string_equal (last_msg, "exit 3");
  log_msg (LOG_LVL_ERROR, "c2", "plain");
  assert_int_equal (sink_calls, 2);
  assert_string_equal (last_cid, "c2");
  assert_string_equal (last_pid, "(null)");
  log_msg_proc (LOG_LVL_DEBUG, "c3", "p", "filtered");
  assert_int_equal (sink_calls, 2);
  log_set_sink_proc (NULL);
}

static void
test_find_executable (void **state)
{
  (void) state;
  char dir[] = "/tmp/ctrd-findexe-XXXXXX";
  assert_non_null (mkdtemp (dir));
  char *exe = xasprintf ("%s/b/tool", dir), *plain = xasprintf ("%s/a/tool", dir);
  char *sub = xasprintf ("%s/a", dir), *sub2 = xasprintf ("%s/b", dir);
  assert_int_equal (mkdir (sub, 0755), 0);
  assert_int_equal (mkdir (sub2, 0755), 0);
  assert_int_equal (write_file (plain, "x", 1, 0644, NULL), 0); /* not executable */
  assert_int_equal (write_file (exe, "x", 1, 0755, NULL), 0);
  char *old = getenv ("PATH") ? xstrdup (getenv ("PATH")) : NULL;
  char *path = xasprintf ("/nonexistent:%s:%s", sub, sub2);
  setenv ("PATH", path, 1);
  char *r = find_executable ("tool");
  assert_non_null (r);
  assert_string_equal (r, exe); /* skips the non-executable one */
  free (r);
  errno = 0;
  assert_null (find_executable ("no-such-tool-here"));
  assert_int_equal (errno, ENOENT);
  setenv ("PATH", sub, 1);
  errno = 0;
  assert_null (find_executable ("tool")); /* root: access(X_OK) needs an x bit */
  assert_int_equal (errno, EACCES);
  r = find_executable ("./relative/x"); /* a slash: used as given */
  assert_string_equal (r, "./relative/x");
  free (r);
  assert_null (find_executable (""));
  if (old)
    setenv ("PATH", old, 1);
  free (old);
  free (path);
  rm_rf (dir, NULL);
  free (exe);
  free (plain);
  free (sub);
  free (sub2);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_id_valid),
    cmocka_unit_test (test_id_hostile),
    cmocka_unit_test (test_error_codes),
    cmocka_unit_test (test_rfc3339),
    cmocka_unit_test (test_duration),
    cmocka_unit_test (test_files),
    cmocka_unit_test (test_lockfile),
    cmocka_unit_test (test_rm_rf_mount),
    cmocka_unit_test (test_log_text_messages),
    cmocka_unit_test (test_parse_ints),
    cmocka_unit_test (test_strv),
    cmocka_unit_test (test_cleanup_file_dir),
    cmocka_unit_test (test_log_sink_proc),
    cmocka_unit_test (test_find_executable),
  };
  return cmocka_run_group_tests_name ("lib", tests, NULL, NULL);
}
