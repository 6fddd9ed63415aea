/* Unit tests for supervisor/events: the bus, events.log and replay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "lib/tests/testutil.h"
#include "supervisor/events.h"

/* ---- helpers ------------------------------------------------------------- */

struct rec
{
  size_t n, cap;
  struct ctrd_event *ev;
  int fail_after;                     /* return -1 on the n-th delivery (1-based), 0 = never */
  struct event_sub **self;            /* event_sub_free(*self) on delivery fail_after instead */
  struct event_bus *publish_on_first; /* publish one event from inside the first delivery */
};

static int
rec_fn (const struct ctrd_event *ev, void *data)
{
  struct rec *r = data;
  if (r->n == r->cap)
    {
      r->cap = r->cap ? r->cap * 2 : 16;
      r->ev = xrealloc (r->ev, r->cap * sizeof *r->ev);
    }
  r->ev[r->n++] = (struct ctrd_event){ xstrdup (ev->type), xstrdup (ev->id), xstrdup (ev->pid),
                                       ev->status, ev->ts_ns };
  if (r->publish_on_first && r->n == 1)
    event_bus_publish (r->publish_on_first, "oom", "nested", NULL, 0);
  if (r->fail_after && r->n == (size_t) r->fail_after)
    {
      if (r->self)
        {
          event_sub_free (*r->self);
          *r->self = NULL;
          return 0;
        }
      return -1;
    }
  return 0;
}

static void
rec_clear (struct rec *r)
{
  for (size_t i = 0; i < r->n; i++)
    {
      free (r->ev[i].type);
      free (r->ev[i].id);
      free (r->ev[i].pid);
    }
  free (r->ev);
  memset (r, 0, sizeof *r);
}

static char *
make_tmpdir (void)
{
  char *d = xstrdup ("/tmp/ctrd-test-events.XXXXXX");
  assert_non_null (mkdtemp (d));
  return d;
}

static void
remove_tmpdir (char *d)
{
  assert_int_equal (rm_rf (d, NULL), 0);
  free (d);
}

static char *
slurp (const char *path)
{
  char *data = NULL;
  size_t len;
  assert_int_equal (read_file (path, &data, &len, 64 << 20, NULL), 0);
  return data;
}

static size_t
count_lines (const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

static struct event_bus *
bus_open (const char *dir, long long retain)
{
  struct event_bus *b = NULL;
  struct ctrd_error *err = NULL;
  assert_int_equal (event_bus_open (dir, retain, &b, &err), 0);
  assert_null (err);
  return b;
}

/* Replay everything stored (from the Unix epoch) into r. */
static void
replay_all (struct event_bus *b, struct rec *r)
{
  struct event_sub *s = (struct event_sub *) 1;
  assert_int_equal (event_bus_subscribe (b, NULL, true, 0, 0, true, rec_fn, r, &s), 0);
  assert_null (s);
}

static size_t warnings;
static size_t parse_warnings;
static void
count_sink (enum log_level level, const char *id UNUSED, const char *msg)
{
  if (level >= LOG_LVL_WARN)
    warnings++;
  if (strncmp (msg, "containerd: Cannot parse event. Skipping.", 41) == 0)
    parse_warnings++;
}

/* ---- tests --------------------------------------------------------------- */

static void
test_publish_filter (void **state UNUSED)
{
  char *dir = make_tmpdir ();
  struct event_bus *b = bus_open (dir, 500);
  struct rec all = { 0 }, c1 = { 0 };
  struct event_sub *sa, *s1;
  assert_int_equal (event_bus_subscribe (b, "", false, 0, 0, false, rec_fn, &all, &sa), 0);
  assert_int_equal (event_bus_subscribe (b, "c1", false, 0, 0, false, rec_fn, &c1, &s1), 0);
  assert_non_null (sa);
  assert_non_null (s1);
  assert_int_equal (event_bus_subscriber_count (b), 2);

  event_bus_publish (b, EVENT_START_CONTAINER, "c1", NULL, 0);
  event_bus_publish (b, EVENT_START_PROCESS, "c2", "e1", 0);
  event_bus_publish (b, EVENT_EXIT, "c1", "init", 137);
  event_bus_publish (b, EVENT_EXIT, "c1", "init", 300); /* stored as 255 */

  assert_int_equal (all.n, 4);
  assert_int_equal (c1.n, 3);
  assert_string_equal (all.ev[1].type, "start-process");
  assert_string_equal (all.ev[1].id, "c2");
  assert_string_equal (all.ev[1].pid, "e1");
  assert_string_equal (c1.ev[0].pid, "");
  assert_string_equal (c1.ev[1].type, "exit");
  assert_int_equal (c1.ev[1].status, 137);
  assert_int_equal (c1.ev[2].status, 255);
  /* timestamps are the wall clock and strictly increase */
  int64_t now = time_now_real_ns ();
  for (size_t i = 0; i < all.n; i++)
    {
      assert_true (all.ev[i].ts_ns <= now && all.ev[i].ts_ns > now - 60 * NSEC_PER_SEC);
      if (i)
        assert_true (all.ev[i].ts_ns > all.ev[i - 1].ts_ns);
    }

  event_sub_free (s1);
  assert_int_equal (event_bus_subscriber_count (b), 1);
  event_bus_publish (b, EVENT_OOM, "c1", NULL, 0);
  assert_int_equal (c1.n, 3);
  assert_int_equal (all.n, 5);
  assert_int_equal (event_bus_stored_count (b), 5);

  /* the bus goes first: the subscription is detached, still freeable */
  event_bus_free (b);
  event_sub_free (sa);
  rec_clear (&all);
  rec_clear (&c1);
  remove_tmpdir (dir);
}

static void
test_replay (void **state UNUSED)
{
  char *dir = make_tmpdir ();
  struct event_bus *b = bus_open (dir, 500);
  struct rec seen = { 0 };
  struct event_sub *s;
  assert_int_equal (event_bus_subscribe (b, NULL, false, 0, 0, false, rec_fn, &seen, &s), 0);
  for (int i = 0; i < 6; i++)
    {
      char id[8];
      snprintf (id, sizeof id, "c%d", i % 2);
      event_bus_publish (b, EVENT_START_CONTAINER, id, NULL, 0);
    }
  assert_int_equal (seen.n, 6);
  int64_t sec, ts2 = seen.ev[2].ts_ns;
  int32_t nsec;
  time_to_timestamp (ts2, &sec, &nsec);

  /* strictly after event 2: events 3, 4, 5 */
  struct rec r = { 0 };
  struct event_sub *rs;
  assert_int_equal (event_bus_subscribe (b, NULL, true, sec, nsec, true, rec_fn, &r, &rs), 0);
  assert_null (rs);
  assert_int_equal (r.n, 3);
  for (size_t i = 0; i < 3; i++)
    assert_true (r.ev[i].ts_ns == seen.ev[3 + i].ts_ns);
  rec_clear (&r);

  /* with an id filter; 1 ns before event 2 includes it */
  int64_t s2;
  int32_t n2;
  time_to_timestamp (ts2 - 1, &s2, &n2);
  assert_int_equal (event_bus_subscribe (b, "c0", true, s2, n2, true, rec_fn, &r, &rs), 0);
  assert_int_equal (r.n, 2);
  assert_string_equal (r.ev[0].id, "c0");
  assert_true (r.ev[0].ts_ns == ts2);
  assert_true (r.ev[1].ts_ns == seen.ev[4].ts_ns);
  rec_clear (&r);

  /* a future timestamp replays nothing */
  assert_int_equal (event_bus_subscribe (b, NULL, true, sec + 3600, 0, true, rec_fn, &r, &rs), 0);
  assert_int_equal (r.n, 0);

  /* replay then live: no gap, no duplicate — even when the replayed
   * subscriber's callback publishes during the replay */
  r.publish_on_first = b;
  assert_int_equal (event_bus_subscribe (b, NULL, true, sec, nsec, false, rec_fn, &r, &rs), 0);
  assert_non_null (rs);
  r.publish_on_first = NULL;
  event_bus_publish (b, EVENT_PAUSE, "c9", NULL, 0);
  assert_int_equal (r.n, 5); /* 3 replayed, the nested one, then the live pause */
  assert_string_equal (r.ev[3].id, "nested");
  assert_string_equal (r.ev[4].id, "c9");
  assert_int_equal (seen.n, 8);
  assert_int_equal (event_bus_subscriber_count (b), 2);
  event_sub_free (rs);
  event_sub_free (s);
  assert_int_equal (event_bus_subscriber_count (b), 0);
  rec_clear (&r);
  rec_clear (&seen);
  event_bus_free (b);
  remove_tmpdir (dir);
}

static void
test_drop_subscriber (void **state UNUSED)
{
  char *dir = make_tmpdir ();
  struct event_bus *b = bus_open (dir, 500);
  struct rec a = { .fail_after = 2 }, c = { 0 }, d = { .fail_after = 1 };
  struct event_sub *sa, *sc, *sd;
  assert_int_equal (event_bus_subscribe (b, NULL, false, 0, 0, false, rec_fn, &a, &sa), 0);
  assert_int_equal (event_bus_subscribe (b, NULL, false, 0, 0, false, rec_fn, &c, &sc), 0);
  assert_int_equal (event_bus_subscribe (b, NULL, false, 0, 0, false, rec_fn, &d, &sd), 0);
  d.self = &sd; /* d unsubscribes itself from inside its callback */
  for (int i = 0; i < 4; i++)
    event_bus_publish (b, EVENT_OOM, "c1", NULL, 0);
  assert_int_equal (a.n, 2); /* returned -1 on the 2nd: dropped by the bus */
  assert_int_equal (d.n, 1);
  assert_null (sd);
  assert_int_equal (c.n, 4);
  assert_int_equal (event_bus_subscriber_count (b), 1);

  /* -1 during the replay: nothing registered */
  struct rec r = { .fail_after = 1 };
  struct event_sub *rs = (struct event_sub *) 1;
  assert_int_equal (event_bus_subscribe (b, NULL, true, 0, 0, false, rec_fn, &r, &rs), 0);
  assert_null (rs);
  assert_int_equal (r.n, 1);
  assert_int_equal (event_bus_subscriber_count (b), 1);
  event_sub_free (sc);
  rec_clear (&a);
  rec_clear (&c);
  rec_clear (&d);
  rec_clear (&r);
  event_bus_free (b);
  remove_tmpdir (dir);
}

static void
test_line_format (void **state UNUSED)
{
  /* a fixed zone without tzdata: US Pacific, daylight time in May */
  char *oldtz = getenv ("TZ") ? xstrdup (getenv ("TZ")) : NULL;
  setenv ("TZ", "PST8PDT,M3.2.0,M11.1.0", 1);
  tzset ();
  const int64_t t0 = 1496161983LL * NSEC_PER_SEC; /* 2017-05-30T16:33:03Z */
  struct
  {
    struct ctrd_event ev;
    const char *line;
  } cases[] = {
    { { "exit", "c1", "init", 137, t0 + 123456789 },
      "{\"id\":\"c1\",\"type\":\"exit\",\"timestamp\":\"2017-05-30T09:33:03.123456789-07:00\","
      "\"pid\":\"init\",\"status\":137}\n" },
    { { "start-container", "c1", "", 0, t0 },
      "{\"id\":\"c1\",\"type\":\"start-container\",\"timestamp\":\"2017-05-30T09:33:03-07:00\"}"
      "\n" },
    { { "exit", "c1", "e1", 0, t0 + 100000000 },
      "{\"id\":\"c1\",\"type\":\"exit\",\"timestamp\":\"2017-05-30T09:33:03.1-07:00\","
      "\"pid\":\"e1\"}\n" },
    { { "oom", "a<b>&\"c\\", "", 0, t0 - 180LL * 86400 * NSEC_PER_SEC + 5000 },
      "{\"id\":\"a\\u003cb\\u003e\\u0026\\\"c\\\\\",\"type\":\"oom\","
      "\"timestamp\":\"2016-12-01T08:33:03.000005-08:00\"}\n" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char *l = event_format_line (&cases[i].ev);
      assert_string_equal (l, cases[i].line);
      free (l);
    }

  /* the file holds exactly these bytes, and reads back to the same events */
  char *dir = make_tmpdir ();
  char *path = path_join (dir, "events.log");
  char *all = xstrdup ("");
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char *n = xasprintf ("%s%s", all, cases[i].line);
      free (all);
      all = n;
    }
  assert_int_equal (write_file (path, all, strlen (all), 0644, NULL), 0);
  struct event_bus *b = bus_open (dir, 0);
  assert_int_equal (event_bus_stored_count (b), ARRAY_SIZE (cases));
  char *again = slurp (path);
  assert_string_equal (again, all);
  free (again);
  struct rec r = { 0 };
  replay_all (b, &r);
  assert_int_equal (r.n, ARRAY_SIZE (cases));
  for (size_t i = 0; i < r.n; i++)
    {
      assert_string_equal (r.ev[i].id, cases[i].ev.id);
      assert_string_equal (r.ev[i].pid, cases[i].ev.pid);
      assert_int_equal (r.ev[i].status, cases[i].ev.status);
      assert_true (r.ev[i].ts_ns == cases[i].ev.ts_ns);
    }
  rec_clear (&r);

  /* a published event is appended as one line, as formatted */
  struct event_sub *s;
  assert_int_equal (event_bus_subscribe (b, NULL, false, 0, 0, false, rec_fn, &r, &s), 0);
  event_bus_publish (b, "exit", "c7", "init", 3);
  char *line = event_format_line (&r.ev[0]);
  char *expect = xasprintf ("%s%s", all, line);
  char *now = slurp (path);
  assert_string_equal (now, expect);
  assert_non_null (strstr (line, "\"pid\":\"init\",\"status\":3}\n"));
  free (now);
  free (expect);
  free (line);
  event_sub_free (s);
  rec_clear (&r);
  event_bus_free (b);
  free (all);
  free (path);
  remove_tmpdir (dir);

  if (oldtz)
    setenv ("TZ", oldtz, 1);
  else
    unsetenv ("TZ");
  free (oldtz);
  tzset ();
}

static void
test_corrupt_log (void **state UNUSED)
{
  char *dir = make_tmpdir ();
  char *path = path_join (dir, "events.log");
  const char *content =
      "{\"id\":\"a\",\"type\":\"start-container\",\"timestamp\":\"2017-05-30T09:13:03.5Z\"}\n"
      "this is not json\n"
      "{\"id\":\"b\",\"type\":\"exit\",\"timestamp\":\"2017-05-30T09:13:04Z\",\"pid\":\"init\","
      "\"status\":-1}\n"
      "{\"id\":\"x\",\"type\":\"exit\",\"timestamp\":\"2017-05-30T09:13:0\n" /* cut short */
      "\n"
      "{\"id\":\"c\",\"type\":\"exit\",\"timestamp\":\"2017-05-30T09:13:05+02:00\",\"status\":300}"
      "\n"
      "{\"id\":\"x\",\"type\":\"exit\",\"timestamp\":\"2017-05-30T09:13:06Z\",\"status\":\"1\"}\n"
      "{\"id\":\"x\",\"type\":\"exit\",\"timestamp\":\"yesterday\"}\n"
      "{\"id\":\"x\",\"type\":\"exit\",\"timestamp\":\"2017-05-30T09:13:06Z\"} trailing\n"
      "[1,2]\n"
      "{\"id\":7,\"type\":\"exit\",\"timestamp\":\"2017-05-30T09:13:06Z\"}\n"
      "{\"id\":\"d\",\"type\":\"oom\",\"timestamp\":\"2017-05-30T09:13:07Z\",\"extra\":1}\n"
      "{\"id\":\"e\",\"type\":\"exit\",\"timestamp\":\"2017-05-30T09:13:08Z\",\"status\":2}"; /* no
                                                                                                 \n
                                                                                               */
  assert_int_equal (write_file (path, content, strlen (content), 0644, NULL), 0);
  log_set_sink (count_sink);
  parse_warnings = 0;
  struct event_bus *b = bus_open (dir, 500);
  log_set_sink (NULL);
  assert_int_equal (parse_warnings, 7);
  struct rec r = { 0 };
  replay_all (b, &r);
  assert_int_equal (r.n, 5);
  const char *ids = "abcde";
  for (size_t i = 0; i < r.n; i++)
    {
      char id[2] = { ids[i], '\0' };
      assert_string_equal (r.ev[i].id, id);
    }
  assert_int_equal (r.ev[1].status, 255); /* legacy -1 */
  assert_int_equal (r.ev[2].status, 255); /* 300 */
  assert_int_equal (r.ev[4].status, 2);
  assert_true (r.ev[0].ts_ns == 1496135583LL * NSEC_PER_SEC + 500000000);
  assert_true (r.ev[2].ts_ns == (1496135585LL - 7200) * NSEC_PER_SEC);
  /* the file now holds exactly the good events, one per line */
  char *now = slurp (path);
  assert_int_equal (count_lines (now), 5);
  char *expect = xstrdup ("");
  for (size_t i = 0; i < r.n; i++)
    {
      char *l = event_format_line (&r.ev[i]);
      char *n = xasprintf ("%s%s", expect, l);
      free (l);
      free (expect);
      expect = n;
    }
  assert_string_equal (now, expect);
  free (now);
  free (expect);
  rec_clear (&r);
  event_bus_free (b);

  /* an empty or missing file is an empty log */
  assert_int_equal (write_file (path, "", 0, 0644, NULL), 0);
  b = bus_open (dir, 500);
  assert_int_equal (event_bus_stored_count (b), 0);
  event_bus_free (b);
  unlink (path);
  b = bus_open (dir, 500);
  assert_int_equal (event_bus_stored_count (b), 0);
  struct stat st;
  assert_int_equal (stat (path, &st), 0);
  event_bus_free (b);

  /* unreadable: a directory in its place is an error, not a crash */
  unlink (path);
  assert_int_equal (mkdir (path, 0755), 0);
  struct event_bus *bad = NULL;
  struct ctrd_error *err = NULL;
  assert_int_equal (event_bus_open (dir, 500, &bad, &err), -1);
  assert_non_null (err);
  assert_non_null (strstr (err->msg, "events.log"));
  ctrd_error_free (&err);
  free (path);
  remove_tmpdir (dir);
}

/* Publish n events with ids "<prefix><k>" (k from first). */
static void
publish_n (struct event_bus *b, int first, int n)
{
  for (int k = first; k < first + n; k++)
    {
      char id[16];
      snprintf (id, sizeof id, "e%d", k);
      event_bus_publish (b, EVENT_EXIT, id, "init", (uint32_t) (k % 256));
    }
}

/* The replayed window is exactly ids e<first>..e<last>, in order. */
static void
assert_window (struct event_bus *b, int first, int last)
{
  struct rec r = { 0 };
  replay_all (b, &r);
  assert_int_equal (r.n, (size_t) (last - first + 1));
  for (size_t i = 0; i < r.n; i++)
    {
      char id[16];
      snprintf (id, sizeof id, "e%d", first + (int) i);
      assert_string_equal (r.ev[i].id, id);
      if (i)
        assert_true (r.ev[i].ts_ns > r.ev[i - 1].ts_ns);
    }
  rec_clear (&r);
}

static void
test_retain_restart (void **state UNUSED)
{
  char *dir = make_tmpdir ();
  char *path = path_join (dir, "events.log");
  struct event_bus *b = bus_open (dir, 10);
  publish_n (b, 0, 25);
  assert_int_equal (event_bus_stored_count (b), 10);
  assert_window (b, 15, 24);
  char *data = slurp (path);
  assert_true (count_lines (data) >= 10 && count_lines (data) <= 20);
  free (data);
  event_bus_free (b);

  /* restart after restart: the window survives, nothing doubles */
  for (int round = 0; round < 3; round++)
    {
      b = bus_open (dir, 10);
      assert_int_equal (event_bus_stored_count (b), 10);
      assert_window (b, 15 + 3 * round, 24 + 3 * round);
      data = slurp (path);
      assert_int_equal (count_lines (data), 10); /* rewritten to exactly the window */
      free (data);
      publish_n (b, 25 + 3 * round, 3);
      assert_window (b, 18 + 3 * round, 27 + 3 * round);
      event_bus_free (b);
    }

  /* the file stays bounded however many events pass */
  b = bus_open (dir, 10);
  for (int k = 0; k < 1000; k++)
    {
      publish_n (b, 1000 + k, 1);
      if (k % 7 == 0)
        {
          data = slurp (path);
          assert_true (count_lines (data) <= 20);
          free (data);
        }
    }
  assert_window (b, 1990, 1999);
  event_bus_free (b);

  /* a smaller retain on restart keeps the newest; ≤ 0 keeps everything */
  b = bus_open (dir, 4);
  assert_window (b, 1996, 1999);
  event_bus_free (b);
  b = bus_open (dir, 0);
  publish_n (b, 2000, 2000);
  event_bus_free (b);
  b = bus_open (dir, -1);
  assert_int_equal (event_bus_stored_count (b), 2004);
  assert_window (b, 1996, 3999);
  event_bus_free (b);
  free (path);
  remove_tmpdir (dir);
}

static void
test_publish_speed (void **state UNUSED)
{
  char *dir = make_tmpdir ();
  struct event_bus *b = bus_open (dir, 500);
  struct rec r = { 0 };
  struct event_sub *s, *other;
  assert_int_equal (event_bus_subscribe (b, "e99999", false, 0, 0, false, rec_fn, &r, &s), 0);
  assert_int_equal (event_bus_subscribe (b, "nobody", false, 0, 0, false, rec_fn, &r, &other), 0);
  const int n = 100000;
  int64_t t0 = time_now_mono_ns ();
  publish_n (b, 0, n);
  int64_t dt = time_now_mono_ns () - t0;
  printf ("# %d publishes (retain 500, 2 subscribers, events.log on %s): %.1f ms, %.2f us each\n",
          n, dir, (double) dt / 1e6, (double) dt / 1e3 / n);
  assert_int_equal (r.n, 1);
  assert_int_equal (event_bus_stored_count (b), 500);
  /* generous bound (sanitizers, slow disks): 1 ms per event would be a bug */
  assert_true (dt < (int64_t) n * 100 * NSEC_PER_USEC);
  event_sub_free (s);
  event_sub_free (other);
  rec_clear (&r);
  event_bus_free (b);
  b = bus_open (dir, 500);
  assert_window (b, n - 500, n - 1);
  event_bus_free (b);
  remove_tmpdir (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_publish_filter),  cmocka_unit_test (test_replay),
    cmocka_unit_test (test_drop_subscriber), cmocka_unit_test (test_line_format),
    cmocka_unit_test (test_corrupt_log),     cmocka_unit_test (test_retain_restart),
    cmocka_unit_test (test_publish_speed),
  };
  return cmocka_run_group_tests_name ("events", tests, NULL, NULL);
}
