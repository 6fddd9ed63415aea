/* Unit tests for the UpdateContainer, checkpoint and Stats handlers.
 *
 * TEST DOUBLES: the recording fake of api/server.h's calls (fake-call.h;
 * each call must be finished exactly once), and the
 * container's OCI runtime is a recording shell script, so that every
 * request field can be followed to the runtime's argv/stdin without a
 * container. The real runtime, CRIU and gRPC paths are covered by
 * integration/test-ops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api.pb-c.h"
#include "api/server.h"
#include "lib/util.h"
#include "lib/tests/testutil.h"
#include "runtime/internal.h"
#include "supervisor/api-handlers.h"
#include "supervisor/daemon.h"
#include "supervisor/tests/fake-call.h"

static struct test_fake_runtime fr; /* the recording fake runtime */
static sd_event *loop;
static struct daemon d;
static char events[256];

static void
record_emit (void *data, const char *type, const char *id, const char *pid, uint32_t status)
{
  (void) data;
  (void) pid;
  (void) status;
  size_t l = strlen (events);
  snprintf (events + l, sizeof events - l, "%s:%s;", type, id);
}

/* Run the loop until the call is finished (runtime jobs complete from it). */
static void
finish (struct api_call *call)
{
  while (call->finished == 0)
    assert_true (sd_event_run (loop, 10 * 1000 * 1000) >= 0);
  assert_int_equal (call->finished, 1);
}

static struct container *
add_container (const char *id)
{
  struct container *c = container_alloc (d.rt, id);
  c->runtime_bin = xstrdup (fr.bin);
  c->bundle = path_join (test_dir, "bundle");
  c->state = CONTAINER_RUNNING;
  process_new (c, "init")->state = PROCESS_RUNNING;
  runtime_table_add (d.rt, c);
  return c;
}

static int
setup (void **state)
{
  (void) state;
  assert_true (sd_event_new (&loop) >= 0);
  test_fake_runtime (&fr, test_dir, NULL);
  struct runtime_config cfg = {
    .loop = loop, .state_dir = test_dir, .shim = "shim", .runtime = "runc", .emit = record_emit
  };
  d = (struct daemon){ .loop = loop, .rt = runtime_new (&cfg) };
  events[0] = '\0';
  return 0;
}

static int
teardown (void **state)
{
  (void) state;
  struct container *c;
  while ((c = runtime_next (d.rt, NULL)))
    {
      runtime_table_remove (d.rt, c);
      container_free (c);
    }
  runtime_free (d.rt);
  sd_event_unref (loop);
  test_fake_runtime_free (&fr);
  return 0;
}

static void
test_update_status (void **state)
{
  (void) state;
  add_container ("u1");
  Types__UpdateContainerRequest req = TYPES__UPDATE_CONTAINER_REQUEST__INIT;
  struct api_call call = { 0 };
  req.id = (char *) "nope";
  req.status = (char *) "paused";
  api_update_handle (&call, &req.base, &d);
  assert_int_equal (call.finished, 1);
  assert_int_equal (call.code, GRPC_NOT_FOUND);
  assert_string_equal (call.msg, "containerd: container not found");

  req.id = (char *) "u1";
  req.status = (char *) "frozen";
  call = (struct api_call){ 0 };
  api_update_handle (&call, &req.base, &d);
  assert_int_equal (call.finished, 1);
  assert_string_equal (call.msg, "containerd: unknown container status ");

  /* status wins over resources (docs/api.md) */
  Types__UpdateResource res = TYPES__UPDATE_RESOURCE__INIT;
  res.memorylimit = 1 << 20;
  req.resources = &res;
  req.status = (char *) "paused";
  call = (struct api_call){ 0 };
  api_update_handle (&call, &req.base, &d);
  assert_int_equal (call.finished, 0); /* answered from the job's completion */
  finish (&call);
  assert_int_equal (call.code, 0);
  req.status = (char *) "running";
  call = (struct api_call){ 0 };
  api_update_handle (&call, &req.base, &d);
  finish (&call);
  assert_string_equal (events, "pause:u1;resume:u1;");
  cleanup_free char *argv = test_slurp (fr.calls);
  assert_string_equal (argv, "pause u1\nresume u1\n");
}

static void
test_update_fields (void **state)
{
  (void) state;
  add_container ("u2");
  Types__UpdateContainerRequest req = TYPES__UPDATE_CONTAINER_REQUEST__INIT;
  Types__UpdateResource res = TYPES__UPDATE_RESOURCE__INIT;
  req.id = (char *) "u2";
  req.resources = &res;
  struct api_call call = { 0 };
  /* nothing given: answered at once, no runtime call */
  api_update_handle (&call, &req.base, &d);
  assert_int_equal (call.finished, 1);
  assert_int_equal (call.code, 0);
  assert_int_equal (access (fr.calls, F_OK), -1);

  /* every field the runtime can update, with distinct values */
  res.blkioweight = 0; /* checked against the cgroup; covered elsewhere */
  res.cpushares = 2;
  res.cpuperiod = 3;
  res.cpuquota = 4;
  res.cpusetcpus = (char *) "5";
  res.cpusetmems = (char *) "6";
  res.memorylimit = 7;
  res.memoryswap = 8;
  res.memoryreservation = 9;
  res.kernelmemorylimit = 10;
  res.kerneltcpmemorylimit = 11;
  res.pidslimit = 18;
  res.cpurealtimeperiod = 19;
  res.cpurealtimeruntime = 20;
  call = (struct api_call){ 0 };
  api_update_handle (&call, &req.base, &d);
  finish (&call);
  assert_int_equal (call.code, 0);
  cleanup_free char *argv = test_slurp (fr.calls);
  assert_string_equal (argv, "update -r - u2\n");
  cleanup_free char *doc = test_slurp (fr.stdin_log);
  assert_string_equal (doc, "{\"memory\":{\"limit\":7,\"reservation\":9,\"swap\":8,\"kernel\":10,"
                            "\"kernelTCP\":11},\"cpu\":{\"shares\":2,\"quota\":4,\"period\":3,"
                            "\"realtimeRuntime\":20,\"realtimePeriod\":19,\"cpus\":\"5\","
                            "\"mems\":\"6\"},\"pids\":{\"limit\":18}}\n");

  /* device lists cannot be updated: refused, nothing run */
  Types__ThrottleDevice td = TYPES__THROTTLE_DEVICE__INIT;
  Types__ThrottleDevice *tds[] = { &td };
  Types__UpdateResource dev = TYPES__UPDATE_RESOURCE__INIT;
  dev.n_blkiothrottlereadbpsdevice = 1;
  dev.blkiothrottlereadbpsdevice = tds;
  req.resources = &dev;
  call = (struct api_call){ 0 };
  api_update_handle (&call, &req.base, &d);
  assert_int_equal (call.finished, 1);
  assert_int_equal (call.code, GRPC_UNIMPLEMENTED);
}

static void
test_checkpoint_handlers (void **state)
{
  (void) state;
  add_container ("k1");
  Types__CreateCheckpointRequest creq = TYPES__CREATE_CHECKPOINT_REQUEST__INIT;
  Types__Checkpoint cp = TYPES__CHECKPOINT__INIT;
  char *ns[] = { (char *) "network", (char *) "uts" };
  struct api_call call = { 0 };
  creq.id = (char *) "k1";
  api_checkpoint_create_handle (&call, &creq.base, &d);
  assert_int_equal (call.code, GRPC_INVALID_ARGUMENT); /* no checkpoint message */
  cp.name = (char *) "c1";
  cp.exit = true;
  cp.shell = true;
  cp.n_emptyns = 2;
  cp.emptyns = ns;
  creq.checkpoint = &cp;
  call = (struct api_call){ 0 };
  api_checkpoint_create_handle (&call, &creq.base, &d);
  finish (&call);
  assert_int_equal (call.code, 0);
  cleanup_free char *argv = test_slurp (fr.calls);
  cleanup_free char *want =
      xasprintf ("checkpoint --image-path %s/bundle/checkpoints/c1 --work-path "
                 "%s/bundle/checkpoints/c1/criu.work --shell-job --empty-ns network "
                 "--empty-ns uts k1\n",
                 test_dir, test_dir);
  assert_string_equal (argv, want);

  /* List: name, tcp, unixSockets, shell only (docs/api.md), via the wire format */
  Types__ListCheckpointRequest lreq = TYPES__LIST_CHECKPOINT_REQUEST__INIT;
  lreq.id = (char *) "nope";
  call = (struct api_call){ 0 };
  api_checkpoint_list_handle (&call, &lreq.base, &d);
  assert_int_equal (call.code, GRPC_NOT_FOUND);
  assert_string_equal (call.msg, "no such containers");
  lreq.id = (char *) "k1";
  call = (struct api_call){ 0 };
  api_checkpoint_list_handle (&call, &lreq.base, &d);
  assert_int_equal (call.finished, 1);
  assert_int_equal (call.code, 0);
  Types__ListCheckpointResponse *l =
      types__list_checkpoint_response__unpack (NULL, call.reply_len, call.reply);
  assert_non_null (l);
  assert_int_equal (l->n_checkpoints, 1);
  assert_string_equal (l->checkpoints[0]->name, "c1");
  assert_true (l->checkpoints[0]->shell);
  assert_false (l->checkpoints[0]->exit);
  assert_int_equal (l->checkpoints[0]->n_emptyns, 0);
  types__list_checkpoint_response__free_unpacked (l, NULL);

  /* Delete: empty name first, then the container, then the name's shape */
  Types__DeleteCheckpointRequest dreq = TYPES__DELETE_CHECKPOINT_REQUEST__INIT;
  dreq.id = (char *) "nope";
  call = (struct api_call){ 0 };
  api_checkpoint_delete_handle (&call, &dreq.base, &d);
  assert_string_equal (call.msg, "checkpoint name cannot be empty");
  dreq.name = (char *) "c1";
  call = (struct api_call){ 0 };
  api_checkpoint_delete_handle (&call, &dreq.base, &d);
  assert_string_equal (call.msg, "containerd: container not found");
  dreq.id = (char *) "k1";
  dreq.name = (char *) "../../x";
  call = (struct api_call){ 0 };
  api_checkpoint_delete_handle (&call, &dreq.base, &d);
  assert_int_equal (call.code, GRPC_INVALID_ARGUMENT);
  dreq.name = (char *) "c1";
  call = (struct api_call){ 0 };
  api_checkpoint_delete_handle (&call, &dreq.base, &d);
  assert_int_equal (call.code, 0);
  cleanup_free char *gone = path_join (test_dir, "bundle/checkpoints/c1");
  assert_int_equal (access (gone, F_OK), -1);
}

static void
test_stats_errors (void **state)
{
  (void) state;
  struct container *c = add_container ("s1");
  Types__StatsRequest req = TYPES__STATS_REQUEST__INIT;
  struct api_call call = { 0 };
  req.id = (char *) "nope";
  api_stats_handle (&call, &req.base, &d);
  assert_int_equal (call.finished, 1);
  assert_string_equal (call.msg, "containerd: container not found");
  req.id = (char *) "s1";
  c->init->state = PROCESS_EXITED;
  call = (struct api_call){ 0 };
  api_stats_handle (&call, &req.base, &d);
  assert_int_equal (call.finished, 1);
  assert_int_equal (call.code, GRPC_FAILED_PRECONDITION);
  /* a live pid: this test process's own cgroups */
  c->init->state = PROCESS_RUNNING;
  c->init->pid = getpid ();
  call = (struct api_call){ 0 };
  api_stats_handle (&call, &req.base, &d);
  assert_int_equal (call.finished, 1);
  assert_int_equal (call.code, 0);
  Types__StatsResponse *s = types__stats_response__unpack (NULL, call.reply_len, call.reply);
  assert_non_null (s);
  assert_non_null (s->timestamp);
  assert_true (s->timestamp->seconds > 1500000000);
  assert_non_null (s->cgroup_stats);
  assert_non_null (s->cgroup_stats->cpu_stats);
  types__stats_response__free_unpacked (s, NULL);
}

int
main (void)
{
  test_block_sigchld (); /* sd-event child sources */
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_update_status, setup, teardown),
    cmocka_unit_test_setup_teardown (test_update_fields, setup, teardown),
    cmocka_unit_test_setup_teardown (test_checkpoint_handlers, setup, teardown),
    cmocka_unit_test_setup_teardown (test_stats_errors, setup, teardown),
  };
  return cmocka_run_group_tests_name ("api-ops", tests, test_dir_setup, test_dir_teardown);
}
