/* The strict HTTP/1.1 server of httpd.h: connections and their timer on
 * the daemon's loop; request heads parsed in place in a fixed buffer. */
#include "supervisor/httpd.h"
#include "supervisor/httpd-request.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/listen.h"
#include "lib/log.h"
#include "lib/util.h"

#define ACCEPTS_PER_WAKEUP 16
#define LINGER_NS (2LL * 1000000000LL) /* discarding input after a closing answer */

enum conn_phase
{
  PHASE_READ,  /* waiting for (the rest of) a request head */
  PHASE_WRITE, /* a response is being written; input is not read */
  PHASE_LINGER /* answered, write side shut: discard input until EOF */
};

struct hconn
{
  struct httpd *h;
  int fd;
  sd_event_source *io, *timer;
  enum conn_phase phase;
  char in[HTTPD_MAX_HEAD];
  size_t in_len;
  char *out;
  size_t out_len, out_off;
  bool close_after; /* close (linger) once the response is written */
  struct hconn *prev, *next;
};

struct httpd
{
  struct httpd_config cfg;
  char *path, *content_type;
  int listen_fd;
  sd_event_source *listen_src, *accept_retry;
  struct hconn *conns;
  size_t n_conns;
};

/* ---- connections ---------------------------------------------------------- */

static void
conn_free (struct hconn *c)
{
  struct httpd *h = c->h;
  sd_event_source_disable_unref (c->io);
  sd_event_source_disable_unref (c->timer);
  close (c->fd);
  free (c->out);
  if (c->prev)
    c->prev->next = c->next;
  else
    h->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  h->n_conns--;
  free (c);
}

static void
conn_arm (struct hconn *c, int64_t ns)
{
  uint64_t now = 0;
  sd_event_now (c->h->cfg.loop, CLOCK_MONOTONIC, &now);
  sd_event_source_set_time (c->timer, now + (uint64_t) (ns / 1000));
  sd_event_source_set_enabled (c->timer, SD_EVENT_ONESHOT);
}

static void
conn_set_events (struct hconn *c, uint32_t ev)
{
  if (sd_event_source_set_io_events (c->io, ev) < 0)
    log_warn ("metrics-address: cannot change events of connection fd %d", c->fd);
}

static const char *
status_reason (int status)
{
  switch (status)
    {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Internal Server Error";
    }
}

/* Head and body of one response, the body owned by the caller. */
static char *
response_build (int status, const char *ctype, const char *body, size_t body_len, bool head_only,
                bool close, size_t *len)
{
  char date[64];
  time_t now = time (NULL);
  struct tm tm;
  gmtime_r (&now, &tm);
  strftime (date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  cleanup_free char *hdr =
      xasprintf ("HTTP/1.1 %d %s\r\n"
                 "Date: %s\r\n"
                 "Content-Type: %s\r\n"
                 "Content-Length: %zu\r\n"
                 "%s%s\r\n",
                 status, status_reason (status), date, ctype, body_len,
                 status == 405 ? "Allow: GET, HEAD\r\n" : "", close ? "Connection: close\r\n" : "");
  size_t hl = strlen (hdr), bl = head_only ? 0 : body_len;
  char *r = xmalloc (hl + bl + 1);
  memcpy (r, hdr, hl);
  if (bl)
    memcpy (r + hl, body, bl);
  r[hl + bl] = '\0';
  *len = hl + bl;
  return r;
}

static void conn_write (struct hconn *c);

/* Queue a response and start writing it. */
static void
conn_respond (struct hconn *c, int status, const char *body, size_t body_len, bool head_only,
              bool close)
{
  const char *ctype = status == 200 ? c->h->content_type : "text/plain; charset=utf-8";
  free (c->out);
  c->out = response_build (status, ctype, body, body_len, head_only, close, &c->out_len);
  c->out_off = 0;
  c->close_after = close;
  if (close)
    c->in_len = 0; /* whatever follows is not answered */
  c->phase = PHASE_WRITE;
  conn_arm (c, HTTPD_WRITE_NS);
  conn_write (c);
}

static void
conn_respond_error (struct hconn *c, int status, bool close)
{
  cleanup_free char *body = xasprintf ("%d %s\n", status, status_reason (status));
  conn_respond (c, status, body, strlen (body), false, close);
}

/* Answer one complete head of head_len bytes (ending in CRLF CRLF). */
static void
conn_handle (struct hconn *c, const char *head, size_t head_len)
{
  struct http_request r;
  int bad = http_request_parse (&r, head, head_len);
  if (bad)
    {
      conn_respond_error (c, bad, true);
      return;
    }
  bool close = r.has_body || r.conn_close || (r.minor == 0 && !r.conn_keep_alive);
  bool is_get = r.method_len == 3 && memcmp (r.method, "GET", 3) == 0;
  bool is_head = r.method_len == 4 && memcmp (r.method, "HEAD", 4) == 0;
  if (r.path_len != strlen (c->h->path) || memcmp (r.path, c->h->path, r.path_len) != 0)
    conn_respond_error (c, 404, close);
  else if (!is_get && !is_head)
    conn_respond_error (c, 405, close);
  else if (r.has_body)
    conn_respond_error (c, 400, true);
  else
    {
      size_t len = 0;
      cleanup_free char *body = c->h->cfg.render (c->h->cfg.data, &len);
      conn_respond (c, 200, body, len, is_head, close);
    }
}

/* Answer what the buffer holds: complete heads, in order, one at a time. */
static void
conn_process (struct hconn *c)
{
  while (c->phase == PHASE_READ && c->in_len > 0)
    {
      /* a bare LF or a NUL is refused as soon as it arrives */
      for (size_t i = 0; i < c->in_len; i++)
        if ((c->in[i] == '\n' && (i == 0 || c->in[i - 1] != '\r')) || c->in[i] == '\0')
          {
            conn_respond_error (c, 400, true);
            return;
          }
      char *e = memmem (c->in, c->in_len, "\r\n\r\n", 4);
      if (e == NULL)
        {
          if (c->in_len == sizeof c->in)
            conn_respond_error (c, 431, true);
          return;
        }
      /* take the head out of the buffer first: answering it may end the
       * request phase (linger), and the next head must be in place when
       * the answer was written at once */
      size_t head_len = (size_t) (e - c->in) + 4;
      char head[HTTPD_MAX_HEAD];
      memcpy (head, c->in, head_len);
      memmove (c->in, c->in + head_len, c->in_len - head_len);
      c->in_len -= head_len;
      /* c stays alive: a response never frees its connection synchronously */
      conn_handle (c, head, head_len);
    }
}

static void
conn_linger (struct hconn *c)
{
  shutdown (c->fd, SHUT_WR);
  c->phase = PHASE_LINGER;
  c->in_len = 0;
  conn_set_events (c, EPOLLIN);
  conn_arm (c, LINGER_NS);
}

/* Write what is queued; when done, go on reading (or linger). */
static void
conn_write (struct hconn *c)
{
  while (c->out_off < c->out_len)
    {
      ssize_t n =
          send (c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          conn_set_events (c, EPOLLOUT);
          return;
        }
      if (n < 0)
        {
          c->out_off = c->out_len;
          c->close_after = true;
          break;
        }
      c->out_off += (size_t) n;
    }
  c->out = (free (c->out), NULL);
  c->out_len = c->out_off = 0;
  if (c->close_after)
    {
      conn_linger (c);
      return;
    }
  c->phase = PHASE_READ;
  conn_set_events (c, EPOLLIN);
  conn_arm (c, c->in_len > 0 ? HTTPD_REQUEST_NS : HTTPD_IDLE_NS);
}

/* Read once; returns false when the connection was freed. */
static bool
conn_read (struct hconn *c)
{
  char discard[4096];
  bool linger = c->phase == PHASE_LINGER;
  char *buf = linger ? discard : c->in + c->in_len;
  size_t room = linger ? sizeof discard : sizeof c->in - c->in_len;
  ssize_t n = read (c->fd, buf, room);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return true;
  if (n <= 0)
    {
      conn_free (c); /* EOF or error; a partial request is moot */
      return false;
    }
  if (linger)
    return true;
  if (c->in_len == 0)
    conn_arm (c, HTTPD_REQUEST_NS); /* the first byte of a request */
  c->in_len += (size_t) n;
  return true;
}

static int
conn_on_io (sd_event_source *s UNUSED, int fd UNUSED, uint32_t revents, void *data)
{
  struct hconn *c = data;
  if (c->phase == PHASE_WRITE)
    {
      if (revents & (EPOLLERR | EPOLLHUP))
        {
          conn_free (c);
          return 0;
        }
      conn_write (c);
      conn_process (c); /* pipelined requests already buffered */
      return 0;
    }
  if (!conn_read (c))
    return 0;
  conn_process (c);
  return 0;
}

static int
conn_on_timer (sd_event_source *s UNUSED, uint64_t usec UNUSED, void *data)
{
  struct hconn *c = data;
  if (c->phase == PHASE_READ && c->in_len > 0)
    {
      conn_respond_error (c, 408, true);
      return 0;
    }
  /* idle, a response not read, or the linger is over */
  conn_free (c);
  return 0;
}

/* ---- listener ------------------------------------------------------------- */

static void
refuse_busy (int fd)
{
  static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "Content-Length: 24\r\n"
                             "Connection: close\r\n\r\n"
                             "503 too many connections";
  if (send (fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
    log_debug ("metrics-address: refusing a connection: %s", strerror (errno));
  close (fd);
}

static int
conn_new (struct httpd *h, int fd)
{
  struct hconn *c = xmalloc0 (sizeof *c);
  c->h = h;
  c->fd = fd;
  if (sd_event_add_io (h->cfg.loop, &c->io, fd, EPOLLIN, conn_on_io, c) < 0
      || sd_event_add_time_relative (h->cfg.loop, &c->timer, CLOCK_MONOTONIC,
                                     (uint64_t) (HTTPD_IDLE_NS / 1000), 0, conn_on_timer, c)
             < 0)
    {
      sd_event_source_disable_unref (c->io);
      free (c);
      return -1;
    }
  c->next = h->conns;
  if (h->conns)
    h->conns->prev = c;
  h->conns = c;
  h->n_conns++;
  return 0;
}

static int
accept_retry_cb (sd_event_source *s UNUSED, uint64_t usec UNUSED, void *data)
{
  struct httpd *h = data;
  sd_event_source_set_enabled (h->listen_src, SD_EVENT_ON);
  return 0;
}

static int
listener_on_io (sd_event_source *s UNUSED, int lfd, uint32_t revents UNUSED, void *data)
{
  struct httpd *h = data;
  for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++)
    {
      int fd = accept4 (lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            {
              log_warn ("metrics-address: accept: %s; accepting again in 1 s", strerror (errno));
              sd_event_source_set_enabled (h->listen_src, SD_EVENT_OFF);
              sd_event_source_set_time_relative (h->accept_retry, 1000000);
              sd_event_source_set_enabled (h->accept_retry, SD_EVENT_ONESHOT);
            }
          else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
                   && errno != ECONNABORTED)
            log_warn ("metrics-address: accept: %s", strerror (errno));
          return 0;
        }
      if (h->n_conns >= HTTPD_MAX_CONNS)
        refuse_busy (fd);
      else if (conn_new (h, fd) < 0)
        {
          log_warn ("metrics-address: cannot watch a connection");
          close (fd);
        }
    }
  return 0;
}

/* ---- server --------------------------------------------------------------- */

static int
httpd_listen (const char *address, struct ctrd_error **err)
{
  if (address[0] == '\0')
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "empty metrics address");
  if (strstr (address, "://") == NULL && address[0] != '/')
    return api_listen_tcp (address, err);
  if (strncmp (address, "unix://", 7) != 0 && strncmp (address, "tcp://", 6) != 0
      && address[0] != '/')
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT,
                            "metrics address %s: expected unix://<path> or tcp://<host:port>",
                            address);
  return api_listen_address (address, err);
}

int
httpd_new (const struct httpd_config *cfg, struct httpd **out, struct ctrd_error **err)
{
  int fd = httpd_listen (cfg->address, err);
  if (fd < 0)
    return ctrd_error_wrap (err, "metrics address %s", cfg->address);
  struct httpd *h = xmalloc0 (sizeof *h);
  h->cfg = *cfg;
  h->path = xstrdup (cfg->path);
  h->content_type = xstrdup (cfg->content_type);
  h->cfg.address = NULL;
  h->listen_fd = fd;
  int r = sd_event_add_io (cfg->loop, &h->listen_src, fd, EPOLLIN, listener_on_io, h);
  if (r >= 0)
    r = sd_event_add_time_relative (cfg->loop, &h->accept_retry, CLOCK_MONOTONIC, 1000000, 0,
                                    accept_retry_cb, h);
  if (r < 0)
    {
      httpd_free (h);
      return ctrd_error_set (err, -r, "cannot watch the metrics listener");
    }
  sd_event_source_set_enabled (h->accept_retry, SD_EVENT_OFF);
  *out = h;
  return 0;
}

void
httpd_free (struct httpd *h)
{
  if (h == NULL)
    return;
  while (h->conns)
    conn_free (h->conns);
  sd_event_source_disable_unref (h->listen_src);
  sd_event_source_disable_unref (h->accept_retry);
  close (h->listen_fd);
  free (h->path);
  free (h->content_type);
  free (h);
}

size_t
httpd_connection_count (const struct httpd *h)
{
  return h ? h->n_conns : 0;
}
