/* Unit tests of ctr: every command's flags → the request it sends (through
 * a recording transport), error lines and exit statuses, the attach FIFO
 * dir (test-ctr-output.c: tables, JSON, events). No daemon (that is
 * integration/test-ctr.py). */
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

/* ---- global flags, help, errors ----------------------------------------- */

static void
test_help_everywhere (void **state)
{
  (void) state;
  const char *cmds[][3] = {
    { "--help", NULL },
    { "help", NULL },
    { "help", "containers", NULL },
    { "version", "--help", NULL },
    { "state", "-h", NULL },
    { "events", "--help", NULL },
    { "containers", "--help", NULL },
    { "checkpoints", "--help", NULL },
  };
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    {
      struct result r = run_ctr (cmds[i][0], cmds[i][1], cmds[i][2], NULL);
      assert_int_equal (r.status, 0);
      assert_non_null (strstr (r.out, "USAGE:"));
      assert_string_equal (r.err, "");
      result_free (&r);
    }
  const char *subs[] = { "list",   "start",  "exec",  "kill",  "pause",
                         "resume", "update", "stats", "watch", "state" };
  for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
    {
      struct result r = run_ctr ("containers", subs[i], "--help", NULL);
      assert_int_equal (r.status, 0);
      cleanup_free char *name = xasprintf ("ctr containers %s - ", subs[i]);
      assert_non_null (strstr (r.out, name));
      result_free (&r);
    }
  const char *cps[] = { "list", "create", "delete" };
  for (size_t i = 0; i < 3; i++)
    {
      struct result r = run_ctr ("checkpoints", cps[i], "-h", NULL);
      assert_int_equal (r.status, 0);
      assert_non_null (strstr (r.out, "--checkpoint-dir value"));
      result_free (&r);
    }
  /* "help [sub]" inside a group, as urfave/cli has it */
  struct result r = run_ctr ("containers", "help", NULL);
  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "ctr containers - interact with running containers"));
  result_free (&r);
  r = run_ctr ("checkpoints", "help", "create", NULL);
  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "ctr checkpoints create - "));
  result_free (&r);
  r = run_ctr ("help", "containers", "exec", NULL);
  assert_non_null (strstr (r.out, "ctr containers exec - "));
  result_free (&r);
  assert_int_equal (fk.ncalls, 0);
  r = run_ctr ("--help", NULL);
  assert_non_null (strstr (r.out, "--address value"));
  assert_non_null (strstr (r.out, "(default: \"unix:///run/containerd/containerd.sock\")"));
  assert_non_null (strstr (r.out, "EXIT STATUS:"));
  result_free (&r);
}

static void
test_version_flag (void **state)
{
  (void) state;
  struct result r = run_ctr ("-v", NULL);
  assert_int_equal (r.status, 0);
  assert_int_equal (strncmp (r.out, "ctr version 0.2.3 commit: ", 26), 0);
  result_free (&r);
}

static void
test_global_errors (void **state)
{
  (void) state;
  struct result r = run_ctr ("--address", "/run/x.sock", "version", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err,
                       "ctr: bad bind address format /run/x.sock, expected proto://address\n");
  result_free (&r);
  r = run_ctr ("--bogus", "version", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: flag provided but not defined: -bogus\n");
  result_free (&r);
  r = run_ctr ("--conn-timeout", "fast", "version", NULL);
  assert_int_equal (r.status, 1);
  assert_non_null (strstr (r.err, "invalid value \"fast\" for flag -conn-timeout"));
  result_free (&r);
  r = run_ctr ("frobnicate", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: no such command \"frobnicate\" (see ctr --help)\n");
  result_free (&r);
  r = run_ctr ("containers", "kill", "--signal", "KILL", "c1", NULL);
  assert_int_equal (r.status, 1);
  assert_non_null (strstr (r.err, "invalid value \"KILL\" for flag -signal"));
  result_free (&r);
  /* flags go before arguments: a late flag is an error, not ignored */
  r = run_ctr ("containers", "list", "c1", "--json", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: unexpected argument \"--json\" (flags go before arguments)\n");
  result_free (&r);
  assert_int_equal (fk.ncalls, 0);
}

static void
test_version (void **state)
{
  (void) state;
  Types__GetServerVersionResponse v = TYPES__GET_SERVER_VERSION_RESPONSE__INIT;
  v.major = 0, v.minor = 2, v.patch = 3, v.revision = (char *) "cfb82a876ecc";
  fk.resp = &v.base;
  struct result r = run_ctr ("version", NULL);
  assert_int_equal (r.status, 0);
  assert_string_equal (fk.method, "GetServerVersion");
  assert_string_equal (r.out, "daemon version 0.2.3 commit: cfb82a876ecc\n");
  result_free (&r);
}

static void
test_not_found (void **state)
{
  (void) state;
  fk.fail_code = GRPC_UNKNOWN;
  fk.fail_msg = "containerd: container not found";
  const char *cmds[][4] = {
    { "containers", "kill", "c9", NULL },
    { "containers", "pause", "c9", NULL },
    { "containers", "resume", "c9", NULL },
    { "containers", "stats", "c9", NULL },
    { "containers", "c9", NULL },
    { "state", "c9", NULL },
    { "containers", "update", "c9", NULL },
    { "containers", "watch", "c9", NULL },
    { "checkpoints", "delete", "c9", "cp" },
  };
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    {
      struct result r = run_ctr (cmds[i][0], cmds[i][1], cmds[i][2], cmds[i][3], NULL);
      assert_int_equal (r.status, 1);
      assert_string_equal (r.err, "ctr: container c9 not found\n");
      assert_string_equal (r.out, "");
      result_free (&r);
    }
  fk.fail_code = GRPC_NOT_FOUND;
  fk.fail_msg = "no such containers";
  struct result r = run_ctr ("checkpoints", "c9", NULL);
  assert_string_equal (r.err, "ctr: container c9 not found\n");
  result_free (&r);
  /* other server errors: the server's text */
  fk.fail_code = GRPC_UNKNOWN;
  fk.fail_msg = "containerd: process not found for container";
  r = run_ctr ("containers", "kill", "-p", "e9", "c1", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: containerd: process not found for container\n");
  result_free (&r);
  /* a peer that is not a gRPC server: the client's text gets the address */
  fk.fail_code = GRPC_UNIMPLEMENTED;
  fk.fail_msg = "server answered HTTP status 404";
  r = run_ctr ("--address", "tcp://127.0.0.1:80", "version", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: tcp://127.0.0.1:80: server answered HTTP status 404\n");
  result_free (&r);
}

/* ---- containers --------------------------------------------------------- */

static void
test_start_request (void **state)
{
  (void) state;
  struct result r = run_ctr ("containers", "start", "-l", "a=b", "--label", "c", "--no-pivot",
                             "--checkpoint", "cp1", "--checkpoint-dir", "/cps", "c1", "/b", NULL);
  assert_int_equal (r.status, 0);
  assert_string_equal (fk.method, "CreateContainer");
  Types__CreateContainerRequest *q = REQ (Types__CreateContainerRequest);
  assert_string_equal (q->id, "c1");
  assert_string_equal (q->bundlepath, "/b");
  assert_int_equal (q->n_labels, 2);
  assert_string_equal (q->labels[0], "a=b");
  assert_string_equal (q->labels[1], "c");
  assert_true (q->nopivotroot);
  assert_string_equal (q->checkpoint, "cp1");
  assert_string_equal (q->checkpointdir, "/cps");
  /* docs/ctr.md §5: no runtime unless asked; no FIFOs nobody would open */
  assert_string_equal (q->runtime, "");
  assert_int_equal (q->n_runtimeargs, 0);
  assert_string_equal (q->stdin, "");
  assert_string_equal (q->stdout, "");
  assert_string_equal (q->stderr, "");
  assert_string_equal (r.out, "");
  result_free (&r);

  r = run_ctr ("containers", "start", "-r", "crun", "--runtime-args", "--debug", "--runtime-args",
               "--systemd-cgroup", "c2", "rel/bundle", NULL);
  assert_int_equal (r.status, 0);
  q = REQ (Types__CreateContainerRequest);
  assert_string_equal (q->runtime, "crun");
  assert_int_equal (q->n_runtimeargs, 2);
  assert_string_equal (q->runtimeargs[1], "--systemd-cgroup");
  char cwd[4096];
  assert_non_null (getcwd (cwd, sizeof cwd));
  cleanup_free char *abs = xasprintf ("%s/rel/bundle", cwd);
  assert_string_equal (q->bundlepath, abs);
  result_free (&r);
}

static void
test_start_validation (void **state)
{
  (void) state;
  struct result r = run_ctr ("containers", "start", "c1", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: bundle path cannot be empty\n");
  result_free (&r);
  r = run_ctr ("containers", "start", "", "/b", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: container id cannot be empty\n");
  result_free (&r);
  r = run_ctr ("containers", "start", "--attach", "c1", "/nonexistent-bundle", NULL);
  assert_int_equal (r.status, 1);
  assert_non_null (strstr (r.err, "/nonexistent-bundle/config.json"));
  result_free (&r);
  assert_int_equal (fk.ncalls, 0);
}

static void
test_exec_request (void **state)
{
  (void) state;
  struct result r =
      run_ctr ("containers", "exec", "--id", "c1", "--pid", "e1", "--cwd", "/tmp", "-t", "-e",
               "A=1", "--env", "B=2", "-u", "1000", "-g", "100", "sh", "-c", "id", NULL);
  assert_int_equal (r.status, 0);
  assert_string_equal (fk.method, "AddProcess");
  Types__AddProcessRequest *q = REQ (Types__AddProcessRequest);
  assert_string_equal (q->id, "c1");
  assert_string_equal (q->pid, "e1");
  assert_string_equal (q->cwd, "/tmp");
  assert_true (q->terminal);
  assert_int_equal (q->n_args, 3);
  assert_string_equal (q->args[2], "id");
  assert_int_equal (q->n_env, 3);
  assert_string_equal (q->env[1], "B=2");
  assert_int_equal (strncmp (q->env[2], "PATH=", 5), 0);
  assert_non_null (q->user);
  assert_int_equal (q->user->uid, 1000);
  assert_int_equal (q->user->gid, 100);
  assert_int_equal (q->n_capabilities, 0);
  assert_string_equal (q->stdout, "");
  result_free (&r);

  /* defaults: cwd "/", uid/gid 0 (user present), PATH kept when given */
  r = run_ctr ("containers", "exec", "--id", "c1", "--pid", "e2", "-e", "PATH=/x", "ls", NULL);
  q = REQ (Types__AddProcessRequest);
  assert_string_equal (q->cwd, "/");
  assert_false (q->terminal);
  assert_non_null (q->user);
  assert_int_equal (q->user->uid, 0);
  assert_int_equal (q->n_env, 1);
  assert_string_equal (q->env[0], "PATH=/x");
  result_free (&r);

  r = run_ctr ("containers", "exec", "--id", "c1", "--pid", "e3", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: no command given to run in the container\n");
  result_free (&r);
  r = run_ctr ("containers", "exec", "-u", "-1", "ls", NULL);
  assert_int_equal (r.status, 1);
  result_free (&r);
}

static void
test_kill_pause_resume (void **state)
{
  (void) state;
  struct result r = run_ctr ("containers", "kill", "c1", NULL);
  assert_int_equal (r.status, 0);
  assert_string_equal (fk.method, "Signal");
  assert_string_equal (REQ (Types__SignalRequest)->pid, "init");
  assert_int_equal (REQ (Types__SignalRequest)->signal, 15);
  result_free (&r);
  r = run_ctr ("containers", "kill", "-s", "9", "-p", "e1", "c1", NULL);
  assert_int_equal (REQ (Types__SignalRequest)->signal, 9);
  assert_string_equal (REQ (Types__SignalRequest)->pid, "e1");
  result_free (&r);
  r = run_ctr ("containers", "kill", "--signal=0x0f", "c1", NULL);
  assert_int_equal (REQ (Types__SignalRequest)->signal, 15);
  result_free (&r);
  r = run_ctr ("containers", "kill", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: container id cannot be empty\n");
  result_free (&r);

  r = run_ctr ("containers", "pause", "c1", NULL);
  assert_string_equal (fk.method, "UpdateContainer");
  assert_string_equal (REQ (Types__UpdateContainerRequest)->status, "paused");
  assert_string_equal (REQ (Types__UpdateContainerRequest)->pid, "init");
  result_free (&r);
  r = run_ctr ("containers", "resume", "c1", NULL);
  assert_string_equal (REQ (Types__UpdateContainerRequest)->status, "running");
  assert_null (REQ (Types__UpdateContainerRequest)->resources);
  result_free (&r);
  r = run_ctr ("containers", "pause", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: container id cannot be empty\n");
  result_free (&r);
}

static void
test_update (void **state)
{
  (void) state;
  struct result r =
      run_ctr ("containers", "update", "--memory-limit", "0x1000", "--cpu-shares", "512",
               "--cpu-quota", "-1", "--pids-limit", "010", "--blkio-weight", "300", "--cpuset-cpus",
               "0-1", "--cpuset-mems", "0", "--memory-swap", "-1", "--cpu-realtime-runtime", "-5",
               "--cpu-realtime-period", "1000", "--kernel-limit", "1", "--kernel-tcp-limit", "2",
               "--memory-reservation", "3", "--cpu-period", "100000", "c1", NULL);
  assert_int_equal (r.status, 0);
  Types__UpdateContainerRequest *q = REQ (Types__UpdateContainerRequest);
  assert_string_equal (q->id, "c1");
  assert_string_equal (q->status, "");
  Types__UpdateResource *u = q->resources;
  assert_non_null (u);
  assert_int_equal (u->memorylimit, 4096);
  assert_int_equal (u->cpushares, 512);
  assert_true (u->cpuquota == UINT64_MAX);
  assert_true (u->memoryswap == UINT64_MAX);
  assert_int_equal (u->pidslimit, 8);
  assert_int_equal (u->blkioweight, 300);
  assert_string_equal (u->cpusetcpus, "0-1");
  assert_string_equal (u->cpusetmems, "0");
  assert_int_equal (u->cpurealtimeruntime, -5);
  assert_int_equal (u->cpurealtimeperiod, 1000);
  assert_int_equal (u->kernelmemorylimit, 1);
  assert_int_equal (u->kerneltcpmemorylimit, 2);
  assert_int_equal (u->memoryreservation, 3);
  assert_int_equal (u->cpuperiod, 100000);
  result_free (&r);

  r = run_ctr ("containers", "update", "--memory-limit", "1g", "c1", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: invalid value \"1g\" for --memory-limit: strconv.ParseUint: "
                              "parsing \"1g\": invalid syntax\n");
  result_free (&r);
  r = run_ctr ("containers", "update", "--cpu-period", "-1", "c1", NULL);
  assert_int_equal (r.status, 1);
  assert_non_null (strstr (r.err, "parsing \"-1\": invalid syntax"));
  result_free (&r);
  r = run_ctr ("containers", "update", "--blkio-weight", "99999999999999999999", "c1", NULL);
  assert_non_null (strstr (r.err, "value out of range"));
  result_free (&r);
  r = run_ctr ("containers", "update", NULL);
  assert_string_equal (r.err, "ctr: container id cannot be empty\n");
  result_free (&r);
}

/* ---- attach: FIFO dir and bundle terminal flag ------------------------- */

static void
test_attach_fifos (void **state)
{
  (void) state;
  char tmpl[] = "/tmp/test-ctr-XXXXXX";
  assert_non_null (mkdtemp (tmpl));
  const char *old = getenv ("TMPDIR");
  cleanup_free char *saved = old ? xstrdup (old) : NULL;
  setenv ("TMPDIR", tmpl, 1);
  struct attach *a = NULL;
  cleanup_error struct ctrd_error *err = NULL;
  assert_int_equal (attach_prepare (false, &a, &err), 0);
  cleanup_free char *dir = xstrdup (attach_path (a, 0));
  *strrchr (dir, '/') = '\0';
  assert_int_equal (strncmp (dir, tmpl, strlen (tmpl)), 0);
  assert_int_equal (strncmp (dir + strlen (tmpl), "/ctr-", 5), 0);
  struct stat st;
  assert_int_equal (stat (dir, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0700); /* private */
  const char *names[] = { "stdin", "stdout", "stderr" };
  for (int i = 0; i < 3; i++)
    {
      cleanup_free char *want = xasprintf ("%s/%s", dir, names[i]);
      assert_string_equal (attach_path (a, i), want);
      assert_int_equal (stat (want, &st), 0);
      assert_true (S_ISFIFO (st.st_mode));
    }
  attach_free (a);
  assert_int_equal (stat (dir, &st), -1); /* removed with its FIFOs */
  /* an unusable TMPDIR: a clear error, nothing made */
  cleanup_free char *missing = xasprintf ("%s/missing", tmpl);
  setenv ("TMPDIR", missing, 1);
  assert_int_equal (attach_prepare (false, &a, &err), -1);
  cleanup_free char *want = xasprintf ("%s/ctr-", missing);
  assert_non_null (strstr (err->msg, want));
  if (saved)
    setenv ("TMPDIR", saved, 1);
  else
    unsetenv ("TMPDIR");
  assert_int_equal (rmdir (tmpl), 0);
}

static void
test_bundle_terminal (void **state)
{
  (void) state;
  char dir[] = "/tmp/test-ctr-XXXXXX";
  assert_non_null (mkdtemp (dir));
  cleanup_free char *cfg = xasprintf ("%s/config.json", dir);
  struct
  {
    const char *json;
    int want; /* 1 true, 0 false, -1 error */
  } cases[] = {
    { "{\"process\":{\"terminal\":true,\"args\":[\"sh\"]}}", 1 },
    { "{\"process\":{\"terminal\":false}}", 0 },
    { "{\"process\":{}}", 0 },
    { "{}", 0 },
    { "{\"process\":", -1 },
    { "not json", -1 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      FILE *f = fopen (cfg, "w");
      assert_non_null (f);
      fputs (cases[i].json, f);
      fclose (f);
      bool term = false;
      cleanup_error struct ctrd_error *err = NULL;
      int r = attach_bundle_terminal (dir, &term, &err);
      if (cases[i].want < 0)
        {
          assert_int_equal (r, -1);
          assert_non_null (strstr (err->msg, cfg));
        }
      else
        {
          assert_int_equal (r, 0);
          assert_int_equal (term, cases[i].want);
        }
    }
  unlink (cfg);
  bool term;
  cleanup_error struct ctrd_error *err = NULL;
  assert_int_equal (attach_bundle_terminal (dir, &term, &err), -1);
  assert_non_null (strstr (err->msg, cfg));
  assert_int_equal (rmdir (dir), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup (test_help_everywhere, reset),
    cmocka_unit_test_setup (test_version_flag, reset),
    cmocka_unit_test_setup (test_global_errors, reset),
    cmocka_unit_test_setup (test_version, reset),
    cmocka_unit_test_setup (test_not_found, reset),
    cmocka_unit_test_setup (test_start_request, reset),
    cmocka_unit_test_setup (test_start_validation, reset),
    cmocka_unit_test_setup (test_exec_request, reset),
    cmocka_unit_test_setup (test_kill_pause_resume, reset),
    cmocka_unit_test_setup (test_update, reset),
    cmocka_unit_test_setup (test_attach_fifos, reset),
    cmocka_unit_test_setup (test_bundle_terminal, reset),
  };
  return cmocka_run_group_tests (tests, NULL, reset);
}
