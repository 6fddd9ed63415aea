/* Unit tests for lib/goflag: Go flag / urfave-cli syntax and error texts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "lib/goflag.h"
#include "lib/tests/testutil.h"
#include "lib/timeutil.h"
#include "lib/util.h"

struct vals
{
  bool debug, version;
  char *listen;
  char **rargs;
  long long count;
  unsigned long long big;
  int64_t timeout;
};

#define NFLAGS 8
static void
table (struct goflag *f, struct vals *v)
{
  memset (v, 0, sizeof *v);
  v->listen = xstrdup ("unix:///run/containerd/containerd.sock");
  v->count = 500;
  v->timeout = 30 * NSEC_PER_SEC;
  struct goflag t[NFLAGS] = {
    { "debug", NULL, GOFLAG_BOOL, &v->debug, "enable debug output", NULL, false },
    { "listen", "l", GOFLAG_STRING, &v->listen, "address", "\"unix:///x\"", false },
    { "runtime-args", NULL, GOFLAG_STRINGS, &v->rargs, "runtime args", NULL, false },
    { "retain-count", NULL, GOFLAG_INT, &v->count, "events kept", "500", false },
    { "big", NULL, GOFLAG_UINT64, &v->big, "big number", NULL, false },
    { "start-timeout", NULL, GOFLAG_DURATION, &v->timeout, "timeout", "30s", false },
    { "help", "h", GOFLAG_BOOL, NULL, "show help", NULL, false },
    { "version", "v", GOFLAG_BOOL, &v->version, "print the version", NULL, false },
  };
  memcpy (f, t, sizeof t);
}

/* Parse a NULL-terminated argument list (argv[0] = program). */
static int
run (struct goflag *f, char **errmsg, ...)
{
  char *argv[32];
  va_list ap;
  va_start (ap, errmsg);
  int argc = test_argv (argv, ARRAY_SIZE (argv), "prog", ap);
  va_end (ap);
  struct ctrd_error *err = NULL;
  int r = goflag_parse (f, NFLAGS, argc, argv, 1, &err);
  *errmsg = NULL;
  if (r == -1)
    {
      assert_non_null (err);
      *errmsg = xstrdup (err->msg);
      ctrd_error_free (&err);
    }
  else
    assert_null (err);
  return r;
}

static void
test_forms (void **state UNUSED)
{
  struct goflag f[NFLAGS];
  struct vals v;
  char *e;
  table (f, &v);
  assert_int_equal (run (f, &e, "-debug", "--listen=tcp://a:1", "-retain-count", "7",
                         "--start-timeout", "1h30m", NULL),
                    7);
  assert_true (v.debug);
  assert_string_equal (v.listen, "tcp://a:1");
  assert_int_equal (v.count, 7);
  assert_int_equal (v.timeout, 5400 * NSEC_PER_SEC);
  assert_true (f[0].set && f[1].set && f[3].set && f[5].set);
  assert_false (f[2].set || f[4].set);
  goflag_free_values (f, NFLAGS);

  table (f, &v);
  assert_int_equal (run (f, &e, "-l", "unix://x.sock", "--debug=false", "-retain-count=-3", NULL),
                    5);
  assert_string_equal (v.listen, "unix://x.sock");
  assert_false (v.debug);
  assert_true (f[0].set);
  assert_int_equal (v.count, -3);
  goflag_free_values (f, NFLAGS);

  /* "--l=x" and "-listen x" too: dashes do not matter */
  table (f, &v);
  assert_int_equal (run (f, &e, "--l=a", "-listen", "b", "--listen=", NULL), 5);
  assert_string_equal (v.listen, "");
  goflag_free_values (f, NFLAGS);
}

static void
test_bools (void **state UNUSED)
{
  const char *yes[] = { "1", "t", "T", "true", "TRUE", "True" };
  const char *no[] = { "0", "f", "F", "false", "FALSE", "False" };
  for (size_t i = 0; i < ARRAY_SIZE (yes); i++)
    {
      bool b = false;
      assert_int_equal (goflag_parse_bool (yes[i], &b), 0);
      assert_true (b);
      assert_int_equal (goflag_parse_bool (no[i], &b), 0);
      assert_false (b);
    }
  bool b;
  assert_int_equal (goflag_parse_bool ("yes", &b), -1);
  assert_int_equal (goflag_parse_bool ("tRUE", &b), -1);
  assert_int_equal (goflag_parse_bool ("", &b), -1);

  /* a boolean never consumes the next argument */
  struct goflag f[NFLAGS];
  struct vals v;
  char *e;
  table (f, &v);
  assert_int_equal (run (f, &e, "--debug", "false", "-l", "x", NULL), 2);
  assert_true (v.debug);
  assert_string_equal (v.listen, "unix:///run/containerd/containerd.sock");
  goflag_free_values (f, NFLAGS);

  table (f, &v);
  assert_int_equal (run (f, &e, "--debug=yes", NULL), -1);
  assert_string_equal (e, "invalid boolean value \"yes\" for -debug: parse error");
  free (e);
  assert_int_equal (run (f, &e, "-debug=", NULL), -1);
  assert_string_equal (e, "invalid boolean value \"\" for -debug: parse error");
  free (e);
  goflag_free_values (f, NFLAGS);
}

static void
test_ints (void **state UNUSED)
{
  static const struct
  {
    const char *s;
    long long v;
  } ok[] = {
    { "0", 0 },
    { "10", 10 },
    { "-10", -10 },
    { "+7", 7 },
    { "0x1F", 31 },
    { "0X1f", 31 },
    { "010", 8 },
    { "0o17", 15 },
    { "0b101", 5 },
    { "-0x10", -16 },
    { "1_000", 1000 },
    { "0x_ff", 255 },
    { "9223372036854775807", INT64_MAX },
    { "-9223372036854775808", INT64_MIN },
  };
  for (size_t i = 0; i < ARRAY_SIZE (ok); i++)
    {
      long long v = 42;
      assert_int_equal (goflag_parse_int (ok[i].s, &v), 0);
      assert_true (v == ok[i].v);
    }
  const char *bad[] = { "", "-", "0x", "08", "1a", " 1", "1 ", "1__0", "_1", "1_", "0b2", "--1" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      long long v;
      errno = 0;
      assert_int_equal (goflag_parse_int (bad[i], &v), -1);
      assert_int_equal (errno, EINVAL);
    }
  long long v;
  assert_int_equal (goflag_parse_int ("9223372036854775808", &v), -1);
  assert_int_equal (errno, ERANGE);
  unsigned long long u;
  assert_int_equal (goflag_parse_uint ("18446744073709551615", &u), 0);
  assert_true (u == UINT64_MAX);
  assert_int_equal (goflag_parse_uint ("0xffffffffffffffff", &u), 0);
  assert_int_equal (goflag_parse_uint ("18446744073709551616", &u), -1);
  assert_int_equal (errno, ERANGE);
  assert_int_equal (goflag_parse_uint ("-1", &u), -1);
  assert_int_equal (errno, EINVAL);
  assert_int_equal (goflag_parse_uint ("+1", &u), -1);

  struct goflag f[NFLAGS];
  struct vals vs;
  char *e;
  table (f, &vs);
  assert_int_equal (run (f, &e, "--big", "0x10", "--retain-count", "0x20", NULL), 5);
  assert_true (vs.big == 16);
  assert_int_equal (vs.count, 32);
  assert_int_equal (run (f, &e, "--retain-count", "abc", NULL), -1);
  assert_string_equal (e, "invalid value \"abc\" for flag -retain-count: parse error");
  free (e);
  assert_int_equal (run (f, &e, "-retain-count=99999999999999999999", NULL), -1);
  assert_string_equal (
      e, "invalid value \"99999999999999999999\" for flag -retain-count: value out of range");
  free (e);
  goflag_free_values (f, NFLAGS);
}

static void
test_durations (void **state UNUSED)
{
  static const struct
  {
    const char *s;
    int64_t ns;
  } ok[] = {
    { "300ms", 300 * NSEC_PER_MSEC },
    { "30s", 30 * NSEC_PER_SEC },
    { "2m", 120 * NSEC_PER_SEC },
    { "5m0s", 300 * NSEC_PER_SEC },
    { "0", 0 },
    { "1.5s", 1500 * NSEC_PER_MSEC },
  };
  struct goflag f[NFLAGS];
  struct vals v;
  char *e;
  for (size_t i = 0; i < ARRAY_SIZE (ok); i++)
    {
      table (f, &v);
      assert_int_equal (run (f, &e, "--start-timeout", ok[i].s, NULL), 3);
      assert_true (v.timeout == ok[i].ns);
      goflag_free_values (f, NFLAGS);
    }
  table (f, &v);
  assert_int_equal (run (f, &e, "--start-timeout=30", NULL), -1);
  assert_string_equal (e, "invalid value \"30\" for flag -start-timeout: parse error");
  free (e);
  goflag_free_values (f, NFLAGS);
}

static void
test_errors (void **state UNUSED)
{
  struct goflag f[NFLAGS];
  struct vals v;
  char *e;
  table (f, &v);
  assert_int_equal (run (f, &e, "--debug", "--nope", NULL), -1);
  assert_string_equal (e, "flag provided but not defined: -nope");
  free (e);
  assert_int_equal (run (f, &e, "-x=1", NULL), -1);
  assert_string_equal (e, "flag provided but not defined: -x");
  free (e);
  assert_int_equal (run (f, &e, "--listen", NULL), -1);
  assert_string_equal (e, "flag needs an argument: -listen");
  free (e);
  assert_int_equal (run (f, &e, "-l", NULL), -1);
  assert_string_equal (e, "flag needs an argument: -l");
  free (e);
  assert_int_equal (run (f, &e, "---debug", NULL), -1);
  assert_string_equal (e, "bad flag syntax: ---debug");
  free (e);
  assert_int_equal (run (f, &e, "-=x", NULL), -1);
  assert_string_equal (e, "bad flag syntax: -=x");
  free (e);
  goflag_free_values (f, NFLAGS);
}

static void
test_stop (void **state UNUSED)
{
  struct goflag f[NFLAGS];
  struct vals v;
  char *e;
  table (f, &v);
  /* stops at the first positional argument: later flags are positional too */
  assert_int_equal (run (f, &e, "--debug", "start", "--nope", NULL), 2);
  /* "--" is consumed and ends the flags */
  assert_int_equal (run (f, &e, "--debug", "--", "--nope", NULL), 3);
  /* "-" alone is positional */
  assert_int_equal (run (f, &e, "-", "--nope", NULL), 1);
  /* no arguments at all */
  assert_int_equal (run (f, &e, NULL), 1);
  assert_int_equal (run (f, &e, "--version", NULL), 2);
  assert_true (v.version);
  /* a value that looks like a flag is still the value */
  assert_int_equal (run (f, &e, "--listen", "--debug", NULL), 3);
  assert_string_equal (v.listen, "--debug");

  /* start index: a subcommand's flags */
  char *argv[] = { (char *) "ctr",
                   (char *) "--debug",
                   (char *) "sub",
                   (char *) "-l",
                   (char *) "x",
                   (char *) "id",
                   NULL };
  assert_int_equal (goflag_parse (f, NFLAGS, 6, argv, 3, NULL), 5);
  assert_string_equal (v.listen, "x");
  goflag_free_values (f, NFLAGS);
}

static void
test_repeatable (void **state UNUSED)
{
  struct goflag f[NFLAGS];
  struct vals v;
  char *e;
  table (f, &v);
  assert_int_equal (run (f, &e, "--runtime-args", "--debug", "-runtime-args=--root=/x",
                         "--runtime-args", "", NULL),
                    6);
  assert_int_equal (strv_len (v.rargs), 3);
  assert_string_equal (v.rargs[0], "--debug");
  assert_string_equal (v.rargs[1], "--root=/x");
  assert_string_equal (v.rargs[2], "");
  goflag_free_values (f, NFLAGS);
  assert_null (v.rargs);
  assert_null (v.listen);
}

static void
test_help (void **state UNUSED)
{
  struct goflag f[NFLAGS];
  struct vals v;
  char *e;
  table (f, &v);
  assert_int_equal (run (f, &e, "-h", NULL), GOFLAG_HELP);
  assert_int_equal (run (f, &e, "--help", NULL), GOFLAG_HELP);
  assert_int_equal (run (f, &e, "-debug", "-help", "--nope", NULL), GOFLAG_HELP);
  /* a table without a help entry still reports -h as help (as Go does) */
  assert_int_equal (
      goflag_parse (f, 1, 2, (char *[]){ (char *) "p", (char *) "-h", NULL }, 1, NULL),
      GOFLAG_HELP);

  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream (&buf, &len);
  goflag_print_usage (out, f, NFLAGS);
  fclose (out);
  const char *expect = "   --debug                   enable debug output\n"
                       "   --listen value, -l value  address (default: \"unix:///x\")\n"
                       "   --runtime-args value      runtime args\n"
                       "   --retain-count value      events kept (default: 500)\n"
                       "   --big value               big number\n"
                       "   --start-timeout value     timeout (default: 30s)\n"
                       "   --help, -h                show help\n"
                       "   --version, -v             print the version\n";
  assert_string_equal (buf, expect);
  free (buf);
  goflag_free_values (f, NFLAGS);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_forms),      cmocka_unit_test (test_bools),
    cmocka_unit_test (test_ints),       cmocka_unit_test (test_durations),
    cmocka_unit_test (test_errors),     cmocka_unit_test (test_stop),
    cmocka_unit_test (test_repeatable), cmocka_unit_test (test_help),
  };
  return cmocka_run_group_tests_name ("goflag", tests, NULL, NULL);
}
