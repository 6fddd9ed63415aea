/* The gRPC client (api/client.c) against independent servers: Python grpcio
 * (api/tests/py-server.py) and, for faults grpcio cannot produce (a stream
 * reset, garbage, an immediate close), a raw socket in a child process that
 * writes fixed HTTP/2 frames. TAP output. A watchdog alarm turns a hang into
 * a failure. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/api.pb-c.h"
#include "api/client.h"
#include "lib/timeutil.h"
#include "lib/tests/testutil.h"
#include "lib/util.h"

#define ERROR_MESSAGE "container not found: ünïcødé 100% «ok» %41 日本"
#define SEC NSEC_PER_SEC

static int n_test;
static int n_failed;
static char *tmpdir;

static bool __attribute__ ((format (printf, 2, 3))) ok (bool cond, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  printf ("%s %d - ", cond ? "ok" : "not ok", ++n_test);
  vprintf (fmt, ap);
  printf ("\n");
  va_end (ap);
  fflush (stdout);
  if (!cond)
    n_failed++;
  return cond;
}

static void
diag_err (const struct ctrd_error *e)
{
  if (e != NULL)
    printf ("# error (code %d): %s\n", ctrd_error_code (e), e->msg);
  else
    printf ("# no error\n");
}

/* ---- the Python server ---- */

struct pyserver
{
  pid_t pid;
  int stdin_fd;
  int port;
  char *sock;
  char *addr;
};

static bool
pyserver_start (struct pyserver *ps, const char *name)
{
  const char *py = getenv ("GRPC_PYTHON");
  const char *src = getenv ("CTRD_TOP_SRCDIR");
  ps->sock = path_join (tmpdir, name);
  ps->addr = xasprintf ("unix://%s", ps->sock);
  cleanup_free char *script = xasprintf ("%s/api/tests/py-server.py", src);
  cleanup_free char *apisrc = xasprintf ("%s/api", src);
  int in[2], out[2];
  if (pipe2 (in, O_CLOEXEC) < 0 || pipe2 (out, O_CLOEXEC) < 0)
    abort ();
  ps->pid = fork ();
  if (ps->pid < 0)
    abort ();
  if (ps->pid == 0)
    {
      dup2 (in[0], 0);
      dup2 (out[1], 1);
      execl (py, py, script, apisrc, ps->sock, (char *) NULL);
      _exit (127);
    }
  close (in[0]);
  close (out[1]);
  ps->stdin_fd = in[1];
  char line[64] = "";
  size_t n = 0;
  while (n < sizeof line - 1)
    {
      ssize_t r = read (out[0], line + n, 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0 || line[n] == '\n')
        break;
      n++;
    }
  line[n] = '\0';
  close (out[0]);
  return sscanf (line, "ready %d", &ps->port) == 1;
}

/* Returns the wait status. */
static int
pyserver_stop (struct pyserver *ps)
{
  int status = 0;
  if (ps->stdin_fd >= 0)
    close (ps->stdin_fd);
  ps->stdin_fd = -1;
  if (ps->pid > 0)
    while (waitpid (ps->pid, &status, 0) < 0 && errno == EINTR)
      ;
  ps->pid = 0;
  free (ps->sock);
  free (ps->addr);
  return status;
}

/* ---- helpers ---- */

static int
call_state (struct api_client *c, const char *id, Types__StateResponse **resp, int64_t timeout,
            struct ctrd_error **err)
{
  Types__StateRequest req = TYPES__STATE_REQUEST__INIT;
  req.id = (char *) id;
  return api_client_call (c, "/types.API/State", &req.base, &types__state_response__descriptor,
                          (ProtobufCMessage **) resp, timeout, err);
}

static bool
state_echo_ok (struct api_client *c, const char *id)
{
  cleanup_error struct ctrd_error *err = NULL;
  Types__StateResponse *resp = NULL;
  if (call_state (c, id, &resp, 5 * SEC, &err) < 0)
    {
      diag_err (err);
      return false;
    }
  bool good = resp->n_containers == 1 && strcmp (resp->containers[0]->id, id) == 0
              && resp->machine != NULL && resp->machine->cpus == 4;
  protobuf_c_message_free_unpacked (&resp->base, NULL);
  return good;
}

static struct api_stream *
open_events (struct api_client *c, const char *id)
{
  cleanup_error struct ctrd_error *err = NULL;
  Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
  req.id = (char *) id;
  struct api_stream *s = NULL;
  if (api_client_stream_open (c, "/types.API/Events", &req.base, &types__event__descriptor, &s,
                              &err)
      < 0)
    diag_err (err);
  return s;
}

/* Read n events "ev0".."ev<n-1>"; then expect END. */
static bool
read_events (struct api_stream *s, int n, int64_t timeout)
{
  cleanup_error struct ctrd_error *err = NULL;
  for (int i = 0; i < n; i++)
    {
      ProtobufCMessage *m = NULL;
      int r = api_stream_next (s, &m, timeout, &err);
      if (r != API_STREAM_MSG)
        {
          printf ("# event %d: result %d\n", i, r);
          diag_err (err);
          return false;
        }
      Types__Event *ev = (Types__Event *) m;
      char want[16];
      snprintf (want, sizeof want, "ev%d", i);
      bool good = strcmp (ev->id, want) == 0 && ev->status == (uint32_t) i;
      protobuf_c_message_free_unpacked (m, NULL);
      if (!good)
        return false;
    }
  ProtobufCMessage *m = NULL;
  return api_stream_next (s, &m, timeout, &err) == API_STREAM_END && m == NULL;
}

static bool
state_call_ok_any (struct api_client *c)
{
  cleanup_error struct ctrd_error *err = NULL;
  Types__StateResponse *resp = NULL;
  if (call_state (c, "any", &resp, 5 * SEC, &err) < 0)
    {
      diag_err (err);
      return false;
    }
  protobuf_c_message_free_unpacked (&resp->base, NULL);
  return true;
}

/* ---- a raw HTTP/2 peer for faults ---- */

/* Listen on a fresh socket; a child accepts one connection, reads what the
 * client sends first, writes `reply`, then waits for EOF. */
static pid_t
rawserver_start (const char *name, const void *reply, size_t len, char **addr)
{
  cleanup_free char *path = path_join (tmpdir, name);
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  snprintf (sun.sun_path, sizeof sun.sun_path, "%s", path);
  int lfd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0 || bind (lfd, (struct sockaddr *) &sun, sizeof sun) < 0 || listen (lfd, 4) < 0)
    abort ();
  *addr = xasprintf ("unix://%s", path);
  pid_t pid = fork ();
  if (pid < 0)
    abort ();
  if (pid == 0)
    {
      int fd = accept (lfd, NULL, NULL);
      char buf[4096];
      if (fd < 0 || read (fd, buf, sizeof buf) <= 0)
        _exit (1);
      if (len > 0 && write_all (fd, reply, len) < 0)
        _exit (1);
      if (len == 0)
        _exit (0); /* close at once */
      while (read (fd, buf, sizeof buf) > 0)
        ;
      _exit (0);
    }
  close (lfd);
  return pid;
}

static void
rawserver_wait (pid_t pid)
{
  int status;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
}

static void
test_raw_fault (const char *what, const void *reply, size_t len, int64_t timeout, int want_code)
{
  cleanup_free char *addr = NULL;
  pid_t pid = rawserver_start (what, reply, len, &addr);
  struct api_client *c = NULL;
  cleanup_error struct ctrd_error *err = NULL;
  Types__StateResponse *resp = NULL;
  int r = api_client_connect (addr, 5 * SEC, &c, &err);
  if (r == 0)
    r = call_state (c, "x", &resp, timeout, &err);
  if (!ok (r < 0 && err != NULL && ctrd_error_code (err) == want_code, "raw server, %s → code %d",
           what, want_code))
    diag_err (err);
  else
    printf ("# %s\n", err->msg);
  api_client_free (c);
  rawserver_wait (pid);
}

/* ---- tests ---- */

static void
test_connect_errors (void)
{
  struct api_client *c = NULL;
  cleanup_error struct ctrd_error *err = NULL;
  cleanup_free char *missing = xasprintf ("unix://%s/missing.sock", tmpdir);
  cleanup_free char *want = xasprintf ("cannot connect to %s: no such file or directory", missing);
  int r = api_client_connect (missing, SEC, &c, &err);
  if (!ok (r < 0 && c == NULL && err && ctrd_error_code (err) == GRPC_UNAVAILABLE
               && strcmp (err->msg, want) == 0,
           "missing socket → UNAVAILABLE, message names the address"))
    diag_err (err);

  cleanup_free char *path = path_join (tmpdir, "nolistener.sock");
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  snprintf (sun.sun_path, sizeof sun.sun_path, "%s", path);
  int fd = socket (AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &sun, sizeof sun) < 0)
    abort ();
  close (fd);
  cleanup_free char *want2 = xasprintf ("cannot connect to %s: connection refused", path);
  r = api_client_connect (path, SEC, &c, &err);
  if (!ok (r < 0 && err && ctrd_error_code (err) == GRPC_UNAVAILABLE
               && strcmp (err->msg, want2) == 0,
           "socket file without a listener → `connection refused`"))
    diag_err (err);

  r = api_client_connect ("http://localhost:80", SEC, &c, &err);
  ok (r < 0 && err && ctrd_error_code (err) == GRPC_INVALID_ARGUMENT,
      "unsupported scheme rejected");

  r = api_client_connect ("tcp://127.0.0.1:1", SEC, &c, &err);
  if (!ok (r < 0 && err && ctrd_error_code (err) == GRPC_UNAVAILABLE
               && strstr (err->msg, "tcp://127.0.0.1:1: connection refused") != NULL,
           "tcp port without a listener → connection refused"))
    diag_err (err);
}

static void
test_unary (struct api_client *c)
{
  cleanup_error struct ctrd_error *err = NULL;
  Types__GetServerVersionRequest vreq = TYPES__GET_SERVER_VERSION_REQUEST__INIT;
  Types__GetServerVersionResponse *v = NULL;
  int r = api_client_call (c, "/types.API/GetServerVersion", &vreq.base,
                           &types__get_server_version_response__descriptor,
                           (ProtobufCMessage **) &v, 0, &err);
  if (!ok (r == 0 && v && v->major == 0 && v->minor == 2 && v->patch == 3
               && strcmp (v->revision, "py-server") == 0,
           "unary GetServerVersion"))
    diag_err (err);
  if (v)
    protobuf_c_message_free_unpacked (&v->base, NULL);

  ok (state_echo_ok (c, "abc"), "unary State echo");

  Types__StateResponse *resp = NULL;
  r = call_state (c, "error", &resp, 5 * SEC, &err);
  if (!ok (r < 0 && resp == NULL && err && ctrd_error_code (err) == GRPC_NOT_FOUND
               && strcmp (err->msg, ERROR_MESSAGE) == 0,
           "error status with percent-encoded non-ASCII message decoded"))
    diag_err (err);

  r = call_state (c, "peer", &resp, 7 * SEC, &err);
  if (ok (r == 0 && resp->n_containers == 1, "peer sees the call"))
    {
      printf ("# user-agent `%s`, time remaining %s\n", resp->containers[0]->id,
              resp->containers[0]->bundlepath);
      ok (strncmp (resp->containers[0]->id, "ctrd-ctr/0.2.3", 14) == 0,
          "user-agent ctrd-ctr/0.2.3");
      double left = atof (resp->containers[0]->bundlepath);
      ok (left > 5.0 && left <= 7.0, "grpc-timeout sent (server sees %.3f s left of 7)", left);
    }
  else
    diag_err (err);
  if (resp)
    protobuf_c_message_free_unpacked (&resp->base, NULL);
  resp = NULL;

  r = call_state (c, "peer", &resp, 123 * NSEC_PER_MSEC, &err);
  if (ok (r == 0 && resp->n_containers == 1, "peer sees a 123ms call"))
    {
      double left = atof (resp->containers[0]->bundlepath);
      ok (left > 0.05 && left <= 0.123, "grpc-timeout 123m (server sees %.3f s left)", left);
    }
  else
    diag_err (err);
  if (resp)
    protobuf_c_message_free_unpacked (&resp->base, NULL);
  resp = NULL;

  int64_t t0 = time_now_mono_ns ();
  r = call_state (c, "slow", &resp, 300 * NSEC_PER_MSEC, &err);
  int64_t took = time_now_mono_ns () - t0;
  if (!ok (r < 0 && err && ctrd_error_code (err) == GRPC_DEADLINE_EXCEEDED && took < 3 * SEC,
           "deadline 300ms → DEADLINE_EXCEEDED after %lld ms", (long long) (took / NSEC_PER_MSEC)))
    diag_err (err);
  else
    printf ("# %s\n", err->msg);
  ok (state_echo_ok (c, "after-deadline"), "connection usable after a deadline");

  /* 5 MiB: over grpc-go's 4 MiB default, under the client's limit. */
  size_t big = 5u << 20;
  char id[32];
  snprintf (id, sizeof id, "big:%zu", big);
  t0 = time_now_mono_ns ();
  r = call_state (c, id, &resp, 30 * SEC, &err);
  took = time_now_mono_ns () - t0;
  if (!ok (r == 0 && resp->n_containers == 1 && strlen (resp->containers[0]->bundlepath) == big,
           "5 MiB response (%lld ms)", (long long) (took / NSEC_PER_MSEC)))
    diag_err (err);
  if (resp)
    protobuf_c_message_free_unpacked (&resp->base, NULL);
  resp = NULL;

  /* A 2 MiB request: more than the peer's initial flow-control windows. */
  cleanup_free char *long_id = xmalloc ((2u << 20) + 1);
  memset (long_id, 'q', 2u << 20);
  long_id[2u << 20] = '\0';
  ok (state_echo_ok (c, long_id), "2 MiB request");

  snprintf (id, sizeof id, "big:%u", 65u << 20);
  r = call_state (c, id, &resp, 30 * SEC, &err);
  if (!ok (r < 0 && err && ctrd_error_code (err) == GRPC_RESOURCE_EXHAUSTED,
           "65 MiB response → RESOURCE_EXHAUSTED"))
    diag_err (err);
  ok (state_echo_ok (c, "after-big"), "connection usable after an oversized response");
}

static void
test_streams (struct api_client *c)
{
  cleanup_error struct ctrd_error *err = NULL;
  struct api_stream *s = open_events (c, "5");
  ok (s && read_events (s, 5, 5 * SEC), "stream: 5 events then END");
  api_stream_free (s);

  s = open_events (c, "0");
  ok (s && read_events (s, 0, 5 * SEC), "stream: no events, END");
  api_stream_free (s);

  ProtobufCMessage *m = NULL;
  s = open_events (c, "fail");
  int got = 0, r;
  while ((r = api_stream_next (s, &m, 5 * SEC, &err)) == API_STREAM_MSG)
    {
      got++;
      protobuf_c_message_free_unpacked (m, NULL);
    }
  if (!ok (got == 2 && r == API_STREAM_ERROR && err && ctrd_error_code (err) == GRPC_UNAVAILABLE
               && strcmp (err->msg, "stream failed") == 0,
           "stream: 2 events then error status"))
    diag_err (err);
  api_stream_free (s);

  /* Messages of a stream nobody reads are buffered during a unary call. */
  s = open_events (c, "3");
  ok (state_echo_ok (c, "during-stream"), "unary call while a stream has pending events");
  ok (s && read_events (s, 3, 5 * SEC), "buffered events delivered afterwards, then END");
  api_stream_free (s);

  /* A long-lived stream: timeout, unary calls meanwhile, cancel. */
  s = open_events (c, "wait");
  r = s ? api_stream_next (s, &m, 5 * SEC, &err) : -1;
  ok (r == API_STREAM_MSG, "waiting stream: first event");
  if (r == API_STREAM_MSG)
    protobuf_c_message_free_unpacked (m, NULL);
  r = api_stream_next (s, &m, 0, &err);
  ok (r == API_STREAM_TIMEOUT, "next with timeout 0 → TIMEOUT at once");
  int64_t t0 = time_now_mono_ns ();
  r = api_stream_next (s, &m, 200 * NSEC_PER_MSEC, &err);
  int64_t took = time_now_mono_ns () - t0;
  ok (r == API_STREAM_TIMEOUT && took >= 200 * NSEC_PER_MSEC && took < 2 * SEC,
      "next with timeout 200ms → TIMEOUT after %lld ms", (long long) (took / NSEC_PER_MSEC));
  ok (state_echo_ok (c, "s1") && state_echo_ok (c, "s2"), "unary calls while a stream is open");
  struct api_stream *s2 = open_events (c, "2");
  ok (s2 && read_events (s2, 2, 5 * SEC), "second stream on the same connection");
  api_stream_free (s2);
  api_stream_free (s);

  Types__StateResponse *resp = NULL;
  r = call_state (c, "cancelled", &resp, 15 * SEC, &err);
  if (!ok (r == 0 && resp->machine && resp->machine->cpus == 1,
           "api_stream_free cancels: the server saw the RST_STREAM"))
    diag_err (err);
  if (resp)
    protobuf_c_message_free_unpacked (&resp->base, NULL);
}

static void
test_addresses (struct pyserver *ps)
{
  cleanup_error struct ctrd_error *err = NULL;
  struct api_client *c = NULL;
  if (ok (api_client_connect (ps->sock, SEC, &c, &err) == 0 && state_echo_ok (c, "bare"),
          "bare path address"))
    ;
  else
    diag_err (err);
  api_client_free (c);
  c = NULL;

  cleanup_free char *cwd = getcwd (NULL, 0);
  if (chdir (tmpdir) < 0)
    abort ();
  cleanup_free char *rel = xasprintf ("unix://%s", strrchr (ps->sock, '/') + 1);
  if (!ok (api_client_connect (rel, SEC, &c, &err) == 0 && state_echo_ok (c, "rel"),
           "relative unix:// address"))
    diag_err (err);
  if (chdir (cwd) < 0)
    abort ();
  api_client_free (c);
  c = NULL;

  cleanup_free char *tcp = xasprintf ("tcp://127.0.0.1:%d", ps->port);
  if (!ok (api_client_connect (tcp, SEC, &c, &err) == 0 && state_echo_ok (c, "tcp"),
           "tcp:// address"))
    diag_err (err);
  api_client_free (c);
  c = NULL;

  cleanup_free char *tcp4 = xasprintf ("tcp4://localhost:%d", ps->port);
  if (!ok (api_client_connect (tcp4, SEC, &c, &err) == 0 && state_echo_ok (c, "tcp4"),
           "tcp4:// address"))
    diag_err (err);
  api_client_free (c);
}

static void
test_server_dies (void)
{
  struct pyserver ps = { .stdin_fd = -1 };
  if (!ok (pyserver_start (&ps, "die.sock"), "second python server ready"))
    {
      pyserver_stop (&ps);
      return;
    }
  cleanup_error struct ctrd_error *err = NULL;
  struct api_client *c = NULL;
  if (api_client_connect (ps.addr, SEC, &c, &err) < 0)
    abort ();
  struct api_stream *s = open_events (c, "wait");
  ProtobufCMessage *m = NULL;
  if (s && api_stream_next (s, &m, 5 * SEC, &err) == API_STREAM_MSG)
    protobuf_c_message_free_unpacked (m, NULL);
  Types__StateResponse *resp = NULL;
  int64_t t0 = time_now_mono_ns ();
  int r = call_state (c, "die", &resp, 0, &err); /* no deadline: must not hang */
  int64_t took = time_now_mono_ns () - t0;
  if (!ok (r < 0 && err && ctrd_error_code (err) == GRPC_UNAVAILABLE && took < 5 * SEC,
           "server killed mid-call → UNAVAILABLE (%lld ms)", (long long) (took / NSEC_PER_MSEC)))
    diag_err (err);
  else
    printf ("# %s\n", err->msg);
  r = s ? api_stream_next (s, &m, -1, &err) : 0;
  ok (r == API_STREAM_ERROR && err && ctrd_error_code (err) == GRPC_UNAVAILABLE,
      "open stream fails too");
  api_stream_free (s);
  r = call_state (c, "again", &resp, 0, &err);
  ok (r < 0 && err && ctrd_error_code (err) == GRPC_UNAVAILABLE, "later calls fail at once");
  api_client_free (c);
  int status = pyserver_stop (&ps);
  ok (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL, "server was killed");
}

static void
test_raw_faults (void)
{
  static const uint8_t settings_rst[] = {
    0, 0, 0, 4, 0, 0, 0, 0, 0,             /* SETTINGS (empty) */
    0, 0, 4, 3, 0, 0, 0, 0, 1, 0, 0, 0, 2, /* RST_STREAM 1 INTERNAL_ERROR */
  };
  test_raw_fault ("rst", settings_rst, sizeof settings_rst, 0, GRPC_UNAVAILABLE);
  static const char garbage[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
  test_raw_fault ("garbage", garbage, sizeof garbage - 1, 0, GRPC_UNAVAILABLE);
  test_raw_fault ("close", NULL, 0, 0, GRPC_UNAVAILABLE);
  /* A server that never answers: only the deadline ends the call. */
  test_raw_fault ("silent", settings_rst, 9, 200 * NSEC_PER_MSEC, GRPC_DEADLINE_EXCEEDED);
  static const uint8_t goaway[] = {
    0, 0, 0, 4, 0, 0, 0, 0, 0,                         /* SETTINGS */
    0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* GOAWAY last 0 NO_ERROR */
  };
  test_raw_fault ("goaway", goaway, sizeof goaway, 0, GRPC_UNAVAILABLE);
}

/* A listener that never accepts: once its backlog is full, connect waits
 * and the connect timeout ends it. */
static void
test_connect_timeout (void)
{
  cleanup_free char *path = path_join (tmpdir, "backlog.sock");
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  snprintf (sun.sun_path, sizeof sun.sun_path, "%s", path);
  int lfd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0 || bind (lfd, (struct sockaddr *) &sun, sizeof sun) < 0 || listen (lfd, 0) < 0)
    abort ();
  struct api_client *held[4] = { NULL };
  cleanup_error struct ctrd_error *err = NULL;
  int64_t t0 = 0, took = 0;
  size_t i;
  for (i = 0; i < ARRAY_SIZE (held); i++)
    {
      t0 = time_now_mono_ns ();
      if (api_client_connect (path, 200 * NSEC_PER_MSEC, &held[i], &err) < 0)
        break;
    }
  took = time_now_mono_ns () - t0;
  if (!ok (i > 0 && i < ARRAY_SIZE (held) && err && ctrd_error_code (err) == GRPC_UNAVAILABLE
               && strstr (err->msg, "timed out") && took >= 150 * NSEC_PER_MSEC && took < 2 * SEC,
           "full backlog: connect times out after %lld ms (%zu queued)",
           (long long) (took / NSEC_PER_MSEC), i))
    diag_err (err);
  else
    printf ("# %s\n", err->msg);
  for (i = 0; i < ARRAY_SIZE (held); i++)
    api_client_free (held[i]);
  close (lfd);
}

/* ---- against ctrd's own server (api/tests/test-server) ---- */

static bool
read_line (int fd, char *line, size_t size)
{
  size_t n = 0;
  while (n < size - 1)
    {
      ssize_t r = read (fd, line + n, 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      if (line[n] == '\n')
        break;
      n++;
    }
  line[n] = '\0';
  return n > 0;
}

static void
test_ctrd_server (void)
{
  const char *build = getenv ("CTRD_TOP_BUILDDIR");
  cleanup_free char *bin = xasprintf ("%s/api/tests/test-server", build ? build : ".");
  if (access (bin, X_OK) < 0)
    {
      ok (true, "ctrd test-server # SKIP %s not built", bin);
      return;
    }
  cleanup_free char *sock = path_join (tmpdir, "ctrd.sock");
  int out[2];
  if (pipe2 (out, O_CLOEXEC) < 0)
    abort ();
  pid_t pid = fork ();
  if (pid < 0)
    abort ();
  if (pid == 0)
    {
      dup2 (out[1], 1);
      execl (bin, bin, sock, (char *) NULL);
      _exit (127);
    }
  close (out[1]);
  char line[256];
  if (!ok (read_line (out[0], line, sizeof line) && strncmp (line, "READY", 5) == 0,
           "ctrd test-server ready"))
    goto out;

  cleanup_error struct ctrd_error *err = NULL;
  struct api_client *c = NULL;
  if (!ok (api_client_connect (sock, SEC, &c, &err) == 0, "connect to ctrd server"))
    goto out;
  Types__StateResponse *resp = NULL;
  int r = call_state (c, "abc", &resp, 5 * SEC, &err);
  ok (r == 0 && resp->n_containers == 1 && strcmp (resp->containers[0]->id, "abc") == 0,
      "ctrd server: unary State");
  if (resp)
    protobuf_c_message_free_unpacked (&resp->base, NULL);
  resp = NULL;

  char id[160];
  snprintf (id, sizeof id, "fail:5:%s", ERROR_MESSAGE);
  r = call_state (c, id, &resp, 5 * SEC, &err);
  if (!ok (r < 0 && err && ctrd_error_code (err) == GRPC_NOT_FOUND
               && strcmp (err->msg, ERROR_MESSAGE) == 0,
           "ctrd server: error status, non-ASCII message round trip"))
    diag_err (err);

  r = call_state (c, "hang", &resp, 300 * NSEC_PER_MSEC, &err);
  if (!ok (r < 0 && err && ctrd_error_code (err) == GRPC_DEADLINE_EXCEEDED,
           "ctrd server: deadline → DEADLINE_EXCEEDED"))
    diag_err (err);

  Types__StateRequest sreq = TYPES__STATE_REQUEST__INIT;
  r = api_client_call (c, "/types.API/NoSuchMethod", &sreq.base, &types__state_response__descriptor,
                       (ProtobufCMessage **) &resp, 5 * SEC, &err);
  if (!ok (r < 0 && err && ctrd_error_code (err) == GRPC_UNIMPLEMENTED,
           "ctrd server: unknown method → UNIMPLEMENTED"))
    diag_err (err);

  snprintf (id, sizeof id, "big:%u", 5u << 20);
  r = call_state (c, id, &resp, 30 * SEC, &err);
  if (!ok (r == 0 && strlen (resp->containers[0]->bundlepath) == 5u << 20,
           "ctrd server: 5 MiB response"))
    diag_err (err);
  if (resp)
    protobuf_c_message_free_unpacked (&resp->base, NULL);
  resp = NULL;

  struct api_stream *s = open_events (c, "count:4");
  ProtobufCMessage *m = NULL;
  int got = 0;
  while (s && (r = api_stream_next (s, &m, 5 * SEC, &err)) == API_STREAM_MSG)
    {
      if (((Types__Event *) m)->status == (uint32_t) got)
        got++;
      protobuf_c_message_free_unpacked (m, NULL);
    }
  ok (got == 4 && r == API_STREAM_END, "ctrd server: 4 events then END");
  api_stream_free (s);

  s = open_events (c, "open");
  r = s ? api_stream_next (s, &m, 5 * SEC, &err) : -1;
  if (r == API_STREAM_MSG)
    protobuf_c_message_free_unpacked (m, NULL);
  ok (r == API_STREAM_MSG && state_call_ok_any (c),
      "ctrd server: unary call while a stream is open");
  api_stream_free (s);
  /* The RST went out before this call's HEADERS: once it is answered, the
   * server has dropped the stream. */
  ok (state_call_ok_any (c), "ctrd server: call after the cancel");
  /* Throughput over one connection (a figure, loosely bounded). */
  int64_t t0 = time_now_mono_ns ();
  int calls = 0;
  while (calls < 2000 && state_call_ok_any (c))
    calls++;
  int64_t took = time_now_mono_ns () - t0;
  ok (calls == 2000, "ctrd server: 2000 sequential unary calls, %.0f calls/s",
      calls * 1e9 / (double) (took ? took : 1));
  kill (pid, SIGUSR1);
  ok (read_line (out[0], line, sizeof line) && strstr (line, " calls=0 ") != NULL,
      "ctrd server: no call left after the cancel (%s)", line);
  api_client_free (c);

  /* Connections come and go without leaking fds (in either process). */
  int before = test_count_fds ();
  bool all = true;
  for (int i = 0; i < 100 && all; i++)
    {
      c = NULL;
      all = api_client_connect (sock, SEC, &c, &err) == 0 && state_call_ok_any (c);
      struct api_stream *st = all ? open_events (c, "open") : NULL;
      api_client_free (c);
      api_stream_free (st); /* after the client: must still be safe */
    }
  ok (all && test_count_fds () == before,
      "100 connect/call/stream/free cycles, no fd leaked (%d fds)", test_count_fds ());
out:
  kill (pid, SIGTERM);
  if (read_line (out[0], line, sizeof line))
    printf ("# %s\n", line);
  close (out[0]);
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  ok (WIFEXITED (status) && WEXITSTATUS (status) == 0, "ctrd test-server exited cleanly");
}

int
main (void)
{
  /* A hang is a failure, not a stuck test run. */
  alarm (120);
  signal (SIGPIPE, SIG_IGN);
  const char *py = getenv ("GRPC_PYTHON");
  if (py == NULL || py[0] == '\0' || getenv ("CTRD_TOP_SRCDIR") == NULL)
    {
      printf ("1..0 # SKIP GRPC_PYTHON or CTRD_TOP_SRCDIR not set\n");
      return 0;
    }
  char tmpl[] = "/tmp/ctrd-test-client.XXXXXX";
  tmpdir = mkdtemp (tmpl);
  if (tmpdir == NULL)
    abort ();

  test_connect_errors ();
  test_raw_faults ();
  test_connect_timeout ();

  struct pyserver ps = { .stdin_fd = -1 };
  if (ok (pyserver_start (&ps, "py.sock"), "python server ready"))
    {
      cleanup_error struct ctrd_error *err = NULL;
      struct api_client *c = NULL;
      if (!ok (api_client_connect (ps.addr, SEC, &c, &err) == 0, "connect %s", ps.addr))
        diag_err (err);
      else
        {
          test_unary (c);
          test_streams (c);
          api_client_free (c);
          test_addresses (&ps);
        }
    }
  pyserver_stop (&ps);
  test_server_dies ();
  test_ctrd_server ();

  rm_rf (tmpdir, NULL);
  printf ("1..%d\n", n_test);
  return n_failed ? 1 : 0;
}
