/* Unit tests for runtime/ops: the update document, checkpoint config/argv,
 * name checks, checkpoint listing and deletion on a real directory, and the
 * asynchronous job plumbing (argv order, stdin, events, one operation per
 * container, a container that goes away mid-job).
 *
 * The job tests use a recording fake runtime (a shell script): they check
 * what ctrd sends and how it reacts to success and failure, which needs no
 * container. The real runc/CRIU paths are covered by integration/test-ops. */
#include <errno.h>
#include <fcntl.h>
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

#include "lib/util.h"
#include "lib/tests/testutil.h"
#include "runtime/internal.h"
#include "runtime/ops.h"

static void
test_update_json (void **state)
{
  (void) state;
  struct ops_resources r = { 0 };
  assert_true (ops_resources_empty (&r));
  cleanup_free char *empty = ops_update_json (&r, NULL);
  assert_string_equal (empty, "{}\n");

  r.memory_limit = 64 << 20;
  r.memory_swap = UINT64_MAX; /* Docker's -1: unlimited */
  r.memory_reservation = 32 << 20;
  r.kernel_memory = 1;
  r.kernel_tcp_memory = 2;
  r.cpu_shares = 512;
  r.cpu_quota = 50000;
  r.cpu_period = 100000;
  r.cpu_rt_runtime = 950;
  r.cpu_rt_period = 1000;
  r.cpuset_cpus = "0-1";
  r.cpuset_mems = "0";
  r.pids_limit = 42;
  r.blkio_weight = 500;
  assert_false (ops_resources_empty (&r));
  cleanup_free char *all = ops_update_json (&r, NULL);
  assert_string_equal (all, "{\"memory\":{\"limit\":67108864,\"reservation\":33554432,\"swap\":-1,"
                            "\"kernel\":1,\"kernelTCP\":2},\"cpu\":{\"shares\":512,\"quota\":50000,"
                            "\"period\":100000,\"realtimeRuntime\":950,\"realtimePeriod\":1000,"
                            "\"cpus\":\"0-1\",\"mems\":\"0\"},\"pids\":{\"limit\":42},"
                            "\"blockIO\":{\"weight\":500}}\n");

  /* only what was given, sections omitted when empty */
  struct ops_resources one = { .pids_limit = 7 };
  cleanup_free char *p = ops_update_json (&one, NULL);
  assert_string_equal (p, "{\"pids\":{\"limit\":7}}\n");
  struct ops_resources cpus = { .cpuset_cpus = "0", .cpuset_mems = "" };
  cleanup_free char *c = ops_update_json (&cpus, NULL);
  assert_string_equal (c, "{\"cpu\":{\"cpus\":\"0\"}}\n");
}

static void
test_update_json_errors (void **state)
{
  (void) state;
  struct ctrd_error *err = NULL;
  struct ops_resources w = { .blkio_weight = 5 };
  assert_null (ops_update_json (&w, &err));
  assert_int_equal (ctrd_error_code (err), GRPC_INVALID_ARGUMENT);
  assert_non_null (strstr (err->msg, "blkioWeight 5 is out of range"));
  ctrd_error_free (&err);
  w.blkio_weight = 1001;
  assert_null (ops_update_json (&w, &err));
  ctrd_error_free (&err);
  /* the original truncated to uint16: 65536+500 must not become 500 */
  w.blkio_weight = 65536 + 500;
  assert_null (ops_update_json (&w, &err));
  ctrd_error_free (&err);

  struct ops_resources leaf = { .blkio_leaf_weight = 100 };
  assert_false (ops_resources_empty (&leaf));
  assert_null (ops_update_json (&leaf, &err));
  assert_int_equal (ctrd_error_code (err), GRPC_UNIMPLEMENTED);
  assert_non_null (strstr (err->msg, "blkioLeafWeight"));
  ctrd_error_free (&err);
  struct ops_resources dev = { .memory_limit = 1 << 20, .n_blkio_devices = 1 };
  assert_null (ops_update_json (&dev, &err));
  assert_int_equal (ctrd_error_code (err), GRPC_UNIMPLEMENTED);
  ctrd_error_free (&err);
}

static void
test_checkpoint_config_and_argv (void **state)
{
  (void) state;
  setenv ("TZ", "UTC", 1);
  tzset ();
  char *const ns[] = { (char *) "network", (char *) "ipc", NULL };
  struct ops_checkpoint cp = { .name = "cp1", .tcp = true, .unix_sockets = true, .empty_ns = ns };
  /* 2017-05-30T09:13:03.1234Z */
  cleanup_free char *cfg = ops_checkpoint_config (&cp, 1496135583123400000LL);
  assert_string_equal (cfg, "{\"created\":\"2017-05-30T09:13:03.1234Z\",\"name\":\"cp1\","
                            "\"tcp\":true,\"unixSockets\":true,\"shell\":false,\"exit\":false,"
                            "\"emptyNS\":[\"network\",\"ipc\"]}\n");
  struct ops_checkpoint plain = { .name = "x", .exit = true, .shell = true };
  cleanup_free char *cfg2 = ops_checkpoint_config (&plain, 1496135583000000000LL);
  assert_string_equal (cfg2, "{\"created\":\"2017-05-30T09:13:03Z\",\"name\":\"x\",\"tcp\":false,"
                             "\"unixSockets\":false,\"shell\":true,\"exit\":true}\n");

  cleanup_strv char **a = ops_checkpoint_sub ("/c/cp1", &cp, "ctr1");
  const char *want[] = { "checkpoint",
                         "--image-path",
                         "/c/cp1",
                         "--work-path",
                         "/c/cp1/criu.work",
                         "--leave-running",
                         "--tcp-established",
                         "--ext-unix-sk",
                         "--empty-ns",
                         "network",
                         "--empty-ns",
                         "ipc",
                         "ctr1",
                         NULL };
  for (size_t i = 0; want[i]; i++)
    assert_string_equal (a[i], want[i]);
  assert_null (a[ARRAY_SIZE (want) - 1]);
  cleanup_strv char **b = ops_checkpoint_sub ("/c/x", &plain, "ctr1");
  const char *want2[] = { "checkpoint",     "--image-path", "/c/x", "--work-path",
                          "/c/x/criu.work", "--shell-job",  "ctr1", NULL };
  for (size_t i = 0; want2[i]; i++)
    assert_string_equal (b[i], want2[i]);
  assert_null (b[ARRAY_SIZE (want2) - 1]);
}

static void
test_checkpoint_name (void **state)
{
  (void) state;
  struct ctrd_error *err = NULL;
  assert_int_equal (ops_checkpoint_name_check ("cp-1.v2", NULL), 0);
  assert_int_equal (ops_checkpoint_name_check ("", &err), -1);
  assert_string_equal (err->msg, "checkpoint name cannot be empty");
  ctrd_error_free (&err);
  const char *bad[] = { "..", ".", "../x", "a/b", "/abs", "-x", "a\nb", NULL };
  for (size_t i = 0; bad[i]; i++)
    {
      assert_int_equal (ops_checkpoint_name_check (bad[i], &err), -1);
      assert_int_equal (ctrd_error_code (err), GRPC_INVALID_ARGUMENT);
      ctrd_error_free (&err);
    }
}

static void
put (const char *rel, const char *text)
{
  cleanup_free char *p = path_join (test_dir, rel);
  assert_int_equal (write_file (p, text, strlen (text), 0644, NULL), 0);
}

static void
mk (const char *rel)
{
  cleanup_free char *p = path_join (test_dir, rel);
  assert_int_equal (mkdir_p (p, 0755, NULL), 0);
}

static void
test_checkpoint_list_delete (void **state)
{
  (void) state;
  struct ctrd_error *err = NULL;
  struct ops_checkpoint_info *v;
  size_t n;
  cleanup_free char *parent = path_join (test_dir, "cps");

  /* missing directory → NOT_FOUND */
  assert_int_equal (ops_checkpoint_list (parent, &v, &n, &err), -1);
  assert_int_equal (ctrd_error_code (err), GRPC_NOT_FOUND);
  ctrd_error_free (&err);

  mk ("cps");
  assert_int_equal (ops_checkpoint_list (parent, &v, &n, NULL), 0);
  assert_int_equal (n, 0);

  mk ("cps/b");
  put ("cps/b/config.json", "{\"created\":\"x\",\"name\":\"b\",\"tcp\":true,\"unixSockets\":false,"
                            "\"shell\":true,\"exit\":true,\"emptyNS\":[\"network\"]}\n");
  mk ("cps/a");
  put ("cps/a/config.json", "{\"unixSockets\":true}"); /* hand-made: name from the dir */
  put ("cps/file", "not a checkpoint");
  cleanup_free char *link = path_join (test_dir, "cps/link");
  cleanup_free char *target = path_join (test_dir, "cps/b");
  assert_int_equal (symlink (target, link), 0);
  assert_int_equal (ops_checkpoint_list (parent, &v, &n, NULL), 0);
  assert_int_equal (n, 2);
  assert_string_equal (v[0].name, "a");
  assert_true (v[0].unix_sockets);
  assert_false (v[0].tcp || v[0].shell || v[0].exit);
  assert_string_equal (v[1].name, "b");
  assert_true (v[1].tcp && v[1].shell && v[1].exit && !v[1].unix_sockets);
  assert_string_equal (v[1].empty_ns[0], "network");
  assert_null (v[1].empty_ns[1]);
  ops_checkpoint_list_free (v, n);

  /* one bad entry fails the whole list, naming the file */
  mk ("cps/c");
  assert_int_equal (ops_checkpoint_list (parent, &v, &n, &err), -1);
  assert_non_null (strstr (err->msg, "cps/c/config.json"));
  ctrd_error_free (&err);
  put ("cps/c/config.json", "{\"tcp\":\"yes\"}");
  assert_int_equal (ops_checkpoint_list (parent, &v, &n, &err), -1);
  assert_non_null (strstr (err->msg, "\"tcp\" is not a boolean"));
  ctrd_error_free (&err);
  put ("cps/c/config.json", "{not json");
  assert_int_equal (ops_checkpoint_list (parent, &v, &n, &err), -1);
  assert_non_null (strstr (err->msg, "not a JSON object"));
  ctrd_error_free (&err);

  /* delete: hostile names refused, absent is fine, the symlink's target survives */
  assert_int_equal (ops_checkpoint_delete (parent, "../cps", &err), -1);
  assert_int_equal (ctrd_error_code (err), GRPC_INVALID_ARGUMENT);
  ctrd_error_free (&err);
  assert_int_equal (ops_checkpoint_delete (parent, "", &err), -1);
  ctrd_error_free (&err);
  assert_int_equal (ops_checkpoint_delete (parent, "nonexistent", NULL), 0);
  /* only what CreateCheckpoint wrote is deleted (issue 11): not a corrupt
   * config, not a hand-made one without name/created, not a bundle (its
   * config.json is an OCI spec), not a file, not a symlink (nor its target),
   * not a config.json that is a symlink, not one naming another checkpoint */
  mk ("cps/bundle");
  put ("cps/bundle/config.json", "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}}");
  mk ("cps/bundle/rootfs");
  mk ("cps/lnk-cfg");
  cleanup_free char *lcfg = path_join (test_dir, "cps/lnk-cfg/config.json");
  cleanup_free char *bcfg = path_join (test_dir, "cps/b/config.json");
  assert_int_equal (symlink (bcfg, lcfg), 0);
  mk ("cps/other");
  put ("cps/other/config.json", "{\"created\":\"x\",\"name\":\"b\"}");
  const char *not_cps[] = { "c", "a", "bundle", "file", "link", "lnk-cfg", "other" };
  for (size_t i = 0; i < sizeof not_cps / sizeof *not_cps; i++)
    {
      cleanup_free char *pth = path_join (parent, not_cps[i]);
      assert_int_equal (ops_checkpoint_delete (parent, not_cps[i], &err), -1);
      assert_int_equal (ctrd_error_code (err), GRPC_FAILED_PRECONDITION);
      assert_non_null (strstr (err->msg, "is not a checkpoint"));
      ctrd_error_free (&err);
      struct stat st;
      assert_int_equal (lstat (pth, &st), 0);
    }
  assert_int_equal (access (target, F_OK), 0);
  cleanup_free char *brootfs = path_join (test_dir, "cps/bundle/rootfs");
  assert_int_equal (access (brootfs, F_OK), 0);
  /* a real one goes, and so does one made by CreateCheckpoint's writer */
  assert_int_equal (ops_checkpoint_delete (parent, "b", NULL), 0);
  assert_int_equal (access (target, F_OK), -1);
  struct ops_checkpoint cp = { .name = "made" };
  cleanup_free char *made = ops_checkpoint_config (&cp, 0);
  mk ("cps/made");
  put ("cps/made/config.json", made);
  mk ("cps/made/criu.work");
  assert_int_equal (ops_checkpoint_delete (parent, "made", NULL), 0);
  cleanup_free char *madep = path_join (parent, "made");
  assert_int_equal (access (madep, F_OK), -1);
}

/* ---- asynchronous operations against a recording fake runtime ---- */

struct fixture
{
  sd_event *loop;
  struct runtime *rt;
  struct test_fake_runtime fr;
  char events[512];
};

static void
record_emit (void *data, const char *type, const char *id, const char *pid, uint32_t status)
{
  struct fixture *f = data;
  size_t l = strlen (f->events);
  snprintf (f->events + l, sizeof f->events - l, "%s:%s:%s:%u;", type, id, pid ? pid : "", status);
}

struct result
{
  int calls;
  struct ctrd_error *err;
};

static void
on_done (const struct ctrd_error *err, void *data)
{
  struct result *r = data;
  r->calls++;
  if (err)
    {
      r->err = xmalloc0 (sizeof *r->err);
      r->err->status = err->status;
      r->err->grpc_code = err->grpc_code;
      r->err->msg = xstrdup (err->msg);
    }
}

/* Dispatch loop events until the operation finished (each sd_event_run
 * blocks on the job's child exit: no polling). */
static void
wait_done (struct fixture *f, struct result *r)
{
  while (r->calls == 0)
    assert_true (sd_event_run (f->loop, 10 * 1000 * 1000) >= 0);
}

static struct container *
fake_container (struct fixture *f, const char *id)
{
  struct container *c = container_alloc (f->rt, id);
  c->runtime_bin = xstrdup (f->fr.bin);
  char *const g[] = { (char *) "--g1", (char *) "v", NULL };
  c->runtime_args = strv_dup (g);
  c->bundle = path_join (test_dir, "bundle");
  c->state = CONTAINER_RUNNING;
  struct process *p = process_new (c, "init");
  p->state = PROCESS_RUNNING;
  runtime_table_add (f->rt, c);
  return c;
}

static int
setup_fixture (void **state)
{
  struct fixture *f = xmalloc0 (sizeof *f);
  assert_true (sd_event_new (&f->loop) >= 0);
  /* Records argv (one line per call) and stdin; fails when <test_dir>/fail
   * exists, warns when warn-kmem does, logs logrus lines and fails when
   * fail-logrus does. */
  cleanup_free char *extra = xasprintf (
      "if [ -e '%s/fail' ]; then echo 'runtime says no' >&2; exit 3; fi\n"
      "if [ -e '%s/warn-kmem' ]; then echo 'level=warning msg=\"Kernel memory settings are "
      "ignored and will be removed\"' >&2; fi\n"
      "if [ -e '%s/fail-logrus' ]; then echo 'time=\"2026-01-02T03:04:05Z\" level=warning "
      "msg=\"a warning\"' >&2; echo 'time=\"2026-01-02T03:04:05Z\" level=error "
      "msg=\"failed to write \\\"99\\\": invalid argument\"' >&2; exit 1; fi\n",
      test_dir, test_dir, test_dir);
  test_fake_runtime (&f->fr, test_dir, extra);
  struct runtime_config cfg = { .loop = f->loop,
                                .state_dir = test_dir,
                                .shim = "shim",
                                .runtime = "runc",
                                .emit = record_emit,
                                .emit_data = f };
  f->rt = runtime_new (&cfg);
  *state = f;
  return 0;
}

static int
teardown_fixture (void **state)
{
  struct fixture *f = *state;
  struct container *c;
  while ((c = runtime_next (f->rt, NULL)))
    {
      runtime_table_remove (f->rt, c);
      container_free (c);
    }
  runtime_free (f->rt);
  sd_event_unref (f->loop);
  test_fake_runtime_free (&f->fr);
  free (f);
  cleanup_free char *fail = path_join (test_dir, "fail");
  unlink (fail);
  return 0;
}

static void
test_pause_resume (void **state)
{
  struct fixture *f = *state;
  struct container *c = fake_container (f, "c1");
  struct result r1 = { 0 }, r2 = { 0 };
  struct ctrd_error *err = NULL;
  assert_int_equal (ops_pause (c, true, on_done, &r1, NULL), 0);
  assert_int_equal (r1.calls, 0); /* never synchronously */
  /* one operation per container at a time */
  assert_int_equal (ops_pause (c, false, on_done, &r2, &err), -1);
  assert_int_equal (ctrd_error_code (err), GRPC_ABORTED);
  assert_non_null (strstr (err->msg, "pause is still in progress"));
  ctrd_error_free (&err);
  wait_done (f, &r1);
  assert_int_equal (r1.calls, 1);
  assert_null (r1.err);
  assert_string_equal (f->events, "pause:c1::0;");
  assert_int_equal (ops_pause (c, false, on_done, &r2, NULL), 0);
  wait_done (f, &r2);
  assert_null (r2.err);
  assert_string_equal (f->events, "pause:c1::0;resume:c1::0;");
  cleanup_free char *calls = test_slurp (f->fr.calls);
  assert_string_equal (calls, "--g1 v pause c1\n--g1 v resume c1\n");

  /* failure: the runtime's message, no event */
  cleanup_free char *fail = path_join (test_dir, "fail");
  assert_int_equal (write_file (fail, "", 0, 0644, NULL), 0);
  struct result r3 = { 0 };
  assert_int_equal (ops_pause (c, true, on_done, &r3, NULL), 0);
  wait_done (f, &r3);
  assert_non_null (r3.err);
  assert_string_equal (r3.err->msg, "exit status 3: \"runtime says no\\n\"");
  assert_string_equal (f->events, "pause:c1::0;resume:c1::0;");
  ctrd_error_free (&r3.err);

  /* not running → FAILED_PRECONDITION, nothing run */
  c->init->state = PROCESS_EXITED;
  assert_int_equal (ops_pause (c, true, on_done, &r3, &err), -1);
  assert_int_equal (ctrd_error_code (err), GRPC_FAILED_PRECONDITION);
  ctrd_error_free (&err);
}

static void
test_update_job (void **state)
{
  struct fixture *f = *state;
  struct container *c = fake_container (f, "c2");
  struct result r = { 0 };
  struct ops_resources res = { .memory_limit = 1 << 20, .pids_limit = 9 };
  assert_int_equal (ops_update (c, &res, on_done, &r, NULL), 0);
  wait_done (f, &r);
  assert_null (r.err);
  cleanup_free char *calls = test_slurp (f->fr.calls);
  assert_string_equal (calls, "--g1 v update -r - c2\n");
  cleanup_free char *in = test_slurp (f->fr.stdin_log);
  assert_string_equal (in, "{\"memory\":{\"limit\":1048576},\"pids\":{\"limit\":9}}\n");
  assert_string_equal (f->events, "");

  /* update failure: the runtime's output only (docs/runtime.md §5) */
  cleanup_free char *fail = path_join (test_dir, "fail");
  assert_int_equal (write_file (fail, "", 0, 0644, NULL), 0);
  struct result r2 = { 0 };
  assert_int_equal (ops_update (c, &res, on_done, &r2, NULL), 0);
  wait_done (f, &r2);
  assert_string_equal (r2.err->msg, "runtime says no");
  ctrd_error_free (&r2.err);
  unlink (fail);

  /* runc's logrus lines: the error's message, not the line (issue 11) */
  cleanup_free char *fl = path_join (test_dir, "fail-logrus");
  assert_int_equal (write_file (fl, "", 0, 0644, NULL), 0);
  struct result r4 = { 0 };
  assert_int_equal (ops_update (c, &res, on_done, &r4, NULL), 0);
  wait_done (f, &r4);
  assert_non_null (r4.err);
  assert_string_equal (r4.err->msg, "failed to write \"99\": invalid argument");
  ctrd_error_free (&r4.err);
  unlink (fl);

  /* a runtime that drops kernel memory limits with a warning: an error */
  cleanup_free char *warn = path_join (test_dir, "warn-kmem");
  assert_int_equal (write_file (warn, "", 0, 0644, NULL), 0);
  struct ops_resources km = { .kernel_memory = 1 << 20 };
  struct result r3 = { 0 };
  assert_int_equal (ops_update (c, &km, on_done, &r3, NULL), 0);
  wait_done (f, &r3);
  assert_non_null (r3.err);
  assert_int_equal (ctrd_error_code (r3.err), GRPC_FAILED_PRECONDITION);
  ctrd_error_free (&r3.err);
  unlink (warn);

  /* blkio weight where the cgroup has no weight file (this test process in
   * the root blkio cgroup of a v1 host): refused before the runtime runs */
  cleanup_free char *self_cg = test_slurp ("/proc/self/cgroup");
  if (self_cg && strstr (self_cg, ":blkio:/\n")
      && access ("/sys/fs/cgroup/blkio/blkio.weight", F_OK) < 0
      && access ("/sys/fs/cgroup/blkio/blkio.bfq.weight", F_OK) < 0)
    {
      c->init->pid = getpid ();
      struct ops_resources bw = { .blkio_weight = 500 };
      struct ctrd_error *err = NULL;
      unlink (f->fr.calls);
      assert_int_equal (ops_update (c, &bw, on_done, &r3, &err), -1);
      assert_int_equal (ctrd_error_code (err), GRPC_FAILED_PRECONDITION);
      assert_non_null (
          strstr (err->msg, "blkio.weight or blkio.bfq.weight in /sys/fs/cgroup/blkio"));
      assert_int_equal (access (f->fr.calls, F_OK), -1); /* runtime not run */
      ctrd_error_free (&err);
    }
  else
    print_message ("blkio precondition check not exercised on this host\n");
}

static void
test_checkpoint_job (void **state)
{
  struct fixture *f = *state;
  struct container *c = fake_container (f, "c3");
  cleanup_free char *parent = ops_checkpoint_parent (c, "");
  cleanup_free char *want_parent = path_join (test_dir, "bundle/checkpoints");
  assert_string_equal (parent, want_parent);
  struct ops_checkpoint cp = { .name = "one", .tcp = true };
  struct result r = { 0 };
  assert_int_equal (ops_checkpoint_create (c, parent, &cp, on_done, &r, NULL), 0);
  wait_done (f, &r);
  assert_null (r.err);
  cleanup_free char *calls = test_slurp (f->fr.calls);
  cleanup_free char *want = xasprintf ("--g1 v checkpoint --image-path %s/one --work-path "
                                       "%s/one/criu.work --leave-running --tcp-established c3\n",
                                       parent, parent);
  assert_string_equal (calls, want);
  cleanup_free char *cfgp = xasprintf ("%s/one/config.json", parent);
  cleanup_free char *cfg = test_slurp (cfgp);
  assert_non_null (strstr (cfg, "\"name\":\"one\",\"tcp\":true,"));

  /* existing name → ALREADY_EXISTS with the original's text */
  struct ctrd_error *err = NULL;
  assert_int_equal (ops_checkpoint_create (c, parent, &cp, on_done, &r, &err), -1);
  assert_int_equal (ctrd_error_code (err), GRPC_ALREADY_EXISTS);
  cleanup_free char *exists = xasprintf ("mkdir %s/one: file exists", parent);
  assert_string_equal (err->msg, exists);
  ctrd_error_free (&err);
  /* bad emptyNS → INVALID_ARGUMENT, nothing created */
  char *const ns[] = { (char *) "--bogus", NULL };
  struct ops_checkpoint bad = { .name = "two", .empty_ns = ns };
  assert_int_equal (ops_checkpoint_create (c, parent, &bad, on_done, &r, &err), -1);
  assert_int_equal (ctrd_error_code (err), GRPC_INVALID_ARGUMENT);
  ctrd_error_free (&err);
  cleanup_free char *two = path_join (parent, "two");
  assert_int_equal (access (two, F_OK), -1);

  /* a failing dump names the CRIU log; the directory stays for it */
  cleanup_free char *fail = path_join (test_dir, "fail");
  assert_int_equal (write_file (fail, "", 0, 0644, NULL), 0);
  struct ops_checkpoint three = { .name = "three" };
  struct result r2 = { 0 };
  assert_int_equal (ops_checkpoint_create (c, parent, &three, on_done, &r2, NULL), 0);
  wait_done (f, &r2);
  assert_non_null (r2.err);
  cleanup_free char *hint = xasprintf ("(CRIU log: %s/three/criu.work/dump.log)", parent);
  assert_non_null (strstr (r2.err->msg, hint));
  assert_non_null (strstr (r2.err->msg, "runtime says no"));
  ctrd_error_free (&r2.err);
}

static void
test_container_gone_mid_job (void **state)
{
  struct fixture *f = *state;
  struct container *c = fake_container (f, "c4");
  struct result r = { 0 };
  assert_int_equal (ops_pause (c, true, on_done, &r, NULL), 0);
  /* init exits and the container is dropped while the runtime runs */
  runtime_table_remove (f->rt, c);
  container_free (c);
  /* a new container of the same id must not inherit the old operation */
  struct container *c2 = fake_container (f, "c4");
  wait_done (f, &r);
  assert_int_equal (r.calls, 1);
  assert_null (r.err);
  assert_null (c2->ops_op);
  struct result r2 = { 0 };
  assert_int_equal (ops_pause (c2, false, on_done, &r2, NULL), 0);
  wait_done (f, &r2);
}

int
main (void)
{
  test_block_sigchld (); /* sd-event child sources */
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_update_json),
    cmocka_unit_test (test_update_json_errors),
    cmocka_unit_test (test_checkpoint_config_and_argv),
    cmocka_unit_test (test_checkpoint_name),
    cmocka_unit_test (test_checkpoint_list_delete),
    cmocka_unit_test_setup_teardown (test_pause_resume, setup_fixture, teardown_fixture),
    cmocka_unit_test_setup_teardown (test_update_job, setup_fixture, teardown_fixture),
    cmocka_unit_test_setup_teardown (test_checkpoint_job, setup_fixture, teardown_fixture),
    cmocka_unit_test_setup_teardown (test_container_gone_mid_job, setup_fixture, teardown_fixture),
  };
  return cmocka_run_group_tests_name ("ops", tests, test_dir_setup, test_dir_teardown);
}
