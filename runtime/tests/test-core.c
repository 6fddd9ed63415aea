/* runtime core units: Go-style quoting and error texts, runtime argv
 * building, state files, the init process.json (rootUID/rootGID), start
 * times, and asynchronous jobs on a real sd-event loop (output capture,
 * exit status, stdin data, timeout, a grandchild holding the pipes). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/shim-proto.h"
#include "lib/util.h"
#include "lib/tests/testutil.h"
#include "runtime/internal.h"
#include "runtime/job.h"
#include "runtime/statefile.h"

static void
test_job_error_text (void **state UNUSED)
{
  const char *msg = "container \"c1\" does not exist\n";
  struct job_result r = {
    .wait_status = W_EXITCODE (1, 0), .out = msg, .err = "", .out_len = strlen (msg), .err_len = 0
  };
  cleanup_free char *t = job_error_text (&r);
  assert_string_equal (t, "exit status 1: \"container \\\"c1\\\" does not exist\\n\"");
  assert_false (job_succeeded (&r));
  r.wait_status = SIGKILL;
  cleanup_free char *k = job_error_text (&r);
  assert_non_null (strstr (k, "signal: killed: "));
  r.wait_status = 0;
  assert_true (job_succeeded (&r));
  r.timed_out = true;
  assert_false (job_succeeded (&r));
}

static void
test_runtime_argv (void **state UNUSED)
{
  char *g[] = { "--root", "/x", NULL };
  const char *sub[] = { "delete", "-f", "c1", NULL };
  cleanup_strv char **v = runtime_argv ("crun", g, sub);
  assert_int_equal (strv_len (v), 6);
  assert_string_equal (v[0], "crun");
  assert_string_equal (v[1], "--root");
  assert_string_equal (v[3], "delete");
  assert_string_equal (v[5], "c1");
  cleanup_strv char **w = runtime_argv ("runc", NULL, sub);
  assert_int_equal (strv_len (w), 4);
}

static char *
tmpdir (void)
{
  return test_tmpdir ("core");
}

static void
test_state_roundtrip (void **state UNUSED)
{
  cleanup_free char *dir = tmpdir ();
  struct runtime_config cfg = { .state_dir = dir, .shim = "containerd-shim", .runtime = "runc" };
  struct runtime *rt = runtime_new (&cfg);
  struct container *c = container_alloc (rt, "c1");
  assert_int_equal (mkdir (c->dir, 0755), 0);
  c->bundle = xstrdup ("/b");
  c->runtime_bin = xstrdup ("crun");
  c->shim = xstrdup ("containerd-shim");
  strv_push (&c->labels, "l1");
  c->no_pivot = true;
  cleanup_error struct ctrd_error *err = NULL;
  assert_int_equal (statefile_write_state (c, &err), 0);
  cleanup_free char *path = path_join (c->dir, "state.json");
  cleanup_free char *buf = NULL;
  size_t len;
  assert_int_equal (read_file (path, &buf, &len, 4096, &err), 0);
  /* keys in the original's order; runtimeArgs [] when none */
  assert_string_equal (buf, "{\"bundle\":\"/b\",\"labels\":[\"l1\"],\"stdin\":\"\",\"stdout\":\"\","
                            "\"stderr\":\"\",\"runtime\":\"crun\",\"runtimeArgs\":[],"
                            "\"shim\":\"containerd-shim\",\"noPivotRoot\":true}\n");
  struct container *d = container_alloc (rt, "c1");
  assert_int_equal (statefile_read_state (d, &err), 0);
  assert_string_equal (d->bundle, "/b");
  assert_string_equal (d->runtime_bin, "crun");
  assert_string_equal (d->labels[0], "l1");
  assert_true (d->no_pivot);
  /* older files: nulls and missing keys */
  assert_int_equal (write_file_atomic (path, "{\"bundle\":\"/o\",\"labels\":null}", 29, 0644, &err),
                    0);
  struct container *o = container_alloc (rt, "c1");
  assert_int_equal (statefile_read_state (o, &err), 0);
  assert_string_equal (o->runtime_bin, "runc");
  assert_null (o->labels);
  assert_int_equal (write_file_atomic (path, "{bad", 4, 0644, &err), 0);
  struct container *b = container_alloc (rt, "c1");
  assert_int_equal (statefile_read_state (b, &err), -1);
  ctrd_error_free (&err);
  container_free (c);
  container_free (d);
  container_free (o);
  container_free (b);
  runtime_free (rt);
  assert_int_equal (rm_rf (dir, &err), 0);
}

static void
test_init_spec_root_ids (void **state UNUSED)
{
  json_object *cfg = json_tokener_parse (
      "{\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"exec\":true},"
      "\"linux\":{\"namespaces\":[{\"type\":\"user\"}],"
      "\"uidMappings\":[{\"containerID\":1,\"hostID\":5000,\"size\":10},"
      "{\"containerID\":0,\"hostID\":100000,\"size\":1}],"
      "\"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":65536}]}}");
  assert_non_null (cfg);
  char *ra[] = { "--debug", NULL };
  json_object *p = statefile_init_process_spec (cfg, NULL, "/o", "", ra, true, NULL);
  json_object *v;
  assert_true (json_object_object_get_ex (p, "rootUID", &v));
  assert_int_equal (json_object_get_int64 (v), 100000);
  assert_true (json_object_object_get_ex (p, "rootGID", &v));
  assert_int_equal (json_object_get_int64 (v), 200000);
  assert_true (json_object_object_get_ex (p, "exec", &v));
  assert_false (json_object_get_boolean (v));
  assert_true (json_object_object_get_ex (p, "containerdStdin", &v));
  assert_string_equal (json_object_get_string (v), "/dev/null");
  assert_true (json_object_object_get_ex (p, "containerdStderr", &v));
  assert_string_equal (json_object_get_string (v), "/dev/null");
  assert_true (json_object_object_get_ex (p, "checkpoint", &v));
  assert_string_equal (json_object_get_string (v), "");
  json_object_put (p);
  /* no user namespace: 0/0 whatever the mappings say */
  json_object *ns;
  json_object_object_get_ex (cfg, "linux", &v);
  json_object_object_get_ex (v, "namespaces", &ns);
  json_object_array_del_idx (ns, 0, 1);
  p = statefile_init_process_spec (cfg, NULL, NULL, NULL, NULL, false, "/ck/x");
  assert_true (json_object_object_get_ex (p, "rootUID", &v));
  assert_int_equal (json_object_get_int64 (v), 0);
  assert_true (json_object_object_get_ex (p, "checkpoint", &v));
  assert_string_equal (json_object_get_string (v), "/ck/x");
  json_object_put (p);
  json_object_put (cfg);
}

static void
test_ull_files (void **state UNUSED)
{
  cleanup_free char *dir = tmpdir ();
  cleanup_error struct ctrd_error *err = NULL;
  unsigned long long v = 0;
  assert_int_equal (statefile_write_ull (dir, "exitStatus", 137, &err), 0);
  assert_int_equal (statefile_read_ull (dir, "exitStatus", &v), 0);
  assert_int_equal (v, 137);
  assert_int_equal (statefile_read_ull (dir, "missing", &v), -1);
  assert_int_equal (errno, ENOENT);
  cleanup_free char *p = path_join (dir, "bad");
  assert_int_equal (write_file (p, "12x", 3, 0644, &err), 0);
  assert_int_equal (statefile_read_ull (dir, "bad", &v), -1);
  assert_int_equal (errno, EINVAL);
  assert_true (proc_starttime (getpid ()) > 0);
  assert_int_equal (rm_rf (dir, &err), 0);
}

/* The directories, FIFOs, runtime bundle and journal of statefile.c */
static void
test_state_dir_files (void **state UNUSED)
{
  cleanup_free char *dir = tmpdir ();
  cleanup_error struct ctrd_error *err = NULL;
  cleanup_free char *c = path_join (dir, "c1");
  assert_int_equal (statefile_make_dir (c, &err), 0);
  assert_int_equal (statefile_make_dir (c, &err), -1);
  assert_int_equal (err->grpc_code, GRPC_ALREADY_EXISTS);
  assert_non_null (strstr (err->msg, "file exists"));
  ctrd_error_free (&err);

  assert_int_equal (statefile_make_fifos (c, &err), 0);
  assert_int_equal (statefile_make_fifos (c, &err), 0); /* kept */
  cleanup_free char *ef = path_join (c, SHIM_FILE_EXIT_FIFO);
  struct stat st;
  assert_int_equal (stat (ef, &st), 0);
  assert_true (S_ISFIFO (st.st_mode));

  /* no .bundle: the client's bundle, both ways */
  cleanup_free char *b0 = statefile_runtime_bundle (c, "/client/b");
  assert_string_equal (b0, "/client/b");
  cleanup_free char *cb0 = statefile_client_bundle (c, "/client/b");
  assert_string_equal (cb0, "/client/b");
  json_object *cfg = json_tokener_parse ("{\"ociVersion\":\"1.0.2\"}");
  cleanup_free char *cp = NULL;
  assert_int_equal (statefile_write_runtime_bundle (c, "/client/b", cfg, &cp, &err), 0);
  json_object_put (cfg);
  cleanup_free char *text = NULL;
  size_t len;
  assert_int_equal (read_file (cp, &text, &len, 4096, &err), 0);
  assert_string_equal (text, "{\"ociVersion\":\"1.0.2\"}");
  cleanup_free char *rb = statefile_runtime_bundle (c, "/client/b");
  cleanup_free char *want = path_join (c, STATEFILE_BUNDLE_DIR);
  assert_string_equal (rb, want);
  cleanup_free char *cb = statefile_client_bundle (c, rb); /* from a shim's argv */
  assert_string_equal (cb, "/client/b");
  cfg = json_object_new_object ();
  assert_int_equal (statefile_write_runtime_bundle (c, "/client/b", cfg, &cp, &err), -1);
  json_object_put (cfg);
  assert_int_equal (err->status, EEXIST);
  ctrd_error_free (&err);

  /* the journal: none yet, then replaced and appended to */
  cleanup_free char *jp = statefile_journal_path (dir);
  FILE *f = (FILE *) 1;
  assert_int_equal (statefile_journal_open (jp, &f, &err), 0);
  assert_null (f);
  int fd = statefile_journal_rewrite (jp, "a\n", 2, &err);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, "b\n", 2), 2);
  close (fd);
  assert_int_equal (statefile_journal_open (jp, &f, &err), 0);
  char line[8];
  assert_non_null (fgets (line, sizeof line, f));
  assert_string_equal (line, "a\n");
  assert_non_null (fgets (line, sizeof line, f));
  assert_string_equal (line, "b\n");
  fclose (f);

  pid_t holder = 0;
  int lfd = statefile_lock_root (dir, &holder, &err);
  assert_true (lfd >= 0);
  close (lfd);
  assert_int_equal (rm_rf (dir, &err), 0);
}

struct job_wait
{
  sd_event *loop;
  bool done, ok, timed_out;
  int status;
  char out[256], err[256];
};

static void
on_job (const struct job_result *r, void *data)
{
  struct job_wait *w = data;
  w->done = true;
  w->ok = job_succeeded (r);
  w->timed_out = r->timed_out;
  w->status = r->wait_status;
  snprintf (w->out, sizeof w->out, "%s", r->out);
  snprintf (w->err, sizeof w->err, "%s", r->err);
  sd_event_exit (w->loop, 0);
}

static void
run_job (char *const argv[], const char *in, int64_t timeout_ns, struct job_wait *w)
{
  memset (w, 0, sizeof *w);
  assert_int_equal (sd_event_new (&w->loop), 0);
  cleanup_error struct ctrd_error *err = NULL;
  assert_int_equal (
      job_run (w->loop, NULL, argv, in, in ? strlen (in) : 0, timeout_ns, 0, on_job, w, NULL, &err),
      0);
  assert_int_equal (sd_event_loop (w->loop), 0);
  w->loop = sd_event_unref (w->loop);
  assert_true (w->done);
}

static void
test_jobs (void **state UNUSED)
{
  struct job_wait w;
  char *a1[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
  run_job (a1, NULL, 0, &w);
  assert_false (w.ok);
  assert_true (WIFEXITED (w.status) && WEXITSTATUS (w.status) == 3);
  assert_string_equal (w.out, "out\n");
  assert_string_equal (w.err, "err\n");
  char *a2[] = { "cat", NULL };
  run_job (a2, "{\"memory\":{}}\n", 0, &w);
  assert_true (w.ok);
  assert_string_equal (w.out, "{\"memory\":{}}\n");
  char *a3[] = { "sleep", "100", NULL };
  run_job (a3, NULL, 100 * 1000 * 1000LL, &w);
  assert_true (w.timed_out);
  assert_false (w.ok);
  /* a grandchild keeping stdout open must not delay completion (docs/failure-modes.md #1) */
  char *a4[] = { "sh", "-c", "sleep 100 & echo $!", NULL };
  int64_t t0 = (int64_t) time (NULL);
  run_job (a4, NULL, 0, &w);
  assert_true (w.ok);
  assert_true ((int64_t) time (NULL) - t0 < 5);
  /* the test leaves nothing behind: the grandchild said its pid */
  pid_t bg = (pid_t) atoi (w.out);
  assert_true (bg > 1);
  kill (bg, SIGKILL);
  /* missing binary: reported by job_run itself */
  sd_event *loop;
  assert_int_equal (sd_event_new (&loop), 0);
  char *a5[] = { "/nonexistent/runc", "start", NULL };
  cleanup_error struct ctrd_error *err = NULL;
  assert_int_equal (job_run (loop, NULL, a5, NULL, 0, 0, 0, on_job, &w, NULL, &err), -1);
  assert_int_equal (err->status, ENOENT);
  sd_event_unref (loop);
}

int
main (void)
{
  test_block_sigchld (); /* sd-event child sources need SIGCHLD blocked */
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_job_error_text),
    cmocka_unit_test (test_runtime_argv),
    cmocka_unit_test (test_state_roundtrip),
    cmocka_unit_test (test_init_spec_root_ids),
    cmocka_unit_test (test_ull_files),
    cmocka_unit_test (test_state_dir_files),
    cmocka_unit_test (test_jobs),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
