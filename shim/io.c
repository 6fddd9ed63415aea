/* stdio of the container process (docs/state-directory.md "Opening stdio"), relays and the
 * console socket.
 *
 * Differences from the original, on purpose:
 * - No FIFO open ever waits. For every FIFO the shim opens its own reader
 *   (O_RDONLY|O_NONBLOCK, never blocks) before its writer, so the writer's
 *   open completes at once. A client that passed FIFOs but has not opened
 *   them yet (ctr without --attach) no longer makes the start fail after
 *   15 s: output waits in the FIFO (and then in the pipe) until it reads.
 *   The only wait left, for the console master, has the 15 s deadline.
 * - A stdio path that is not a FIFO (/dev/null, a regular file) is handed to
 *   the container directly: nothing to relay, nothing to lose.
 * - Relays are edge-triggered epoll watches on both ends: splice() between
 *   pipes while the reader keeps up, a 4 KiB buffer when one side is the
 *   pty master or while output waits in the FIFO for a slow or absent
 *   reader (relay_pump says why). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "lib/timeutil.h"
#include "lib/util.h"
#include "shim/shim.h"

#define RELAY_BUF 4096
#define SPLICE_CHUNK (1 << 16)

static void relay_pump (struct shim *s, struct relay *r);

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

static struct relay *
relay_of_watch (struct shim *s, struct watch *w)
{
  for (int i = 0; i < s->nrel; i++)
    if (&s->rel[i].win == w || &s->rel[i].wout == w)
      return &s->rel[i];
  return NULL;
}

static void
relay_event (struct shim *s, struct watch *w, uint32_t events)
{
  (void) events;
  struct relay *r = relay_of_watch (s, w);
  if (r != NULL && !r->done)
    relay_pump (s, r);
}

static void
relay_finish (struct shim *s, struct relay *r)
{
  bool was_running = !r->done;
  r->done = true;
  shim_watch_del (s, &r->win);
  shim_watch_del (s, &r->wout);
  close_fd (&r->win.fd);
  close_fd (&r->wout.fd);
  free (r->buf);
  r->buf = NULL;
  if (was_running)
    shim_on_io_progress (s);
}

static int
relay_start (struct shim *s, struct relay *r, const char *name, int in, int out,
             struct ctrd_error **err)
{
  struct stat a, b;
  r->name = name;
  r->done = false;
  r->win = (struct watch){ .fd = in, .cb = relay_event };
  r->wout = (struct watch){ .fd = out, .cb = relay_event };
  if (fstat (in, &a) < 0 || fstat (out, &b) < 0)
    return ctrd_error_set (err, errno, "relay %s: fstat", name);
  r->splice = S_ISFIFO (a.st_mode) && S_ISFIFO (b.st_mode);
  if (fd_set_nonblock (in, true) < 0 || fd_set_nonblock (out, true) < 0)
    return ctrd_error_set (err, errno, "relay %s: set O_NONBLOCK", name);
  if (shim_watch_add (s, &r->win, EPOLLIN | EPOLLET) < 0)
    return ctrd_error_set (err, errno, "relay %s: epoll_ctl", name);
  /* EPERM: a regular file or /dev/null (tty output to a file), which is
   * always writable: the relay then runs on the input's events alone. */
  if (shim_watch_add (s, &r->wout, EPOLLOUT | EPOLLET) < 0 && errno != EPERM)
    return ctrd_error_set (err, errno, "relay %s: epoll_ctl", name);
  /* Data may already be waiting: edge-triggered watches would not report it. */
  relay_pump (s, r);
  return 0;
}

/* Bytes queued in out, a pipe or FIFO (FIONREAD works on either end). */
static int
relay_backlog (struct relay *r)
{
  int n = 0;
  if (ioctl (r->wout.fd, FIONREAD, &n) < 0)
    return 0;
  return n;
}

static void
relay_pump (struct shim *s, struct relay *r)
{
  uint64_t before = r->moved;
  while (!r->done)
    {
      ssize_t n;
      /* splice moves the source's pipe buffers as they are: each takes a
       * slot of out's ring (16 by default) however few bytes it holds, and
       * nothing merges into it. With a reader that keeps up that costs
       * nothing; with none (ctr without --attach, a reader not yet open) a
       * container writing 1000 bytes at a time would fill the FIFO at 16 KB
       * and block where the original (a copy, whose writes merge into
       * pages) buffers 64 KiB. So: splice only into an empty out, and copy
       * while data waits there; a partly written buffer is always finished
       * first, so the order of the bytes is kept. */
      if (r->splice && r->buf_off == r->buf_len && relay_backlog (r) == 0)
        {
          n = splice (r->win.fd, NULL, r->wout.fd, NULL, SPLICE_CHUNK,
                      SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
          if (n > 0)
            {
              r->moved += (uint64_t) n;
              continue;
            }
          if (n == 0)
            relay_finish (s, r); /* every writer of in closed, pipe empty */
          else if (errno == EINTR)
            continue;
          else if (errno != EAGAIN)
            {
              if (errno != EPIPE)
                shim_log (s, "warn", "relay %s: splice: %s", r->name, strerror (errno));
              relay_finish (s, r);
            }
          break;
        }
      if (r->buf == NULL)
        r->buf = xmalloc (RELAY_BUF);
      if (r->buf_off == r->buf_len)
        {
          r->buf_off = r->buf_len = 0;
          n = read (r->win.fd, r->buf, RELAY_BUF);
          if (n > 0)
            r->buf_len = (size_t) n;
          else if (n < 0 && errno == EINTR)
            continue;
          else if (n < 0 && errno == EAGAIN)
            break;
          else
            {
              /* 0 = EOF; EIO = the pty's slave side is closed everywhere */
              if (n < 0 && errno != EIO)
                shim_log (s, "warn", "relay %s: read: %s", r->name, strerror (errno));
              relay_finish (s, r);
              break;
            }
        }
      n = write (r->wout.fd, r->buf + r->buf_off, r->buf_len - r->buf_off);
      if (n > 0)
        {
          r->buf_off += (size_t) n;
          r->moved += (uint64_t) n;
        }
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && errno == EAGAIN)
        break;
      else
        {
          if (errno != EPIPE && errno != EIO)
            shim_log (s, "warn", "relay %s: write: %s", r->name, strerror (errno));
          relay_finish (s, r);
        }
    }
  if (r->moved != before || r->done)
    shim_on_io_progress (s);
}

/* Bytes waiting in the relay's source (pipe or pty master). */
static int
relay_pending (struct relay *r)
{
  int n = 0;
  if (r->win.fd < 0 || ioctl (r->win.fd, FIONREAD, &n) < 0)
    return 0;
  return n + (int) (r->buf_len - r->buf_off);
}

static bool
is_fifo (const char *path, struct ctrd_error **err)
{
  struct stat st;
  if (stat (path, &st) < 0)
    {
      ctrd_error_set (err, errno, "containerd-shim: opening %s failed", path);
      return false;
    }
  return S_ISFIFO (st.st_mode);
}

static int
open_path (const char *path, int flags, struct ctrd_error **err)
{
  int fd = open (path, flags | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return ctrd_error_set (err, errno, "containerd-shim: opening %s failed", path);
  return fd;
}

static int
make_pipe (struct shim *s, int p[2], struct ctrd_error **err)
{
  if (pipe2 (p, O_CLOEXEC) < 0)
    return ctrd_error_set (err, errno, "pipe");
  /* A container user other than root must be able to use its stdio. */
  if (fchown (p[0], s->cfg.root_uid, s->cfg.root_gid) < 0
      || fchown (p[1], s->cfg.root_uid, s->cfg.root_gid) < 0)
    return ctrd_error_set (err, errno, "fchown pipe to %u:%u", s->cfg.root_uid, s->cfg.root_gid);
  return 0;
}

/* The shim's own reader and writer on a FIFO (reader first: no wait). */
static int
open_fifo_pair (struct shim *s, const char *path, int *rd, int *wr, struct ctrd_error **err)
{
  *rd = open_path (path, O_RDONLY | O_NONBLOCK, err);
  if (*rd < 0)
    return -1;
  *wr = open_path (path, O_WRONLY | O_NONBLOCK, err);
  if (*wr < 0)
    return -1;
  (void) s;
  return 0;
}

static int
setup_stdin (struct shim *s, int *child_fd, struct ctrd_error **err)
{
  const char *path = s->cfg.stdin_path;
  cleanup_error struct ctrd_error *e = NULL;
  bool fifo = is_fifo (path, &e);
  if (e != NULL)
    {
      *err = ctrd_error_steal (&e);
      return -1;
    }
  if (!fifo)
    {
      if (s->cfg.terminal)
        return 0; /* nothing to feed into the pty */
      *child_fd = open_path (path, O_RDONLY, err);
      return *child_fd < 0 ? -1 : 0;
    }
  /* The shim's writer (the "stdin closer") keeps the container's stdin open
   * while clients come and go, until a close-stdin control message. */
  int rd, p[2];
  if (open_fifo_pair (s, path, &rd, &s->stdin_closer, err) < 0)
    return -1;
  s->rel[0].win.fd = rd;
  if (s->cfg.terminal)
    return 0; /* relayed into the pty master once it arrives */
  if (make_pipe (s, p, err) < 0)
    return -1;
  *child_fd = p[0];
  s->rel[0].wout.fd = p[1];
  return 0;
}

static int
setup_output (struct shim *s, const char *path, int idx, int *child_fd, struct ctrd_error **err)
{
  cleanup_error struct ctrd_error *e = NULL;
  bool fifo = is_fifo (path, &e);
  if (e != NULL)
    {
      *err = ctrd_error_steal (&e);
      return -1;
    }
  if (!fifo)
    {
      /* no O_TRUNC / O_APPEND: written from offset 0 as the original does */
      *child_fd = open_path (path, O_WRONLY, err);
      return *child_fd < 0 ? -1 : 0;
    }
  int wr, p[2];
  if (open_fifo_pair (s, path, &s->fifo_keep[idx], &wr, err) < 0)
    return -1;
  s->rel[idx].wout.fd = wr;
  if (make_pipe (s, p, err) < 0)
    return -1;
  s->rel[idx].win.fd = p[0];
  *child_fd = p[1];
  return 0;
}

static void console_listen_event (struct shim *s, struct watch *w, uint32_t events);

static int
setup_console (struct shim *s, struct ctrd_error **err)
{
  const char *tmp = getenv ("TMPDIR");
  cleanup_free char *tmpl = xasprintf ("%s/ptyXXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp (tmpl) == NULL)
    return ctrd_error_set (err, errno, "mkdtemp `%s`", tmpl);
  s->console_dir = take_ptr (&tmpl);
  s->console_sock = path_join (s->console_dir, "pty.sock");
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen (s->console_sock) >= sizeof sa.sun_path)
    return ctrd_error_set (err, ENAMETOOLONG, "console socket `%s`", s->console_sock);
  strcpy (sa.sun_path, s->console_sock);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return ctrd_error_set (err, errno, "console socket");
  s->wlisten = (struct watch){ .fd = fd, .cb = console_listen_event };
  if (bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (fd, 1) < 0)
    return ctrd_error_set (err, errno, "listen on `%s`", s->console_sock);
  if (shim_watch_add (s, &s->wlisten, EPOLLIN) < 0)
    return ctrd_error_set (err, errno, "epoll_ctl");
  return 0;
}

static void
console_cleanup (struct shim *s)
{
  shim_watch_del (s, &s->wconn);
  close_fd (&s->wconn.fd);
  shim_watch_del (s, &s->wlisten);
  close_fd (&s->wlisten.fd);
  if (s->console_sock)
    unlink (s->console_sock);
  if (s->console_dir)
    rmdir (s->console_dir);
  free (s->console_sock);
  free (s->console_dir);
  s->console_sock = s->console_dir = NULL;
}

static void
console_start_relays (struct shim *s, int master)
{
  cleanup_error struct ctrd_error *err = NULL;
  s->master = master;
  int rd = fcntl (master, F_DUPFD_CLOEXEC, 3);
  int wr = fcntl (master, F_DUPFD_CLOEXEC, 3);
  if (rd < 0 || wr < 0)
    {
      shim_log (s, "error", "dup console master: %s", strerror (errno));
      close_fd (&rd);
      close_fd (&wr);
      return;
    }
  if (s->want_resize)
    shim_io_resize (s, s->resize_w, s->resize_h);
  /* stdin FIFO → master (rel[0].win already holds the FIFO reader) */
  int in = s->rel[0].win.fd;
  s->rel[0].win.fd = -1;
  int out = s->rel[1].wout.fd;
  s->rel[1].wout.fd = -1;
  if (in < 0)
    close_fd (&wr);
  else if (relay_start (s, &s->rel[0], "stdin", in, wr, &err) < 0)
    {
      shim_log (s, "error", "%s", err->msg);
      relay_finish (s, &s->rel[0]);
    }
  if (relay_start (s, &s->rel[1], "stdout", rd, out, &err) < 0)
    {
      shim_log (s, "error", "%s", err->msg);
      relay_finish (s, &s->rel[1]);
    }
}

static void
console_conn_event (struct shim *s, struct watch *w, uint32_t events)
{
  (void) events;
  char data[4096]; /* runc sends the pty name as payload */
  union
  {
    struct cmsghdr h;
    char buf[CMSG_SPACE (sizeof (int))];
  } ctl;
  struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf
  };
  ssize_t n = recvmsg (w->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  int master = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS
        && c->cmsg_len == CMSG_LEN (sizeof (int)))
      memcpy (&master, CMSG_DATA (c), sizeof master);
  if (master < 0)
    {
      /* a peer that sent no fd: drop it, keep listening until the deadline */
      shim_log (s, "warn", "console socket: connection without a file descriptor");
      shim_watch_del (s, w);
      close_fd (&w->fd);
      return;
    }
  console_cleanup (s);
  console_start_relays (s, master);
  shim_on_io_progress (s);
}

static void
console_listen_event (struct shim *s, struct watch *w, uint32_t events)
{
  (void) events;
  int c = accept4 (w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (c < 0)
    return;
  if (s->wconn.fd >= 0)
    {
      close (c); /* one connection at a time */
      return;
    }
  s->wconn = (struct watch){ .fd = c, .cb = console_conn_event };
  if (shim_watch_add (s, &s->wconn, EPOLLIN) < 0)
    {
      shim_log (s, "warn", "console socket: epoll_ctl: %s", strerror (errno));
      close_fd (&s->wconn.fd);
    }
}

int
shim_io_setup (struct shim *s, struct ctrd_error **err)
{
  for (int i = 0; i < 3; i++)
    {
      s->rel[i].win.fd = s->rel[i].wout.fd = -1;
      s->rel[i].done = true; /* until started */
      s->child_fds[i] = -1;
    }
  s->nrel = 3;
  if (setup_stdin (s, &s->child_fds[0], err) < 0)
    return -1;
  if (s->cfg.terminal)
    {
      /* stderr is not used with a terminal; the runtime gets /dev/null as
       * stdio and the container the pty slave. */
      int rd, wr;
      if (open_fifo_pair (s, s->cfg.stdout_path, &rd, &wr, err) < 0)
        return -1;
      s->fifo_keep[1] = rd;
      s->rel[1].wout.fd = wr;
      for (int i = 0; i < 3; i++)
        s->child_fds[i] = fcntl (s->devnull, F_DUPFD_CLOEXEC, 3);
      return setup_console (s, err);
    }
  if (setup_output (s, s->cfg.stdout_path, 1, &s->child_fds[1], err) < 0
      || setup_output (s, s->cfg.stderr_path, 2, &s->child_fds[2], err) < 0)
    return -1;
  static const char *const names[3] = { "stdin", "stdout", "stderr" };
  for (int i = 0; i < 3; i++)
    if (s->rel[i].win.fd >= 0)
      {
        int in = s->rel[i].win.fd, out = s->rel[i].wout.fd;
        s->rel[i].done = false;
        if (relay_start (s, &s->rel[i], names[i], in, out, err) < 0)
          return -1;
      }
  s->rel[0].close_out = true;
  return 0;
}

void
shim_io_after_start (struct shim *s)
{
  /* Only the container may hold the pipes' other ends now: EOF on stdout
   * then means every process of it closed its copy. */
  for (int i = 0; i < 3; i++)
    close_fd (&s->child_fds[i]);
}

bool
shim_io_have_master (struct shim *s)
{
  return !s->cfg.terminal || s->master >= 0;
}

bool
shim_io_outputs_done (struct shim *s)
{
  return s->rel[1].done && s->rel[2].done;
}

void
shim_io_drain_tick (struct shim *s, bool grace_over, bool stalled)
{
  for (int i = 1; i < s->nrel; i++)
    {
      struct relay *r = &s->rel[i];
      if (r->done || !grace_over)
        continue;
      int pending = relay_pending (r);
      if (pending == 0)
        {
          shim_log (s, "warn",
                    "%s is still held open by another process after the process exited; "
                    "stopped relaying it",
                    r->name);
          relay_finish (s, r);
        }
      else if (stalled)
        {
          shim_log (s, "warn", "%s: nobody reads the FIFO; dropped %d bytes", r->name, pending);
          relay_finish (s, r);
        }
    }
}

void
shim_io_close_stdin (struct shim *s)
{
  close_fd (&s->stdin_closer);
}

void
shim_io_resize (struct shim *s, unsigned w, unsigned h)
{
  s->resize_w = (unsigned short) w;
  s->resize_h = (unsigned short) h;
  s->want_resize = true;
  if (s->master < 0)
    return;
  struct winsize ws = { .ws_row = s->resize_h, .ws_col = s->resize_w };
  if (ioctl (s->master, TIOCSWINSZ, &ws) < 0)
    shim_log (s, "warn", "resize console: %s", strerror (errno));
}

void
shim_io_close_all (struct shim *s)
{
  for (int i = 0; i < s->nrel; i++)
    relay_finish (s, &s->rel[i]);
  for (int i = 0; i < 4; i++)
    close_fd (&s->fifo_keep[i]);
  for (int i = 0; i < 3; i++)
    close_fd (&s->child_fds[i]);
  close_fd (&s->stdin_closer);
  close_fd (&s->master);
  console_cleanup (s);
}
