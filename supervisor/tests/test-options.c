/* Unit tests for supervisor/options: the daemon's flags (docs/daemon.md §1). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/tests/testutil.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "supervisor/options.h"

/* Run daemon_options_parse with stdout and stderr captured into out and errout. */
static int
parse_capture (struct daemon_options *o, char **out, char **errout, ...)
{
  char *argv[32];
  va_list ap;
  va_start (ap, errout);
  int argc = test_argv (argv, ARRAY_SIZE (argv), "containerd", ap);
  va_end (ap);

  FILE *fo = tmpfile (), *fe = tmpfile ();
  assert_non_null (fo);
  assert_non_null (fe);
  fflush (stdout);
  fflush (stderr);
  int so = dup (1), se = dup (2);
  dup2 (fileno (fo), 1);
  dup2 (fileno (fe), 2);
  int r = daemon_options_parse (argc, argv, o);
  fflush (stdout);
  fflush (stderr);
  dup2 (so, 1);
  dup2 (se, 2);
  close (so);
  close (se);
  FILE *fs[2] = { fo, fe };
  char **dst[2] = { out, errout };
  for (int i = 0; i < 2; i++)
    {
      long n = ftell (fs[i]);
      *dst[i] = xmalloc0 ((size_t) n + 1);
      rewind (fs[i]);
      assert_int_equal (fread (*dst[i], 1, (size_t) n, fs[i]), (size_t) n);
      fclose (fs[i]);
    }
  return r;
}

static void
test_defaults (void **state UNUSED)
{
  struct daemon_options o;
  char *out, *err;
  assert_int_equal (parse_capture (&o, &out, &err, NULL), 0);
  assert_string_equal (out, "");
  assert_false (o.debug);
  assert_string_equal (o.log_level, "");
  assert_string_equal (o.state_dir, "/run/containerd");
  assert_true (o.metrics_interval_ns == 300 * NSEC_PER_SEC);
  assert_string_equal (o.listen, "unix:///run/containerd/containerd.sock");
  assert_string_equal (o.runtime, "runc");
  assert_null (o.runtime_args);
  assert_string_equal (o.shim, "containerd-shim");
  assert_string_equal (o.pprof_address, "");
  assert_true (o.start_timeout_ns == 30 * NSEC_PER_SEC);
  assert_int_equal (o.retain_count, 500);
  assert_string_equal (o.graphite_address, "");
  assert_int_equal (o.max_connections, 256);
  assert_int_equal (o.max_concurrent_streams, 1024);
  assert_int_equal (o.events_queue_bytes, 262144);
  assert_int_equal (daemon_options_log_level (&o), LOG_LVL_INFO);
  daemon_options_free (&o);
  free (out);
  free (err);
}

/* Docker's command line (docs/daemon.md §1). */
static void
test_docker_cmdline (void **state UNUSED)
{
  struct daemon_options o;
  char *out, *err;
  assert_int_equal (parse_capture (&o, &out, &err, "-l",
                                   "unix:///var/run/docker/libcontainerd/docker-containerd.sock",
                                   "--metrics-interval=0", "--start-timeout", "2m", "--state-dir",
                                   "/var/run/docker/libcontainerd/containerd", "--shim",
                                   "docker-containerd-shim", "--runtime", "docker-runc", "--debug",
                                   "--runtime-args", "--systemd-cgroup=true", "--runtime-args",
                                   "--debug", "-retain-count", "0x10", NULL),
                    0);
  assert_string_equal (o.listen, "unix:///var/run/docker/libcontainerd/docker-containerd.sock");
  assert_true (o.metrics_interval_ns == 0);
  assert_true (o.start_timeout_ns == 120 * NSEC_PER_SEC);
  assert_string_equal (o.state_dir, "/var/run/docker/libcontainerd/containerd");
  assert_string_equal (o.shim, "docker-containerd-shim");
  assert_string_equal (o.runtime, "docker-runc");
  assert_true (o.debug);
  assert_int_equal (strv_len (o.runtime_args), 2);
  assert_string_equal (o.runtime_args[0], "--systemd-cgroup=true");
  assert_string_equal (o.runtime_args[1], "--debug");
  assert_int_equal (o.retain_count, 16);
  assert_int_equal (daemon_options_log_level (&o), LOG_LVL_DEBUG);
  daemon_options_free (&o);
  free (out);
  free (err);
}

static void
test_relative_paths (void **state UNUSED)
{
  struct daemon_options o;
  char *out, *err;
  char *cwd = getcwd (NULL, 0);
  assert_int_equal (parse_capture (&o, &out, &err, "--state-dir", "st/x", "-l", "unix://run/x.sock",
                                   "-r", "/usr/bin/crun", NULL),
                    0);
  char *exp_state = xasprintf ("%s/st/x", cwd);
  char *exp_listen = xasprintf ("unix://%s/run/x.sock", cwd);
  assert_string_equal (o.state_dir, exp_state);
  assert_string_equal (o.listen, exp_listen);
  assert_string_equal (o.runtime, "/usr/bin/crun");
  daemon_options_free (&o);
  free (exp_state);
  free (exp_listen);
  free (out);
  free (err);

  /* tcp and absolute unix addresses are left alone */
  assert_int_equal (parse_capture (&o, &out, &err, "--listen", "tcp://127.0.0.1:7000", NULL), 0);
  assert_string_equal (o.listen, "tcp://127.0.0.1:7000");
  daemon_options_free (&o);
  free (out);
  free (err);
  free (cwd);
}

static void
test_log_level (void **state UNUSED)
{
  struct daemon_options o;
  char *out, *err;
  assert_int_equal (parse_capture (&o, &out, &err, "--debug", "--log-level", "error", NULL), 0);
  assert_int_equal (daemon_options_log_level (&o), LOG_LVL_ERROR);
  daemon_options_free (&o);
  free (out);
  free (err);

  assert_int_equal (parse_capture (&o, &out, &err, "--log-level=loud", NULL), 0);
  assert_string_equal (err, "Unable to parse logging level: loud\n, and being defaulted to info\n");
  assert_string_equal (o.log_level, "info");
  assert_int_equal (daemon_options_log_level (&o), LOG_LVL_INFO);
  daemon_options_free (&o);
  free (out);
  free (err);
}

static void
test_errors (void **state UNUSED)
{
  struct daemon_options o;
  char *out, *err;
  assert_int_equal (parse_capture (&o, &out, &err, "--nope", NULL), -1);
  assert_string_equal (out, "");
  assert_true (strncmp (err, "flag provided but not defined: -nope\n", 37) == 0);
  assert_non_null (strstr (err, "GLOBAL OPTIONS:"));
  daemon_options_free (&o);
  free (out);
  free (err);

  assert_int_equal (parse_capture (&o, &out, &err, "--start-timeout", "10", NULL), -1);
  assert_true (strncmp (err, "invalid value \"10\" for flag -start-timeout: parse error\n", 56)
               == 0);
  daemon_options_free (&o);
  free (out);
  free (err);

  assert_int_equal (parse_capture (&o, &out, &err, "--state-dir", NULL), -1);
  assert_true (strncmp (err, "flag needs an argument: -state-dir\n", 35) == 0);
  daemon_options_free (&o);
  free (out);
  free (err);

  /* limits out of range: a clear error, not a daemon without a bound */
  static const char *const bad[][2] = { { "--max-connections", "0" },
                                        { "--max-concurrent-streams", "-1" },
                                        { "--max-concurrent-streams", "2147483648" },
                                        { "--events-queue-bytes", "100" } };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      assert_int_equal (parse_capture (&o, &out, &err, bad[i][0], bad[i][1], NULL), -1);
      char *want = xasprintf ("invalid value \"%s\" for flag -%s: must be between ", bad[i][1],
                              bad[i][0] + 2);
      assert_true (strncmp (err, want, strlen (want)) == 0);
      free (want);
      daemon_options_free (&o);
      free (out);
      free (err);
    }
  assert_int_equal (parse_capture (&o, &out, &err, "--max-connections=3",
                                   "--max-concurrent-streams", "8", "--events-queue-bytes=1024",
                                   NULL),
                    0);
  assert_true (o.max_connections == 3 && o.max_concurrent_streams == 8
               && o.events_queue_bytes == 1024);
  daemon_options_free (&o);
  free (out);
  free (err);
}

static void
test_help_version (void **state UNUSED)
{
  static const char *const flags[] = {
    "--debug",
    "--log-level value",
    "--state-dir value",
    "--metrics-interval value",
    "--listen value, -l value",
    "--runtime value, -r value",
    "--runtime-args value",
    "--shim value",
    "--pprof-address value",
    "--start-timeout value",
    "--retain-count value",
    "--graphite-address value",
    "--max-connections value",
    "--max-concurrent-streams value",
    "--events-queue-bytes value",
    "--help, -h",
    "--version, -v",
  };
  const char *forms[][2] = {
    { "--help", NULL }, { "-h", NULL }, { "help", NULL }, { "--debug", "help" }
  };
  for (size_t k = 0; k < ARRAY_SIZE (forms); k++)
    {
      struct daemon_options o;
      char *out, *err;
      assert_int_equal (parse_capture (&o, &out, &err, forms[k][0], forms[k][1], NULL), 1);
      for (size_t i = 0; i < ARRAY_SIZE (flags); i++)
        {
          char *line = xasprintf ("\n   %s  ", flags[i]);
          assert_non_null (strstr (out, line));
          free (line);
        }
      assert_non_null (strstr (out, "(default: \"/run/containerd\")"));
      assert_non_null (strstr (out, "(default: 5m0s)"));
      assert_non_null (strstr (out, "(default: 30s)"));
      assert_non_null (strstr (out, "(default: 500)"));
      assert_non_null (strstr (out, "(default: 256)"));
      assert_non_null (strstr (out, "(default: 1024)"));
      assert_non_null (strstr (out, "(default: 262144)"));
      assert_non_null (strstr (out, "(default: \"unix:///run/containerd/containerd.sock\")"));
      assert_string_equal (err, "");
      daemon_options_free (&o);
      free (out);
      free (err);
    }

  struct daemon_options o;
  char *out, *err;
  assert_int_equal (parse_capture (&o, &out, &err, "-v", NULL), 1);
  char *expect = CTRD_REVISION[0]
                     ? xasprintf ("containerd version 0.2.3 commit: %s\n", CTRD_REVISION)
                     : xstrdup ("containerd version 0.2.3\n");
  assert_string_equal (out, expect);
  free (expect);
  daemon_options_free (&o);
  free (out);
  free (err);

  /* other positional arguments are ignored */
  assert_int_equal (parse_capture (&o, &out, &err, "--debug", "whatever", "--nope", NULL), 0);
  assert_true (o.debug);
  daemon_options_free (&o);
  free (out);
  free (err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_defaults),       cmocka_unit_test (test_docker_cmdline),
    cmocka_unit_test (test_relative_paths), cmocka_unit_test (test_log_level),
    cmocka_unit_test (test_errors),         cmocka_unit_test (test_help_version),
  };
  return cmocka_run_group_tests_name ("options", tests, NULL, NULL);
}
