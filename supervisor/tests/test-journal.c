/* Unit tests for supervisor/journal: stream detection and entry fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/journal.h"

static void
test_stream_matches (void **state)
{
  (void) state;
  FILE *f = tmpfile ();
  assert_non_null (f);
  struct stat st;
  assert_int_equal (fstat (fileno (f), &st), 0);
  char v[64];
  snprintf (v, sizeof v, "%llu:%llu", (unsigned long long) st.st_dev,
            (unsigned long long) st.st_ino);
  assert_true (journal_stream_matches (v, fileno (f)));
  snprintf (v, sizeof v, "%llu:%llu", (unsigned long long) st.st_dev,
            (unsigned long long) st.st_ino + 1);
  assert_false (journal_stream_matches (v, fileno (f)));
  assert_false (journal_stream_matches (NULL, fileno (f)));
  assert_false (journal_stream_matches ("", fileno (f)));
  assert_false (journal_stream_matches ("12", fileno (f)));
  snprintf (v, sizeof v, "%llu:%llux", (unsigned long long) st.st_dev,
            (unsigned long long) st.st_ino);
  assert_false (journal_stream_matches (v, fileno (f)));
  assert_false (journal_stream_matches ("1:1", -1));
  fclose (f);
}

static void
test_fields (void **state)
{
  (void) state;
  struct iovec iov[6];
  char *bufs[6];
  size_t n = journal_fields (LOG_LVL_WARN, "c1", "init", "hello world", iov, bufs);
  assert_int_equal (n, 5);
  assert_string_equal (bufs[0], "MESSAGE=hello world");
  assert_int_equal (iov[0].iov_len, strlen ("MESSAGE=hello world"));
  assert_string_equal (bufs[1], "PRIORITY=4");
  assert_string_equal (bufs[2], "SYSLOG_IDENTIFIER=" CTRD_DAEMON_NAME);
  assert_string_equal (bufs[3], "CONTAINER_ID=c1");
  assert_string_equal (bufs[4], "PROCESS_ID=init");
  for (size_t i = 0; i < n; i++)
    free (bufs[i]);

  n = journal_fields (LOG_LVL_ERROR, NULL, "", "x", iov, bufs);
  assert_int_equal (n, 3);
  assert_string_equal (bufs[1], "PRIORITY=3");
  for (size_t i = 0; i < n; i++)
    free (bufs[i]);
}

static void
test_setup_without_journal (void **state)
{
  (void) state;
  unsetenv ("JOURNAL_STREAM");
  assert_false (journal_log_setup ());
  setenv ("JOURNAL_STREAM", "1:2", 1);
  assert_false (journal_log_setup ());
  unsetenv ("JOURNAL_STREAM");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_stream_matches),
    cmocka_unit_test (test_fields),
    cmocka_unit_test (test_setup_without_journal),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
