/* One gRPC call on one HTTP/2 stream: request headers and framing, dispatch
 * to the handler, response (headers, length-prefixed messages, trailers),
 * deadline and cancellation. See server-private.h for who owns a call. */
#include "api/server-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/grpc-wire.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/util.h"

#define MAX_PATH_LEN 1024

static void call_free (struct api_call *call);

/* Release the partial request message (and its share of the connection's
 * buffered-input budget). */
static void
call_drop_msg (struct api_call *call)
{
  if (call->conn)
    call->conn->buffered -= call->msg_have;
  free (call->msg);
  call->msg = NULL;
  call->msg_cap = call->msg_have = 0;
}

/* ---- lists and lifetime --------------------------------------------------- */

void
call_link (struct api_call *call, struct api_call **list)
{
  call->list = list;
  call->prev = NULL;
  call->next = *list;
  if (*list)
    (*list)->prev = call;
  *list = call;
}

void
call_unlink (struct api_call *call)
{
  if (call->list == NULL)
    return;
  if (call->prev)
    call->prev->next = call->next;
  else
    *call->list = call->next;
  if (call->next)
    call->next->prev = call->prev;
  call->list = NULL;
  call->prev = call->next = NULL;
}

struct api_call *
call_new (struct conn *c, int32_t stream_id)
{
  struct api_call *call = xmalloc0 (sizeof *call);
  call->s = c->s;
  call->conn = c;
  call->stream_id = stream_id;
  call_link (call, &c->calls);
  c->s->n_calls++;
  return call;
}

static void
call_stop_timer (struct api_call *call)
{
  call->timer = sd_event_source_disable_unref (call->timer);
}

void
call_detach (struct api_call *call)
{
  call_drop_msg (call);
  call_unlink (call);
  call->conn = NULL;
  call_stop_timer (call);
}

static void
call_free (struct api_call *call)
{
  struct api_server *s = call->s;
  call_unlink (call);
  call_stop_timer (call);
  if (call->request)
    protobuf_c_message_free_unpacked (call->request, NULL);
  free (call->path);
  free (call->msg);
  free (call->out);
  free (call->status_msg);
  free (call->reject_msg);
  free (call);
  s->n_calls--;
  server_maybe_release (s);
}

static bool
call_handler_owned (const struct api_call *call)
{
  return call->dispatched && !call->finished;
}

static void
call_maybe_free (struct api_call *call)
{
  if (call->conn == NULL && !call_handler_owned (call))
    call_free (call);
}

/* Mark cancelled and run on_cancel once. The call may be freed on return. */
static void
call_cancel (struct api_call *call)
{
  if (call->cancelled)
    return;
  call->cancelled = true;
  api_cancel_fn fn = call->on_cancel;
  void *data = call->on_cancel_data;
  call->on_cancel = NULL;
  call->on_cancel_data = NULL;
  if (fn)
    fn (call, data);
}

void
call_release_detached (struct api_call *call)
{
  if (call_handler_owned (call))
    call_cancel (call);
  else
    call_maybe_free (call);
}

void
call_on_stream_close (struct api_call *call)
{
  call_detach (call);
  call_release_detached (call);
}

/* ---- response ------------------------------------------------------------- */

static ssize_t
call_data_read (nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                uint32_t *flags, nghttp2_data_source *source, void *user_data UNUSED)
{
  struct api_call *call = source->ptr;
  size_t avail = call->out_len - call->out_off;
  size_t n = avail < length ? avail : length;
  memcpy (buf, call->out + call->out_off, n);
  call->out_off += n;
  if (call->out_off < call->out_len)
    return (ssize_t) n;
  call->out_off = call->out_len = 0;
  if (call->trailer_pending)
    {
      call->trailer_pending = false;
      char code[16];
      snprintf (code, sizeof code, "%d", call->status_code);
      nghttp2_nv nv[2] = {
        { (uint8_t *) "grpc-status", (uint8_t *) code, 11, strlen (code), NGHTTP2_NV_FLAG_NONE },
      };
      size_t nvlen = 1;
      if (call->status_msg && call->status_msg[0])
        nv[nvlen++] = (nghttp2_nv) { (uint8_t *) "grpc-message", (uint8_t *) call->status_msg,
                                     12, strlen (call->status_msg), NGHTTP2_NV_FLAG_NONE };
      *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      if (nghttp2_submit_trailer (session, stream_id, nv, nvlen) != 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
      return (ssize_t) n;
    }
  if (n > 0)
    return (ssize_t) n;
  call->deferred = true;
  return NGHTTP2_ERR_DEFERRED;
}

static void
call_kick (struct api_call *call)
{
  if (call->deferred)
    {
      call->deferred = false;
      nghttp2_session_resume_data (call->conn->session, call->stream_id);
    }
  conn_want_write (call->conn);
}

/* Response headers with a data source: the stream is then fed from out. */
static void
call_start_response (struct api_call *call)
{
  if (call->headers_sent)
    return;
  call->headers_sent = true;
  const nghttp2_nv nv[] = {
    { (uint8_t *) ":status", (uint8_t *) "200", 7, 3, NGHTTP2_NV_FLAG_NONE },
    { (uint8_t *) "content-type", (uint8_t *) "application/grpc", 12, 16, NGHTTP2_NV_FLAG_NONE },
  };
  nghttp2_data_provider prd = { .source.ptr = call, .read_callback = call_data_read };
  if (nghttp2_submit_response (call->conn->session, call->stream_id, nv, ARRAY_SIZE (nv), &prd)
      != 0)
    log_warn ("api: %s: cannot submit response headers", call->path);
  conn_want_write (call->conn);
}

/* Final status. Before any response header: Trailers-Only (one HEADERS
 * frame with END_STREAM); otherwise trailers after the queued messages. */
static void
call_send_status_http (struct api_call *call, int code, const char *msg, const char *http_status)
{
  if (call->conn == NULL || call->status_sent)
    return;
  call->status_sent = true;
  call->status_code = code;
  free (call->status_msg);
  call->status_msg = msg && msg[0] ? grpc_wire_percent_encode (msg) : NULL;
  if (call->headers_sent)
    {
      call->trailer_pending = true;
      call_kick (call);
      return;
    }
  call->headers_sent = true;
  char codestr[16];
  snprintf (codestr, sizeof codestr, "%d", code);
  nghttp2_nv nv[4] = {
    { (uint8_t *) ":status", (uint8_t *) http_status, 7, strlen (http_status),
      NGHTTP2_NV_FLAG_NONE },
    { (uint8_t *) "content-type", (uint8_t *) "application/grpc", 12, 16, NGHTTP2_NV_FLAG_NONE },
    { (uint8_t *) "grpc-status", (uint8_t *) codestr, 11, strlen (codestr), NGHTTP2_NV_FLAG_NONE },
  };
  size_t nvlen = 3;
  if (call->status_msg)
    nv[nvlen++] = (nghttp2_nv) { (uint8_t *) "grpc-message", (uint8_t *) call->status_msg, 12,
                                 strlen (call->status_msg), NGHTTP2_NV_FLAG_NONE };
  if (nghttp2_submit_response (call->conn->session, call->stream_id, nv, nvlen, NULL) != 0)
    log_warn ("api: %s: cannot submit status", call->path ? call->path : "?");
  conn_want_write (call->conn);
}

static void
call_send_status (struct api_call *call, int code, const char *msg)
{
  call_send_status_http (call, code, msg, "200");
}

/* Append one length-prefixed message to the output queue. */
static void
call_queue_message (struct api_call *call, const ProtobufCMessage *msg, size_t size)
{
  /* Drop what was sent once it outweighs what is pending (amortised O(1)):
   * a stream whose reader never quite catches up must not grow forever. */
  size_t pending = call->out_len - call->out_off;
  if (call->out_off > 0 && call->out_off >= pending)
    {
      memmove (call->out, call->out + call->out_off, pending);
      call->out_off = 0;
      call->out_len = pending;
    }
  size_t need = call->out_len + 5 + size;
  if (need > call->out_cap)
    {
      call->out_cap = need < 256 ? 256 : need * 2;
      call->out = xrealloc (call->out, call->out_cap);
    }
  uint8_t *p = call->out + call->out_len;
  uint32_t be = htonl ((uint32_t) size);
  p[0] = 0;
  memcpy (p + 1, &be, 4);
  protobuf_c_message_pack (msg, p + 5);
  call->out_len = need;
}

/* An answer before dispatch: the call stays with the server, which ignores
 * further input and frees it when the stream closes. A bad request is
 * answered once the client has sent all of it (some clients, curl among
 * them, treat the RST_STREAM that must follow an early answer as an error);
 * only what cannot wait is answered at once: an oversized message (not
 * worth receiving) and an expired deadline. */
static void
call_reject_full (struct api_call *call, int code, const char *msg, const char *http_status,
                  bool now)
{
  call->rejected = true;
  call_drop_msg (call);
  call_stop_timer (call);
  if (now || call->in_complete)
    {
      call_send_status_http (call, code, msg, http_status);
      return;
    }
  call->reject_code = code;
  free (call->reject_msg);
  call->reject_msg = xstrdup (msg);
  call->reject_http = http_status;
}

static void
call_reject_http (struct api_call *call, int code, const char *msg, const char *http_status)
{
  call_reject_full (call, code, msg, http_status, false);
}

static void
call_reject (struct api_call *call, int code, const char *msg)
{
  call_reject_full (call, code, msg, "200", false);
}

static void
call_reject_now (struct api_call *call, int code, const char *msg)
{
  call_reject_full (call, code, msg, "200", true);
}

void
call_on_final_frame_sent (struct api_call *call)
{
  /* We answered before the client finished sending (RFC 7540 §8.1): tell
   * it to stop with RST_STREAM(NO_ERROR) instead of reading on. */
  if (!call->in_complete && call->conn)
    nghttp2_submit_rst_stream (call->conn->session, NGHTTP2_FLAG_NONE, call->stream_id,
                               NGHTTP2_NO_ERROR);
}

/* ---- request -------------------------------------------------------------- */

static bool
header_is (const uint8_t *name, size_t namelen, const char *want)
{
  return namelen == strlen (want) && memcmp (name, want, namelen) == 0;
}

void
call_on_header (struct api_call *call, const uint8_t *name, size_t namelen, const uint8_t *value,
                size_t valuelen)
{
  if (header_is (name, namelen, ":method"))
    {
      call->saw_method = true;
      call->saw_post = valuelen == 4 && memcmp (value, "POST", 4) == 0;
    }
  else if (header_is (name, namelen, ":path"))
    {
      free (call->path);
      call->path = xstrndup ((const char *) value, valuelen < MAX_PATH_LEN ? valuelen : MAX_PATH_LEN);
    }
  else if (header_is (name, namelen, "content-type"))
    call->ctype_ok = grpc_wire_content_type_ok ((const char *) value, valuelen);
  else if (header_is (name, namelen, "grpc-timeout"))
    {
      int64_t ns;
      if (grpc_wire_parse_timeout ((const char *) value, valuelen, &ns) < 0)
        call->timeout_bad = true;
      else
        {
          int64_t now = (int64_t) time_now_mono_ns ();
          call->deadline = ns > INT64_MAX - now ? INT64_MAX : now + ns;
        }
    }
  else if (header_is (name, namelen, "grpc-encoding"))
    call->compressed_encoding = !(valuelen == 8 && memcmp (value, "identity", 8) == 0);
}

static int
call_on_deadline (sd_event_source *src UNUSED, uint64_t usec UNUSED, void *userdata)
{
  struct api_call *call = userdata;
  call_stop_timer (call);
  if (!call->dispatched)
    {
      if (!call->rejected)
        call_reject_now (call, GRPC_DEADLINE_EXCEEDED, "context deadline exceeded");
      return 0;
    }
  if (call->finished)
    return 0;
  /* discard what the handler queued: the client only gets the status */
  call->out_len = call->out_off = 0;
  call_send_status (call, GRPC_DEADLINE_EXCEEDED, "context deadline exceeded");
  call_cancel (call);
  return 0;
}

void
call_on_headers_end (struct api_call *call)
{
  if (call->rejected)
    return;
  if (!call->saw_post)
    {
      call_reject_http (call, GRPC_INTERNAL, "grpc: method must be POST", "405");
      return;
    }
  if (!call->ctype_ok)
    {
      call_reject_http (call, GRPC_INTERNAL, "grpc: invalid content-type", "415");
      return;
    }
  if (call->timeout_bad)
    {
      call_reject (call, GRPC_INTERNAL, "grpc: malformed grpc-timeout");
      return;
    }
  call->method = call->path ? server_lookup_method (call->s, call->path) : NULL;
  if (call->method == NULL)
    {
      const char *p = call->path ? call->path : "";
      const char *svc = p[0] == '/' ? p + 1 : p;
      const char *slash = strchr (svc, '/');
      bool known_service = false;
      for (size_t i = 0; slash && i < call->s->n_methods; i++)
        {
          const char *mp = call->s->methods[i].m.path + 1;
          known_service |= strncmp (mp, svc, (size_t) (slash - svc + 1)) == 0;
        }
      cleanup_free char *msg
          = known_service ? xasprintf ("unknown method %s", slash + 1)
                          : xasprintf ("unknown service %.*s",
                                       (int) (slash ? (size_t) (slash - svc) : strlen (svc)), svc);
      call_reject (call, GRPC_UNIMPLEMENTED, msg);
      return;
    }
  if (call->deadline > 0)
    {
      int r = sd_event_add_time (call->s->loop, &call->timer, CLOCK_MONOTONIC,
                                 (uint64_t) call->deadline / 1000, 0, call_on_deadline, call);
      if (r < 0)
        call_reject (call, GRPC_RESOURCE_EXHAUSTED, "grpc: cannot arm deadline timer");
    }
}

void
call_on_data (struct api_call *call, const uint8_t *data, size_t len)
{
  size_t max = call->s->max_message;
  while (len > 0 && !call->rejected)
    {
      if (call->prefix_len == 5 && call->msg_have == call->msg_len)
        call->prefix_len = 0; /* the previous frame is complete: another one starts */
      if (call->prefix_len < 5)
        {
          size_t take = 5 - call->prefix_len < len ? 5 - call->prefix_len : len;
          memcpy (call->prefix + call->prefix_len, data, take);
          call->prefix_len += take;
          data += take;
          len -= take;
          if (call->prefix_len < 5)
            return;
          uint32_t be;
          memcpy (&be, call->prefix + 1, 4);
          size_t mlen = ntohl (be);
          if (++call->n_msgs > 1)
            {
              call_reject (call, GRPC_INTERNAL, "grpc: more than one request message");
              return;
            }
          if (call->prefix[0] == 1)
            {
              call_reject (call, GRPC_UNIMPLEMENTED, "grpc: compressed messages are not supported");
              return;
            }
          if (call->prefix[0] != 0)
            {
              call_reject (call, GRPC_INTERNAL, "grpc: invalid message compression flag");
              return;
            }
          if (mlen > max)
            {
              cleanup_free char *m = xasprintf (
                  "grpc: received message larger than max (%zu vs. %zu)", mlen, max);
              call_reject_now (call, GRPC_RESOURCE_EXHAUSTED, m);
              return;
            }
          call->msg_len = mlen;
          call->msg_have = 0;
        }
      size_t take = call->msg_len - call->msg_have < len ? call->msg_len - call->msg_have : len;
      if (take == 0)
        continue;
      /* Grow with what arrives, not with what the prefix claims: a prefix
       * alone must not reserve max_message bytes. */
      if (call->msg_have + take > call->msg_cap)
        {
          size_t cap = call->msg_cap ? call->msg_cap * 2 : 4096;
          if (cap < call->msg_have + take)
            cap = call->msg_have + take;
          if (cap > call->msg_len)
            cap = call->msg_len;
          call->msg = xrealloc (call->msg, cap);
          call->msg_cap = cap;
        }
      call->conn->buffered += take;
      if (call->conn->buffered > API_CONN_BUFFER_LIMIT)
        {
          call->conn->buffered -= take;
          call_reject_now (call, GRPC_RESOURCE_EXHAUSTED,
                           "grpc: too much unprocessed request data on this connection");
          return;
        }
      memcpy (call->msg + call->msg_have, data, take);
      call->msg_have += take;
      data += take;
      len -= take;
    }
}

static void
call_answer_health (struct api_call *call)
{
  char *service = NULL;
  if (grpc_wire_health_decode (call->msg, call->msg_len, &service) < 0)
    {
      call_reject (call, GRPC_INTERNAL, "grpc: error unmarshalling request");
      return;
    }
  if (service[0] != '\0')
    call_reject (call, GRPC_NOT_FOUND, "unknown service");
  else
    {
      /* HealthCheckResponse { status = SERVING (1) } */
      static const uint8_t serving[] = { 0, 0, 0, 0, 2, 0x08, 0x01 };
      call->rejected = true; /* answered by the server, never dispatched */
      call_start_response (call);
      call->out = xmalloc (sizeof serving);
      call->out_cap = sizeof serving;
      memcpy (call->out, serving, sizeof serving);
      call->out_len = sizeof serving;
      call_send_status (call, GRPC_OK, NULL);
    }
  free (service);
}

void
call_on_request_end (struct api_call *call)
{
  call->in_complete = true;
  if (call->rejected)
    {
      if (call->reject_msg)
        call_send_status_http (call, call->reject_code, call->reject_msg, call->reject_http);
      return;
    }
  if (call->method == NULL)
    return;
  if (call->n_msgs == 0 || call->prefix_len < 5 || call->msg_have < call->msg_len)
    {
      call_reject (call, GRPC_INTERNAL,
                   call->n_msgs == 0 ? "grpc: no request message" : "grpc: truncated request message");
      return;
    }
  if (call->method->health)
    {
      call_answer_health (call);
      return;
    }
  call->request = protobuf_c_message_unpack (call->method->m.request, NULL, call->msg_len, call->msg);
  call_drop_msg (call);
  if (call->request == NULL)
    {
      call_reject (call, GRPC_INTERNAL, "grpc: error unmarshalling request");
      return;
    }
  call->dispatched = true;
  call->method->m.handler (call, call->request, call->method->userdata);
}

/* ---- handler API ---------------------------------------------------------- */

static bool
call_can_send (const struct api_call *call)
{
  return call->conn != NULL && !call->cancelled && !call->status_sent;
}

static void
call_finish (struct api_call *call)
{
  call->finished = true;
  call_maybe_free (call);
}

void
api_call_reply (struct api_call *call, const ProtobufCMessage *resp)
{
  if (call->finished)
    {
      log_error ("api: %s finished twice", call->path);
      return;
    }
  if (call_can_send (call))
    {
      call_queue_message (call, resp, protobuf_c_message_get_packed_size (resp));
      call_start_response (call);
      call_send_status (call, GRPC_OK, NULL);
    }
  call_finish (call);
}

void
api_call_fail (struct api_call *call, int grpc_code, const char *fmt, ...)
{
  if (call->finished)
    {
      log_error ("api: %s finished twice", call->path);
      return;
    }
  if (call_can_send (call))
    {
      va_list ap;
      va_start (ap, fmt);
      char *msg = NULL;
      if (vasprintf (&msg, fmt, ap) < 0)
        abort ();
      va_end (ap);
      call_send_status (call, grpc_code, msg);
      free (msg);
    }
  call_finish (call);
}

void
api_call_fail_error (struct api_call *call, const struct ctrd_error *err)
{
  api_call_fail (call, ctrd_error_code (err), "%s", err->msg);
}

int
api_call_send (struct api_call *call, const ProtobufCMessage *msg)
{
  if (call->finished || !call_can_send (call))
    return -1;
  if (!call->method->m.server_streaming)
    {
      log_error ("api: api_call_send on unary %s", call->path);
      return -1;
    }
  size_t size = protobuf_c_message_get_packed_size (msg);
  size_t pending = call->out_len - call->out_off;
  if (pending > 0 && pending + 5 + size > API_STREAM_QUEUE_LIMIT)
    return -1;
  call_queue_message (call, msg, size);
  call_start_response (call);
  call_kick (call);
  return 0;
}

void
api_call_end (struct api_call *call, int grpc_code, const char *msg)
{
  if (call->finished)
    {
      log_error ("api: %s finished twice", call->path);
      return;
    }
  if (call_can_send (call))
    call_send_status (call, grpc_code, msg);
  call_finish (call);
}

bool
api_call_cancelled (const struct api_call *call)
{
  return call->cancelled || call->conn == NULL;
}

void
api_call_on_cancel (struct api_call *call, api_cancel_fn fn, void *data)
{
  call->on_cancel = fn;
  call->on_cancel_data = data;
}

int64_t
api_call_deadline (const struct api_call *call)
{
  return call->deadline;
}

const char *
api_call_path (const struct api_call *call)
{
  return call->path;
}
