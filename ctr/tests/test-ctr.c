/* Unit tests of ctr: every command's flags → the request it sends (through
 * a recording transport), tables and JSON from hand-built responses, error
 * lines and exit statuses, --timestamp parsing. No daemon (that is
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
#include "lib/util.h"

/* ---- recording transport ------------------------------------------------ */

struct fake
{
  char method[64];
  ProtobufCMessage *req; /* the last request, decoded from its wire form */
  int ncalls;
  ProtobufCMessage *resp; /* packed and returned (decoded copy) */
  int fail_code;          /* non-zero: fail with this code and fail_msg */
  const char *fail_msg;
  ProtobufCMessage **events; /* stream messages, then END */
  size_t nevents, next_event;
};

static struct fake fk;

static ProtobufCMessage *
roundtrip (const ProtobufCMessage *m, const ProtobufCMessageDescriptor *d)
{
  size_t len = protobuf_c_message_get_packed_size (m);
  uint8_t *buf = xmalloc (len + 1);
  protobuf_c_message_pack (m, buf);
  ProtobufCMessage *out = protobuf_c_message_unpack (d, NULL, len, buf);
  free (buf);
  assert_non_null (out);
  return out;
}

static void
record (const char *method, const ProtobufCMessage *req)
{
  snprintf (fk.method, sizeof fk.method, "%s", method);
  if (fk.req)
    protobuf_c_message_free_unpacked (fk.req, NULL);
  fk.req = roundtrip (req, req->descriptor);
  fk.ncalls++;
}

static int
fake_call (struct ctr_ctx *ctx, const char *method, const ProtobufCMessage *req,
           const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
           struct ctrd_error **err)
{
  (void) ctx;
  record (method, req);
  if (fk.fail_code)
    return ctrd_error_grpc (err, fk.fail_code, "%s", fk.fail_msg);
  if (fk.resp && fk.resp->descriptor == resp_desc)
    *resp = roundtrip (fk.resp, resp_desc);
  else
    {
      /* an empty response of the right type */
      ProtobufCMessage *empty = xmalloc0 (resp_desc->sizeof_message);
      protobuf_c_message_init (resp_desc, empty);
      *resp = roundtrip (empty, resp_desc);
      free (empty);
    }
  return 0;
}

static int
fake_stream_open (struct ctr_ctx *ctx, const char *method, const ProtobufCMessage *req,
                  const ProtobufCMessageDescriptor *msg_desc, void **stream,
                  struct ctrd_error **err)
{
  (void) ctx, (void) msg_desc;
  record (method, req);
  if (fk.fail_code)
    return ctrd_error_grpc (err, fk.fail_code, "%s", fk.fail_msg);
  *stream = &fk;
  return 0;
}

static int
fake_stream_next (struct ctr_ctx *ctx, void *stream, ProtobufCMessage **msg, int64_t timeout_ns,
                  struct ctrd_error **err)
{
  (void) ctx, (void) stream, (void) timeout_ns, (void) err;
  if (fk.next_event < fk.nevents)
    {
      ProtobufCMessage *m = fk.events[fk.next_event++];
      *msg = roundtrip (m, m->descriptor);
      return API_STREAM_MSG;
    }
  return API_STREAM_END;
}

static void
fake_stream_free (struct ctr_ctx *ctx, void *stream)
{
  (void) ctx, (void) stream;
}

static int
fake_fd (struct ctr_ctx *ctx)
{
  (void) ctx;
  return -1;
}

static const struct ctr_transport fake_transport = {
  fake_call, fake_stream_open, fake_stream_next, fake_stream_free, fake_fd,
};

static int
reset (void **state)
{
  (void) state;
  if (fk.req)
    protobuf_c_message_free_unpacked (fk.req, NULL);
  memset (&fk, 0, sizeof fk);
  return 0;
}

/* Run ctr with the NULL-terminated arguments; output and error text in
 * malloc'd strings. */
struct result
{
  int status;
  char *out, *err;
};

static struct result
run_ctr (const char *first, ...)
{
  char *argv[64];
  int argc = 0;
  argv[argc++] = (char *) "ctr";
  va_list ap;
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    argv[argc++] = (char *) a;
  va_end (ap);
  argv[argc] = NULL;
  struct result r = { 0 };
  size_t lo, le;
  FILE *out = open_memstream (&r.out, &lo);
  FILE *errf = open_memstream (&r.err, &le);
  r.status = ctr_main (argc, argv, out, errf, &fake_transport, NULL);
  fclose (out);
  fclose (errf);
  return r;
}

static void
result_free (struct result *r)
{
  free (r->out);
  free (r->err);
}

#define REQ(type) ((type *) fk.req)

/* ---- global flags, help, errors ----------------------------------------- */

static void
test_help_everywhere (void **state)
{
  (void) state;
  const char *cmds[][3] = {
    { "--help", NULL }, { "help", NULL }, { "help", "containers", NULL },
    { "version", "--help", NULL }, { "state", "-h", NULL }, { "events", "--help", NULL },
    { "containers", "--help", NULL }, { "checkpoints", "--help", NULL },
  };
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    {
      struct result r = run_ctr (cmds[i][0], cmds[i][1], cmds[i][2], NULL);
      assert_int_equal (r.status, 0);
      assert_non_null (strstr (r.out, "USAGE:"));
      assert_string_equal (r.err, "");
      result_free (&r);
    }
  const char *subs[] = { "list", "start", "exec", "kill", "pause", "resume",
                         "update", "stats", "watch", "state" };
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
  assert_string_equal (r.err, "ctr: bad bind address format /run/x.sock, expected proto://address\n");
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
    { "containers", "kill", "c9", NULL }, { "containers", "pause", "c9", NULL },
    { "containers", "resume", "c9", NULL }, { "containers", "stats", "c9", NULL },
    { "containers", "c9", NULL }, { "state", "c9", NULL }, { "containers", "update", "c9", NULL },
    { "containers", "watch", "c9", NULL }, { "checkpoints", "delete", "c9", "cp" },
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
  /* Notes: no runtime unless asked; no FIFOs nobody would open */
  assert_string_equal (q->runtime, "");
  assert_int_equal (q->n_runtimeargs, 0);
  assert_string_equal (q->stdin, "");
  assert_string_equal (q->stdout, "");
  assert_string_equal (q->stderr, "");
  assert_string_equal (r.out, "");
  result_free (&r);

  r = run_ctr ("containers", "start", "-r", "crun", "--runtime-args", "--debug",
               "--runtime-args", "--systemd-cgroup", "c2", "rel/bundle", NULL);
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
  struct result r = run_ctr ("containers", "exec", "--id", "c1", "--pid", "e1", "--cwd", "/tmp",
                             "-t", "-e", "A=1", "--env", "B=2", "-u", "1000", "-g", "100", "sh",
                             "-c", "id", NULL);
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
  struct result r = run_ctr ("containers", "update", "--memory-limit", "0x1000", "--cpu-shares",
                             "512", "--cpu-quota", "-1", "--pids-limit", "010", "--blkio-weight",
                             "300", "--cpuset-cpus", "0-1", "--cpuset-mems", "0",
                             "--memory-swap", "-1", "--cpu-realtime-runtime", "-5",
                             "--cpu-realtime-period", "1000", "--kernel-limit", "1",
                             "--kernel-tcp-limit", "2", "--memory-reservation", "3",
                             "--cpu-period", "100000", "c1", NULL);
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
  cleanup_free char *want = xasprintf ("%-20s%-40s%-20s%s\n%-20s%-40s%-20s%s\n%-20s%-40s%-20s%s\n",
                                       "ID", "PATH", "STATUS", "PROCESSES", "alpha", "/b",
                                       "stopped", "init", "zeta",
                                       "/containers/a-rather-long-bundle-path", "running",
                                       "init,e1");
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
  /* ctr.md's example, byte for byte */
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
  const char *want
      = "{\"containers\":[{\"id\":\"c1\",\"bundlePath\":\"/b\",\"processes\":[{\"pid\":\"init\","
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
test_json_escaping (void **state)
{
  (void) state;
  char *buf = NULL;
  size_t len;
  FILE *f = open_memstream (&buf, &len);
  json_write_string (f, "a<b>&\"\\\n\t\x01\xe2\x80\xa8\xff\xc3\xa9");
  fclose (f);
  assert_string_equal (buf, "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\t\\u0001\\u2028\\ufffd\xc3\xa9\"");
  free (buf);
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
  struct result r = run_ctr ("containers", "stats", "c1", NULL);
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
  r = run_ctr ("containers", "stats", NULL);
  assert_int_equal (r.status, 1);
  assert_string_equal (r.err, "ctr: container id cannot be empty\n");
  result_free (&r);
}

/* ---- events and watch --------------------------------------------------- */

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
  assert_string_equal (r.out, "{\"type\":\"start-container\",\"id\":\"c1\",\"pid\":\"\",\"status\":0,"
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
  /* every matching event, not just the first (Notes) */
  assert_string_equal (
      r.out, "&types.Event{Type:\"exit\", Id:\"c1\", Status:0x0, Pid:\"init\", "
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

/* ---- checkpoints -------------------------------------------------------- */

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
  assert_string_equal (r.out, "[{\"name\":\"cp1\",\"exit\":false,\"tcp\":true,\"unixSockets\":true,"
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
    cmocka_unit_test_setup (test_list_table_and_json, reset),
    cmocka_unit_test_setup (test_state_json_example, reset),
    cmocka_unit_test_setup (test_json_escaping, reset),
    cmocka_unit_test_setup (test_stats_json, reset),
    cmocka_unit_test_setup (test_events_table, reset),
    cmocka_unit_test_setup (test_watch, reset),
    cmocka_unit_test_setup (test_checkpoints, reset),
    cmocka_unit_test_setup (test_table_writer, reset),
    cmocka_unit_test_setup (test_attach_fifos, reset),
    cmocka_unit_test_setup (test_bundle_terminal, reset),
  };
  return cmocka_run_group_tests (tests, NULL, reset);
}
