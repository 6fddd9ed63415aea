/* Blocking gRPC client for ctr and the tests: one HTTP/2 connection, many
 * concurrent streams (a unary call may run while an Events stream is open;
 * messages of other streams are buffered meanwhile). */
#ifndef CTRD_API_CLIENT_H
#define CTRD_API_CLIENT_H

#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/error.h"

struct api_client;
struct api_stream;

/* address: "unix:///run/containerd/containerd.sock", "unix://rel/path",
 * "tcp://127.0.0.1:1234" (also tcp4://, tcp6://), or a bare path. timeout_ns bounds the
 * connect (0 = no bound). A missing socket or nobody listening gives a clear
 * error naming the address (gRPC code UNAVAILABLE). */
int api_client_connect (const char *address, int64_t timeout_ns, struct api_client **out,
                        struct ctrd_error **err);
void api_client_free (struct api_client *c);
/* The connection's fd, for poll() in callers that multiplex (ctr attach).
 * Messages may already be queued in a stream without the fd being readable:
 * call api_stream_next (s, &m, 0, ...) until it returns API_STREAM_TIMEOUT
 * before polling the fd again. */
int api_client_fd (const struct api_client *c);

/* Unary call on path ("/types.API/State"). On success returns 0 and *resp
 * (free with protobuf_c_message_free_unpacked(*resp, NULL)). A non-OK gRPC
 * status returns -1 with err->grpc_code = the status and err->msg = the
 * grpc-message (decoded). timeout_ns > 0 sends grpc-timeout and bounds the
 * wait (DEADLINE_EXCEEDED). */
int api_client_call (struct api_client *c, const char *path, const ProtobufCMessage *req,
                     const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
                     int64_t timeout_ns, struct ctrd_error **err);

/* Server-streaming call: sends req and returns once the request is written. */
int api_client_stream_open (struct api_client *c, const char *path, const ProtobufCMessage *req,
                            const ProtobufCMessageDescriptor *msg_desc, struct api_stream **out,
                            struct ctrd_error **err);

enum api_stream_result
{
  API_STREAM_ERROR = -1, /* err set: transport failure or non-OK status */
  API_STREAM_END = 0,    /* server ended the stream with status OK */
  API_STREAM_MSG = 1,    /* *msg set (free with protobuf_c_message_free_unpacked) */
  API_STREAM_TIMEOUT = 2 /* nothing arrived within timeout_ns */
};
/* Wait for the next message. timeout_ns < 0 waits forever, 0 only processes
 * what is already readable on the fd. */
int api_stream_next (struct api_stream *s, ProtobufCMessage **msg, int64_t timeout_ns,
                     struct ctrd_error **err);
/* Cancel (RST_STREAM CANCEL) if still open, and free. */
void api_stream_free (struct api_stream *s);

#endif
