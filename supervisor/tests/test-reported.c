/* Unit tests for supervisor/reported: which exits the event log holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/util.h"
#include "supervisor/events.h"
#include "supervisor/reported.h"

static struct event_bus *
bus_in (char *tmpl)
{
  assert_non_null (mkdtemp (tmpl));
  struct event_bus *b = NULL;
  assert_int_equal (event_bus_open (tmpl, 0, &b, NULL), 0);
  return b;
}

/* The newest start/exit event of each process decides; other events and
 * other processes do not count; start-container is the start of "init". */
static void
test_last_event_decides (void **state UNUSED)
{
  char tmpl[] = "/tmp/ctrd-reported-XXXXXX";
  struct event_bus *b = bus_in (tmpl);
  event_bus_publish (b, EVENT_START_CONTAINER, "a", NULL, 0);
  event_bus_publish (b, EVENT_START_PROCESS, "a", "e1", 0);
  event_bus_publish (b, EVENT_EXIT, "a", "e1", 3);
  event_bus_publish (b, EVENT_START_PROCESS, "a", "e2", 0);
  event_bus_publish (b, EVENT_EXIT, "a", "init", 0);
  /* b: exited, then created again (a restart of the same id) */
  event_bus_publish (b, EVENT_START_CONTAINER, "b", NULL, 0);
  event_bus_publish (b, EVENT_EXIT, "b", "init", 1);
  event_bus_publish (b, EVENT_START_CONTAINER, "b", NULL, 0);
  event_bus_publish (b, EVENT_OOM, "b", NULL, 0);
  struct reported *r = reported_build (b);
  assert_true (reported_exit (r, "a", "e1"));
  assert_false (reported_exit (r, "a", "e2"));
  assert_true (reported_exit (r, "a", "init"));
  assert_false (reported_exit (r, "b", "init"));
  assert_false (reported_exit (r, "c", "init"));
  assert_false (reported_exit (r, "a", "e"));
  reported_free (r);
  /* an empty index answers no */
  assert_false (reported_exit (NULL, "a", "init"));
  event_bus_free (b);
  assert_int_equal (rm_rf (tmpl, NULL), 0);
}

/* What a restarted daemon sees: the events the dead one appended. */
static void
test_from_events_log (void **state UNUSED)
{
  char tmpl[] = "/tmp/ctrd-reported-XXXXXX";
  struct event_bus *b = bus_in (tmpl);
  event_bus_publish (b, EVENT_START_PROCESS, "x", "ex", 0);
  event_bus_publish (b, EVENT_EXIT, "x", "ex", 3);
  event_bus_free (b);
  assert_int_equal (event_bus_open (tmpl, 0, &b, NULL), 0);
  struct reported *r = reported_build (b);
  assert_true (reported_exit (r, "x", "ex"));
  reported_free (r);
  event_bus_free (b);
  assert_int_equal (rm_rf (tmpl, NULL), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_last_event_decides),
    cmocka_unit_test (test_from_events_log),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
