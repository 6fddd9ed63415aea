/* A container process: its directory, shim launch with the sync pipe, exit
 * detection through the exit FIFO, and the dead-shim path (docs/failure-modes.md #4). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/shim-proto.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "runtime/internal.h"
#include "runtime/job.h"
#include "runtime/statefile.h"

/* Restoring from a checkpoint: at least 5 minutes, or 10 × --start-timeout. */
#define RESTORE_MIN_TIMEOUT_NS (300LL * 1000 * 1000 * 1000)

struct process *
process_new (struct container *c, const char *id)
{
  struct process *p = xmalloc0 (sizeof *p);
  p->c = c;
  p->id = xstrdup (id);
  p->dir = path_join (c->dir, id);
  p->pidfd = p->exit_fd = p->control_fd = p->sync_fd = -1;
  p->state = PROCESS_STARTING;
  p->next = c->procs;
  c->procs = p;
  if (strcmp (id, "init") == 0)
    c->init = p;
  return p;
}

static void
process_stop_sync (struct process *p)
{
  p->sync_src = sd_event_source_disable_unref (p->sync_src);
  p->timer_src = sd_event_source_disable_unref (p->timer_src);
  if (p->sync_fd >= 0)
    close (p->sync_fd);
  p->sync_fd = -1;
  free (p->sync_buf);
  p->sync_buf = NULL;
}

static void
process_close_fifos (struct process *p)
{
  p->exit_src = sd_event_source_disable_unref (p->exit_src);
  if (p->exit_fd >= 0)
    close (p->exit_fd);
  if (p->control_fd >= 0)
    close (p->control_fd);
  p->exit_fd = p->control_fd = -1;
}

void
process_free (struct process *p)
{
  if (!p)
    return;
  process_stop_sync (p);
  process_close_fifos (p);
  if (p->shim_src && !p->c->rt->shutting_down)
    {
      /* Our shim is still running (exit reported at HUP, before the shim
       * was reaped, or a failed start being undone): hand its child source
       * to the loop so that the shim is reaped, never left a zombie. */
      sd_event_source_set_userdata (p->shim_src, NULL);
      sd_event_source_set_floating (p->shim_src, true);
      p->shim_src = sd_event_source_unref (p->shim_src);
    }
  /* At daemon shutdown our shims outlive the model: stop watching, do not
   * reap; the kernel reparents them when we exit. */
  p->shim_src = sd_event_source_disable_unref (p->shim_src);
  p->pidfd_src = sd_event_source_disable_unref (p->pidfd_src);
  p->status_src = sd_event_source_disable_unref (p->status_src);
  job_cancel (p->job);
  if (p->pidfd >= 0)
    close (p->pidfd);
  json_object_put (p->spec);
  free (p->id);
  free (p->dir);
  free (p);
}

void
process_discard (struct process *p)
{
  cleanup_error struct ctrd_error *err = NULL;
  if (statefile_remove_dir (p->dir, &err) < 0)
    log_warn ("removing %s: %s", p->dir, err->msg);
  process_forget (p);
}

void
process_forget (struct process *p)
{
  for (struct process **pp = &p->c->procs; *pp; pp = &(*pp)->next)
    if (*pp == p)
      {
        *pp = p->next;
        break;
      }
  if (p->c->init == p)
    p->c->init = NULL;
  process_free (p);
}

int
process_write_spec (struct process *p, json_object *spec, struct ctrd_error **err)
{
  cleanup_free char *path = path_join (p->dir, SHIM_FILE_PROCESS);
  if (statefile_write_json (path, spec, err) < 0)
    return -1;
  json_object_put (p->spec);
  p->spec = json_object_get (spec);
  return 0;
}

void
process_open_pidfd (struct process *p)
{
  if (p->pid <= 0 || p->pidfd >= 0)
    return;
  int fd = pidfd_open (p->pid, 0);
  if (fd < 0)
    return;
  /* Checked after opening: the pidfd now pins this very process. */
  unsigned long long st = proc_starttime (p->pid);
  if (st == 0 || (p->starttime && st != p->starttime))
    {
      close (fd);
      return;
    }
  p->starttime = st;
  p->pidfd = fd;
}

/* ---- the lifecycle table (docs/daemon.md "The process lifecycle") ---- */

static const char *const process_state_names[PROCESS_NSTATES] = {
  [PROCESS_STARTING] = "STARTING", [PROCESS_RUNNING] = "RUNNING", [PROCESS_EXITING] = "EXITING",
  [PROCESS_EXITED] = "EXITED",     [PROCESS_CLEANUP] = "CLEANUP",
};

static const char *const process_event_names[PROCESS_NEVENTS] = {
  [PROCESS_EV_SYNC_LINE] = "SYNC_LINE",     [PROCESS_EV_START_TIMEOUT] = "START_TIMEOUT",
  [PROCESS_EV_STATUS_FILE] = "STATUS_FILE", [PROCESS_EV_EXIT_LINE] = "EXIT_LINE",
  [PROCESS_EV_SHIM_GONE] = "SHIM_GONE",     [PROCESS_EV_PID_GONE] = "PID_GONE",
  [PROCESS_EV_SHIM_REAPED] = "SHIM_REAPED",
};

const char *
process_state_name (enum process_state s)
{
  return (unsigned) s < PROCESS_NSTATES ? process_state_names[s] : "?";
}

const char *
process_event_name (enum process_event e)
{
  return (unsigned) e < PROCESS_NEVENTS ? process_event_names[e] : "?";
}

void
process_illegal (struct process *p, struct process_ev *ev)
{
  log_msg (LOG_LVL_ERROR, p->c->id, "lifecycle: process %s: event %s in state %s ignored", p->id,
           process_event_name (ev->type), process_state_name (p->state));
}

static void
pev_ignore (struct process *p UNUSED, struct process_ev *ev UNUSED)
{
}

static process_action_fn *const process_actions[PROCESS_NSTATES][PROCESS_NEVENTS];

process_action_fn *
process_action (enum process_state s, enum process_event e)
{
  if ((unsigned) s >= PROCESS_NSTATES || (unsigned) e >= PROCESS_NEVENTS)
    return NULL;
  return process_actions[s][e];
}

int
process_event (struct process *p, struct process_ev *ev)
{
  process_action_fn *fn = process_action (p->state, ev->type);
  if (!fn || fn == process_illegal)
    {
      process_illegal (p, ev);
      return -1;
    }
  fn (p, ev);
  return 0;
}

static void
process_post (struct process *p, enum process_event type)
{
  struct process_ev ev = { .type = type };
  process_event (p, &ev);
}

/* → next (EXITED, or CLEANUP while the shim still cleans up), reported to
 * the container (which may free p). */
static void
process_set_status (struct process *p, int status, enum process_state next)
{
  p->status = status;
  p->exited_ns = time_now_mono_ns ();
  p->state = next;
  container_on_process_exit (p);
}

/* [EXITING][PID_GONE]: the killed container process is gone: 137 */
static void
pev_exiting_pid_gone (struct process *p, struct process_ev *ev UNUSED)
{
  p->pidfd_src = sd_event_source_disable_unref (p->pidfd_src);
  cleanup_error struct ctrd_error *err = NULL;
  if (statefile_write_ull (p->dir, SHIM_FILE_EXIT_STATUS, 137, &err) < 0)
    log_warn ("%s", err->msg);
  process_set_status (p, 137, PROCESS_EXITED);
}

static int
process_on_pid_gone (sd_event_source *s UNUSED, int fd UNUSED, uint32_t ev UNUSED, void *data)
{
  process_post (data, PROCESS_EV_PID_GONE);
  return 0;
}

static void
process_resume_done (const struct job_result *r UNUSED, void *data)
{
  struct process *p = data;
  p->job = NULL;
}

/* [STARTING|RUNNING][SHIM_GONE]: the shim is gone; its status from
 * exitStatus (→ EXITED), else it died: → EXITING while the container
 * process is killed (PID_GONE then), or 255 when nothing can be told. */
static void
pev_shim_gone (struct process *p, struct process_ev *ev UNUSED)
{
  process_close_fifos (p);
  p->status_src = sd_event_source_disable_unref (p->status_src);
  unsigned long long st;
  if (statefile_read_ull (p->dir, SHIM_FILE_EXIT_STATUS, &st) == 0)
    {
      process_set_status (p, st > 255 ? 255 : (int) st, PROCESS_EXITED);
      return;
    }
  /* The shim ended without writing the status: it died (SIGKILL, OOM).
   * The container process may live on, reparented; kill it so the
   * container can be stopped at all, and report 137. */
  p->shim_died = true;
  p->state = PROCESS_EXITING;
  cleanup_error struct ctrd_error *err = NULL;
  if (p->pidfd >= 0 && pidfd_send_signal (p->pidfd, 0, NULL, 0) == 0)
    {
      log_msg (LOG_LVL_WARN, p->c->id, "shim of process %s died; killing pid %d", p->id,
               (int) p->pid);
      pidfd_send_signal (p->pidfd, SIGKILL, NULL, 0);
      /* A paused container's processes cannot die until thawed. */
      const char *sub[] = { "resume", p->c->id, NULL };
      if (container_runtime_job (p->c, sub, NULL, 0, process_resume_done, p, &p->job, &err) < 0)
        log_warn ("%s", err->msg);
      if (sd_event_add_io (p->c->rt->cfg.loop, &p->pidfd_src, p->pidfd, EPOLLIN,
                           process_on_pid_gone, p)
          >= 0)
        {
          sd_event_source_set_priority (p->pidfd_src, RUNTIME_PRIORITY_EXIT);
          return;
        }
    }
  log_msg (LOG_LVL_ERROR, p->c->id, "process %s: shim died and no exit status is known", p->id);
  if (statefile_write_ull (p->dir, SHIM_FILE_EXIT_STATUS, 255, &err) < 0)
    log_warn ("%s", err->msg);
  process_set_status (p, 255, PROCESS_EXITED);
}

void
process_handle_shim_gone (struct process *p)
{
  process_post (p, PROCESS_EV_SHIM_GONE);
}

/* [CLEANUP][SHIM_GONE] → EXITED: the exit was taken from exitStatus
 * already; the shim has now finished its cleanup (the runtime's delete). */
static void
pev_cleanup_shim_gone (struct process *p, struct process_ev *ev UNUSED)
{
  p->state = PROCESS_EXITED;
  process_close_fifos (p);
  container_on_shim_done (p);
}

/* The shim could not write exitStatus (a read-only or failing state
 * filesystem) and sent "exit <status>\n" on the exit FIFO instead; it keeps
 * running until the file is written. Taken as from exitStatus. Returns
 * true when p's status was set (p may be freed then). */
static bool
process_read_exit_fifo (struct process *p, int fd)
{
  char buf[256];
  ssize_t n;
  long long st = -1;
  /* read it all: level-triggered, unread bytes would wake us again */
  while ((n = read (fd, buf, sizeof buf - 1)) > 0)
    {
      buf[n] = '\0';
      char *line = strstr (buf, SHIM_EXIT_LINE);
      char *nl = line ? strchr (line, '\n') : NULL;
      if (nl)
        {
          *nl = '\0';
          if (parse_int64 (line + strlen (SHIM_EXIT_LINE), &st, false) < 0 || st < 0)
            st = -1;
        }
    }
  if (st < 0)
    return false;
  struct process_ev e = { .type = PROCESS_EV_EXIT_LINE, .status = st };
  process_event (p, &e);
  return e.taken;
}

/* [RUNNING][EXIT_LINE] → CLEANUP */
static void
pev_running_exit_line (struct process *p, struct process_ev *ev)
{
  log_msg (LOG_LVL_WARN, p->c->id,
           "process %s: exit status %lld from the exit FIFO (the shim "
           "could not write exitStatus)",
           p->id, ev->status);
  p->status_src = sd_event_source_disable_unref (p->status_src);
  ev->taken = true;
  process_set_status (p, ev->status > 255 ? 255 : (int) ev->status, PROCESS_CLEANUP);
}

static int
process_on_exit_hup (sd_event_source *s UNUSED, int fd, uint32_t ev, void *data)
{
  /* The shim holds the only write end of `exit` for its whole life: HUP
   * means the shim is gone. It writes only a status it could not store. */
  struct process *p = data;
  if ((ev & EPOLLIN) && process_read_exit_fifo (p, fd))
    return 0; /* a HUP with it stays pending (level-triggered) */
  if (!(ev & (EPOLLHUP | EPOLLERR)))
    return 0;
  process_post (p, PROCESS_EV_SHIM_GONE);
  return 0;
}

/* The shim writes exitStatus (a rename) as soon as it reaped
 * the container process, before its cleanup (relays, `<rt> delete`, ~10 ms):
 * taking the status from there makes the exit event that much faster. */
static int
process_on_dir_event (sd_event_source *s UNUSED, const struct inotify_event *ev, void *data)
{
  if (ev->len == 0 || strcmp (ev->name, SHIM_FILE_EXIT_STATUS) != 0)
    return 0;
  process_post (data, PROCESS_EV_STATUS_FILE);
  return 0;
}

/* [RUNNING][STATUS_FILE] → CLEANUP (the shim still cleans up) */
static void
pev_running_status_file (struct process *p, struct process_ev *ev UNUSED)
{
  unsigned long long st;
  if (statefile_read_ull (p->dir, SHIM_FILE_EXIT_STATUS, &st) < 0)
    return;
  p->status_src = sd_event_source_disable_unref (p->status_src);
  process_set_status (p, st > 255 ? 255 : (int) st, PROCESS_CLEANUP);
}

/* The exit FIFO's read end and the control FIFO (read-write: never an
 * ENXIO, never a HUP of its own). Without need_control (restore), a control
 * FIFO that cannot be opened only leaves control_fd -1: the exit is still
 * watched, and resize or close-stdin fail with their own error. */
static int
process_open_fifos (struct process *p, bool need_control, struct ctrd_error **err)
{
  cleanup_free char *ep = path_join (p->dir, SHIM_FILE_EXIT_FIFO);
  cleanup_free char *cp = path_join (p->dir, SHIM_FILE_CONTROL_FIFO);
  p->exit_fd = open (ep, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (p->exit_fd < 0)
    return ctrd_error_set (err, errno, "open %s", ep);
  p->control_fd = open (cp, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (p->control_fd < 0 && need_control)
    return ctrd_error_set (err, errno, "open %s", cp);
  return 0;
}

int
process_watch_exit (struct process *p, struct ctrd_error **err)
{
  if (p->exit_fd < 0 && process_open_fifos (p, false, err) < 0)
    return -1;
  if (sd_event_add_io (p->c->rt->cfg.loop, &p->exit_src, p->exit_fd, EPOLLIN | EPOLLHUP,
                       process_on_exit_hup, p)
      < 0)
    return ctrd_error_set (err, EIO, "watching %s/exit", p->dir);
  sd_event_source_set_priority (p->exit_src, RUNTIME_PRIORITY_EXIT);
  /* Best effort: without it the exit is seen at the HUP. */
  if (sd_event_add_inotify (p->c->rt->cfg.loop, &p->status_src, p->dir,
                            IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR, process_on_dir_event, p)
      < 0)
    log_msg (LOG_LVL_WARN, p->c->id, "process %s: cannot watch %s", p->id, p->dir);
  else
    sd_event_source_set_priority (p->status_src, RUNTIME_PRIORITY_EXIT);
  return 0;
}

static int
process_on_shim_exit (sd_event_source *s, const siginfo_t *si, void *data)
{
  struct process *p = data;
  if (!p)
    {
      /* A detached reaper (process_free): sd-event reaps the child after
       * this returns; dropping the loop's reference frees the source. */
      sd_event_source_set_floating (s, false);
      return 0;
    }
  struct process_ev ev = { .type = PROCESS_EV_SHIM_REAPED, .si = si };
  process_event (p, &ev);
  return 0;
}

/* [any][SHIM_REAPED]: our shim was reaped (facts: how it ended) */
static void
pev_shim_reaped (struct process *p, struct process_ev *ev)
{
  const siginfo_t *si = ev->si;
  p->shim_exited = true;
  p->shim_killed = si->si_code != CLD_EXITED;
  p->shim_code = p->shim_killed ? -1 : si->si_status;
  p->shim_src = sd_event_source_disable_unref (p->shim_src);
  log_msg (LOG_LVL_DEBUG, p->c->id, "shim of %s exited (code %d status %d)", p->id, si->si_code,
           si->si_status);
  container_on_shim_exit (p);
}

/* First "level":"error" msg in a file of concatenated JSON objects. */
char *
runtime_log_first_error (const char *path)
{
  cleanup_free char *buf = NULL;
  size_t len;
  cleanup_error struct ctrd_error *e = NULL;
  if (read_file (path, &buf, &len, 1 << 20, &e) < 0)
    return NULL;
  json_tokener *tok = json_tokener_new ();
  char *res = NULL;
  size_t off = 0;
  while (off < len && !res)
    {
      while (off < len && (buf[off] == '\n' || buf[off] == ' '))
        off++;
      if (off >= len)
        break;
      json_object *o = json_tokener_parse_ex (tok, buf + off, (int) (len - off));
      if (!o)
        break;
      off += json_tokener_get_parse_end (tok);
      json_tokener_reset (tok);
      json_object *lv, *msg;
      if (json_object_object_get_ex (o, "level", &lv)
          && strcmp (json_object_get_string (lv), "error") == 0
          && json_object_object_get_ex (o, "msg", &msg))
        res = xstrdup (json_object_get_string (msg));
      json_object_put (o);
    }
  json_tokener_free (tok);
  return res;
}

static void
process_launch_finish (struct process *p, const struct ctrd_error *err)
{
  process_stop_sync (p);
  process_launched_fn done = p->launched;
  p->launched = NULL;
  if (done)
    done (p, err, p->launched_data);
}

/* [STARTING][SYNC_LINE]: "ok <pid>" → RUNNING; "error …", EOF (line NULL)
 * or a bad line: the launch fails (the state stays; the caller undoes). */
static void
pev_starting_sync_line (struct process *p, struct process_ev *ev)
{
  const char *line = ev->line;
  cleanup_error struct ctrd_error *err = NULL;
  if (line && strncmp (line, SHIM_SYNC_OK, strlen (SHIM_SYNC_OK)) == 0)
    {
      long long pid;
      if (parse_int64 (line + strlen (SHIM_SYNC_OK), &pid, false) < 0 || pid <= 0)
        {
          ctrd_error_grpc (&err, GRPC_UNKNOWN, "%sbad sync line %s", SHIM_SYNC_SHIM_ERROR, line);
          process_launch_finish (p, err);
          return;
        }
      p->pid = (pid_t) pid;
      process_open_pidfd (p);
      if (p->pidfd < 0)
        {
          /* Already gone (an instant exit): its exit FIFO still reports
           * the shim's end, and exitStatus the status. */
          log_msg (LOG_LVL_DEBUG, p->c->id, "process %s (pid %lld) exited before it was watched",
                   p->id, pid);
        }
      if (p->starttime && statefile_write_ull (p->dir, SHIM_FILE_STARTTIME, p->starttime, &err) < 0)
        {
          log_warn ("%s", err->msg);
          ctrd_error_free (&err);
        }
      if (process_watch_exit (p, &err) < 0)
        {
          process_launch_finish (p, err);
          return;
        }
      p->state = PROCESS_RUNNING;
      process_launch_finish (p, NULL);
      return;
    }
  if (line && strncmp (line, SHIM_SYNC_ERROR, strlen (SHIM_SYNC_ERROR)) == 0)
    ctrd_error_grpc (&err, GRPC_UNKNOWN, "%s", line + strlen (SHIM_SYNC_ERROR));
  else
    {
      /* EOF without a line: the shim crashed; its logs may say why
       * (docs/state-directory.md "The daemon's side of a start"). */
      cleanup_free char *sl = path_join (p->dir, SHIM_FILE_SHIM_LOG);
      cleanup_free char *rl = path_join (p->dir, SHIM_FILE_RUNTIME_LOG);
      cleanup_free char *m = runtime_log_first_error (sl);
      if (m)
        ctrd_error_grpc (&err, GRPC_UNKNOWN, SHIM_SYNC_SHIM_ERROR "%s", m);
      else if ((m = runtime_log_first_error (rl)))
        ctrd_error_grpc (&err, GRPC_UNKNOWN, SHIM_SYNC_RUNTIME_ERROR "%s", m);
      else
        ctrd_error_grpc (&err, GRPC_UNKNOWN, "containerd: container not started");
    }
  process_launch_finish (p, err);
}

static int
process_on_sync (sd_event_source *s UNUSED, int fd, uint32_t ev UNUSED, void *data)
{
  struct process *p = data;
  char tmp[4096];
  ssize_t n = read (fd, tmp, sizeof tmp);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  size_t have = p->sync_buf ? strlen (p->sync_buf) : 0;
  if (n > 0)
    {
      p->sync_buf = xrealloc (p->sync_buf, have + (size_t) n + 1);
      memcpy (p->sync_buf + have, tmp, (size_t) n);
      p->sync_buf[have + (size_t) n] = '\0';
      char *nl = strchr (p->sync_buf, '\n');
      if (!nl)
        return 0;
      *nl = '\0';
      cleanup_free char *line = take_ptr (&p->sync_buf);
      struct process_ev e = { .type = PROCESS_EV_SYNC_LINE, .line = line };
      process_event (p, &e);
      return 0;
    }
  process_post (p, PROCESS_EV_SYNC_LINE);
  return 0;
}

static int
process_on_start_timeout (sd_event_source *s UNUSED, uint64_t usec UNUSED, void *data)
{
  process_post (data, PROCESS_EV_START_TIMEOUT);
  return 0;
}

/* [STARTING][START_TIMEOUT]: the launch fails with DEADLINE_EXCEEDED */
static void
pev_starting_timeout (struct process *p, struct process_ev *ev UNUSED)
{
  cleanup_error struct ctrd_error *err = NULL;
  /* The caller kills the shim and undoes the runtime's state. */
  ctrd_error_grpc (&err, GRPC_DEADLINE_EXCEEDED,
                   "containerd: container did not start before the specified timeout");
  process_launch_finish (p, err);
}

/* ---- the table ---- */

#define X process_illegal
#define I pev_ignore
_Static_assert(PROCESS_NEVENTS == 7, "one column per event");
static process_action_fn *const process_actions[PROCESS_NSTATES][PROCESS_NEVENTS] = {
  /*                     SYNC_LINE, START_TIMEOUT, STATUS_FILE, EXIT_LINE,
   *                     SHIM_GONE, PID_GONE, SHIM_REAPED */
  [PROCESS_STARTING] = { pev_starting_sync_line, pev_starting_timeout, I, I, pev_shim_gone, X,
                         pev_shim_reaped },
  [PROCESS_RUNNING] = { X, X, pev_running_status_file, pev_running_exit_line, pev_shim_gone, X,
                        pev_shim_reaped },
  [PROCESS_EXITING] = { X, X, I, I, I, pev_exiting_pid_gone, pev_shim_reaped },
  [PROCESS_EXITED] = { X, X, I, I, I, X, pev_shim_reaped },
  [PROCESS_CLEANUP] = { X, X, I, I, pev_cleanup_shim_gone, X, pev_shim_reaped },
};
#undef X
#undef I

int
process_launch (struct process *p, process_launched_fn done, void *data, struct ctrd_error **err)
{
  struct container *c = p->c;
  struct runtime *rt = c->rt;
  /* The read end exists before the shim opens its write end, so that the
   * shim's exit is seen as HUP whatever happens later. */
  if (statefile_make_fifos (p->dir, err) < 0 || process_open_fifos (p, true, err) < 0)
    return -1;

  int sp[2];
  if (pipe2 (sp, O_CLOEXEC) < 0)
    return ctrd_error_set (err, errno, "pipe");
  const char *shim = c->shim ? c->shim : rt->cfg.shim;
  cleanup_free char *bundle = container_runtime_bundle (c);
  char *argv[] = { (char *) shim, c->id, bundle, c->runtime_bin, NULL };
  struct spawn_opts so = { .cwd = p->dir,
                           .new_pgid = true,
                           .stdin_fd = -1,
                           .stdout_fd = -1,
                           .stderr_fd = -1,
                           .pass_fd = sp[1],
                           .env_name = SHIM_SYNC_ENV };
  cleanup_error struct ctrd_error *e = NULL;
  int r = spawn_process (argv, &so, &p->shim_pid, &e);
  close (sp[1]);
  if (r < 0)
    {
      close (sp[0]);
      if (e->status == ENOENT)
        return ctrd_error_grpc (err, GRPC_UNKNOWN, "%s not installed on system", shim);
      *err = ctrd_error_steal (&e);
      return -1;
    }
  p->shim_is_child = true;
  p->sync_fd = sp[0];
  fd_set_nonblock (p->sync_fd, true);
  p->launched = done;
  p->launched_data = data;
  cleanup_error struct ctrd_error *we = NULL;
  if (statefile_write_ull (p->dir, SHIM_FILE_SHIM_PID, (unsigned long long) p->shim_pid, &we) < 0)
    log_warn ("%s", we->msg);
  if (sd_event_add_child (rt->cfg.loop, &p->shim_src, p->shim_pid, WEXITED, process_on_shim_exit, p)
          < 0
      || sd_event_add_io (rt->cfg.loop, &p->sync_src, p->sync_fd, EPOLLIN, process_on_sync, p) < 0)
    {
      kill (p->shim_pid, SIGKILL);
      return ctrd_error_set (err, EIO, "watching shim %d", (int) p->shim_pid);
    }
  int64_t deadline = rt->cfg.start_timeout_ns;
  json_object *ck;
  if (deadline > 0 && p->spec && json_object_object_get_ex (p->spec, "checkpoint", &ck)
      && *json_object_get_string (ck))
    {
      /* CRIU restoring a large process takes far longer than a start
       * (docs/failure-modes.md #13): its own, longer deadline. */
      deadline = deadline * 10 > RESTORE_MIN_TIMEOUT_NS ? deadline * 10 : RESTORE_MIN_TIMEOUT_NS;
    }
  if (deadline > 0)
    sd_event_add_time_relative (rt->cfg.loop, &p->timer_src, CLOCK_MONOTONIC,
                                (uint64_t) (deadline / 1000), 0, process_on_start_timeout, p);
  return 0;
}

int
process_signal (struct process *p, int sig, struct ctrd_error **err)
{
  int e = ESRCH;
  if (p->pidfd >= 0 && p->state == PROCESS_RUNNING)
    {
      if (pidfd_send_signal (p->pidfd, sig, NULL, 0) == 0)
        return 0;
      e = errno;
    }
  /* Go's errno texts are lowercase ("no such process"). */
  cleanup_free char *m = xstrdup (strerror (e));
  if (m[0] >= 'A' && m[0] <= 'Z')
    m[0] = (char) (m[0] - 'A' + 'a');
  return ctrd_error_grpc (err, e == EPERM ? GRPC_PERMISSION_DENIED : GRPC_UNKNOWN, "%s", m);
}

int
process_control (struct process *p, enum shim_control type, unsigned a, unsigned b,
                 struct ctrd_error **err)
{
  if (p->control_fd < 0 || p->state != PROCESS_RUNNING)
    return ctrd_error_grpc (err, GRPC_FAILED_PRECONDITION, "process %s is not running", p->id);
  char line[SHIM_CONTROL_LINE_MAX];
  int n = snprintf (line, sizeof line, SHIM_CONTROL_FORMAT, (int) type, a, b);
  /* One short line is atomic on a FIFO (< PIPE_BUF); the shim drains it. */
  ssize_t w = write (p->control_fd, line, (size_t) n);
  if (w != n)
    return ctrd_error_set (err, w < 0 ? errno : EIO, "writing %s/" SHIM_FILE_CONTROL_FIFO, p->dir);
  return 0;
}
