/* Blocking gRPC client on nghttp2: one connection, poll() for I/O, no
 * threads. Every call is an HTTP/2 stream ("struct api_stream", also for
 * unary calls); whatever arrives for a stream nobody waits on is framed and
 * queued, so a unary call can run while an Events stream is open. */
#include "api/client.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "api/client-dial.h"
#include "api/grpc-wire.h"
#include "lib/timeutil.h"
#include "lib/util.h"

/* containerd 0.2's ctr uses grpc-go's 4 MiB default; accept far more so that
 * a big State of a busy node still comes through. */
#define CLIENT_MAX_RECV_MSG (64u << 20)
#define CLIENT_STREAM_WINDOW (1 << 20)
#define CLIENT_CONN_WINDOW (16 << 20)
#define CLIENT_USER_AGENT "ctrd-ctr/0.2.3"

struct client_msg
{
  struct client_msg *next;
  size_t len;
  uint8_t data[];
};

struct api_stream
{
  struct api_client *client; /* NULL once the client is freed */
  struct api_stream *prev, *next;
  int32_t id;
  const ProtobufCMessageDescriptor *desc;
  /* request: 5-byte prefix + message */
  uint8_t *req;
  size_t req_len, req_off;
  bool req_sent;
  /* response framing */
  uint8_t hdr[5];
  size_t hdr_have;
  struct client_msg *cur; /* being assembled */
  size_t cur_have;
  struct client_msg *head, **tail;
  /* outcome */
  bool done;   /* nothing more will arrive */
  bool closed; /* nghttp2 closed the stream */
  bool have_status;
  int grpc_status;
  char *grpc_message;
  int http_status;
  uint32_t rst_code;
  struct ctrd_error *fail; /* local failure: transport, framing, decode */
};

struct api_client
{
  int fd;
  char *address;
  char *authority;
  nghttp2_session *session;
  struct api_stream *streams;
  char *broken; /* why the connection is unusable, NULL while fine */
  char *goaway; /* GOAWAY sent or received, for messages */
  int send_errno;
};

static void __attribute__ ((format (printf, 3, 4)))
stream_fail (struct api_stream *s, int code, const char *fmt, ...)
{
  s->done = true;
  if (s->fail != NULL)
    return;
  va_list ap;
  va_start (ap, fmt);
  ctrd_error_vgrpc (&s->fail, code, fmt, ap);
  va_end (ap);
}

static void
client_break (struct api_client *c, const char *why)
{
  if (c->broken == NULL)
    c->broken = xstrdup (why);
  for (struct api_stream *s = c->streams; s; s = s->next)
    if (!s->done)
      stream_fail (s, GRPC_UNAVAILABLE, "connection to %s lost: %s", c->address, c->broken);
}

static struct api_stream *
stream_of (nghttp2_session *session, int32_t id)
{
  return nghttp2_session_get_stream_user_data (session, id);
}

/* ---- nghttp2 callbacks ---- */

static ssize_t
cb_send (nghttp2_session *session UNUSED, const uint8_t *data, size_t len, int flags UNUSED,
         void *user_data)
{
  struct api_client *c = user_data;
  ssize_t n;
  do
    n = send (c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n >= 0)
    return n;
  if (errno == EAGAIN || errno == EWOULDBLOCK)
    return NGHTTP2_ERR_WOULDBLOCK;
  c->send_errno = errno;
  return NGHTTP2_ERR_CALLBACK_FAILURE;
}

static ssize_t
cb_read_request (nghttp2_session *session, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                 nghttp2_data_source *source UNUSED, void *user_data UNUSED)
{
  /* Looked up, not taken from source: the stream may be freed already. */
  struct api_stream *s = stream_of (session, id);
  if (s == NULL)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  size_t n = s->req_len - s->req_off;
  if (n > len)
    n = len;
  memcpy (buf, s->req + s->req_off, n);
  s->req_off += n;
  if (s->req_off == s->req_len)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t) n;
}

static int
cb_header (nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
           size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags UNUSED,
           void *user_data UNUSED)
{
  struct api_stream *s = stream_of (session, frame->hd.stream_id);
  if (s == NULL || frame->hd.type != NGHTTP2_HEADERS)
    return 0;
  const char *v = (const char *) value;
  if (namelen == 7 && memcmp (name, ":status", 7) == 0)
    s->http_status = atoi (v);
  else if (namelen == 11 && memcmp (name, "grpc-status", 11) == 0)
    {
      char *end = NULL;
      errno = 0;
      long code = strtol (v, &end, 10);
      if (valuelen == 0 || *end != '\0' || errno != 0 || code < 0 || code > INT_MAX)
        stream_fail (s, GRPC_INTERNAL, "malformed grpc-status `%s`", v);
      else
        {
          s->have_status = true;
          s->grpc_status = (int) code;
        }
    }
  else if (namelen == 12 && memcmp (name, "grpc-message", 12) == 0)
    {
      free (s->grpc_message);
      s->grpc_message = grpc_wire_percent_decode (v);
    }
  return 0;
}

/* Append one complete message to the queue of s. */
static void
stream_push_msg (struct api_stream *s)
{
  s->cur->next = NULL;
  *s->tail = s->cur;
  s->tail = &s->cur->next;
  s->cur = NULL;
  s->cur_have = 0;
  s->hdr_have = 0;
}

static void
stream_reset (struct api_client *c, struct api_stream *s)
{
  if (!s->closed)
    nghttp2_submit_rst_stream (c->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
}

static int
cb_data_chunk (nghttp2_session *session, uint8_t flags UNUSED, int32_t id, const uint8_t *data,
               size_t len, void *user_data)
{
  struct api_stream *s = stream_of (session, id);
  if (s == NULL || s->fail != NULL)
    return 0;
  while (len > 0)
    {
      if (s->cur == NULL)
        {
          size_t n = sizeof s->hdr - s->hdr_have;
          if (n > len)
            n = len;
          memcpy (s->hdr + s->hdr_have, data, n);
          s->hdr_have += n;
          data += n;
          len -= n;
          if (s->hdr_have < sizeof s->hdr)
            break;
          uint32_t mlen = ((uint32_t) s->hdr[1] << 24) | ((uint32_t) s->hdr[2] << 16)
                          | ((uint32_t) s->hdr[3] << 8) | s->hdr[4];
          if (s->hdr[0] != 0)
            {
              stream_fail (s, GRPC_INTERNAL, "compressed response message (flag %u) not supported",
                           s->hdr[0]);
              stream_reset (user_data, s);
              return 0;
            }
          if (mlen > CLIENT_MAX_RECV_MSG)
            {
              stream_fail (s, GRPC_RESOURCE_EXHAUSTED,
                           "response message of %u bytes exceeds the limit of %u bytes", mlen,
                           CLIENT_MAX_RECV_MSG);
              stream_reset (user_data, s);
              return 0;
            }
          s->cur = xmalloc (sizeof *s->cur + mlen);
          s->cur->len = mlen;
          s->cur_have = 0;
        }
      size_t n = s->cur->len - s->cur_have;
      if (n > len)
        n = len;
      memcpy (s->cur->data + s->cur_have, data, n);
      s->cur_have += n;
      data += n;
      len -= n;
      if (s->cur_have == s->cur->len)
        stream_push_msg (s);
    }
  /* A zero-length message completes with its header. */
  if (s->cur != NULL && s->cur->len == 0)
    stream_push_msg (s);
  return 0;
}

static void
client_note_goaway (struct api_client *c, const nghttp2_frame *frame, const char *who)
{
  if (c->goaway != NULL)
    return;
  const nghttp2_goaway *g = &frame->goaway;
  int dlen = g->opaque_data_len > 200 ? 200 : (int) g->opaque_data_len;
  c->goaway =
      xasprintf ("%s GOAWAY (%s%s%.*s)", who, nghttp2_http2_strerror (g->error_code),
                 dlen ? ": " : "", dlen, g->opaque_data ? (const char *) g->opaque_data : "");
}

static int
cb_frame_recv (nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  if (frame->hd.type == NGHTTP2_GOAWAY)
    client_note_goaway (user_data, frame, "server sent");
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)
      && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
    {
      struct api_stream *s = stream_of (session, frame->hd.stream_id);
      if (s != NULL)
        s->done = true;
    }
  return 0;
}

static int
cb_frame_send (nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  if (frame->hd.type == NGHTTP2_GOAWAY)
    client_note_goaway (user_data, frame, "client sent");
  if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
    {
      struct api_stream *s = stream_of (session, frame->hd.stream_id);
      if (s != NULL)
        s->req_sent = true;
    }
  return 0;
}

static int
cb_frame_not_send (nghttp2_session *session, const nghttp2_frame *frame, int lib_error,
                   void *user_data UNUSED)
{
  struct api_stream *s = stream_of (session, frame->hd.stream_id);
  if (s != NULL && frame->hd.type == NGHTTP2_HEADERS)
    stream_fail (s, GRPC_UNAVAILABLE, "cannot start call: %s", nghttp2_strerror (lib_error));
  return 0;
}

static int
cb_stream_close (nghttp2_session *session, int32_t id, uint32_t error_code, void *user_data)
{
  struct api_client *c = user_data;
  struct api_stream *s = stream_of (session, id);
  if (s != NULL)
    {
      /* Streams above a GOAWAY's last id were never processed. */
      if (error_code == NGHTTP2_REFUSED_STREAM && c->goaway != NULL)
        stream_fail (s, GRPC_UNAVAILABLE, "call not processed: %s", c->goaway);
      s->closed = true;
      s->done = true;
      s->rst_code = error_code;
    }
  return 0;
}

/* ---- I/O ---- */

/* nghttp2 wants neither to read nor to write once a GOAWAY went either way
 * and no stream is left: the connection is over. */
static void
client_check_alive (struct api_client *c)
{
  if (c->broken == NULL && !nghttp2_session_want_read (c->session)
      && !nghttp2_session_want_write (c->session))
    client_break (c, c->goaway ? c->goaway : "connection shut down");
}

static void
client_flush (struct api_client *c)
{
  if (c->broken)
    return;
  int r = nghttp2_session_send (c->session);
  if (r != 0)
    {
      char why[256];
      if (r == NGHTTP2_ERR_CALLBACK_FAILURE && c->send_errno != 0)
        snprintf (why, sizeof why, "write: %s", strerror (c->send_errno));
      else
        snprintf (why, sizeof why, "%s", nghttp2_strerror (r));
      client_break (c, why);
      return;
    }
  client_check_alive (c);
}

static void
client_read (struct api_client *c)
{
  uint8_t buf[65536];
  ssize_t n;
  do
    n = recv (c->fd, buf, sizeof buf, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return;
  if (n < 0)
    {
      char why[256];
      snprintf (why, sizeof why, "read: %s", strerror (errno));
      client_break (c, why);
      return;
    }
  if (n == 0)
    {
      client_break (c, "connection closed by the server");
      return;
    }
  ssize_t r = nghttp2_session_mem_recv (c->session, buf, (size_t) n);
  if (r < 0)
    {
      char why[256];
      snprintf (why, sizeof why, "protocol error: %s", nghttp2_strerror ((int) r));
      client_break (c, why);
      return;
    }
  client_check_alive (c);
}

static bool
stream_ready (const struct api_stream *s, bool want_msg)
{
  return s->done || (want_msg && s->head != NULL);
}

/* Do I/O until s is done (or, with want_msg, has a message queued) or the
 * deadline (CLOCK_MONOTONIC ns; -1 = none) passes. Returns true when ready. */
static bool
client_pump (struct api_client *c, struct api_stream *s, bool want_msg, int64_t deadline)
{
  for (;;)
    {
      if (stream_ready (s, want_msg))
        return true;
      client_flush (c);
      if (stream_ready (s, want_msg))
        return true;
      int ms = -1;
      if (deadline >= 0)
        {
          int64_t left = deadline - time_now_mono_ns ();
          ms = left <= 0 ? 0 : (int) ((left + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
          if (left > (int64_t) INT_MAX * NSEC_PER_MSEC)
            ms = INT_MAX;
        }
      struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
      if (nghttp2_session_want_write (c->session))
        pfd.events |= POLLOUT;
      int n = poll (&pfd, 1, ms);
      if (n < 0 && errno != EINTR)
        {
          char why[256];
          snprintf (why, sizeof why, "poll: %s", strerror (errno));
          client_break (c, why);
          continue;
        }
      if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
        client_read (c);
      if (!stream_ready (s, want_msg) && deadline >= 0 && time_now_mono_ns () >= deadline)
        return false;
    }
}

/* ---- calls ---- */

static void
stream_destroy (struct api_stream *s)
{
  struct api_client *c = s->client;
  if (c != NULL)
    {
      if (s->id > 0)
        {
          stream_reset (c, s);
          nghttp2_session_set_stream_user_data (c->session, s->id, NULL);
          client_flush (c);
        }
      if (s->prev)
        s->prev->next = s->next;
      else if (c->streams == s)
        c->streams = s->next;
      if (s->next)
        s->next->prev = s->prev;
    }
  for (struct client_msg *m = s->head, *next; m; m = next)
    {
      next = m->next;
      free (m);
    }
  free (s->cur);
  free (s->req);
  free (s->grpc_message);
  ctrd_error_free (&s->fail);
  free (s);
}

static int
stream_start (struct api_client *c, const char *path, const ProtobufCMessage *req,
              const ProtobufCMessageDescriptor *desc, int64_t timeout_ns, struct api_stream **out,
              struct ctrd_error **err)
{
  if (c->broken)
    return ctrd_error_grpc (err, GRPC_UNAVAILABLE, "connection to %s lost: %s", c->address,
                            c->broken);
  struct api_stream *s = xmalloc0 (sizeof *s);
  s->client = c;
  s->desc = desc;
  s->tail = &s->head;
  size_t len = protobuf_c_message_get_packed_size (req);
  s->req_len = len + 5;
  s->req = xmalloc (s->req_len);
  s->req[0] = 0;
  s->req[1] = (uint8_t) (len >> 24);
  s->req[2] = (uint8_t) (len >> 16);
  s->req[3] = (uint8_t) (len >> 8);
  s->req[4] = (uint8_t) len;
  protobuf_c_message_pack (req, s->req + 5);

  char tbuf[16] = "";
  if (timeout_ns > 0)
    {
      /* grpc-timeout: at most 8 digits; the coarsest unit that is exact,
       * else the finest that fits (rounded up). */
      static const struct
      {
        char unit;
        int64_t ns;
      } units[] = {
        { 'H', 3600 * NSEC_PER_SEC }, { 'M', 60 * NSEC_PER_SEC }, { 'S', NSEC_PER_SEC },
        { 'm', NSEC_PER_MSEC },       { 'u', NSEC_PER_USEC },     { 'n', 1 },
      };
      size_t pick = SIZE_MAX;
      for (size_t i = 0; i < ARRAY_SIZE (units) && pick == SIZE_MAX; i++)
        if (timeout_ns % units[i].ns == 0 && timeout_ns / units[i].ns <= 99999999)
          pick = i;
      for (size_t i = ARRAY_SIZE (units); pick == SIZE_MAX && i-- > 0;)
        if ((timeout_ns + units[i].ns - 1) / units[i].ns <= 99999999)
          pick = i;
      snprintf (tbuf, sizeof tbuf, "%lld%c",
                (long long) ((timeout_ns + units[pick].ns - 1) / units[pick].ns), units[pick].unit);
    }
#define NV(n, v)                                                                                   \
  { (uint8_t *) (n), (uint8_t *) (v), sizeof (n) - 1, strlen (v), NGHTTP2_NV_FLAG_NONE }
  nghttp2_nv nva[] = {
    NV (":method", "POST"),
    NV (":scheme", "http"),
    NV (":path", path),
    NV (":authority", c->authority),
    NV ("content-type", "application/grpc"),
    NV ("te", "trailers"),
    NV ("user-agent", CLIENT_USER_AGENT),
    NV ("grpc-timeout", tbuf),
  };
#undef NV
  size_t nvlen = ARRAY_SIZE (nva) - (timeout_ns > 0 ? 0 : 1);
  nghttp2_data_provider prd = { .source.ptr = s, .read_callback = cb_read_request };
  int32_t id = nghttp2_submit_request (c->session, NULL, nva, nvlen, &prd, s);
  if (id < 0)
    {
      s->client = NULL;
      stream_destroy (s);
      return ctrd_error_grpc (err, GRPC_UNAVAILABLE, "cannot start call %s on %s: %s", path,
                              c->address, nghttp2_strerror (id));
    }
  s->id = id;
  s->next = c->streams;
  if (c->streams)
    c->streams->prev = s;
  c->streams = s;
  *out = s;
  return 0;
}

/* The outcome of a finished stream: 0 for status OK, else -1 and err. */
static int
stream_status (struct api_stream *s, struct ctrd_error **err)
{
  if (s->fail != NULL)
    return ctrd_error_grpc (err, ctrd_error_code (s->fail), "%s", s->fail->msg);
  if (s->have_status)
    {
      if (s->grpc_status == GRPC_OK)
        return 0;
      if (s->grpc_message != NULL && s->grpc_message[0] != '\0')
        return ctrd_error_grpc (err, s->grpc_status, "%s", s->grpc_message);
      return ctrd_error_grpc (err, s->grpc_status, "rpc error: code = %d", s->grpc_status);
    }
  if (s->rst_code == NGHTTP2_CANCEL)
    return ctrd_error_grpc (err, GRPC_CANCELLED, "call cancelled by the server");
  if (s->rst_code == NGHTTP2_ENHANCE_YOUR_CALM)
    return ctrd_error_grpc (err, GRPC_RESOURCE_EXHAUSTED, "call reset by the server: %s",
                            nghttp2_http2_strerror (s->rst_code));
  if (s->rst_code != NGHTTP2_NO_ERROR)
    return ctrd_error_grpc (err, GRPC_UNAVAILABLE, "call reset by the server: %s",
                            nghttp2_http2_strerror (s->rst_code));
  if (s->http_status != 0 && s->http_status != 200)
    {
      int code = GRPC_UNKNOWN;
      switch (s->http_status)
        {
        case 400:
          code = GRPC_INTERNAL;
          break;
        case 401:
          code = GRPC_UNAUTHENTICATED;
          break;
        case 403:
          code = GRPC_PERMISSION_DENIED;
          break;
        case 404:
          code = GRPC_UNIMPLEMENTED;
          break;
        case 429:
        case 502:
        case 503:
        case 504:
          code = GRPC_UNAVAILABLE;
          break;
        }
      return ctrd_error_grpc (err, code, "server answered HTTP status %d", s->http_status);
    }
  return ctrd_error_grpc (err, GRPC_INTERNAL, "server ended the call without a grpc-status");
}

static int
stream_unpack (struct api_stream *s, struct client_msg *m, ProtobufCMessage **out,
               struct ctrd_error **err)
{
  *out = protobuf_c_message_unpack (s->desc, NULL, m->len, m->data);
  if (*out == NULL)
    return ctrd_error_grpc (err, GRPC_INTERNAL, "cannot decode %s message from the server",
                            s->desc->name);
  return 0;
}

int
api_client_call (struct api_client *c, const char *path, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
                 int64_t timeout_ns, struct ctrd_error **err)
{
  struct api_stream *s = NULL;
  *resp = NULL;
  if (stream_start (c, path, req, resp_desc, timeout_ns, &s, err) < 0)
    return -1;
  int64_t deadline = timeout_ns > 0 ? time_now_mono_ns () + timeout_ns : -1;
  int r;
  if (!client_pump (c, s, false, deadline))
    {
      char buf[64];
      duration_format (timeout_ns, buf, sizeof buf);
      r = ctrd_error_grpc (err, GRPC_DEADLINE_EXCEEDED, "%s: deadline exceeded after %s", path,
                           buf);
    }
  else if ((r = stream_status (s, err)) < 0)
    ;
  else if (s->head == NULL || s->head->next != NULL)
    r = ctrd_error_grpc (err, GRPC_INTERNAL, "%s: expected one response message, got %s", path,
                         s->head == NULL ? "none" : "several");
  else
    r = stream_unpack (s, s->head, resp, err);
  stream_destroy (s);
  return r;
}

int
api_client_stream_open (struct api_client *c, const char *path, const ProtobufCMessage *req,
                        const ProtobufCMessageDescriptor *msg_desc, struct api_stream **out,
                        struct ctrd_error **err)
{
  struct api_stream *s = NULL;
  if (stream_start (c, path, req, msg_desc, 0, &s, err) < 0)
    return -1;
  /* Wait until the request is out (or the call already ended). */
  while (!s->req_sent && !s->done)
    {
      client_flush (c);
      if (s->req_sent || s->done)
        break;
      struct pollfd pfd = { .fd = c->fd, .events = POLLIN | POLLOUT };
      if (poll (&pfd, 1, -1) < 0 && errno != EINTR)
        client_break (c, "poll failed");
      else if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
        client_read (c);
    }
  *out = s;
  return 0;
}

int
api_stream_next (struct api_stream *s, ProtobufCMessage **msg, int64_t timeout_ns,
                 struct ctrd_error **err)
{
  *msg = NULL;
  if (s->head == NULL && !s->done)
    {
      if (s->client == NULL)
        return ctrd_error_grpc (err, GRPC_CANCELLED, "client closed");
      int64_t deadline = timeout_ns < 0 ? -1 : time_now_mono_ns () + timeout_ns;
      if (!client_pump (s->client, s, true, deadline))
        return API_STREAM_TIMEOUT;
    }
  if (s->head != NULL)
    {
      struct client_msg *m = s->head;
      s->head = m->next;
      if (s->head == NULL)
        s->tail = &s->head;
      int r = stream_unpack (s, m, msg, err);
      free (m);
      return r < 0 ? API_STREAM_ERROR : API_STREAM_MSG;
    }
  return stream_status (s, err) < 0 ? API_STREAM_ERROR : API_STREAM_END;
}

void
api_stream_free (struct api_stream *s)
{
  if (s != NULL)
    stream_destroy (s);
}

/* ---- connection ---- */

int
api_client_connect (const char *address, int64_t timeout_ns, struct api_client **out,
                    struct ctrd_error **err)
{
  char *authority = NULL;
  int fd = client_dial (address, timeout_ns, &authority, err);
  if (fd < 0)
    return -1;

  struct api_client *c = xmalloc0 (sizeof *c);
  c->fd = fd;
  c->address = xstrdup (address);
  c->authority = authority;
  nghttp2_session_callbacks *cbs;
  if (nghttp2_session_callbacks_new (&cbs) != 0)
    abort ();
  nghttp2_session_callbacks_set_send_callback (cbs, cb_send);
  nghttp2_session_callbacks_set_on_header_callback (cbs, cb_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback (cbs, cb_data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback (cbs, cb_frame_recv);
  nghttp2_session_callbacks_set_on_frame_send_callback (cbs, cb_frame_send);
  nghttp2_session_callbacks_set_on_frame_not_send_callback (cbs, cb_frame_not_send);
  nghttp2_session_callbacks_set_on_stream_close_callback (cbs, cb_stream_close);
  int r = nghttp2_session_client_new (&c->session, cbs, c);
  nghttp2_session_callbacks_del (cbs);
  if (r != 0)
    abort ();
  nghttp2_settings_entry iv[] = {
    { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
    { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, CLIENT_STREAM_WINDOW },
  };
  nghttp2_submit_settings (c->session, NGHTTP2_FLAG_NONE, iv, ARRAY_SIZE (iv));
  nghttp2_session_set_local_window_size (c->session, NGHTTP2_FLAG_NONE, 0, CLIENT_CONN_WINDOW);
  /* The preface goes out with the first call; a dead peer shows up there. */
  *out = c;
  return 0;
}

int
api_client_fd (const struct api_client *c)
{
  return c->fd;
}

void
api_client_free (struct api_client *c)
{
  if (c == NULL)
    return;
  for (struct api_stream *s = c->streams; s; s = s->next)
    s->client = NULL;
  if (!c->broken)
    {
      /* Best effort: a polite GOAWAY if the socket takes it right now. */
      nghttp2_session_terminate_session (c->session, NGHTTP2_NO_ERROR);
      nghttp2_session_send (c->session);
    }
  nghttp2_session_del (c->session);
  close (c->fd);
  free (c->address);
  free (c->authority);
  free (c->broken);
  free (c->goaway);
  free (c);
}
