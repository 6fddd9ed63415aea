/* gRPC server on HTTP/2 (nghttp2, prior-knowledge h2c) driven by an sd-event
 * loop: no threads. Unary and server-streaming methods, routed by :path.
 *
 * Handler contract. The handler receives the decoded request and owns the
 * call until it finishes it exactly once: api_call_reply() (unary success),
 * api_call_fail()/api_call_fail_error() (any method), or api_call_end()
 * (streaming). It may finish synchronously inside the handler or later from
 * any callback of the same loop. The request message stays valid until the
 * call is finished.
 *
 * Cancellation. When the client resets the stream, disconnects, or the
 * grpc-timeout passes (the server then answers DEADLINE_EXCEEDED itself),
 * the call is marked cancelled and its on_cancel callback runs once, from
 * the loop. The handler must still finish the call to release it; whatever
 * it sends then is discarded. api_call_send() on a cancelled call returns -1.
 * A call is never cancelled before its handler returns, so on_cancel set in
 * the handler cannot miss; set later, it does not run for a cancellation
 * that already happened (check api_call_cancelled()).
 */
#ifndef CTRD_API_SERVER_H
#define CTRD_API_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>
#include <systemd/sd-event.h>

#include "lib/error.h"

#define API_DEFAULT_MAX_MESSAGE (4u * 1024 * 1024)

struct api_server;
struct api_call;

typedef void (*api_handler_fn) (struct api_call *call, const ProtobufCMessage *request,
                                void *userdata);
typedef void (*api_cancel_fn) (struct api_call *call, void *data);
/* Completion of one call of a registered method (metrics): path is the
 * method's registered path (valid for the server's life), grpc_code the
 * status sent, or CANCELLED (1) when the client went away before one was,
 * duration_ns from the request's first header to the status (or to the
 * moment the call was released). Calls to unknown paths are not reported,
 * so the set of paths is bounded by the registered methods. */
typedef void (*api_call_observer_fn) (const char *path, int grpc_code, int64_t duration_ns,
                                      void *data);

struct api_method
{
  const char *path; /* "/types.API/CreateContainer" */
  const ProtobufCMessageDescriptor *request;
  const ProtobufCMessageDescriptor *response;
  bool server_streaming;
  api_handler_fn handler;
};

int api_server_new (sd_event *loop, struct api_server **out, struct ctrd_error **err);
/* Serve connections accepted on listen_fd (a listening socket; ownership
 * passes to the server). May be called more than once. */
int api_server_add_listener (struct api_server *s, int listen_fd, struct ctrd_error **err);
/* Register a method; userdata is passed to its handler. */
void api_server_register (struct api_server *s, const struct api_method *m, void *userdata);
/* Register grpc.health.v1.Health/Check (service "" → SERVING, others →
 * NOT_FOUND "unknown service"). Answered directly in the I/O path. */
void api_server_register_health (struct api_server *s);
/* Largest accepted request message (default 4 MiB); larger → RESOURCE_EXHAUSTED. */
void api_server_set_max_message (struct api_server *s, size_t bytes);

/* What one client may hold of the server (api-server.md "Limits"). A field
 * left 0 keeps its default. Set before the first connection: connections
 * already open keep the stream limit they were told. */
struct api_limits
{
  /* Connections open at once; one more is answered with the server preface
   * and GOAWAY(ENHANCE_YOUR_CALM, "too many connections ...") and closed. */
  size_t max_connections;
  /* Streams open at once on one connection, announced in
   * SETTINGS_MAX_CONCURRENT_STREAMS (gRPC clients queue further calls). */
  uint32_t max_concurrent_streams;
  /* Response bytes one streaming call may have waiting unsent (beyond what
   * the client's HTTP/2 flow-control window lets through). */
  size_t stream_queue_bytes;
  /* The response buffers of all calls together (their memory, slack
   * included); past it a call holding more than its share (total / open
   * calls) is refused too. */
  size_t stream_queue_total;
};
#define API_DEFAULT_MAX_CONNECTIONS 256
#define API_DEFAULT_MAX_CONCURRENT_STREAMS 1024
#define API_DEFAULT_STREAM_QUEUE_BYTES (256u * 1024)
#define API_DEFAULT_STREAM_QUEUE_TOTAL (16u * 1024 * 1024)
void api_server_set_limits (struct api_server *s, const struct api_limits *l);
/* Response bytes waiting unsent in all calls (tests, metrics). */
size_t api_server_queued_bytes (const struct api_server *s);
/* Connections refused for --max-connections since the start (metrics). */
uint64_t api_server_refused_connections (const struct api_server *s);
/* Call fn once for every completed call of a registered method, from the
 * loop, when the call is released (one observer; NULL removes it).
 * api_server_free removes it: calls released later are not reported. */
void api_server_set_observer (struct api_server *s, api_call_observer_fn fn, void *data);
/* Number of open connections / calls not yet finished (tests, metrics). */
size_t api_server_connection_count (const struct api_server *s);
size_t api_server_call_count (const struct api_server *s);
/* Close listeners and every connection at once (no grace); pending calls
 * are cancelled (their on_cancel runs) and freed when their handlers finish
 * them. */
/* The embedding daemon freed about `bytes` outside the server (e.g. a
 * container that is gone): counted with the server's own frees, so that
 * malloc_trim runs when the loop is next idle once enough was freed. */
void api_server_note_freed (struct api_server *s, size_t bytes);
/* malloc_trim when the loop is next idle, whatever was counted (the daemon
 * calls it when its last container is gone: what is left below the
 * threshold would otherwise stay resident until the next frees). */
void api_server_trim_when_idle (struct api_server *s);

void api_server_free (struct api_server *s);

/* Unary success: serialise resp (copied; the caller keeps ownership). */
void api_call_reply (struct api_call *call, const ProtobufCMessage *resp);
/* Unary success with a response the handler serialised itself: data holds
 * len bytes of a packed message of the method's response type (copied).
 * For big answers assembled from cached encodings (State). */
void api_call_reply_packed (struct api_call *call, const uint8_t *data, size_t len);
/* Failure with a gRPC status code and a message (percent-encoded on the wire). */
void api_call_fail (struct api_call *call, int grpc_code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Failure from a ctrd error: code ctrd_error_code(err), message err->msg. */
void api_call_fail_error (struct api_call *call, const struct ctrd_error *err);
/* Streaming: queue one message (copied). Returns 0, or -1 when the call is
 * cancelled/closed, or when it would take the call past its queue bound
 * (struct api_limits: stream_queue_bytes, or its share of
 * stream_queue_total): a slow reader never makes the server buffer without
 * bound, and the handler should end the stream then. A message is always
 * taken when nothing is waiting. */
int api_call_send (struct api_call *call, const ProtobufCMessage *msg);
/* Streaming: bytes queued and not yet taken by HTTP/2 (flow control). */
size_t api_call_queued (const struct api_call *call);
/* Streaming: let the call hold `bytes` more than stream_queue_bytes (a
 * replay of stored events, bounded by what is stored, must not count against
 * the bound of what is live). The server's total still applies. */
void api_call_set_queue_extra (struct api_call *call, size_t bytes);
/* Streaming: end with status (GRPC_OK = 0 for a normal end) and message (may
 * be NULL). After an api_call_send refused for the queue bound, queued
 * messages not yet begun on the wire are dropped (at most the one partly
 * sent is finished): the status must not wait behind a reader that does not
 * read, and their memory goes at once. */
void api_call_end (struct api_call *call, int grpc_code, const char *msg);

bool api_call_cancelled (const struct api_call *call);
void api_call_on_cancel (struct api_call *call, api_cancel_fn fn, void *data);
/* Absolute CLOCK_MONOTONIC deadline in ns from grpc-timeout, or 0 for none. */
int64_t api_call_deadline (const struct api_call *call);
/* The :path of the call (for logs). */
const char *api_call_path (const struct api_call *call);

#endif
