/* ctrd's own client library (api/client.c) against ctrd's server (the test
 * server, api/tests/test-server): every method, errors, streaming,
 * multiplexing, cancel, deadline, limits. TAP output. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/api.pb-c.h"
#include "api/client.h"
#include "lib/timeutil.h"
#include "lib/util.h"

static int n_tests, n_failed;
static pid_t server_pid;
static FILE *server_out;

#define CHECK(cond, ...)                                                                           \
  do                                                                                               \
    {                                                                                              \
      bool ok_ = (cond);                                                                           \
      printf ("%s %d - ", ok_ ? "ok" : "not ok", ++n_tests);                                       \
      printf (__VA_ARGS__);                                                                        \
      printf ("\n");                                                                               \
      if (!ok_)                                                                                    \
        {                                                                                          \
          n_failed++;                                                                              \
          printf ("# failed: %s (line %d)\n", #cond, __LINE__);                                    \
        }                                                                                          \
      fflush (stdout);                                                                             \
    }                                                                                              \
  while (0)

struct stats
{
  long conns, calls, fds;
};

static struct stats
server_stats (void)
{
  struct stats st = { -1, -1, -1 };
  char line[256];
  kill (server_pid, SIGUSR1);
  if (fgets (line, sizeof line, server_out))
    sscanf (line, "STATS conns=%ld calls=%ld fds=%ld", &st.conns, &st.calls, &st.fds);
  return st;
}

static ProtobufCMessage *
new_message (const ProtobufCMessageDescriptor *d)
{
  ProtobufCMessage *m = xmalloc0 (d->sizeof_message);
  protobuf_c_message_init (d, m);
  return m;
}

/* Unary State with an id; returns the gRPC code (0 OK) and the response. */
static int
state_call (struct api_client *c, const char *id, int64_t timeout_ns, Types__StateResponse **resp,
            char **msg)
{
  Types__StateRequest req = TYPES__STATE_REQUEST__INIT;
  req.id = (char *) id;
  cleanup_error struct ctrd_error *err = NULL;
  ProtobufCMessage *r = NULL;
  if (api_client_call (c, "/types.API/State", &req.base, &types__state_response__descriptor, &r,
                       timeout_ns, &err)
      < 0)
    {
      if (msg)
        *msg = xstrdup (err->msg);
      return err->grpc_code < 0 ? 2 : err->grpc_code;
    }
  if (resp)
    *resp = (Types__StateResponse *) r;
  else
    protobuf_c_message_free_unpacked (r, NULL);
  return 0;
}

static bool
sync_and_idle (struct api_client *c)
{
  /* a round trip on the connection: an earlier RST_STREAM was handled */
  if (state_call (c, "sync", 0, NULL, NULL) != 0)
    return false;
  struct stats st = server_stats ();
  return st.calls == 0 && st.conns == 1;
}

static void
test_methods (struct api_client *c)
{
  const ProtobufCServiceDescriptor *sd = &types__api__descriptor;
  for (unsigned i = 0; i < sd->n_methods; i++)
    {
      const ProtobufCMethodDescriptor *md = &sd->methods[i];
      if (strcmp (md->name, "Events") == 0)
        continue;
      cleanup_free char *path = xasprintf ("/types.API/%s", md->name);
      ProtobufCMessage *req = new_message (md->input);
      ProtobufCMessage *resp = NULL;
      cleanup_error struct ctrd_error *err = NULL;
      int r = api_client_call (c, path, req, md->output, &resp, 10 * NSEC_PER_SEC, &err);
      CHECK (r == 0 && resp && resp->descriptor == md->output, "unary %s%s%s", md->name,
             err ? ": " : "", err ? err->msg : "");
      if (resp && md->output == &types__get_server_version_response__descriptor)
        {
          Types__GetServerVersionResponse *v = (Types__GetServerVersionResponse *) resp;
          CHECK (v->major == 0 && v->minor == 2 && v->patch == 3
                     && strcmp (v->revision, "test-server") == 0,
                 "GetServerVersion fields");
        }
      if (resp)
        protobuf_c_message_free_unpacked (resp, NULL);
      free (req);
    }
}

static void
test_errors (struct api_client *c)
{
  cleanup_free char *msg = NULL;
  const char *text = "100% bad\nnews: caf\xc3\xa9";
  cleanup_free char *id = xasprintf ("fail:6:%s", text);
  CHECK (state_call (c, id, 0, NULL, &msg) == 6 && msg && strcmp (msg, text) == 0,
         "error code and percent-encoded message round trip");

  ProtobufCMessage *resp = NULL;
  cleanup_error struct ctrd_error *err = NULL;
  Types__StateRequest req = TYPES__STATE_REQUEST__INIT;
  int r = api_client_call (c, "/types.API/Nope", &req.base, &types__state_response__descriptor,
                           &resp, 0, &err);
  CHECK (r < 0 && err && err->grpc_code == 12, "unknown method: UNIMPLEMENTED");
  ctrd_error_free (&err);

  cleanup_free char *huge = xmalloc ((5 << 20) + 1);
  memset (huge, 'x', 5 << 20);
  huge[5 << 20] = '\0';
  free (msg);
  msg = NULL;
  CHECK (state_call (c, huge, 30 * NSEC_PER_SEC, NULL, &msg) == 8, "oversized: RESOURCE_EXHAUSTED");
  CHECK (sync_and_idle (c), "connection usable after the oversized request");
}

static void
test_deadline (struct api_client *c)
{
  int64_t t0 = time_now_mono_ns ();
  CHECK (state_call (c, "hang", 200 * NSEC_PER_MSEC, NULL, NULL) == 4,
         "deadline: DEADLINE_EXCEEDED");
  int64_t el = time_now_mono_ns () - t0;
  CHECK (el >= 150 * NSEC_PER_MSEC && el < 5 * NSEC_PER_SEC, "deadline after ~200 ms (%lld ms)",
         (long long) (el / NSEC_PER_MSEC));
  CHECK (sync_and_idle (c), "deadline: handler cancelled, call freed");

  Types__StateResponse *resp = NULL;
  CHECK (state_call (c, "delay:100", 5 * NSEC_PER_SEC, &resp, NULL) == 0 && resp
             && resp->n_containers == 1 && strcmp (resp->containers[0]->id, "delayed") == 0,
         "asynchronous reply within the deadline");
  if (resp)
    protobuf_c_message_free_unpacked (&resp->base, NULL);
  resp = NULL;
  CHECK (state_call (c, "big:3000000", 30 * NSEC_PER_SEC, &resp, NULL) == 0 && resp
             && strlen (resp->containers[0]->bundlepath) == 3000000,
         "3 MB response");
  if (resp)
    protobuf_c_message_free_unpacked (&resp->base, NULL);
}

static struct api_stream *
events_open (struct api_client *c, const char *id)
{
  Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
  req.id = (char *) id;
  struct api_stream *s = NULL;
  cleanup_error struct ctrd_error *err = NULL;
  if (api_client_stream_open (c, "/types.API/Events", &req.base, &types__event__descriptor, &s,
                              &err)
      < 0)
    return NULL;
  return s;
}

static void
test_streams (struct api_client *c)
{
  struct api_stream *s = events_open (c, "count:100");
  int n = 0, r;
  bool in_order = true;
  ProtobufCMessage *m = NULL;
  cleanup_error struct ctrd_error *err = NULL;
  while (s && (r = api_stream_next (s, &m, 10 * NSEC_PER_SEC, &err)) == API_STREAM_MSG)
    {
      in_order &= ((Types__Event *) m)->status == (uint32_t) n;
      n++;
      protobuf_c_message_free_unpacked (m, NULL);
    }
  CHECK (s && r == API_STREAM_END && n == 100 && in_order,
         "Events: 100 messages in order, then OK");
  api_stream_free (s);

  /* an open stream, a unary call meanwhile, then cancel */
  s = events_open (c, "wait");
  r = s ? api_stream_next (s, &m, 10 * NSEC_PER_SEC, &err) : -1;
  CHECK (r == API_STREAM_MSG, "Events: first message of an open stream");
  if (r == API_STREAM_MSG)
    protobuf_c_message_free_unpacked (m, NULL);
  CHECK (state_call (c, "during", 0, NULL, NULL) == 0 && server_stats ().calls == 1,
         "unary call while the stream is open");
  api_stream_free (s);
  CHECK (sync_and_idle (c), "Events: cancel reaches the handler, call freed");

  /* 100 streams multiplexed at once */
  struct api_stream *many[100];
  for (int i = 0; i < 100; i++)
    many[i] = events_open (c, "wait");
  int got = 0;
  for (int i = 0; i < 100; i++)
    if (many[i] && api_stream_next (many[i], &m, 10 * NSEC_PER_SEC, &err) == API_STREAM_MSG)
      {
        got++;
        protobuf_c_message_free_unpacked (m, NULL);
      }
  CHECK (got == 100 && server_stats ().calls == 100, "100 concurrent streams on one connection");
  for (int i = 0; i < 100; i++)
    api_stream_free (many[i]);
  CHECK (sync_and_idle (c), "100 streams cancelled, calls freed");

  s = events_open (c, "flood");
  n = 0;
  ctrd_error_free (&err);
  while (s && (r = api_stream_next (s, &m, 10 * NSEC_PER_SEC, &err)) == API_STREAM_MSG)
    {
      n++;
      protobuf_c_message_free_unpacked (m, NULL);
    }
  CHECK (r == API_STREAM_ERROR && err && err->grpc_code == 8
             && strcmp (err->msg, "events subscriber too slow") == 0 && n == 0,
         "Events: queue bound reached, stream ended RESOURCE_EXHAUSTED, the %d queued dropped", n);
  api_stream_free (s);
}

int
main (void)
{
  const char *build = getenv ("CTRD_TOP_BUILDDIR");
  cleanup_free char *server = xasprintf ("%s/api/tests/test-server", build ? build : "..");
  char tmpl[] = "/tmp/ctrd-client-server.XXXXXX";
  if (mkdtemp (tmpl) == NULL)
    {
      printf ("Bail out! mkdtemp: %s\n", strerror (errno));
      return 1;
    }
  cleanup_free char *sock = path_join (tmpl, "api.sock");
  cleanup_free char *addr = xasprintf ("unix://%s", sock);
  int pfd[2];
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return 1;
  server_pid = fork ();
  if (server_pid == 0)
    {
      dup2 (pfd[1], 1);
      execl (server, server, sock, (char *) NULL);
      _exit (127);
    }
  close (pfd[1]);
  server_out = fdopen (pfd[0], "r");
  char line[256];
  if (fgets (line, sizeof line, server_out) == NULL || strncmp (line, "READY", 5) != 0)
    {
      printf ("Bail out! test server %s did not start\n", server);
      return 1;
    }

  cleanup_error struct ctrd_error *err = NULL;
  struct api_client *missing = NULL;
  cleanup_free char *noaddr = xasprintf ("unix://%s/none.sock", tmpl);
  CHECK (api_client_connect (noaddr, NSEC_PER_SEC, &missing, &err) < 0 && err
             && err->grpc_code == 14 && strstr (err->msg, "none.sock"),
         "missing socket: UNAVAILABLE naming the address");
  ctrd_error_free (&err);

  struct api_client *c = NULL;
  if (api_client_connect (addr, 5 * NSEC_PER_SEC, &c, &err) < 0)
    {
      printf ("Bail out! connect: %s\n", err->msg);
      return 1;
    }
  /* delay:1 also makes the loop's timerfd, which then stays: the fd baseline */
  CHECK (state_call (c, "delay:1", 0, NULL, NULL) == 0, "connected");
  struct stats base = server_stats ();
  test_methods (c);
  test_errors (c);
  test_deadline (c);
  test_streams (c);
  CHECK (sync_and_idle (c), "afterwards: still serving, no call left");
  struct stats st = server_stats ();
  CHECK (st.fds == base.fds, "no fd leaked (%ld, at start %ld)", st.fds, base.fds);
  api_client_free (c);

  kill (server_pid, SIGTERM);
  bool exit_ok = fgets (line, sizeof line, server_out) && strncmp (line, "EXIT", 4) == 0
                 && strstr (line, "calls=0");
  int status = 0;
  waitpid (server_pid, &status, 0);
  CHECK (exit_ok && WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "test server exits cleanly (%s)", exit_ok ? "EXIT line" : "no EXIT line");
  fclose (server_out);
  unlink (sock);
  rmdir (tmpl);
  printf ("1..%d\n", n_tests);
  return n_failed ? 1 : 0;
}
