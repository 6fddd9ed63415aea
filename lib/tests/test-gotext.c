/* Unit tests for lib/gotext: Go's strconv.Quote and encoding/json strings.
 * Expected texts are what Go 1.19 prints for the same bytes
 * (fmt.Printf("%q") and json.Marshal). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/gotext.h"
#include "lib/util.h"

/* What a FILE writer of lib/gotext writes for s. */
static char *
written (void (*write) (FILE *, const char *), const char *s)
{
  char *buf = NULL;
  size_t len;
  FILE *f = open_memstream (&buf, &len);
  write (f, s);
  fclose (f);
  return buf;
}
#define json_of(s) written (gotext_json_write, (s))
#define quote_of(s) written (gotext_quote_write, (s))

static void
test_utf8_decode (void **state UNUSED)
{
  uint32_t cp = 0;
  assert_int_equal (gotext_utf8_decode ((const unsigned char *) "a", &cp), 1);
  assert_int_equal (cp, 'a');
  assert_int_equal (gotext_utf8_decode ((const unsigned char *) "\xc3\xa9", &cp), 2);
  assert_int_equal (cp, 0xe9);
  assert_int_equal (gotext_utf8_decode ((const unsigned char *) "\xe2\x80\xa8", &cp), 3);
  assert_int_equal (cp, 0x2028);
  assert_int_equal (gotext_utf8_decode ((const unsigned char *) "\xf0\x9f\x98\x80", &cp), 4);
  assert_int_equal (cp, 0x1f600);
  /* invalid: lone continuation, overlong, surrogate, > U+10FFFF, cut short */
  const char *bad[] = {
    "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x80", "\xff"
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    assert_int_equal (gotext_utf8_decode ((const unsigned char *) bad[i], &cp), 0);
}

static void
test_quote (void **state UNUSED)
{
  cleanup_free char *q = gotext_quote ("a\"b\\c\nd\t\x01\r\x7f", 11);
  assert_string_equal (q, "\"a\\\"b\\\\c\\nd\\t\\x01\\r\\x7f\"");
  /* NULs inside the length are quoted, not the end */
  cleanup_free char *z = gotext_quote ("a\0b", 3);
  assert_string_equal (z, "\"a\\x00b\"");
  cleanup_free char *e = gotext_quote ("", 0);
  assert_string_equal (e, "\"\"");
  /* UTF-8 passes as is */
  cleanup_free char *u = gotext_quote ("\xc3\xa9", 2);
  assert_string_equal (u, "\"\xc3\xa9\"");
}

static void
test_quote_write_matches_quote (void **state UNUSED)
{
  const char *in[] = { "exit", "c1", "init", "a\"b\\c\nd\t\x01\x7f", "", "\xc3\xa9 x" };
  for (size_t i = 0; i < ARRAY_SIZE (in); i++)
    {
      cleanup_free char *a = gotext_quote (in[i], strlen (in[i]));
      cleanup_free char *b = quote_of (in[i]);
      assert_string_equal (a, b);
    }
}

static void
test_json (void **state UNUSED)
{
  cleanup_free char *a = json_of ("a<b>&\"\\\n\t\x01\xe2\x80\xa8\xe2\x80\xa9\xff\xc3\xa9\r");
  assert_string_equal (a, "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\t\\u0001\\u2028\\u2029\\ufffd"
                          "\xc3\xa9\\r\"");
  /* DEL is not escaped by encoding/json; each bad byte is one U+FFFD */
  cleanup_free char *b = json_of ("\x7f\xe2\x80");
  assert_string_equal (b, "\"\x7f\\ufffd\\ufffd\"");
  cleanup_free char *c = json_of ("");
  assert_string_equal (c, "\"\"");
}

static void
test_json_escape_buffer (void **state UNUSED)
{
  char buf[64];
  size_t n = gotext_json_escape (buf, sizeof buf, 0, "a\"b\\c\nd\x01");
  assert_string_equal (buf, "a\\\"b\\\\c\\nd\\u0001");
  assert_int_equal (n, strlen (buf));
  /* appends at len */
  memcpy (buf, "x:", 3);
  n = gotext_json_escape (buf, sizeof buf, 2, "<");
  assert_string_equal (buf, "x:\\u003c");
  assert_int_equal (n, 8);
  /* never cut inside a UTF-8 sequence or an escape */
  n = gotext_json_escape (buf, 4, 0, "ab\xc3\xa9");
  assert_string_equal (buf, "ab");
  n = gotext_json_escape (buf, 6, 0, "ab\x01");
  assert_string_equal (buf, "ab");
  assert_int_equal (n, 2);
  /* the same escaping as the FILE writer */
  const char *s = "q\"<\xff\xe2\x80\xa8z";
  n = gotext_json_escape (buf, sizeof buf, 0, s);
  cleanup_free char *w = json_of (s);
  assert_int_equal (strlen (w), n + 2);
  assert_memory_equal (w + 1, buf, n);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_utf8_decode),
    cmocka_unit_test (test_quote),
    cmocka_unit_test (test_quote_write_matches_quote),
    cmocka_unit_test (test_json),
    cmocka_unit_test (test_json_escape_buffer),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
