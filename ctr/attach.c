/* ctr --attach (see attach.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api/api.pb-c.h"
#include "api/client.h"
#include "ctr/attach.h"
#include "lib/json-cleanup.h"
#include "lib/pb-cleanup.h"
#include "lib/timeutil.h"
#include "lib/util.h"

/* How long to keep copying output after the exit event while the FIFOs
 * are still held open (by a background process that inherited them). */
#define DRAIN_GRACE_NS (2 * NSEC_PER_SEC)

struct attach
{
  char *dir;
  char *path[3];
  int fd_in, fd_out, fd_err;
  bool tty;
};

/* The terminal state is process-wide: atexit() and the fatal-signal
 * handlers must reach it, so it is the one static here. */
static struct termios saved_termios;
static volatile sig_atomic_t termios_saved;

static void
terminal_restore (void)
{
  if (termios_saved)
    {
      tcsetattr (STDIN_FILENO, TCSANOW, &saved_termios);
      termios_saved = 0;
    }
}

static void
fatal_signal (int sig)
{
  terminal_restore (); /* tcsetattr is async-signal-safe */
  signal (sig, SIG_DFL);
  raise (sig);
}

static void
terminal_make_raw (void)
{
  static bool hooks;
  struct termios raw;
  if (!isatty (STDIN_FILENO) || tcgetattr (STDIN_FILENO, &saved_termios) < 0)
    return;
  if (!hooks)
    {
      atexit (terminal_restore);
      int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
      for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal (fatal[i], fatal_signal);
      hooks = true;
    }
  raw = saved_termios;
  cfmakeraw (&raw);
  raw.c_oflag |= OPOST; /* keep \n → \r\n for ctr's own messages */
  termios_saved = 1;
  tcsetattr (STDIN_FILENO, TCSANOW, &raw);
}

int
attach_bundle_terminal (const char *bundle, bool *terminal, struct ctrd_error **err)
{
  cleanup_free char *path = path_join (bundle, "config.json");
  cleanup_free char *data = NULL;
  size_t len;
  if (read_file (path, &data, &len, 64 << 20, err) < 0)
    return -1;
  struct json_tokener *tok = json_tokener_new ();
  cleanup_json struct json_object *root = json_tokener_parse_ex (tok, data, (int) len);
  enum json_tokener_error jerr = json_tokener_get_error (tok);
  json_tokener_free (tok);
  if (root == NULL || jerr != json_tokener_success)
    return ctrd_error_set (err, 0, "cannot parse %s: %s", path, json_tokener_error_desc (jerr));
  struct json_object *proc = NULL, *t = NULL;
  *terminal = json_object_object_get_ex (root, "process", &proc)
              && json_object_object_get_ex (proc, "terminal", &t) && json_object_get_boolean (t);
  return 0;
}

int
attach_prepare (bool tty, struct attach **out, struct ctrd_error **err)
{
  static const char *const names[3] = { "stdin", "stdout", "stderr" };
  const char *tmp = getenv ("TMPDIR");
  struct attach *a = xmalloc0 (sizeof *a);
  a->fd_in = a->fd_out = a->fd_err = -1;
  a->tty = tty;
  a->dir = path_join (tmp && *tmp ? tmp : "/tmp", "ctr-XXXXXX");
  if (mkdtemp (a->dir) == NULL)
    {
      ctrd_error_set (err, errno, "cannot create a temporary directory %s", a->dir);
      free (a->dir);
      a->dir = NULL;
      attach_free (a);
      return -1;
    }
  for (int i = 0; i < 3; i++)
    {
      a->path[i] = path_join (a->dir, names[i]);
      if (mkfifo_ok (a->path[i], 0600, err) < 0)
        goto fail;
    }
  /* Output FIFOs read-only and non-blocking: the open does not wait for a
   * writer, and poll reports HUP only once a writer (the shim) has come and
   * gone, which is how the end of the output is seen. The stdin FIFO is
   * opened O_RDWR so the open neither blocks nor fails without a reader. */
  a->fd_out = open (a->path[1], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (a->fd_out < 0)
    {
      ctrd_error_set (err, errno, "cannot open %s", a->path[1]);
      goto fail;
    }
  a->fd_err = open (a->path[2], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (a->fd_err < 0)
    {
      ctrd_error_set (err, errno, "cannot open %s", a->path[2]);
      goto fail;
    }
  a->fd_in = open (a->path[0], O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (a->fd_in < 0)
    {
      ctrd_error_set (err, errno, "cannot open %s", a->path[0]);
      goto fail;
    }
  *out = a;
  return 0;
fail:
  attach_free (a);
  return -1;
}

const char *
attach_path (const struct attach *a, int which)
{
  return a->path[which];
}

void
attach_unlink (struct attach *a)
{
  if (a->dir && rm_rf (a->dir, NULL) == 0)
    {
      free (a->dir);
      a->dir = NULL;
    }
}

void
attach_free (struct attach *a)
{
  if (a == NULL)
    return;
  terminal_restore ();
  if (a->fd_in >= 0)
    close (a->fd_in);
  if (a->fd_out >= 0)
    close (a->fd_out);
  if (a->fd_err >= 0)
    close (a->fd_err);
  if (a->dir)
    rm_rf (a->dir, NULL);
  for (int i = 0; i < 3; i++)
    free (a->path[i]);
  free (a->dir);
  free (a);
}

/* ctr's own messages while the terminal may be raw */
static void
warn (const char *what, struct ctrd_error **err)
{
  fprintf (stderr, "%s: %s: %s\n", CTRD_CTR_NAME, what, *err && (*err)->msg ? (*err)->msg : "");
  ctrd_error_free (err);
}

static void
update_process (struct ctr_ctx *ctx, const char *id, const char *pid, bool close_stdin, bool resize)
{
  Types__UpdateProcessRequest req = TYPES__UPDATE_PROCESS_REQUEST__INIT;
  req.id = (char *) id;
  req.pid = (char *) pid;
  req.closestdin = close_stdin;
  if (resize)
    {
      struct winsize ws;
      if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
        return;
      req.width = ws.ws_col;
      req.height = ws.ws_row;
    }
  cleanup_pb ProtobufCMessage *resp = NULL;
  cleanup_error struct ctrd_error *e = NULL;
  if (ctr_rpc (ctx, "UpdateProcess", id, &req.base, &types__update_process_response__descriptor,
               &resp, &e)
          < 0
      /* a lost connection is reported once, by the wait loop */
      && ctrd_error_code (e) != GRPC_UNAVAILABLE
      /* the process already exited: nothing left to close or resize */
      && ctrd_error_code (e) != GRPC_NOT_FOUND)
    warn (close_stdin ? "close stdin" : "resize", &e);
}

/* Copy one buffer from fd to out_fd; returns false at EOF. One read per
 * poll round, so a container that writes without pause cannot starve
 * ctr's stdin (a typed ^C) or the exit event. */
static bool
copy_out (int fd, int out_fd)
{
  char buf[65536];
  ssize_t n = read (fd, buf, sizeof buf);
  if (n > 0)
    {
      /* a closed ctr stdout only loses the copy, never the exit status */
      write_all (out_fd, buf, (size_t) n);
      return true;
    }
  if (n == 0)
    return false;
  return errno == EAGAIN || errno == EINTR;
}

struct wait_state
{
  bool exited;
  int status;
  int64_t deadline;
  char inbuf[65536];
  size_t inlen, inoff;
};

/* Consume every event already received; returns -1 when the stream broke. */
static int
drain_events (struct ctr_ctx *ctx, void *stream, const char *id, const char *pid,
              struct wait_state *w, struct ctrd_error **err)
{
  for (;;)
    {
      cleanup_pb ProtobufCMessage *m = NULL;
      int r = ctx->transport->stream_next (ctx, stream, &m, 0, err);
      if (r == API_STREAM_TIMEOUT)
        return 0;
      if (r != API_STREAM_MSG)
        {
          if (r == API_STREAM_END)
            ctrd_error_set (err, 0, "the daemon ended the event stream");
          return -1;
        }
      Types__Event *e = (Types__Event *) m;
      if (!w->exited && strcmp (e->type, "exit") == 0 && strcmp (e->id, id) == 0
          && strcmp (e->pid, pid) == 0)
        {
          w->exited = true;
          w->status = e->status > 255 ? 255 : (int) e->status;
          w->deadline = time_now_mono_ns () + DRAIN_GRACE_NS;
        }
    }
}

int
attach_wait (struct ctr_ctx *ctx, struct attach *a, void *stream, const char *id, const char *pid,
             struct ctrd_error **err)
{
  struct wait_state *w = xmalloc0 (sizeof *w);
  bool stdin_open = true, out_open = true, err_open = !a->tty;
  int ret;
  sigset_t mask, old;
  sigemptyset (&mask);
  int sigs[] = { SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT };
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaddset (&mask, sigs[i]);
  sigprocmask (SIG_BLOCK, &mask, &old);
  cleanup_close int sfd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  signal (SIGPIPE, SIG_IGN);

  if (a->tty)
    {
      terminal_make_raw ();
      update_process (ctx, id, pid, false, true);
    }
  for (;;)
    {
      if (drain_events (ctx, stream, id, pid, w, err) < 0)
        {
          if (w->exited)
            break; /* the status is known: losing the stream now is harmless */
          terminal_restore ();
          fprintf (stderr, "%s: lost the connection to containerd while waiting for %s/%s: %s\n",
                   CTRD_CTR_NAME, id, pid, *err && (*err)->msg ? (*err)->msg : "");
          ctrd_error_free (err);
          ret = 129;
          goto out;
        }
      if (w->exited && !out_open && !err_open)
        break;
      int timeout = -1;
      if (w->exited)
        {
          int64_t left = w->deadline - time_now_mono_ns ();
          if (left <= 0)
            break;
          timeout = (int) (left / NSEC_PER_MSEC) + 1;
        }
      struct pollfd p[6];
      int np = 0, i_stdin = -1, i_in = -1, i_out = -1, i_err = -1, i_sig, i_api = -1;
      if (stdin_open && w->inlen == 0)
        p[i_stdin = np++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
      if (w->inlen > 0)
        p[i_in = np++] = (struct pollfd){ .fd = a->fd_in, .events = POLLOUT };
      if (out_open)
        p[i_out = np++] = (struct pollfd){ .fd = a->fd_out, .events = POLLIN };
      if (err_open)
        p[i_err = np++] = (struct pollfd){ .fd = a->fd_err, .events = POLLIN };
      p[i_sig = np++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
      int afd = ctx->transport->fd (ctx);
      if (afd >= 0)
        p[i_api = np++] = (struct pollfd){ .fd = afd, .events = POLLIN };
      if (poll (p, (nfds_t) np, timeout) < 0)
        {
          if (errno == EINTR)
            continue;
          ret = ctrd_error_set (err, errno, "poll");
          goto out;
        }
      /* signals first: a resize typed ahead of input reaches the shim first */
      if (p[i_sig].revents)
        {
          struct signalfd_siginfo si;
          while (read (sfd, &si, sizeof si) == (ssize_t) sizeof si)
            {
              if (si.ssi_signo == SIGWINCH)
                {
                  if (a->tty)
                    update_process (ctx, id, pid, false, true);
                  continue;
                }
              /* ctr goes away; the container keeps running */
              ret = 128 + (int) si.ssi_signo;
              goto out;
            }
        }
      if (i_out >= 0 && p[i_out].revents)
        out_open = copy_out (a->fd_out, STDOUT_FILENO);
      if (i_err >= 0 && p[i_err].revents)
        err_open = copy_out (a->fd_err, STDERR_FILENO);
      if (i_stdin >= 0 && p[i_stdin].revents)
        {
          ssize_t n = read (STDIN_FILENO, w->inbuf, sizeof w->inbuf);
          if (n > 0)
            w->inlen = (size_t) n, w->inoff = 0;
          else if (n == 0 || (errno != EAGAIN && errno != EINTR))
            {
              /* EOF (or a hung-up terminal): the container's stdin ends
               * too — drop our writer, then the shim's */
              stdin_open = false;
              close (a->fd_in);
              a->fd_in = -1;
              update_process (ctx, id, pid, true, false);
            }
        }
      if (i_in >= 0 && p[i_in].revents)
        {
          ssize_t n = write (a->fd_in, w->inbuf + w->inoff, w->inlen - w->inoff);
          if (n > 0)
            {
              w->inoff += (size_t) n;
              if (w->inoff == w->inlen)
                w->inlen = w->inoff = 0;
            }
          else if (n < 0 && errno != EAGAIN && errno != EINTR)
            w->inlen = w->inoff = 0; /* nobody reads any more: drop */
        }
      (void) i_api; /* its messages are consumed by drain_events */
    }
  ret = w->status;
out:
  terminal_restore ();
  sigprocmask (SIG_SETMASK, &old, NULL);
  free (w);
  return ret;
}
