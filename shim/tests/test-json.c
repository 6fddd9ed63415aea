/* Unit tests of the shim's tiny JSON reader and escaper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/util.h"
#include "shim/json.h"

static struct json *
parse (const char *s)
{
  return json_parse (s, strlen (s), NULL);
}

static void
test_process_json (void **state)
{
  (void) state;
  struct json *j = parse (" {\"terminal\":true,\"args\":[\"sh\",\"-c\",\"echo \\\"hi\\\"\"],"
                          "\"rootUID\":1000,\"runtimeArgs\":null,\"x\":{\"y\":[1.5,-2e3,{}]},"
                          "\"s\":\"a\\u00e9\\ud83d\\ude00\\n\\/\"} ");
  assert_non_null (j);
  bool b = false;
  assert_int_equal (json_get_bool (j, "terminal", false, &b, NULL), 0);
  assert_true (b);
  long long n;
  assert_int_equal (json_get_int (j, "rootUID", 0, &n, NULL), 0);
  assert_int_equal (n, 1000);
  char **v = NULL;
  assert_int_equal (json_get_strv (j, "args", &v, NULL), 0);
  assert_int_equal (strv_len (v), 3);
  assert_string_equal (v[2], "echo \"hi\"");
  strv_free (v);
  assert_int_equal (json_get_strv (j, "runtimeArgs", &v, NULL), 0);
  assert_null (v);
  const char *s;
  assert_int_equal (json_get_string (j, "s", "", &s, NULL), 0);
  assert_string_equal (s, "a\xc3\xa9\xf0\x9f\x98\x80\n/");
  assert_int_equal (json_get_string (j, "missing", "def", &s, NULL), 0);
  assert_string_equal (s, "def");
  struct ctrd_error *err = NULL;
  assert_int_equal (json_get_int (j, "terminal", 0, &n, &err), -1);
  assert_string_equal (err->msg, "`terminal` must be a number");
  ctrd_error_free (&err);
  json_free (j);
}

static void
test_invalid (void **state)
{
  (void) state;
  static const char *const bad[] = { "",        "{",   "{\"a\":}",  "[1,]",    "{\"a\":1} x",
                                     "\"\\q\"", "tru", "{\"a\" 1}", "\"a\nb\"" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      struct ctrd_error *err = NULL;
      assert_null (json_parse (bad[i], strlen (bad[i]), &err));
      assert_non_null (err);
      assert_non_null (strstr (err->msg, "invalid JSON at offset"));
      ctrd_error_free (&err);
    }
  char deep[200];
  memset (deep, '[', sizeof deep);
  assert_null (json_parse (deep, sizeof deep, NULL));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_process_json),
    cmocka_unit_test (test_invalid),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
