/* A small, strict HTTP/1.1 server on the daemon's sd-event loop (no
 * thread) serving one read-only resource: the Prometheus page of
 * --metrics-address (docs/daemon.md "Prometheus metrics").
 *
 * Protocol (RFC 9112). Only GET and HEAD of the one path (origin-form or
 * absolute-form; a query string is ignored) are answered 200; another path
 * is 404, another method on the path 405 with Allow. Requests are parsed
 * strictly: CRLF line ends only, no obs-fold, no whitespace before a
 * header's colon, no control bytes, exactly one Host with HTTP/1.1, a
 * version other than 1.0/1.1 is 505. Request bodies are not read: a GET or
 * HEAD with one is 400, any request with one ends its connection. The head
 * (request line and headers) is at most HTTPD_MAX_HEAD bytes (else 431).
 * HTTP/1.1 connections persist (pipelined requests are answered in order)
 * unless the client says "Connection: close"; HTTP/1.0 ones close after the
 * response unless it says keep-alive. Errors that leave the stream in an
 * unknown state (400, 408, 431, 505) close the connection after the
 * response, half-closing first and discarding input briefly so the answer
 * is not lost to a reset.
 *
 * Timeouts (one timer per connection): a connection that sends nothing for
 * HTTPD_IDLE_NS after accept or after its last response is closed; a
 * request whose head is not complete HTTPD_REQUEST_NS after its first byte
 * is answered 408; a response the client does not read within
 * HTTPD_WRITE_NS is dropped with the connection. While a response is being
 * written, no more input is read (a client cannot make the server buffer).
 *
 * Clients at once: up to HTTPD_MAX_CONNS connections; beyond that a new
 * connection is answered 503 and closed at once. Out of fds, accepting
 * pauses for a second (a level-triggered listener would spin). */
#ifndef CTRD_SUPERVISOR_HTTPD_H
#define CTRD_SUPERVISOR_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "lib/error.h"

#define HTTPD_MAX_HEAD 8192
#define HTTPD_MAX_CONNS 128
#define HTTPD_IDLE_NS (30LL * 1000000000LL)
#define HTTPD_REQUEST_NS (10LL * 1000000000LL)
#define HTTPD_WRITE_NS (10LL * 1000000000LL)

struct httpd;

/* The body of a 200 answer, malloc'd (the server frees it), its length in
 * *len. Called from the loop for every GET/HEAD of the path. */
typedef char *(*httpd_render_fn) (void *data, size_t *len);

struct httpd_config
{
  sd_event *loop;
  /* "unix:///path", "tcp://host:port", "host:port" (tcp; ":port" for
   * every address) or an absolute path (unix; mode 0660) */
  const char *address;
  const char *path;         /* "/metrics" */
  const char *content_type; /* of a 200 answer */
  httpd_render_fn render;
  void *data;
};

/* Listen on cfg->address and serve from cfg->loop. Errors: the address
 * cannot be parsed (INVALID_ARGUMENT) or bound. */
int httpd_new (const struct httpd_config *cfg, struct httpd **out, struct ctrd_error **err);
/* Close the listener and every connection at once. NULL is fine. */
void httpd_free (struct httpd *h);
size_t httpd_connection_count (const struct httpd *h);

#endif
