/* Unit tests for the Events and GetServerVersion handlers, driven through
 * the recording fake of api/server.h's calls (TEST DOUBLE: fake-call.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.pb-c.h"
#include "api/server.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "supervisor/api-handlers.h"
#include "supervisor/events.h"
#include "supervisor/tests/fake-call.h"

/* the i-th event the handler sent */
#define SENT(call, i) ((Types__Event *) (call).sent[i])

static size_t warnings;
static char last_warning[512];
static void
warn_sink (enum log_level level, const char *id UNUSED, const char *msg)
{
  if (level == LOG_LVL_WARN)
    {
      warnings++;
      snprintf (last_warning, sizeof last_warning, "%s", msg);
    }
}

struct fixture
{
  char *dir;
  struct event_bus *bus;
  int64_t ts[5]; /* timestamps of the 5 stored events c0 c1 c0 c1 c0 */
};

static int
setup (void **state)
{
  struct fixture *f = xmalloc0 (sizeof *f);
  f->dir = xstrdup ("/tmp/ctrd-test-api-events.XXXXXX");
  assert_non_null (mkdtemp (f->dir));
  assert_int_equal (event_bus_open (f->dir, 500, &f->bus, NULL), 0);
  for (int i = 0; i < 5; i++)
    {
      char id[4];
      snprintf (id, sizeof id, "c%d", i % 2);
      event_bus_publish (f->bus, EVENT_EXIT, id, "init", (uint32_t) i);
      f->ts[i] = time_now_real_ns (); /* ≥ the event's own stamp */
    }
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  event_bus_free (f->bus);
  assert_int_equal (rm_rf (f->dir, NULL), 0);
  free (f->dir);
  free (f);
  return 0;
}

static void
handle (struct fixture *f, struct api_call *call, Types__EventsRequest *req)
{
  api_events_handle (call, &req->base, f->bus);
}

static void
test_bad_requests (void **state)
{
  struct fixture *f = *state;
  struct api_call call = { .limit = 100 };
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
  req.timestamp = &ts;

  ts.seconds = -62135596801LL;
  handle (f, &call, &req);
  assert_int_equal (call.finished, 1);
  assert_int_equal (call.code, GRPC_UNKNOWN);
  assert_string_equal (call.msg, "timestamp: seconds:-62135596801 before 0001-01-01");
  fake_call_clear (&call);

  call.limit = 100;
  ts.seconds = 253402300800LL;
  handle (f, &call, &req);
  assert_string_equal (call.msg, "timestamp: seconds:253402300800 after 10000-01-01");
  fake_call_clear (&call);

  call.limit = 100;
  ts.seconds = 5;
  ts.nanos = -1;
  handle (f, &call, &req);
  assert_string_equal (call.msg, "timestamp: seconds:5 nanos:-1: nanos not in range [0, 1e9)");
  fake_call_clear (&call);

  const char *so = "invalid parameter: StoredOnly cannot be specified without setting a valid "
                   "Timestamp";
  req.storedonly = true;
  req.timestamp = NULL;
  call.limit = 100;
  handle (f, &call, &req);
  assert_int_equal (call.finished, 1);
  assert_int_equal (call.code, GRPC_UNKNOWN);
  assert_string_equal (call.msg, so);
  fake_call_clear (&call);

  /* the zero time.Time is "no timestamp" */
  ts.seconds = -62135596800LL;
  ts.nanos = 0;
  req.timestamp = &ts;
  call.limit = 100;
  handle (f, &call, &req);
  assert_string_equal (call.msg, so);
  assert_int_equal (call.nsent, 0);
  fake_call_clear (&call);
  assert_int_equal (event_bus_subscriber_count (f->bus), 0);
}

static void
test_stored_only (void **state)
{
  struct fixture *f = *state;
  struct api_call call = { .limit = 100 };
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
  time_to_timestamp (f->ts[1], &ts.seconds, &ts.nanos);
  req.timestamp = &ts;
  req.storedonly = true;
  handle (f, &call, &req);
  assert_int_equal (call.finished, 1);
  assert_int_equal (call.code, GRPC_OK);
  assert_int_equal (call.nsent, 3);
  for (size_t i = 0; i < 3; i++)
    {
      Types__Event *e = SENT (call, i);
      assert_string_equal (e->type, "exit");
      assert_string_equal (e->pid, "init");
      assert_int_equal (e->status, 2 + i);
      assert_non_null (e->timestamp);
      assert_true (e->legacytimestamp == (uint64_t) e->timestamp->seconds);
      assert_true (e->timestamp->seconds * NSEC_PER_SEC + e->timestamp->nanos <= f->ts[2 + i]);
    }
  fake_call_clear (&call);

  /* the id filter; Unix epoch = everything of c1 */
  ts.seconds = 0;
  ts.nanos = 0;
  req.id = (char *) "c1";
  call.limit = 100;
  handle (f, &call, &req);
  assert_int_equal (call.nsent, 2);
  assert_string_equal (SENT (call, 0)->id, "c1");
  assert_int_equal (SENT (call, 1)->status, 3);
  fake_call_clear (&call);
  assert_int_equal (event_bus_subscriber_count (f->bus), 0);
}

static void
test_live_and_cancel (void **state)
{
  struct fixture *f = *state;
  struct api_call call = { .limit = 100 };
  Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
  /* legacy tag 1 (unix seconds) when tag 2 is absent: events after the
   * second that holds event 0's stamp... all 5 here unless the second
   * rolled over; count by comparison instead */
  int64_t sec = f->ts[0] / NSEC_PER_SEC - 1;
  req.legacytimestamp = (uint64_t) sec;
  handle (f, &call, &req);
  assert_int_equal (call.finished, 0);
  assert_int_equal (call.nsent, 5);
  assert_int_equal (event_bus_subscriber_count (f->bus), 1);
  event_bus_publish (f->bus, EVENT_OOM, "c7", NULL, 0);
  assert_int_equal (call.nsent, 6);
  assert_string_equal (SENT (call, 5)->type, "oom");
  assert_string_equal (SENT (call, 5)->pid, "");
  fake_call_cancel (&call);
  assert_int_equal (call.finished, 1);
  assert_int_equal (event_bus_subscriber_count (f->bus), 0);
  event_bus_publish (f->bus, EVENT_OOM, "c7", NULL, 0);
  assert_int_equal (call.nsent, 6);
  fake_call_clear (&call);
}

static void
test_slow_reader (void **state)
{
  struct fixture *f = *state;
  struct api_call call = { .limit = 2 };
  Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
  log_set_sink (warn_sink);
  warnings = 0;
  handle (f, &call, &req); /* live only */
  event_bus_publish (f->bus, EVENT_PAUSE, "c1", NULL, 0);
  event_bus_publish (f->bus, EVENT_RESUME, "c1", NULL, 0);
  assert_int_equal (call.finished, 0);
  event_bus_publish (f->bus, EVENT_OOM, "c1", NULL, 0); /* queue full */
  assert_int_equal (call.finished, 1);
  assert_int_equal (call.code, GRPC_RESOURCE_EXHAUSTED);
  /* grpc-status 8 says what happened and how to get the rest */
  assert_non_null (strstr (call.msg, "too slow"));
  assert_non_null (strstr (call.msg, "timestamp of the last event"));
  assert_int_equal (warnings, 1);
  assert_int_equal (event_bus_dropped_total (f->bus), 1);
  assert_non_null (strstr (last_warning, "too slow"));
  assert_int_equal (event_bus_subscriber_count (f->bus), 0);
  fake_call_clear (&call);

  /* a replay is not held to the bound (a client resubscribing after it
   * was too slow gets the window back); what is live after it is */
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  req.timestamp = &ts;
  call.limit = 1;
  size_t stored = event_bus_stored_count (f->bus);
  assert_true (stored > call.limit);
  handle (f, &call, &req);
  assert_int_equal (call.finished, 0);
  assert_int_equal (call.nsent, stored); /* all of the window */
  assert_int_equal (event_bus_subscriber_count (f->bus), 1);
  event_bus_publish (f->bus, EVENT_PAUSE, "c1", NULL, 0); /* 1 live: within the bound */
  assert_int_equal (call.finished, 0);
  event_bus_publish (f->bus, EVENT_RESUME, "c1", NULL, 0); /* over */
  assert_int_equal (call.finished, 1);
  assert_int_equal (call.code, GRPC_RESOURCE_EXHAUSTED);
  assert_int_equal (call.nsent, stored + 1);
  assert_int_equal (warnings, 2);
  assert_int_equal (event_bus_dropped_total (f->bus), 2);
  assert_int_equal (event_bus_subscriber_count (f->bus), 0);
  fake_call_clear (&call);

  /* a client that is gone is not "slow": CANCELLED, no warning */
  call.limit = 100;
  req.timestamp = NULL;
  handle (f, &call, &req);
  call.cancelled = true; /* noticed by the next send, before on_cancel runs */
  event_bus_publish (f->bus, EVENT_OOM, "c1", NULL, 0);
  assert_int_equal (call.finished, 1);
  assert_int_equal (call.code, GRPC_CANCELLED);
  assert_int_equal (warnings, 2);
  assert_int_equal (event_bus_dropped_total (f->bus), 2); /* gone is not dropped */
  assert_int_equal (event_bus_subscriber_count (f->bus), 0);
  fake_call_clear (&call);
  log_set_sink (NULL);
}

static void
test_version (void **state UNUSED)
{
  struct api_call call = { 0 };
  Types__GetServerVersionRequest req = TYPES__GET_SERVER_VERSION_REQUEST__INIT;
  api_version_handle (&call, &req.base, NULL);
  assert_int_equal (call.finished, 1);
  Types__GetServerVersionResponse *v = (Types__GetServerVersionResponse *) fake_call_reply (
      &call, &types__get_server_version_response__descriptor);
  assert_non_null (v);
  assert_int_equal (v->major, 0);
  assert_int_equal (v->minor, 2);
  assert_int_equal (v->patch, 3);
  assert_string_equal (v->revision, CTRD_REVISION);
  protobuf_c_message_free_unpacked (&v->base, NULL);
  fake_call_clear (&call);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_bad_requests, setup, teardown),
    cmocka_unit_test_setup_teardown (test_stored_only, setup, teardown),
    cmocka_unit_test_setup_teardown (test_live_and_cancel, setup, teardown),
    cmocka_unit_test_setup_teardown (test_slow_reader, setup, teardown),
    cmocka_unit_test (test_version),
  };
  return cmocka_run_group_tests_name ("api-events", tests, NULL, NULL);
}
