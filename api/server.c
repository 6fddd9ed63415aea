/* gRPC server: listeners, connections and their nghttp2 server sessions on
 * an sd-event loop. The per-call protocol lives in call.c.
 *
 * Writing: the frames nghttp2 serialises (nghttp2_session_mem_send) are
 * gathered in a buffer and written with one send(): a unary answer's
 * HEADERS, DATA and trailers leave in one syscall. When the socket is full
 * the rest waits in the buffer, nothing more is taken from nghttp2, and
 * EPOLLOUT is armed; it is armed only while there is something to write, so
 * an idle connection never wakes the loop. Replies finished outside the
 * connection's own I/O callback only arm EPOLLOUT: the next loop iteration
 * flushes them, which keeps nghttp2 from being re-entered. */
#include "api/server-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

#define READ_CHUNK (16 * 1024)
#define READS_PER_WAKEUP 8 /* fairness between busy connections */
#define ACCEPTS_PER_WAKEUP 16
#define WRITE_BATCH (64 * 1024) /* stop taking frames from nghttp2 beyond this */
/* An idle connection keeps a write buffer at most this big. */
#define WBUF_KEEP (16 * 1024)
/* malloc_trim once this much was freed (a guess: what a closed connection
 * with a few streams gives back). */
#define TRIM_AFTER (256 * 1024)
/* Rough cost of one nghttp2 session and of one stream in it, for the trim. */
#define SESSION_COST (32 * 1024)
#define STREAM_COST 1024

static const char health_path[] = "/grpc.health.v1.Health/Check";

/* ---- nghttp2 callbacks ---------------------------------------------------- */

static struct api_call *
stream_call (nghttp2_session *session, int32_t stream_id)
{
  return nghttp2_session_get_stream_user_data (session, stream_id);
}

static int
cb_begin_headers (nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  struct conn *c = user_data;
  if (c->closing || frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  struct api_call *call = call_new (c, frame->hd.stream_id);
  if (nghttp2_session_set_stream_user_data (session, frame->hd.stream_id, call) != 0)
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  return 0;
}

static int
cb_header (nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
           size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags UNUSED,
           void *user_data)
{
  struct conn *c = user_data;
  if (c->closing || frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0; /* request trailers carry nothing we use */
  struct api_call *call = stream_call (session, frame->hd.stream_id);
  if (call)
    call_on_header (call, name, namelen, value, valuelen);
  return 0;
}

static int
cb_frame_recv (nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  struct conn *c = user_data;
  if (c->closing)
    return 0;
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
    return 0;
  struct api_call *call = stream_call (session, frame->hd.stream_id);
  if (call == NULL)
    return 0;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
    call_on_headers_end (call);
  /* call_on_headers_end never frees the call: the stream is still open */
  if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
    call_on_request_end (call);
  return 0;
}

static int
cb_data_chunk_recv (nghttp2_session *session, uint8_t flags UNUSED, int32_t stream_id,
                    const uint8_t *data, size_t len, void *user_data)
{
  struct conn *c = user_data;
  if (c->closing)
    return 0;
  struct api_call *call = stream_call (session, stream_id);
  if (call)
    call_on_data (call, data, len);
  return 0;
}

static int
cb_frame_send (nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  struct conn *c = user_data;
  if (c->closing)
    return 0;
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)
      && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
    {
      struct api_call *call = stream_call (session, frame->hd.stream_id);
      if (call)
        call_on_final_frame_sent (call);
    }
  return 0;
}

static int
cb_stream_close (nghttp2_session *session, int32_t stream_id, uint32_t error_code UNUSED,
                 void *user_data)
{
  struct conn *c = user_data;
  if (c->closing)
    return 0;
  struct api_call *call = stream_call (session, stream_id);
  if (call)
    {
      nghttp2_session_set_stream_user_data (session, stream_id, NULL);
      call_on_stream_close (call);
    }
  return 0;
}

/* ---- connections ---------------------------------------------------------- */

void
conn_want_write (struct conn *c)
{
  if (c->in_io || c->closing || (c->events & EPOLLOUT))
    return;
  c->events = EPOLLIN | EPOLLOUT;
  if (sd_event_source_set_io_events (c->io, c->events) < 0)
    log_warn ("api: cannot arm EPOLLOUT on connection fd %d", c->fd);
}

static void
listeners_resume (struct api_server *s)
{
  if (!s->accept_paused)
    return;
  s->accept_paused = false;
  sd_event_source_set_enabled (s->accept_retry, SD_EVENT_OFF);
  for (struct listener *l = s->listeners; l; l = l->next)
    sd_event_source_set_enabled (l->src, SD_EVENT_ON);
}

void
conn_close (struct conn *c)
{
  struct api_server *s = c->s;
  struct api_call *detached = NULL;

  c->closing = true;
  size_t freed = sizeof *c + SESSION_COST + c->wcap;
  while (c->calls)
    {
      struct api_call *call = c->calls;
      call_detach (call);
      call_link (call, &detached);
      freed += STREAM_COST;
    }
  nghttp2_session_del (c->session);
  sd_event_source_disable_unref (c->io);
  close (c->fd);
  free (c->wbuf);
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  s->n_conns--;
  free (c);
  listeners_resume (s);
  server_note_freed (s, freed);

  /* Handlers' on_cancel may finish other calls of this list: take one at a
   * time from the head (freeing a call unlinks it). */
  while (detached)
    {
      struct api_call *call = detached;
      call_unlink (call);
      call_release_detached (call);
    }
}

static void
conn_update_events (struct conn *c)
{
  bool out = c->wlen > 0 || nghttp2_session_want_write (c->session);
  uint32_t want = EPOLLIN | (out ? EPOLLOUT : 0);
  if (want != c->events)
    {
      c->events = want;
      if (sd_event_source_set_io_events (c->io, want) < 0)
        log_warn ("api: cannot change events of connection fd %d", c->fd);
    }
}

/* Write the buffered frames. 0 (possibly with some left: socket full), or
 * -1 on a socket error. */
static int
conn_write (struct conn *c)
{
  size_t off = 0;
  while (off < c->wlen)
    {
      ssize_t n = send (c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      if (n < 0)
        {
          log_debug ("api: connection fd %d: send: %s", c->fd, strerror (errno));
          return -1;
        }
      off += (size_t) n;
    }
  if (off > 0)
    memmove (c->wbuf, c->wbuf + off, c->wlen - off); /* wbuf may be NULL when empty */
  c->wlen -= off;
  if (c->wlen == 0 && c->wcap > WBUF_KEEP)
    {
      /* a burst grew it: an idle connection does not keep it */
      server_note_freed (c->s, c->wcap);
      free (c->wbuf);
      c->wbuf = NULL;
      c->wcap = 0;
    }
  return 0;
}

/* Serialise what nghttp2 has, write it, and decide whether the connection
 * lives on. 0, or -1 when closed. */
static int
conn_flush (struct conn *c)
{
  while (c->wlen < WRITE_BATCH)
    {
      const uint8_t *data;
      ssize_t n = nghttp2_session_mem_send (c->session, &data);
      if (n < 0)
        {
          log_debug ("api: connection fd %d: %s", c->fd, nghttp2_strerror ((int) n));
          conn_close (c);
          return -1;
        }
      if (n == 0)
        break;
      if (c->wlen + (size_t) n > c->wcap)
        {
          c->wcap = (c->wlen + (size_t) n) * 2;
          c->wbuf = xrealloc (c->wbuf, c->wcap);
        }
      memcpy (c->wbuf + c->wlen, data, (size_t) n);
      c->wlen += (size_t) n;
      if (c->wlen >= WRITE_BATCH && (conn_write (c) < 0 || c->wlen > 0))
        break; /* error (handled below) or socket full */
    }
  if (conn_write (c) < 0)
    {
      conn_close (c);
      return -1;
    }
  if (c->wlen == 0 && !nghttp2_session_want_read (c->session)
      && !nghttp2_session_want_write (c->session))
    {
      conn_close (c);
      return -1;
    }
  conn_update_events (c);
  return 0;
}

int
conn_input (struct conn *c, const uint8_t *buf, size_t len)
{
  c->in_io = true;
  ssize_t rv = nghttp2_session_mem_recv (c->session, buf, len);
  c->in_io = false;
  if (rv < 0)
    {
      log_debug ("api: connection fd %d: %s", c->fd, nghttp2_strerror ((int) rv));
      conn_close (c);
      return -1;
    }
  return conn_flush (c);
}

static int
conn_on_io (sd_event_source *src UNUSED, int fd, uint32_t revents, void *userdata)
{
  struct conn *c = userdata;
  uint8_t buf[READ_CHUNK];

  if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
    for (int i = 0; i < READS_PER_WAKEUP; i++)
      {
        ssize_t n = read (fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
          continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
          break;
        if (n <= 0)
          {
            /* EOF or a socket error: the peer is gone; pending output is moot */
            conn_close (c);
            return 0;
          }
        if (conn_input (c, buf, (size_t) n) < 0)
          return 0;
        if ((size_t) n < sizeof buf)
          break;
      }
  conn_flush (c);
  return 0;
}

struct conn *
server_conn_new (struct api_server *s, int fd, struct ctrd_error **err)
{
  struct conn *c = xmalloc0 (sizeof *c);
  c->s = s;
  c->fd = fd;
  c->events = EPOLLIN;
  int r = sd_event_add_io (s->loop, &c->io, fd, c->events, conn_on_io, c);
  if (r < 0)
    {
      free (c);
      ctrd_error_set (err, -r, "cannot watch connection fd %d", fd);
      return NULL;
    }
  if (nghttp2_session_server_new2 (&c->session, s->callbacks, c, s->option) != 0)
    {
      sd_event_source_disable_unref (c->io);
      free (c);
      ctrd_error_set (err, ENOMEM, "cannot create HTTP/2 session");
      return NULL;
    }
  const nghttp2_settings_entry iv[] = {
    { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s->limits.max_concurrent_streams },
    { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20 },
  };
  nghttp2_submit_settings (c->session, NGHTTP2_FLAG_NONE, iv, ARRAY_SIZE (iv));
  nghttp2_session_set_local_window_size (c->session, NGHTTP2_FLAG_NONE, 0, 8 << 20);
  c->next = s->conns;
  if (s->conns)
    s->conns->prev = c;
  s->conns = c;
  s->n_conns++;
  /* the SETTINGS frame goes out with the first flush */
  conn_want_write (c);
  return c;
}

/* ---- listeners ------------------------------------------------------------ */

static void
put_frame_header (uint8_t *p, size_t len, uint8_t type)
{
  p[0] = (uint8_t) (len >> 16);
  p[1] = (uint8_t) (len >> 8);
  p[2] = (uint8_t) len;
  p[3] = type;
  p[4] = 0;             /* flags */
  memset (p + 5, 0, 4); /* stream 0 */
}

/* Over --max-connections: answer what an HTTP/2 client understands, the
 * server preface (an empty SETTINGS frame) and GOAWAY(ENHANCE_YOUR_CALM,
 * last stream 0: nothing was processed, a retry is safe) with the reason as
 * debug data, then close. No session, no buffer: a refusal costs nothing
 * that lasts. The socket is new and empty, so one send() takes it all. */
static void
refuse_connection (struct api_server *s, int fd)
{
  char why[128];
  int wl = snprintf (why, sizeof why, "too many connections: containerd --max-connections %zu",
                     s->limits.max_connections);
  uint8_t buf[9 + 9 + 8 + sizeof why];
  put_frame_header (buf, 0, NGHTTP2_SETTINGS);
  put_frame_header (buf + 9, 8 + (size_t) wl, NGHTTP2_GOAWAY);
  memset (buf + 18, 0, 4); /* last stream id */
  uint32_t code = htonl (NGHTTP2_ENHANCE_YOUR_CALM);
  memcpy (buf + 22, &code, 4);
  memcpy (buf + 26, why, (size_t) wl);
  if (send (fd, buf, 26 + (size_t) wl, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
    log_debug ("api: refused connection: send: %s", strerror (errno));
  /* FIN after the GOAWAY; what the client already sent is read away so that
   * a TCP close does not answer it with a RST that could discard ours */
  shutdown (fd, SHUT_WR);
  uint8_t junk[4096];
  while (recv (fd, junk, sizeof junk, MSG_DONTWAIT) > 0)
    ;
  close (fd);
  s->refused_conns++;
  if (!s->refusing)
    log_warn ("api: %zu connections open (--max-connections): refusing new ones with GOAWAY "
              "until one closes",
              s->n_conns);
  s->refusing = true;
}

static int
accept_retry_cb (sd_event_source *src UNUSED, uint64_t usec UNUSED, void *userdata)
{
  listeners_resume (userdata);
  return 0;
}

/* Out of fds: a level-triggered listener would spin. Wait for one of our
 * connections to close, or (the fds may be held elsewhere in the daemon)
 * retry after a second. */
static void
listeners_pause (struct api_server *s)
{
  s->accept_paused = true;
  for (struct listener *o = s->listeners; o; o = o->next)
    sd_event_source_set_enabled (o->src, SD_EVENT_OFF);
  /* the timer source exists since api_server_new: arming it needs no fd */
  sd_event_source_set_time_relative (s->accept_retry, 1000000);
  sd_event_source_set_enabled (s->accept_retry, SD_EVENT_ONESHOT);
}

static int
listener_on_io (sd_event_source *src UNUSED, int fd, uint32_t revents UNUSED, void *userdata)
{
  struct listener *l = userdata;
  for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++)
    {
      int cfd = accept4 (fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (cfd < 0)
        {
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            {
              log_warn ("api: accept: %s; accepting again when a connection closes or in 1 s",
                        strerror (errno));
              listeners_pause (l->s);
            }
          else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
                   && errno != ECONNABORTED)
            log_warn ("api: accept: %s", strerror (errno));
          return 0;
        }
      if (l->s->n_conns >= l->s->limits.max_connections)
        {
          refuse_connection (l->s, cfd);
          continue;
        }
      l->s->refusing = false;
      cleanup_error struct ctrd_error *err = NULL;
      if (server_conn_new (l->s, cfd, &err) == NULL)
        {
          log_warn ("api: %s", err->msg);
          close (cfd);
        }
    }
  return 0;
}

int
api_server_add_listener (struct api_server *s, int listen_fd, struct ctrd_error **err)
{
  if (fd_set_nonblock (listen_fd, true) < 0 || fd_set_cloexec (listen_fd, true) < 0)
    {
      int e = errno;
      close (listen_fd);
      return ctrd_error_set (err, e, "cannot set flags on listening fd %d", listen_fd);
    }
  struct listener *l = xmalloc0 (sizeof *l);
  l->s = s;
  l->fd = listen_fd;
  int r = sd_event_add_io (s->loop, &l->src, listen_fd, EPOLLIN, listener_on_io, l);
  if (r < 0)
    {
      close (listen_fd);
      free (l);
      return ctrd_error_set (err, -r, "cannot watch listening fd %d", listen_fd);
    }
  if (s->accept_paused)
    sd_event_source_set_enabled (l->src, SD_EVENT_OFF);
  l->next = s->listeners;
  s->listeners = l;
  return 0;
}

/* ---- server --------------------------------------------------------------- */

/* Freed memory sits in malloc's free lists, most of it in the middle of the
 * heap where the automatic top trim cannot reach it: after a burst of
 * clients the daemon's RSS would stay at its peak. Once enough was freed,
 * malloc_trim(0) (which also returns free pages inside the heap) runs from
 * an idle-priority defer source: when the loop has nothing else to do, at
 * most once per burst, never in a busy path. */
static int
trim_cb (sd_event_source *src UNUSED, void *userdata)
{
  struct api_server *s = userdata;
  s->freed_since_trim = 0;
  sd_event_source_set_enabled (s->trim, SD_EVENT_OFF);
  malloc_trim (0);
  return 0;
}

void
server_note_freed (struct api_server *s, size_t bytes)
{
  s->freed_since_trim += bytes;
  if (s->trim && s->freed_since_trim >= TRIM_AFTER)
    sd_event_source_set_enabled (s->trim, SD_EVENT_ONESHOT);
}

void
api_server_note_freed (struct api_server *s, size_t bytes)
{
  server_note_freed (s, bytes);
}

void
api_server_trim_when_idle (struct api_server *s)
{
  if (s->trim)
    sd_event_source_set_enabled (s->trim, SD_EVENT_ONESHOT);
}

void
api_server_set_limits (struct api_server *s, const struct api_limits *l)
{
  s->limits.max_connections = l->max_connections ? l->max_connections : API_DEFAULT_MAX_CONNECTIONS;
  s->limits.max_concurrent_streams =
      l->max_concurrent_streams ? l->max_concurrent_streams : API_DEFAULT_MAX_CONCURRENT_STREAMS;
  s->limits.stream_queue_bytes =
      l->stream_queue_bytes ? l->stream_queue_bytes : API_DEFAULT_STREAM_QUEUE_BYTES;
  s->limits.stream_queue_total =
      l->stream_queue_total ? l->stream_queue_total : API_DEFAULT_STREAM_QUEUE_TOTAL;
}

size_t
api_server_queued_bytes (const struct api_server *s)
{
  return s->out_bytes;
}

uint64_t
api_server_refused_connections (const struct api_server *s)
{
  return s->refused_conns;
}

int
api_server_new (sd_event *loop, struct api_server **out, struct ctrd_error **err)
{
  struct api_server *s = xmalloc0 (sizeof *s);
  s->loop = sd_event_ref (loop);
  s->max_message = API_DEFAULT_MAX_MESSAGE;
  api_server_set_limits (s, &(struct api_limits){ 0 });
  if (nghttp2_session_callbacks_new (&s->callbacks) != 0 || nghttp2_option_new (&s->option) != 0)
    {
      nghttp2_session_callbacks_del (s->callbacks);
      sd_event_unref (s->loop);
      free (s);
      return ctrd_error_set (err, ENOMEM, "cannot allocate HTTP/2 callbacks");
    }
  /* Made now, while fds are plentiful: it is needed when they run out. */
  int r = sd_event_add_time_relative (loop, &s->accept_retry, CLOCK_MONOTONIC, 1000000, 0,
                                      accept_retry_cb, s);
  if (r < 0)
    {
      nghttp2_session_callbacks_del (s->callbacks);
      nghttp2_option_del (s->option);
      sd_event_unref (s->loop);
      free (s);
      return ctrd_error_set (err, -r, "cannot create the accept retry timer");
    }
  sd_event_source_set_enabled (s->accept_retry, SD_EVENT_OFF);
  r = sd_event_add_defer (loop, &s->trim, trim_cb, s);
  if (r < 0)
    {
      sd_event_source_disable_unref (s->accept_retry);
      nghttp2_session_callbacks_del (s->callbacks);
      nghttp2_option_del (s->option);
      sd_event_unref (s->loop);
      free (s);
      return ctrd_error_set (err, -r, "cannot create the memory trim source");
    }
  sd_event_source_set_priority (s->trim, SD_EVENT_PRIORITY_IDLE);
  sd_event_source_set_enabled (s->trim, SD_EVENT_OFF);
  nghttp2_session_callbacks_set_on_begin_headers_callback (s->callbacks, cb_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback (s->callbacks, cb_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback (s->callbacks, cb_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback (s->callbacks, cb_data_chunk_recv);
  nghttp2_session_callbacks_set_on_frame_send_callback (s->callbacks, cb_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback (s->callbacks, cb_stream_close);
  /* grpc-go of 2016 sends an :authority holding a socket path ('/'), which
   * nghttp2's HTTP semantics checks reject: we check what gRPC needs. */
  nghttp2_option_set_no_http_messaging (s->option, 1);
  /* closed streams are kept only for the priority tree, which gRPC does not use */
  nghttp2_option_set_no_closed_streams (s->option, 1);
  *out = s;
  return 0;
}

void
api_server_register (struct api_server *s, const struct api_method *m, void *userdata)
{
  /* the path is copied: callers may build it */
  struct method_entry e = { .m = *m, .userdata = userdata, .path = xstrdup (m->path) };
  e.m.path = e.path;
  for (size_t i = 0; i < s->n_methods; i++)
    if (strcmp (s->methods[i].m.path, m->path) == 0)
      {
        free (s->methods[i].path);
        s->methods[i] = e;
        return;
      }
  s->methods = xrealloc (s->methods, (s->n_methods + 1) * sizeof *s->methods);
  s->methods[s->n_methods++] = e;
}

void
api_server_register_health (struct api_server *s)
{
  const struct api_method m = { .path = health_path };
  api_server_register (s, &m, NULL);
  for (size_t i = 0; i < s->n_methods; i++)
    if (strcmp (s->methods[i].m.path, health_path) == 0)
      s->methods[i].health = true;
}

const struct method_entry *
server_lookup_method (const struct api_server *s, const char *path)
{
  for (size_t i = 0; i < s->n_methods; i++)
    if (strcmp (s->methods[i].m.path, path) == 0)
      return &s->methods[i];
  return NULL;
}

void
api_server_set_max_message (struct api_server *s, size_t bytes)
{
  s->max_message = bytes;
}

void
api_server_set_observer (struct api_server *s, api_call_observer_fn fn, void *data)
{
  s->observer = fn;
  s->observer_data = data;
}

size_t
api_server_connection_count (const struct api_server *s)
{
  return s->n_conns;
}

size_t
api_server_call_count (const struct api_server *s)
{
  return s->n_calls;
}

void
server_maybe_release (struct api_server *s)
{
  if (!s->freed || s->n_calls > 0)
    return;
  for (size_t i = 0; i < s->n_methods; i++)
    free (s->methods[i].path);
  free (s->methods);
  nghttp2_session_callbacks_del (s->callbacks);
  nghttp2_option_del (s->option);
  sd_event_unref (s->loop);
  free (s);
}

void
api_server_free (struct api_server *s)
{
  if (s == NULL)
    return;
  while (s->listeners)
    {
      struct listener *l = s->listeners;
      s->listeners = l->next;
      sd_event_source_disable_unref (l->src);
      close (l->fd);
      free (l);
    }
  s->accept_paused = false;
  s->accept_retry = sd_event_source_disable_unref (s->accept_retry);
  s->trim = sd_event_source_disable_unref (s->trim);
  s->observer = NULL; /* its owner may go before the last call is released */
  while (s->conns)
    conn_close (s->conns);
  s->freed = true;
  server_maybe_release (s);
}
