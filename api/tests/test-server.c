/* Test server for the API tests: every types.API method plus health on a unix
 * socket, with handlers steered by the request's `id` field:
 *   ""/other        reply at once (CreateContainer/State echo the id)
 *   "delay:MS"      reply after MS milliseconds (sd-event timer)
 *   "hang"          never reply; on cancel the call is finished
 *   "fail:CODE:MSG" fail with that gRPC code and message
 *   "big:N"         (State) reply with an N-byte bundlePath
 *   "packed"        (State) the echo reply, serialised by the handler and
 *                   sent with api_call_reply_packed; "packed-empty": an
 *                   empty (0-byte) packed response
 * Events: "count:N" sends N events then ends OK; "flood" sends until the
 * queue bound refuses, then ends RESOURCE_EXHAUSTED (the queued messages,
 * none begun on the wire, are dropped); otherwise one event, then the
 * stream stays open until cancelled.
 * Usage: test-server SOCKET [MAX_MESSAGE]. Prints "READY <socket>" when
 * listening; SIGUSR1 prints "STATS conns=N calls=N fds=N queued=BYTES"; SIGTERM prints
 * "EXIT conns=N calls=N fds=N" after freeing the server, then exits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.pb-c.h"
#include "api/listen.h"
#include "api/server.h"
#include "lib/tests/testutil.h"
#include "lib/util.h"

struct pending
{
  struct api_call *call;
  sd_event_source *timer;
  const ProtobufCMessageDescriptor *resp;
  bool streaming;
};

static const char *
request_id (const ProtobufCMessage *req)
{
  const ProtobufCFieldDescriptor *f =
      protobuf_c_message_descriptor_get_field_by_name (req->descriptor, "id");
  if (f == NULL || f->type != PROTOBUF_C_TYPE_STRING)
    return "";
  const char *v = *(const char *const *) ((const char *) req + f->offset);
  return v ? v : "";
}

/* A response of the method's type; a few carry recognisable content. */
static void
reply_echo (struct api_call *call, const ProtobufCMessageDescriptor *desc, const char *id,
            size_t big)
{
  ProtobufCMessage *resp = xmalloc0 (desc->sizeof_message);
  protobuf_c_message_init (desc, resp);
  Types__Container container = TYPES__CONTAINER__INIT;
  Types__Container *list[1] = { &container };
  cleanup_free char *bundle = NULL;
  container.id = (char *) id;
  if (big)
    {
      bundle = xmalloc (big + 1);
      memset (bundle, 'b', big);
      bundle[big] = '\0';
      container.bundlepath = bundle;
    }
  if (desc == &types__state_response__descriptor)
    {
      Types__StateResponse *r = (Types__StateResponse *) resp;
      r->n_containers = 1;
      r->containers = list;
    }
  else if (desc == &types__create_container_response__descriptor)
    ((Types__CreateContainerResponse *) resp)->container = &container;
  else if (desc == &types__get_server_version_response__descriptor)
    {
      Types__GetServerVersionResponse *r = (Types__GetServerVersionResponse *) resp;
      r->major = 0;
      r->minor = 2;
      r->patch = 3;
      r->revision = (char *) "test-server";
    }
  else if (desc == &types__add_process_response__descriptor)
    ((Types__AddProcessResponse *) resp)->systempid = 4242;
  api_call_reply (call, resp);
  free (resp);
}

static void
pending_free (struct pending *p)
{
  sd_event_source_disable_unref (p->timer);
  free (p);
}

static void
pending_on_cancel (struct api_call *call, void *data)
{
  struct pending *p = data;
  if (p->streaming)
    api_call_end (call, 1, "context canceled");
  else
    api_call_fail (call, GRPC_CANCELLED, "context canceled");
  pending_free (p);
}

static int
pending_on_timer (sd_event_source *src UNUSED, uint64_t usec UNUSED, void *data)
{
  struct pending *p = data;
  api_call_on_cancel (p->call, NULL, NULL);
  reply_echo (p->call, p->resp, "delayed", 0);
  pending_free (p);
  return 0;
}

static bool
handle_fail (struct api_call *call, const char *id)
{
  if (strncmp (id, "fail:", 5) != 0)
    return false;
  char *end = NULL;
  long code = strtol (id + 5, &end, 10);
  api_call_fail (call, (int) code, "%s", *end == ':' ? end + 1 : "");
  return true;
}

static void
handle_unary (struct api_call *call, const ProtobufCMessage *req, void *userdata)
{
  const ProtobufCMethodDescriptor *md = userdata;
  const char *id = request_id (req);
  if (handle_fail (call, id))
    return;
  if (strncmp (id, "delay:", 6) == 0 || strcmp (id, "hang") == 0)
    {
      struct pending *p = xmalloc0 (sizeof *p);
      p->call = call;
      p->resp = md->output;
      if (id[0] == 'd')
        {
          sd_event *ev = NULL;
          sd_event_default (&ev);
          sd_event_add_time_relative (ev, &p->timer, CLOCK_MONOTONIC,
                                      strtoull (id + 6, NULL, 10) * 1000, 0, pending_on_timer, p);
          sd_event_unref (ev);
        }
      api_call_on_cancel (call, pending_on_cancel, p);
      return;
    }
  if (strcmp (id, "packed") == 0 && md->output == &types__state_response__descriptor)
    {
      Types__StateResponse r = TYPES__STATE_RESPONSE__INIT;
      Types__Container container = TYPES__CONTAINER__INIT;
      Types__Container *list[1] = { &container };
      container.id = (char *) id;
      r.n_containers = 1;
      r.containers = list;
      uint8_t buf[256];
      size_t n = protobuf_c_message_pack (&r.base, buf);
      api_call_reply_packed (call, buf, n);
      return;
    }
  if (strcmp (id, "packed-empty") == 0)
    {
      api_call_reply_packed (call, NULL, 0);
      return;
    }
  size_t big = strncmp (id, "big:", 4) == 0 ? strtoull (id + 4, NULL, 10) : 0;
  reply_echo (call, md->output, id, big);
}

static void
handle_events (struct api_call *call, const ProtobufCMessage *req, void *userdata UNUSED)
{
  const char *id = request_id (req);
  if (handle_fail (call, id))
    return;
  Types__Event ev = TYPES__EVENT__INIT;
  ev.type = (char *) "test";
  ev.id = (char *) "ev";
  if (strncmp (id, "count:", 6) == 0)
    {
      unsigned long n = strtoul (id + 6, NULL, 10);
      for (unsigned long i = 0; i < n; i++)
        {
          ev.status = (uint32_t) i;
          if (api_call_send (call, &ev.base) < 0)
            {
              api_call_end (call, 8, "queue full");
              return;
            }
        }
      api_call_end (call, 0, NULL);
      return;
    }
  if (strcmp (id, "flood") == 0)
    {
      ev.pid = xmalloc (1001);
      memset (ev.pid, 'p', 1000);
      ev.pid[1000] = '\0';
      unsigned n = 0;
      while (api_call_send (call, &ev.base) == 0)
        n++;
      free (ev.pid);
      /* n × 1 KB reached the bound: more than one went in */
      api_call_end (call, 8, n > 1 ? "events subscriber too slow" : "bound not reached");
      return;
    }
  struct pending *p = xmalloc0 (sizeof *p);
  p->call = call;
  p->streaming = true;
  api_call_send (call, &ev.base);
  api_call_on_cancel (call, pending_on_cancel, p);
}

struct ctx
{
  struct api_server *server;
};

static void
print_stats (struct ctx *c, const char *what)
{
  printf ("%s conns=%zu calls=%zu fds=%d queued=%zu\n", what,
          api_server_connection_count (c->server), api_server_call_count (c->server),
          test_count_fds (), api_server_queued_bytes (c->server));
  fflush (stdout);
}

static int
on_usr1 (sd_event_source *s UNUSED, const struct signalfd_siginfo *si UNUSED, void *data)
{
  print_stats (data, "STATS");
  return 0;
}

static int
on_term (sd_event_source *s, const struct signalfd_siginfo *si UNUSED, void *data)
{
  struct ctx *c = data;
  size_t calls = api_server_call_count (c->server), conns = api_server_connection_count (c->server);
  api_server_free (c->server);
  /* after the free every fd but stdio, the loop's and the signal's is gone */
  printf ("EXIT conns=%zu calls=%zu fds=%d\n", conns, calls, test_count_fds ());
  fflush (stdout);
  sd_event_exit (sd_event_source_get_event (s), 0);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: %s SOCKET [MAX_MESSAGE]\n", argv[0]);
      return 2;
    }
  signal (SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset (&mask);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGUSR1);
  sigprocmask (SIG_BLOCK, &mask, NULL);

  sd_event *loop = NULL;
  if (sd_event_default (&loop) < 0)
    return 1;
  cleanup_error struct ctrd_error *err = NULL;
  struct ctx c = { 0 };
  if (api_server_new (loop, &c.server, &err) < 0)
    goto fail;
  if (argc > 2)
    api_server_set_max_message (c.server, strtoull (argv[2], NULL, 10));
  int fd = api_listen_unix (argv[1], 0660, &err);
  if (fd < 0 || api_server_add_listener (c.server, fd, &err) < 0)
    goto fail;
  const ProtobufCServiceDescriptor *sd = &types__api__descriptor;
  for (unsigned i = 0; i < sd->n_methods; i++)
    {
      const ProtobufCMethodDescriptor *md = &sd->methods[i];
      cleanup_free char *path = xasprintf ("/%s/%s", sd->name, md->name);
      bool streaming = strcmp (md->name, "Events") == 0;
      struct api_method m = { .path = path,
                              .request = md->input,
                              .response = md->output,
                              .server_streaming = streaming,
                              .handler = streaming ? handle_events : handle_unary };
      api_server_register (c.server, &m, (void *) md);
    }
  api_server_register_health (c.server);
  sd_event_add_signal (loop, NULL, SIGTERM, on_term, &c);
  sd_event_add_signal (loop, NULL, SIGINT, on_term, &c);
  sd_event_add_signal (loop, NULL, SIGUSR1, on_usr1, &c);
  printf ("READY %s\n", argv[1]);
  fflush (stdout);
  int r = sd_event_loop (loop);
  sd_event_unref (loop);
  return r < 0 ? 1 : 0;
fail:
  fprintf (stderr, "test-server: %s\n", err ? err->msg : "cannot start");
  return 1;
}
