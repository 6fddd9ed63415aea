/* Internals shared by server.c (listeners, connections, the nghttp2 session)
 * and call.c (one gRPC call on one HTTP/2 stream), and the fuzz target.
 *
 * Ownership. A call is linked to its connection while its stream is open.
 * Before dispatch the server owns it; from dispatch until api_call_*
 * finishes it, the handler does. A call is freed when it is both detached
 * (stream closed or connection gone) and not owned by a handler. The server
 * struct itself stays allocated after api_server_free() until its last call
 * is freed, so late finishes never touch freed memory. */
#ifndef CTRD_API_SERVER_PRIVATE_H
#define CTRD_API_SERVER_PRIVATE_H

#include <nghttp2/nghttp2.h>

#include "api/server.h"

/* Longest grpc-message sent (encoded): grpcio limits metadata to 8 KiB. */
#define API_MAX_STATUS_MESSAGE 4096
/* Partial request messages one connection may hold in total (a client
 * starting many large requests and never finishing them). */
#define API_CONN_BUFFER_LIMIT (64u * 1024 * 1024)

struct method_entry
{
  struct api_method m;
  void *userdata;
  char *path;  /* owned copy behind m.path */
  bool health; /* grpc.health.v1.Health/Check, hand-decoded */
};

struct listener
{
  struct api_server *s;
  int fd;
  sd_event_source *src;
  struct listener *next;
};

struct conn
{
  struct api_server *s;
  int fd;
  sd_event_source *io;
  nghttp2_session *session;
  struct api_call *calls; /* calls whose stream is open */
  struct conn *prev, *next;
  uint8_t *wbuf; /* frames from nghttp2 not yet written to the socket */
  size_t wlen, wcap;
  size_t buffered; /* request bytes held by calls not yet dispatched */
  uint32_t events; /* current epoll mask */
  bool in_io;      /* inside conn_input: the caller updates events */
  bool closing;
};

struct api_server
{
  sd_event *loop;
  struct listener *listeners;
  struct conn *conns;
  struct method_entry *methods;
  size_t n_methods;
  size_t max_message;
  struct api_limits limits;
  size_t n_conns, n_calls;
  size_t out_bytes;        /* unsent response bytes of all calls */
  size_t out_alloc;        /* their response buffers' size */
  uint64_t refused_conns;  /* over limits.max_connections */
  bool refusing;           /* at the limit: the refusal was logged */
  size_t freed_since_trim; /* rough bytes freed since the last malloc_trim */
  sd_event_source *trim;   /* idle-priority defer source: malloc_trim */
  nghttp2_session_callbacks *callbacks;
  nghttp2_option *option;
  bool freed;
  bool accept_paused;            /* out of fds: listeners wait for a connection to close */
  sd_event_source *accept_retry; /* ... or for this timer */
  api_call_observer_fn observer;
  void *observer_data;
};

struct api_call
{
  struct api_server *s;
  struct conn *conn;      /* NULL once detached */
  struct api_call **list; /* list the call is linked in, or NULL */
  struct api_call *prev, *next;
  int32_t stream_id;
  const struct method_entry *method;
  char *path;
  int64_t deadline;
  sd_event_source *timer;
  int64_t started_ns, status_ns; /* CLOCK_MONOTONIC, for the observer */

  /* request headers */
  bool saw_post, saw_method, ctype_ok, timeout_bad, compressed_encoding;

  /* request body: one length-prefixed message */
  uint8_t prefix[5];
  size_t prefix_len;
  uint8_t *msg;
  size_t msg_len, msg_have, msg_cap;
  unsigned n_msgs;
  ProtobufCMessage *request;

  bool rejected;   /* answered before dispatch; further input is ignored */
  int reject_code; /* a rejection waiting for the end of the request */
  char *reject_msg;
  const char *reject_http;
  bool dispatched; /* handed to the handler */
  bool finished;   /* the handler finished it */
  bool cancelled;
  bool in_complete; /* the client half-closed */
  bool headers_sent, status_sent, trailer_pending, deferred;
  int status_code;
  char *status_msg; /* percent-encoded */

  uint8_t *out;
  size_t out_len, out_off, out_cap;
  size_t out_msg_end; /* end of the message holding out_off (≥ out_off) */
  bool overflowed;    /* api_call_send refused for the queue bound */
  size_t queue_extra; /* allowed beyond limits.stream_queue_bytes */

  api_cancel_fn on_cancel;
  void *on_cancel_data;
};

/* server.c */
const struct method_entry *server_lookup_method (const struct api_server *s, const char *path);
void server_maybe_release (struct api_server *s);
void conn_want_write (struct conn *c);
/* Adopt a connected socket (the fuzz target uses one end of a socketpair). */
struct conn *server_conn_new (struct api_server *s, int fd, struct ctrd_error **err);
/* Feed received bytes to the session and send what it answers. Returns 0,
 * or -1 when the connection was closed (c is freed then). */
int conn_input (struct conn *c, const uint8_t *buf, size_t len);
void conn_close (struct conn *c);
/* Note freed memory: once enough was freed, malloc_trim runs when the loop
 * is idle, so a daemon whose clients left gives its memory back. */
void server_note_freed (struct api_server *s, size_t bytes);

/* call.c */
struct api_call *call_new (struct conn *c, int32_t stream_id);
void call_on_header (struct api_call *call, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen);
void call_on_headers_end (struct api_call *call);
void call_on_data (struct api_call *call, const uint8_t *data, size_t len);
void call_on_request_end (struct api_call *call);
void call_on_final_frame_sent (struct api_call *call);
void call_on_stream_close (struct api_call *call);
/* call.c, for call-request.c */
void call_drop_msg (struct api_call *call);
void call_stop_timer (struct api_call *call);
/* Mark cancelled and run on_cancel once; the call may be freed on return. */
void call_cancel (struct api_call *call);
void call_start_response (struct api_call *call);
/* Drop the queued response messages not yet begun on the wire (one partly
 * sent is finished first). */
void call_discard_unsent (struct api_call *call);
void call_send_status (struct api_call *call, int code, const char *msg);
void call_send_status_http (struct api_call *call, int code, const char *msg,
                            const char *http_status);
/* Answers before dispatch: _now at once (RST_STREAM follows when the client
 * is still sending), the others once the request is complete. */
void call_reject (struct api_call *call, int code, const char *msg);
void call_reject_http (struct api_call *call, int code, const char *msg, const char *http_status);
void call_reject_now (struct api_call *call, int code, const char *msg);
/* Unlink a call from its list. */
void call_unlink (struct api_call *call);
void call_link (struct api_call *call, struct api_call **list);
/* Detach (connection going away) without notifying: conn_close notifies later. */
void call_detach (struct api_call *call);
/* After detach: notify the handler (cancel) or free the call. */
void call_release_detached (struct api_call *call);

#endif
