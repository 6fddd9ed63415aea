/* Unit tests for supervisor/promtext: Go's shortest float text, escaping of
 * help and label values, and a histogram's cumulative series. (The whole
 * page is parsed by the real Prometheus parser in integration/test-metrics.) */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/util.h"
#include "supervisor/promtext.h"

static void
test_format_double (void **state UNUSED)
{
  char b[40];
  const struct
  {
    double v;
    const char *want;
  } cases[] = {
    { 0, "0" },
    { 1, "1" },
    { 0.1, "0.1" },
    { 0.00025, "0.00025" },
    { 2.5, "2.5" },
    { 1e21, "1e+21" },
    { -3, "-3" },
    { 12345678, "1.2345678e+07" },
    { 999999, "999999" },
    { 1e6, "1e+06" },
    { 2.4656e-05, "2.4656e-05" },
    { 10, "10" },
    { 20000, "20000" },
    { 0.0001, "0.0001" },
    { 1796236409.17, "1.79623640917e+09" },
    { 1.0 / 3, "0.3333333333333333" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      promtext_format_double (cases[i].v, b, sizeof b);
      assert_string_equal (b, cases[i].want);
    }
  promtext_format_double (INFINITY, b, sizeof b);
  assert_string_equal (b, "+Inf");
  promtext_format_double (-INFINITY, b, sizeof b);
  assert_string_equal (b, "-Inf");
  promtext_format_double (NAN, b, sizeof b);
  assert_string_equal (b, "NaN");
}

static void
test_escaping (void **state UNUSED)
{
  struct promtext t = { 0 };
  promtext_family (&t, "m", "gauge", "a \\ b\nc \"q\"");
  promtext_sample (&t, "m", (const char *const[]){ "a", "x\"y\\z\nw", "b", "", NULL }, 2);
  promtext_sample (&t, "m", NULL, 0.5);
  size_t len;
  char *s = promtext_take (&t, &len);
  assert_string_equal (s, "# HELP m a \\\\ b\\nc \"q\"\n"
                          "# TYPE m gauge\n"
                          "m{a=\"x\\\"y\\\\z\\nw\",b=\"\"} 2\n"
                          "m 0.5\n");
  assert_int_equal (len, strlen (s));
  free (s);
  /* empty: a valid (empty) page, never NULL */
  s = promtext_take (&t, &len);
  assert_string_equal (s, "");
  assert_int_equal (len, 0);
  free (s);
}

static void
test_histogram (void **state UNUSED)
{
  struct promtext t = { 0 };
  const double bounds[] = { 0.001, 0.5 };
  const uint64_t counts[] = { 2, 0, 3 };
  promtext_histogram (&t, "h", (const char *const[]){ "code", "OK", NULL }, bounds, counts, 2,
                      7.25);
  size_t len;
  char *s = promtext_take (&t, &len);
  assert_string_equal (s, "h_bucket{code=\"OK\",le=\"0.001\"} 2\n"
                          "h_bucket{code=\"OK\",le=\"0.5\"} 2\n"
                          "h_bucket{code=\"OK\",le=\"+Inf\"} 5\n"
                          "h_sum{code=\"OK\"} 7.25\n"
                          "h_count{code=\"OK\"} 5\n");
  free (s);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_format_double),
    cmocka_unit_test (test_escaping),
    cmocka_unit_test (test_histogram),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
