/* Unit tests of ctr's outputs from hand-built responses: tables, Go-style
 * JSON (the spec's examples byte for byte), events and watch lines,
 * checkpoints; --timestamp parsing. */
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

#include "api/api.pb-c.h"
#include "api/client.h"
#include "ctr/attach.h"
#include "ctr/containers.h"
#include "ctr/ctr.h"
#include "ctr/output.h"
#include "ctr/tests/ctr-fake.h"
#include "lib/util.h"

/* ---- listings, state, stats -------------------------------------------- */

static Types__Process *
mk_proc (const char *pid)
{
  Types__Process *p = xmalloc0 (sizeof *p);
  *p = (Types__Process) TYPES__PROCESS__INIT;
  p->pid = (char *) pid;
  return p;
}

static void
test_list_table_and_json (void **state)
{
  (void) state;
  Types__Process *p1 = mk_proc ("init"), *p2 = mk_proc ("e1"), *p3 = mk_proc ("init");
  Types__Process *pa[] = { p1, p2 }, *pb[] = { p3 };
  Types__Container c1 = TYPES__CONTAINER__INIT, c2 = TYPES__CONTAINER__INIT;
  c1.id = (char *) "zeta";
  c1.bundlepath = (char *) "/containers/a-rather-long-bundle-path";
  c1.status = (char *) "running";
  c1.processes = pa, c1.n_processes = 2;
  c2.id = (char *) "alpha";
  c2.bundlepath = (char *) "/b";
  c2.status = (char *) "stopped";
  c2.processes = pb, c2.n_processes = 1;
  Types__Container *cs[] = { &c1, &c2 };
  Types__StateResponse s = TYPES__STATE_RESPONSE__INIT;
  s.containers = cs, s.n_containers = 2;
  fk.resp = &s.base;
  struct result r = run_ctr ("containers", NULL);
  assert_int_equal (r.status, 0);
  assert_string_equal (fk.method, "State");
  assert_string_equal (REQ (Types__StateRequest)->id, "");
  cleanup_free char *want =
      xasprintf ("%-20s%-40s%-20s%s\n%-20s%-40s%-20s%s\n%-20s%-40s%-20s%s\n", "ID", "PATH",
                 "STATUS", "PROCESSES", "alpha", "/b", "stopped", "init", "zeta",
                 "/containers/a-rather-long-bundle-path", "running", "init,e1");
  assert_string_equal (r.out, want);
  result_free (&r);
  r = run_ctr ("containers", "list", "zeta", NULL);
  assert_string_equal (REQ (Types__StateRequest)->id, "zeta");
  result_free (&r);
  r = run_ctr ("containers", "zeta", NULL); /* unknown word = the id */
  assert_int_equal (r.status, 0);
  assert_string_equal (REQ (Types__StateRequest)->id, "zeta");
  result_free (&r);

  r = run_ctr ("containers", "--json", NULL);
  assert_int_equal (r.status, 0);
  const char *pre = "[{\"id\":\"alpha\",\"bundlePath\":\"/b\",\"processes\":[{\"pid\":"
                    "\"init\",\"terminal\":false,";
  assert_int_equal (strncmp (r.out, pre, strlen (pre)), 0);
  assert_non_null (strstr (r.out, "\"labels\":[],\"pids\":[],\"runtime\":\"\"}"));
  assert_int_equal (r.out[strlen (r.out) - 1], '\n');
  result_free (&r);
  free (p1), free (p2), free (p3);
}

static void
test_state_json_example (void **state)
{
  (void) state;
  /* docs/ctr.md's example, byte for byte */
  Types__User user = TYPES__USER__INIT;
  char *args[] = { (char *) "sh" }, *caps[] = { (char *) "CAP_KILL" };
  Types__Process p = TYPES__PROCESS__INIT;
  p.pid = (char *) "init";
  p.user = &user;
  p.args = args, p.n_args = 1;
  p.cwd = (char *) "/";
  p.systempid = 4321;
  p.stdin = (char *) "/tmp/ctr-1/stdin";
  p.stdout = (char *) "/tmp/ctr-1/stdout";
  p.stderr = (char *) "/tmp/ctr-1/stderr";
  p.capabilities = caps, p.n_capabilities = 1;
  Types__Process *ps[] = { &p };
  uint32_t pids[] = { 4321 };
  Types__Container c = TYPES__CONTAINER__INIT;
  c.id = (char *) "c1";
  c.bundlepath = (char *) "/b";
  c.processes = ps, c.n_processes = 1;
  c.status = (char *) "running";
  c.pids = pids, c.n_pids = 1;
  c.runtime = (char *) "runc";
  Types__Container *cs[] = { &c };
  Types__Machine m = TYPES__MACHINE__INIT;
  m.cpus = 2, m.memory = 1987;
  Types__StateResponse s = TYPES__STATE_RESPONSE__INIT;
  s.containers = cs, s.n_containers = 1;
  s.machine = &m;
  fk.resp = &s.base;
  const char *want =
      "{\"containers\":[{\"id\":\"c1\",\"bundlePath\":\"/b\",\"processes\":[{\"pid\":\"init\","
      "\"user\":{},\"args\":[\"sh\"],\"cwd\":\"/\",\"systemPid\":4321,\"stdin\":\"/tmp/ctr-1/"
      "stdin\",\"stdout\":\"/tmp/ctr-1/stdout\",\"stderr\":\"/tmp/ctr-1/stderr\","
      "\"capabilities\":[\"CAP_KILL\"]}],\"status\":\"running\",\"pids\":[4321],\"runtime\":"
      "\"runc\"}],\"machine\":{\"cpus\":2,\"memory\":1987}}";
  struct result r = run_ctr ("state", NULL);
  assert_int_equal (r.status, 0);
  assert_string_equal (r.out, want);
  result_free (&r);
  r = run_ctr ("containers", "state", "--json", "c1", NULL);
  assert_string_equal (r.out, want);
  assert_string_equal (REQ (Types__StateRequest)->id, "c1");
  result_free (&r);
}

static void
test_stats_json (void **state)
{
  (void) state;
  uint64_t percpu[] = { 100, 23 };
  Types__CpuUsage u = TYPES__CPU_USAGE__INIT;
  u.total_usage = 123, u.percpu_usage = percpu, u.n_percpu_usage = 2;
  u.usage_in_kernelmode = 10000000, u.usage_in_usermode = 20000000;
  Types__ThrottlingData th = TYPES__THROTTLING_DATA__INIT;
  Types__CpuStats cpu = TYPES__CPU_STATS__INIT;
  cpu.cpu_usage = &u, cpu.throttling_data = &th, cpu.system_usage = 9876543210000000ULL;
  Types__MemoryStats__StatsEntry e1 = TYPES__MEMORY_STATS__STATS_ENTRY__INIT,
                                 e2 = TYPES__MEMORY_STATS__STATS_ENTRY__INIT;
  e1.key = (char *) "rss", e1.value = 5;
  e2.key = (char *) "active_anon", e2.value = 7;
  Types__MemoryStats__StatsEntry *es[] = { &e1, &e2 };
  Types__MemoryData md = TYPES__MEMORY_DATA__INIT;
  md.usage = 1048576;
  Types__MemoryStats mem = TYPES__MEMORY_STATS__INIT;
  mem.cache = 4096, mem.usage = &md, mem.stats = es, mem.n_stats = 2;
  Types__PidsStats pids = TYPES__PIDS_STATS__INIT;
  pids.current = 1;
  Types__CgroupStats cg = TYPES__CGROUP_STATS__INIT;
  cg.cpu_stats = &cpu, cg.memory_stats = &mem, cg.pids_stats = &pids;
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  ts.seconds = 1496160783, ts.nanos = 5000000;
  Types__StatsResponse s = TYPES__STATS_RESPONSE__INIT;
  s.cgroup_stats = &cg, s.timestamp = &ts;
  fk.resp = &s.base;
  struct result r = run_ctr ("containers", "stats", "--json", "c1", NULL);
  assert_int_equal (r.status, 0);
  assert_string_equal (fk.method, "Stats");
  assert_string_equal (REQ (Types__StatsRequest)->id, "c1");
  assert_string_equal (
      r.out, "{\"cgroup_stats\":{\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":123,"
             "\"percpu_usage\":[100,23],\"usage_in_kernelmode\":10000000,\"usage_in_usermode\":"
             "20000000},\"throttling_data\":{},\"system_usage\":9876543210000000},"
             "\"memory_stats\":{\"cache\":4096,\"usage\":{\"usage\":1048576},\"stats\":"
             "{\"active_anon\":7,\"rss\":5}},\"pids_stats\":{\"current\":1}},\"timestamp\":"
             "{\"seconds\":1496160783,\"nanos\":5000000}}");
  result_free (&r);
  r = run_ctr ("containers", "stats", "--json", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: container id cannot be empty\n");
  result_free (&r);
  /* the default is the table: State, then two Stats of the id a second
   * apart (the same canned answer twice: no CPU time passed, "--") */
  fk.ncalls = 0;
  r = run_ctr ("containers", "stats", "c1", NULL);
  assert_int_equal (r.status, 0);
  assert_int_equal (fk.ncalls, 4);
  assert_string_equal (fk.method, "Stats");
  assert_string_equal (REQ (Types__StatsRequest)->id, "c1");
  assert_string_equal (r.out, "CONTAINER           CPU %               MEM USAGE / LIMIT   MEM %"
                              "               BLOCK I/O           PIDS\n"
                              "c1                  --                  1MiB / 0B           --"
                              "                  0B / 0B             1\n");
  result_free (&r);
}

/* The table's figures from two samples (docker stats' formulas). */
static void
test_stats_table (void **state)
{
  (void) state;
  struct stats_sample prev[2] = {
    { .id = "a", .valid = true, .cpu = 1000000000, .system = 40000000000ULL }
  };
  struct stats_sample cur[3] = {
    /* 0.5 s of CPU over 4 s of host CPU time on 4 CPUs: 50% */
    { .id = "a",
      .valid = true,
      .cpu = 1500000000,
      .system = 44000000000ULL,
      .mem = 3 << 20,
      .mem_limit = 64 << 20,
      .blk_read = 12345,
      .blk_write = 2500000,
      .pids = 3 },
    /* no previous sample; no limit: the machine's memory */
    { .id = "b", .valid = true, .mem = 1536, .mem_limit = UINT64_MAX, .pids = 1 },
    /* its Stats call failed: left out */
    { .id = "c" },
  };
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);
  stats_write_table (f, prev, cur, 3, 4, 8ULL << 30);
  fclose (f);
  assert_string_equal (buf, "CONTAINER           CPU %               MEM USAGE / LIMIT   MEM %"
                            "               BLOCK I/O           PIDS\n"
                            "a                   50.00%              3MiB / 64MiB        4.69%"
                            "               12.3kB / 2.5MB      3\n"
                            "b                   --                  1.5KiB / 8GiB       0.00%"
                            "               0B / 0B             1\n");
  free (buf);
  char b[32];
  stats_format_bytes (1023, b, sizeof b);
  assert_string_equal (b, "1023B");
  stats_format_bytes (1.5 * 1024 * 1024 * 1024, b, sizeof b);
  assert_string_equal (b, "1.5GiB");
  stats_format_size (999, b, sizeof b);
  assert_string_equal (b, "999B");
  stats_format_size (1234567, b, sizeof b);
  assert_string_equal (b, "1.23MB");
}

static Types__Event *
mk_event (const char *type, const char *id, const char *pid, uint32_t status, int64_t sec,
          int32_t nsec)
{
  Types__Event *e = xmalloc0 (sizeof *e);
  *e = (Types__Event) TYPES__EVENT__INIT;
  e->type = (char *) type, e->id = (char *) id, e->pid = (char *) pid, e->status = status;
  e->timestamp = xmalloc0 (sizeof *e->timestamp);
  *e->timestamp = (Google__Protobuf__Timestamp) GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  e->timestamp->seconds = sec, e->timestamp->nanos = nsec;
  return e;
}

static void
free_events (ProtobufCMessage **ev, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (((Types__Event *) ev[i])->timestamp);
      free (ev[i]);
    }
}

static void
test_events_table (void **state)
{
  (void) state;
  ProtobufCMessage *ev[] = {
    &mk_event ("start-container", "c1", "", 0, 1496160783, 123456789)->base,
    &mk_event ("exit", "c1", "init", 137, 1496160784, 500000000)->base,
  };
  fk.events = ev, fk.nevents = 2;
  struct result r = run_ctr ("events", "--timestamp", "2017-05-30T16:13:03.5Z", NULL);
  /* the fake stream ends after its events: for a follower that is an error */
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: containerd ended the event stream\n");
  assert_string_equal (fk.method, "Events");
  Types__EventsRequest *q = REQ (Types__EventsRequest);
  assert_non_null (q->timestamp);
  assert_int_equal (q->timestamp->seconds, 1496160783);
  assert_int_equal (q->timestamp->nanos, 500000000);
  assert_string_equal (
      r.out,
      "TIME                           TYPE                           ID                      "
      "       PID                            STATUS\n"
      "2017-05-30T16:13:03.123456789Z start-container                c1                      "
      "                                      0\n"
      "2017-05-30T16:13:04.5Z         exit                           c1                      "
      "       init                           137\n");
  result_free (&r);

  /* no --timestamp: the zero time (no replay); offsets accepted */
  fk.next_event = 0;
  r = run_ctr ("events", NULL);
  q = REQ (Types__EventsRequest);
  assert_int_equal (q->timestamp->seconds, -62135596800LL);
  assert_int_equal (q->timestamp->nanos, 0);
  result_free (&r);
  fk.next_event = 0;
  r = run_ctr ("events", "-t", "2017-05-30T18:13:03+02:00", NULL);
  assert_int_equal (REQ (Types__EventsRequest)->timestamp->seconds, 1496160783);
  result_free (&r);

  fk.next_event = 0;
  r = run_ctr ("events", "--json", NULL);
  assert_string_equal (r.out,
                       "{\"type\":\"start-container\",\"id\":\"c1\",\"pid\":\"\",\"status\":0,"
                       "\"timestamp\":\"2017-05-30T16:13:03.123456789Z\"}\n"
                       "{\"type\":\"exit\",\"id\":\"c1\",\"pid\":\"init\",\"status\":137,"
                       "\"timestamp\":\"2017-05-30T16:13:04.5Z\"}\n");
  result_free (&r);

  int n = fk.ncalls;
  const char *bad[] = { "yesterday", "2017-05-30", "2017-05-30T16:13:03", "2017-13-01T00:00:00Z" };
  for (size_t i = 0; i < 4; i++)
    {
      r = run_ctr ("events", "--timestamp", bad[i], NULL);
      assert_int_equal (r.status, 1);
      cleanup_free char *want = xasprintf ("ctr: parsing time \"%s\" as RFC 3339", bad[i]);
      assert_int_equal (strncmp (r.err, want, strlen (want)), 0);
      result_free (&r);
    }
  assert_int_equal (fk.ncalls, n);
  free_events (ev, 2);
}

static void
test_watch (void **state)
{
  (void) state;
  ProtobufCMessage *ev[] = {
    &mk_event ("start-container", "other", "", 0, 10, 0)->base,
    &mk_event ("exit", "c1", "init", 0, 11, 5)->base,
    &mk_event ("exit", "c1", "e1", 2, 12, 0)->base,
  };
  fk.events = ev, fk.nevents = 3;
  struct result r = run_ctr ("containers", "watch", "c1", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: containerd ended the event stream\n");
  assert_string_equal (REQ (Types__EventsRequest)->id, "c1");
  /* every matching event, not just the first (docs/ctr.md §5) */
  assert_string_equal (r.out, "&types.Event{Type:\"exit\", Id:\"c1\", Status:0x0, Pid:\"init\", "
                              "Timestamp:&timestamp.Timestamp{Seconds:11, Nanos:5}}\n"
                              "&types.Event{Type:\"exit\", Id:\"c1\", Status:0x2, Pid:\"e1\", "
                              "Timestamp:&timestamp.Timestamp{Seconds:12, Nanos:0}}\n");
  result_free (&r);
  fk.next_event = 0;
  r = run_ctr ("containers", "watch", "--json", NULL);
  assert_int_equal (r.status, 1);
  assert_int_equal (strncmp (r.out, "{\"type\":\"start-container\",\"id\":\"other\"", 38), 0);
  result_free (&r);
  free_events (ev, 3);
}

static void
test_checkpoints (void **state)
{
  (void) state;
  Types__Checkpoint a = TYPES__CHECKPOINT__INIT, b = TYPES__CHECKPOINT__INIT;
  a.name = (char *) "cp1", a.tcp = true, a.unixsockets = true;
  b.name = (char *) "cp2", b.shell = true;
  Types__Checkpoint *cps[] = { &a, &b };
  Types__ListCheckpointResponse l = TYPES__LIST_CHECKPOINT_RESPONSE__INIT;
  l.checkpoints = cps, l.n_checkpoints = 2;
  fk.resp = &l.base;
  struct result r = run_ctr ("checkpoints", "--checkpoint-dir", "/cp", "c1", NULL);
  assert_int_equal (r.status, 0);
  assert_string_equal (fk.method, "ListCheckpoint");
  assert_string_equal (REQ (Types__ListCheckpointRequest)->checkpointdir, "/cp");
  assert_string_equal (r.out, "NAME                TCP                 UNIX SOCKETS        SHELL\n"
                              "cp1                 true                true                false\n"
                              "cp2                 false               false               true\n");
  result_free (&r);
  r = run_ctr ("checkpoints", "list", "--json", "c1", NULL);
  assert_string_equal (r.out,
                       "[{\"name\":\"cp1\",\"exit\":false,\"tcp\":true,\"unixSockets\":true,"
                       "\"shell\":false,\"emptyNS\":[]},{\"name\":\"cp2\",\"exit\":false,"
                       "\"tcp\":false,\"unixSockets\":false,\"shell\":true,\"emptyNS\":[]}]\n");
  result_free (&r);
  r = run_ctr ("checkpoints", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: container id cannot be empty\n");
  result_free (&r);

  r = run_ctr ("checkpoints", "create", "--tcp", "--unix-sockets", "--exit", "--shell",
               "--checkpoint-dir", "/d", "--empty-ns", "network", "--empty-ns", "ipc", "c1", "cp3",
               NULL);
  assert_int_equal (r.status, 0);
  assert_string_equal (fk.method, "CreateCheckpoint");
  Types__CreateCheckpointRequest *q = REQ (Types__CreateCheckpointRequest);
  assert_string_equal (q->id, "c1");
  assert_string_equal (q->checkpointdir, "/d");
  assert_non_null (q->checkpoint);
  assert_string_equal (q->checkpoint->name, "cp3");
  assert_true (q->checkpoint->tcp && q->checkpoint->unixsockets && q->checkpoint->exit
               && q->checkpoint->shell);
  assert_int_equal (q->checkpoint->n_emptyns, 2);
  assert_string_equal (q->checkpoint->emptyns[1], "ipc");
  result_free (&r);
  r = run_ctr ("checkpoints", "create", "c1", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: checkpoint name cannot be empty\n");
  result_free (&r);
  r = run_ctr ("checkpoints", "create", NULL);
  assert_string_equal (r.err, "ctr: container id cannot be empty\n");
  result_free (&r);

  r = run_ctr ("checkpoints", "delete", "c1", "cp3", NULL);
  assert_int_equal (r.status, 0);
  assert_string_equal (fk.method, "DeleteCheckpoint");
  assert_string_equal (REQ (Types__DeleteCheckpointRequest)->name, "cp3");
  assert_string_equal (REQ (Types__DeleteCheckpointRequest)->checkpointdir, "");
  result_free (&r);
  r = run_ctr ("checkpoints", "delete", "c1", NULL);
  assert_string_equal (r.err, "ctr: checkpoint name cannot be empty\n");
  result_free (&r);
}

static void
test_table_writer (void **state)
{
  (void) state;
  char *buf = NULL;
  size_t len;
  FILE *f = open_memstream (&buf, &len);
  struct table *t = table_new (5, 2);
  const char *r1[] = { "a", "bbbbbb", "c" }, *r2[] = { "ééé", "d", "last-unpadded" };
  table_add (t, 3, r1);
  table_add (t, 3, r2);
  table_write (t, f);
  table_free (t);
  fclose (f);
  /* widths in runes: col 0 max(5, 3+2) = 5, col 1 max(5, 6+2) = 8 */
  assert_string_equal (buf, "a    bbbbbb  c\nééé  d       last-unpadded\n");
  free (buf);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup (test_list_table_and_json, reset),
    cmocka_unit_test_setup (test_state_json_example, reset),
    cmocka_unit_test_setup (test_stats_json, reset),
    cmocka_unit_test_setup (test_stats_table, reset),
    cmocka_unit_test_setup (test_events_table, reset),
    cmocka_unit_test_setup (test_watch, reset),
    cmocka_unit_test_setup (test_checkpoints, reset),
    cmocka_unit_test_setup (test_table_writer, reset),
  };
  return cmocka_run_group_tests (tests, NULL, reset);
}
