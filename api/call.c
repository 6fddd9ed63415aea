/* One gRPC call on one HTTP/2 stream: lifetime, response (headers,
 * length-prefixed messages, trailers), cancellation and the handler API. The
 * request side is in call-request.c; who owns a call: server-private.h. */
#include "api/server-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/grpc-wire.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/util.h"

/* A drained response buffer at most this big is kept for the next message. */
#define OUT_KEEP 4096

static void call_free (struct api_call *call);

/* Release the partial request message (and its share of the connection's
 * buffered-input budget). */
void
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
  call->started_ns = time_now_mono_ns ();
  call_link (call, &c->calls);
  c->s->n_calls++;
  return call;
}

void
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
  if (s->observer && call->method)
    {
      int64_t end = call->status_sent ? call->status_ns : time_now_mono_ns ();
      s->observer (call->method->m.path, call->status_sent ? call->status_code : GRPC_CANCELLED,
                   end - call->started_ns, s->observer_data);
    }
  call_unlink (call);
  call_stop_timer (call);
  if (call->request)
    protobuf_c_message_free_unpacked (call->request, NULL);
  s->out_bytes -= call->out_len - call->out_off;
  s->out_alloc -= call->out_cap;
  server_note_freed (s, sizeof *call + call->out_cap + call->msg_cap);
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
void
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

/* out holds whole length-prefixed messages from out_off on, except that the
 * one at out_off may have begun on the wire: out_msg_end is where that one
 * ends. Advance it past what was just taken. */
static void
out_track_messages (struct api_call *call)
{
  while (call->out_msg_end < call->out_off)
    {
      const uint8_t *p = call->out + call->out_msg_end;
      uint32_t be;
      memcpy (&be, p + 1, 4);
      call->out_msg_end += 5 + ntohl (be);
    }
}

/* Everything queued was sent: keep a small buffer, free a big one. */
static void
out_drained (struct api_call *call)
{
  call->out_off = call->out_len = call->out_msg_end = 0;
  if (call->out_cap > OUT_KEEP)
    {
      server_note_freed (call->s, call->out_cap);
      call->s->out_alloc -= call->out_cap;
      free (call->out);
      call->out = NULL;
      call->out_cap = 0;
    }
}

/* Drop the queued messages that have not begun on the wire (after the queue
 * bound refused one): the status then follows at once. */
void
call_discard_unsent (struct api_call *call)
{
  size_t keep = call->out_msg_end > call->out_off ? call->out_msg_end : call->out_off;
  call->s->out_bytes -= call->out_len - keep;
  call->out_len = keep;
  if (call->out_off == call->out_len)
    {
      out_drained (call);
      return;
    }
  /* only the rest of one message stays: give the buffer back */
  size_t rest = call->out_len - call->out_off;
  memmove (call->out, call->out + call->out_off, rest);
  call->out_msg_end -= call->out_off;
  call->out_off = 0;
  call->out_len = rest;
  if (call->out_cap > OUT_KEEP && rest < call->out_cap / 2)
    {
      server_note_freed (call->s, call->out_cap - rest);
      call->s->out_alloc -= call->out_cap - rest;
      call->out_cap = rest;
      call->out = xrealloc (call->out, rest);
    }
}

static ssize_t
call_data_read (nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                uint32_t *flags, nghttp2_data_source *source, void *user_data UNUSED)
{
  struct api_call *call = source->ptr;
  size_t avail = call->out_len - call->out_off;
  size_t n = avail < length ? avail : length;
  if (n > 0) /* out is NULL once a drained or discarded queue was freed */
    memcpy (buf, call->out + call->out_off, n);
  call->out_off += n;
  call->s->out_bytes -= n;
  if (call->out_off < call->out_len)
    {
      out_track_messages (call);
      return (ssize_t) n;
    }
  out_drained (call);
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
        nv[nvlen++] = (nghttp2_nv){ (uint8_t *) "grpc-message", (uint8_t *) call->status_msg, 12,
                                    strlen (call->status_msg), NGHTTP2_NV_FLAG_NONE };
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
void
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
void
call_send_status_http (struct api_call *call, int code, const char *msg, const char *http_status)
{
  if (call->conn == NULL || call->status_sent)
    return;
  call->status_sent = true;
  call->status_code = code;
  call->status_ns = time_now_mono_ns ();
  free (call->status_msg);
  call->status_msg =
      msg && msg[0] ? grpc_wire_percent_encode_max (msg, API_MAX_STATUS_MESSAGE) : NULL;
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
    nv[nvlen++] = (nghttp2_nv){ (uint8_t *) "grpc-message", (uint8_t *) call->status_msg, 12,
                                strlen (call->status_msg), NGHTTP2_NV_FLAG_NONE };
  if (nghttp2_submit_response (call->conn->session, call->stream_id, nv, nvlen, NULL) != 0)
    log_warn ("api: %s: cannot submit status", call->path ? call->path : "?");
  conn_want_write (call->conn);
}

void
call_send_status (struct api_call *call, int code, const char *msg)
{
  call_send_status_http (call, code, msg, "200");
}

/* Append the 5-byte prefix of a message of size bytes to the output queue;
 * returns where its size bytes go. */
static uint8_t *
call_queue_reserve (struct api_call *call, size_t size)
{
  /* Drop what was sent once it outweighs what is pending (amortised O(1)):
   * a stream whose reader never quite catches up must not grow forever. */
  size_t pending = call->out_len - call->out_off;
  if (call->out_off > 0 && call->out_off >= pending)
    {
      memmove (call->out, call->out + call->out_off, pending);
      call->out_msg_end -= call->out_off;
      call->out_off = 0;
      call->out_len = pending;
    }
  size_t need = call->out_len + 5 + size;
  if (need > call->out_cap)
    {
      /* grow by half: with thousands of slow streams, slack adds up */
      size_t cap = need < 256 ? 256 : need + need / 2;
      call->s->out_alloc += cap - call->out_cap;
      call->out_cap = cap;
      call->out = xrealloc (call->out, call->out_cap);
    }
  uint8_t *p = call->out + call->out_len;
  uint32_t be = htonl ((uint32_t) size);
  p[0] = 0;
  memcpy (p + 1, &be, 4);
  call->out_len = need;
  call->s->out_bytes += 5 + size;
  return p + 5;
}

/* Append one length-prefixed message to the output queue. */
static void
call_queue_message (struct api_call *call, const ProtobufCMessage *msg, size_t size)
{
  protobuf_c_message_pack (msg, call_queue_reserve (call, size));
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

void
call_reject_http (struct api_call *call, int code, const char *msg, const char *http_status)
{
  call_reject_full (call, code, msg, http_status, false);
}

void
call_reject (struct api_call *call, int code, const char *msg)
{
  call_reject_full (call, code, msg, "200", false);
}

void
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
api_call_reply_packed (struct api_call *call, const uint8_t *data, size_t len)
{
  if (call->finished)
    {
      log_error ("api: %s finished twice", call->path);
      return;
    }
  if (call_can_send (call))
    {
      uint8_t *dst = call_queue_reserve (call, len);
      if (len > 0) /* data may be NULL for an empty message */
        memcpy (dst, data, len);
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
      char *msg = xvasprintf (fmt, ap);
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

/* Would `add` more bytes take the call past its queue bound? Never when
 * nothing waits (a single message always goes). Past the server's total
 * (of response buffer memory), a call holding more than its share
 * (total / calls) is refused too: many
 * readers that each stay under their own bound cannot add up without limit,
 * and the ones furthest behind go first. */
static bool
call_over_bound (const struct api_call *call, size_t add)
{
  const struct api_server *s = call->s;
  size_t pending = call->out_len - call->out_off;
  if (pending == 0)
    return false;
  size_t bound = s->limits.stream_queue_bytes;
  bound = call->queue_extra > SIZE_MAX - bound ? SIZE_MAX : bound + call->queue_extra;
  if (pending + add > bound)
    return true;
  /* the total counts the buffers' memory (what the bound is for), the
   * share what waits */
  return s->out_alloc + add > s->limits.stream_queue_total
         && pending + add > s->limits.stream_queue_total / (s->n_calls ? s->n_calls : 1);
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
  if (call_over_bound (call, 5 + size))
    {
      call->overflowed = true;
      return -1;
    }
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
  if (call->overflowed)
    call_discard_unsent (call);
  if (call_can_send (call))
    call_send_status (call, grpc_code, msg);
  call_finish (call);
}

size_t
api_call_queued (const struct api_call *call)
{
  return call->out_len - call->out_off;
}

void
api_call_set_queue_extra (struct api_call *call, size_t bytes)
{
  call->queue_extra = bytes;
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
