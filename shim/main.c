/* containerd-shim: monitor of one container process.
 *
 *   containerd-shim <container-id> <bundle-path> <runtime>
 *
 * cwd is the process directory (exit, control, process.json, pid,
 * exitStatus, shim-log.json, log.json). Lifecycle (docs/state-directory.md "Main loop and exit"):
 *
 *   STARTING  runtime create/exec/restore running (+ console master awaited)
 *      | runtime exited 0, pid read, master received → sync "ok <pid>"
 *   RUNNING   relaying stdio, control messages
 *      | container pid reaped → exitStatus written (into the block reserved
 *      | at start, renamed: status.c; else held, sent on `exit`, retried)
 *   DRAINING  init without own PID ns: runtime kill --all; wait stdout/stderr EOF
 *      | relays done (or given up), kill --all reaped
 *   DELETING  init: runtime delete
 *      | delete reaped → exit 0; the kernel closes `exit` → the daemon sees HUP
 *
 * Children are reaped in every phase (the loop never waits on IO inline).
 *
 * Start-up sync (beyond the original): with CTRD_SHIM_SYNC_FD=<n>, fd n is a
 * pipe the daemon reads; once the start finished the shim writes one line
 * and closes it: "ok <pid>\n", or "error oci runtime error: <msg>\n" /
 * "error shim error: <text>\n". */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sched.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/gotext.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "shim/json.h"
#include "shim/shim.h"

void
shim_log (struct shim *s, const char *level, const char *fmt, ...)
{
  char msg[1024], line[2048];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  /* The original's format, but escaped (its unescaped text broke the daemon's decoder). */
  int n = snprintf (line, sizeof line, "{\"level\": \"%s\",\"msg\": \"", level);
  size_t len = gotext_json_escape (line, sizeof line - 3, (size_t) n, msg);
  memcpy (line + len, "\"}", 3);
  len += 2;
  if (s->log_fd >= 0 && write_all (s->log_fd, line, len) < 0)
    {
      /* nowhere else to report it: the shim's stderr is /dev/null */
    }
}

int
shim_watch_add (struct shim *s, struct watch *w, uint32_t events)
{
  struct epoll_event ev = { .events = events, .data.ptr = w };
  if (epoll_ctl (s->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0)
    return -1;
  w->registered = true;
  return 0;
}

void
shim_watch_del (struct shim *s, struct watch *w)
{
  if (w->registered && w->fd >= 0)
    epoll_ctl (s->epfd, EPOLL_CTL_DEL, w->fd, NULL);
  w->registered = false;
}

void
shim_arm_timer (struct shim *s, int64_t deadline_ns)
{
  struct itimerspec its = { 0 };
  if (deadline_ns > 0)
    {
      its.it_value.tv_sec = deadline_ns / NSEC_PER_SEC;
      its.it_value.tv_nsec = deadline_ns % NSEC_PER_SEC;
    }
  timerfd_settime (s->wtimer.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

void
shim_on_io_progress (struct shim *s)
{
  s->io_changed = true;
  if (s->phase == PHASE_DRAINING)
    s->last_progress_ns = time_now_mono_ns ();
}

/* Warnings that would delay the start (shim-log.json is O_SYNC: a write
 * costs a disk flush) are written once the daemon has its answer. */
static void
log_deferred (struct shim *s)
{
  if (s->oom_errno != 0)
    shim_log (s, "warn", "set oom_score_adj -1000: %s", strerror (s->oom_errno));
  s->oom_errno = 0;
}

/* One line, once; the daemon treats EOF without a line as a shim crash. */
static void
sync_write (struct shim *s, const char *fmt, ...)
{
  if (s->sync_fd < 0)
    {
      log_deferred (s);
      return;
    }
  char line[1024];
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (line, sizeof line - 1, fmt, ap);
  va_end (ap);
  if (n < 0)
    n = 0;
  if ((size_t) n > sizeof line - 2)
    n = sizeof line - 2;
  for (int i = 0; i < n; i++)
    if (line[i] == '\n' || line[i] == '\r')
      line[i] = ' '; /* keep the protocol one line */
  line[n++] = '\n';
  write_all (s->sync_fd, line, (size_t) n);
  close (s->sync_fd);
  s->sync_fd = -1;
  log_deferred (s);
}

static void
finish (struct shim *s, int code)
{
  /* Never exit with the status only in memory: a restarted daemon would
   * take the shim for dead and report 137/255 (status.c). */
  if (shim_status_pending (s))
    {
      shim_status_hold (s, code);
      return;
    }
  s->exit_code = code;
  s->done = true;
}

/* A started process must not outlive a failed start. */
static void
undo_start (struct shim *s)
{
  if (!s->cfg.exec)
    {
      cleanup_strv char **argv = shim_argv_simple (s, "delete", NULL, NULL);
      shim_spawn_wait (s, argv);
    }
  else if (s->container_pid > 0)
    {
      kill (s->container_pid, SIGKILL);
      waitpid (s->container_pid, NULL, 0);
    }
}

static void
fail_shim (struct shim *s, struct ctrd_error **err, bool undo)
{
  shim_log (s, "error", "%s", (*err)->msg);
  shim_io_close_all (s);
  if (undo)
    undo_start (s);
  sync_write (s, SHIM_SYNC_ERROR SHIM_SYNC_SHIM_ERROR "%s", (*err)->msg);
  ctrd_error_free (err);
  finish (s, 1);
}

static int
wait_status_code (int st)
{
  if (WIFEXITED (st))
    return WEXITSTATUS (st);
  if (WIFSIGNALED (st))
    return 128 + WTERMSIG (st);
  return 255;
}

/* The wait status waitpid would give for a waitid result. */
static int
siginfo_wait_status (const siginfo_t *si)
{
  if (si->si_code == CLD_EXITED)
    return (si->si_status & 0xff) << 8;
  return (si->si_status & 0x7f) | (si->si_code == CLD_DUMPED ? 0x80 : 0);
}

static void
started (struct shim *s)
{
  s->phase = PHASE_RUNNING;
  shim_arm_timer (s, 0);
  sync_write (s, SHIM_SYNC_OK "%d", (int) s->container_pid);
}

static void
runtime_exited (struct shim *s, int st)
{
  cleanup_error struct ctrd_error *err = NULL;
  s->runtime_pid = 0;
  if (!WIFEXITED (st) || WEXITSTATUS (st) != 0)
    {
      /* runc's own error is in log.json; not a shim error (exit 0, no log). */
      cleanup_free char *log = path_join (s->cwd, SHIM_FILE_RUNTIME_LOG);
      cleanup_free char *msg = shim_runtime_log_error (log);
      shim_io_close_all (s);
      /* "already exists": the runtime's state of that id is not ours, and
       * `delete` would remove a stopped or created container of someone
       * else's (the daemon decides: runtime.h, stale state). */
      if (!s->cfg.exec && !(msg && strstr (msg, "already exists")))
        undo_start (s);
      if (msg)
        sync_write (s, SHIM_SYNC_ERROR SHIM_SYNC_RUNTIME_ERROR "%s", msg);
      else if (WIFEXITED (st))
        sync_write (s, SHIM_SYNC_ERROR SHIM_SYNC_RUNTIME_ERROR "%s exited with status %d",
                    s->runtime, WEXITSTATUS (st));
      else
        sync_write (s, SHIM_SYNC_ERROR SHIM_SYNC_RUNTIME_ERROR "%s killed by signal %d", s->runtime,
                    WTERMSIG (st));
      finish (s, 0);
      return;
    }
  cleanup_free char *text = NULL;
  long long pid = 0;
  if (read_file (SHIM_FILE_PID, &text, NULL, 64, &err) < 0)
    {
      ctrd_error_wrap (&err, "runtime exited 0 without a pid file");
      fail_shim (s, &err, true);
      return;
    }
  if (parse_int64 (text, &pid, false) < 0 || pid <= 1 || pid > 0x7fffffff)
    {
      ctrd_error_set (&err, 0, "invalid pid file content `%s`", text);
      fail_shim (s, &err, true);
      return;
    }
  s->container_pid = (pid_t) pid;
  if (shim_io_have_master (s))
    started (s);
  else
    shim_arm_timer (s, time_now_mono_ns () + SHIM_OPEN_TIMEOUT_MS * NSEC_PER_MSEC);
}

static void
begin_cleanup (struct shim *s, int st)
{
  cleanup_error struct ctrd_error *err = NULL;
  s->exit_status = wait_status_code (st);
  /* Before any cleanup: a crash from here on cannot lose the status. */
  shim_status_write (s);
  s->phase = PHASE_DRAINING;
  s->last_progress_ns = time_now_mono_ns ();
  /* kill --all stops whatever the init left in the cgroup so that stdout
   * reaches EOF. With a PID namespace of its own the kernel already killed
   * every process in it when the init died (before we could reap it), so the
   * runtime call — a Go binary start, ~10 ms — is skipped there. A joined
   * namespace (path set) or none: kill --all as the original does. */
  if (!s->cfg.exec && !s->cfg.own_pid_ns)
    {
      cleanup_strv char **argv = shim_argv_simple (s, "kill", "--all", "SIGKILL");
      int fds[3] = { s->devnull, s->devnull, s->devnull };
      s->kill_pid = shim_spawn (s, argv, fds, s->cwd, &err);
      if (s->kill_pid < 0)
        {
          shim_log (s, "warn", "%s", err->msg);
          s->kill_pid = 0;
        }
    }
  shim_arm_timer (s, s->last_progress_ns + SHIM_DRAIN_GRACE_MS * NSEC_PER_MSEC);
  s->io_changed = true;
}

static void
reap (struct shim *s)
{
  int st;
  pid_t pid;
  if (s->phase == PHASE_STARTING)
    {
      /* Only the runtime: the container pid is not known before the pid file
       * is read, and its zombie must stay until then. */
      if (s->runtime_pid > 0 && waitpid (s->runtime_pid, &st, WNOHANG) == s->runtime_pid)
        runtime_exited (s, st);
      if (s->phase == PHASE_STARTING || s->done)
        return;
    }
  if (s->phase == PHASE_RUNNING && s->container_pid > 0)
    {
      /* The status first, the reaping after: reaping a container's init
       * tears its namespaces down inside wait (1.3 ms measured here), and
       * the daemon learns of the exit from exitStatus. */
      siginfo_t si = { 0 };
      if (waitid (P_PID, (id_t) s->container_pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0
          && si.si_pid == s->container_pid)
        begin_cleanup (s, siginfo_wait_status (&si));
    }
  while ((pid = waitpid (-1, &st, WNOHANG)) > 0)
    {
      if (pid == s->container_pid && s->phase == PHASE_RUNNING)
        begin_cleanup (s, st);
      else if (pid == s->kill_pid)
        s->kill_pid = 0, s->io_changed = true;
      else if (pid == s->delete_pid)
        {
          s->delete_pid = 0;
          if (s->cleanup_slot >= 0)
            close (s->cleanup_slot);
          s->cleanup_slot = -1;
          if (!WIFEXITED (st) || WEXITSTATUS (st) != 0)
            {
              /* The daemon reads the exit code and deletes (-f) itself
               * before the id is free again (its message: log.json). */
              shim_log (s, "warn", "%s delete %s: exit status %d", s->runtime, s->id,
                        wait_status_code (st));
              finish (s, SHIM_EXIT_DELETE_FAILED);
            }
          else
            finish (s, 0);
        }
    }
}

/* Wait until the daemon's `<runtime> start` of this init is over (it holds
 * the start lock meanwhile: lib/shim-proto.h); at most as long as the
 * daemon lets the start run, and not at all once the daemon is gone. */
static void
wait_start_lock (struct shim *s)
{
  char dir[4096];
  snprintf (dir, sizeof dir, "%s/%s", s->cwd, SHIM_LOCK_START_DIR);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      shim_log (s, "warn", "open %s: %s (deleting without waiting for the start)", dir,
                strerror (errno));
      return;
    }
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        shim_log (s, "warn", "flock %s: %s", dir, strerror (errno));
        break;
      }
  close (fd);
}

/* Take one of the cleanup slots (lib/shim-proto.h): a free one, else wait
 * for the one the pid picks. Blocks the shim, which has nothing left to
 * do but the delete (its exit is written and reported). */
static void
take_cleanup_slot (struct shim *s)
{
  if (!s->by_ctrd)
    return; /* the state layout is ctrd's only then */
  cpu_set_t set;
  long n = sched_getaffinity (0, sizeof set, &set) == 0 ? CPU_COUNT (&set) : 1;
  n = n < 1 ? 1 : n > SHIM_CLEANUP_SLOTS_MAX ? SHIM_CLEANUP_SLOTS_MAX : n;
  int fd[SHIM_CLEANUP_SLOTS_MAX];
  long got = -1;
  for (long i = 0; i < n; i++)
    {
      char name[4096];
      snprintf (name, sizeof name, "%s/" SHIM_CLEANUP_SLOT_FORMAT, s->cwd, i);
      fd[i] = open (name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (got < 0 && fd[i] >= 0 && flock (fd[i], LOCK_EX | LOCK_NB) == 0)
        got = i;
    }
  if (got < 0)
    {
      got = (long) getpid () % n;
      while (fd[got] >= 0 && flock (fd[got], LOCK_EX) < 0)
        if (errno != EINTR)
          {
            shim_log (s, "warn", "cleanup slot %ld: %s (deleting without a turn)", got,
                      strerror (errno));
            break;
          }
    }
  for (long i = 0; i < n; i++)
    if (i != got && fd[i] >= 0)
      close (fd[i]);
  s->cleanup_slot = fd[got];
}

/* Re-evaluate after IO changes: console master arrival, drain completion. */
static void
step (struct shim *s)
{
  s->io_changed = false;
  if (s->holding)
    return; /* cleanup done; only the status is left to write (status.c) */
  if (s->phase == PHASE_STARTING && s->runtime_pid == 0 && s->container_pid > 0
      && shim_io_have_master (s))
    {
      started (s);
      reap (s); /* the process may have exited already */
    }
  if (s->phase != PHASE_DRAINING)
    return;
  if (s->grace_over)
    shim_io_drain_tick (s, true, false);
  if (!shim_io_outputs_done (s) || s->kill_pid != 0)
    return;
  shim_arm_timer (s, 0);
  shim_io_close_all (s);
  if (s->cfg.exec)
    {
      finish (s, 0);
      return;
    }
  cleanup_error struct ctrd_error *err = NULL;
  cleanup_strv char **argv = shim_argv_simple (s, "delete", NULL, NULL);
  int fds[3] = { s->devnull, s->devnull, s->devnull };
  s->phase = PHASE_DELETING;
  wait_start_lock (s);
  take_cleanup_slot (s);
  /* From the process dir: the client may have removed the bundle as soon
   * as it saw the exit (issue 10: a chdir into the removed
   * bundle kept runc from running at all). */
  s->delete_pid = shim_spawn (s, argv, fds, s->cwd, &err);
  if (s->delete_pid < 0)
    {
      shim_log (s, "warn", "%s", err->msg);
      finish (s, SHIM_EXIT_DELETE_FAILED);
    }
}

static void
on_timer (struct shim *s, struct watch *w, uint32_t events)
{
  (void) events;
  uint64_t ticks;
  if (read (w->fd, &ticks, sizeof ticks) < 0)
    return;
  if (s->holding)
    {
      shim_status_retry (s);
      return;
    }
  int64_t now = time_now_mono_ns ();
  if (s->phase == PHASE_STARTING)
    {
      cleanup_error struct ctrd_error *err = NULL;
      ctrd_error_set (&err, 0,
                      "console master not received from the runtime: context "
                      "deadline exceeded");
      fail_shim (s, &err, true);
      return;
    }
  if (s->phase != PHASE_DRAINING)
    return;
  s->grace_over = true;
  int64_t stall_at = s->last_progress_ns + SHIM_DRAIN_STALL_MS * NSEC_PER_MSEC;
  shim_io_drain_tick (s, true, now >= stall_at);
  s->io_changed = true;
  if (now >= stall_at)
    stall_at = now + SHIM_DRAIN_STALL_MS * NSEC_PER_MSEC;
  shim_arm_timer (s, stall_at);
}

static void
on_signal (struct shim *s, struct watch *w, uint32_t events)
{
  (void) events;
  struct signalfd_siginfo si[4];
  bool chld = false;
  ssize_t n;
  /* Every catchable signal arrives here; only SIGCHLD means anything. */
  while ((n = read (w->fd, si, sizeof si)) > 0)
    for (size_t i = 0; i < (size_t) n / sizeof si[0]; i++)
      chld |= si[i].ssi_signo == SIGCHLD;
  if (chld)
    reap (s);
}

static void
control_line (struct shim *s, const char *line)
{
  int type, a, b;
  char extra;
  if (sscanf (line, "%d %d %d%c", &type, &a, &b, &extra) != 3)
    return; /* unparsable: skipped */
  if (type == SHIM_CONTROL_CLOSE_STDIN)
    shim_io_close_stdin (s);
  else if (type == SHIM_CONTROL_RESIZE && s->cfg.terminal)
    shim_io_resize (s, (unsigned) a, (unsigned) b);
}

static void
on_control (struct shim *s, struct watch *w, uint32_t events)
{
  (void) events;
  for (;;)
    {
      ssize_t n = read (w->fd, s->ctl_buf + s->ctl_len, sizeof s->ctl_buf - 1 - s->ctl_len);
      if (n <= 0)
        return; /* EAGAIN (we hold a writer too, so never EOF) */
      s->ctl_len += (size_t) n;
      s->ctl_buf[s->ctl_len] = '\0';
      char *p = s->ctl_buf, *nl;
      while ((nl = strchr (p, '\n')) != NULL)
        {
          *nl = '\0';
          if (!s->ctl_skip)
            control_line (s, p);
          s->ctl_skip = false;
          p = nl + 1;
        }
      s->ctl_len = strlen (p);
      memmove (s->ctl_buf, p, s->ctl_len + 1);
      if (s->ctl_len == sizeof s->ctl_buf - 1)
        {
          /* no message is this long: drop it up to its newline */
          s->ctl_len = 0;
          s->ctl_skip = true;
        }
    }
}

static int
setup_signals (struct shim *s, struct ctrd_error **err)
{
  sigset_t set;
  sigfillset (&set);
  /* Faults must stay fatal (and visible to sanitizers and valgrind). */
  static const int sync_sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS };
  for (size_t i = 0; i < ARRAY_SIZE (sync_sigs); i++)
    sigdelset (&set, sync_sigs[i]);
  if (sigprocmask (SIG_BLOCK, &set, NULL) < 0)
    return ctrd_error_set (err, errno, "sigprocmask");
  int fd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0)
    return ctrd_error_set (err, errno, "signalfd");
  s->wsig = (struct watch){ .fd = fd, .cb = on_signal };
  return shim_watch_add (s, &s->wsig, EPOLLIN) < 0 ? ctrd_error_set (err, errno, "epoll_ctl") : 0;
}

/* Lower the shim's OOM score so the kernel picks the container, not its
 * monitor; children get the original value back (spawn.c). */
static void
setup_oom (struct shim *s)
{
  int fd = open ("/proc/self/oom_score_adj", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return;
  ssize_t n = read (fd, s->oom_orig, sizeof s->oom_orig - 1);
  if (n > 0)
    s->oom_orig[n] = '\0';
  else
    s->oom_orig[0] = '\0';
  if (pwrite (fd, "-1000", 5, 0) < 0)
    s->oom_errno = errno; /* logged after the start sync */
  close (fd);
}

static int
shim_start (struct shim *s, struct ctrd_error **err)
{
  /* Nothing the daemon may have leaked reaches the runtime or container. */
  close_range (3, ~0U, CLOSE_RANGE_CLOEXEC);
  s->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (s->epfd < 0)
    return ctrd_error_set (err, errno, "epoll_create1");
  if (setup_signals (s, err) < 0)
    return -1;
  if (prctl (PR_SET_CHILD_SUBREAPER, 1) < 0)
    return ctrd_error_set (err, errno, "set child subreaper");
  setup_oom (s);
  int tfd = timerfd_create (CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (tfd < 0)
    return ctrd_error_set (err, errno, "timerfd_create");
  s->wtimer = (struct watch){ .fd = tfd, .cb = on_timer };
  if (shim_watch_add (s, &s->wtimer, EPOLLIN) < 0)
    return ctrd_error_set (err, errno, "epoll_ctl");
  /* The daemon holds the read end already; ENXIO means it does not, and
   * then nobody would ever learn of the exit. */
  s->exit_fd = open (SHIM_FILE_EXIT_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (s->exit_fd < 0)
    return ctrd_error_set (err, errno, "open exit FIFO `%s/exit`", s->cwd);
  int cfd = open (SHIM_FILE_CONTROL_FIFO, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (cfd < 0)
    return ctrd_error_set (err, errno, "open control FIFO `%s/" SHIM_FILE_CONTROL_FIFO "`", s->cwd);
  s->wcontrol = (struct watch){ .fd = cfd, .cb = on_control };
  if (shim_watch_add (s, &s->wcontrol, EPOLLIN) < 0)
    return ctrd_error_set (err, errno, "epoll_ctl");
  s->devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (s->devnull < 0)
    return ctrd_error_set (err, errno, "open /dev/null");
  if (shim_config_load (s, err) < 0 || shim_status_reserve (s, err) < 0
      || shim_io_setup (s, err) < 0)
    return -1;
  cleanup_strv char **argv = shim_argv_start (s);
  /* create/restore in the bundle (as the original: a relative root.path);
   * exec in the process dir (the bundle may be gone by then). */
  s->runtime_pid = shim_spawn (s, argv, s->child_fds, s->cfg.exec ? s->cwd : s->bundle, err);
  if (s->runtime_pid < 0)
    {
      s->runtime_pid = 0;
      return -1;
    }
  shim_io_after_start (s);
  return 0;
}

static void
shim_run (struct shim *s)
{
  struct epoll_event ev[8];
  while (!s->done)
    {
      int n = epoll_wait (s->epfd, ev, ARRAY_SIZE (ev), -1);
      if (n < 0 && errno != EINTR)
        {
          /* cannot happen with a valid epfd; do not spin */
          shim_log (s, "error", "epoll_wait: %s", strerror (errno));
          abort ();
        }
      for (int i = 0; i < n && !s->done; i++)
        {
          struct watch *w = ev[i].data.ptr;
          if (w->registered && w->fd >= 0)
            w->cb (s, w, ev[i].events);
        }
      while (s->io_changed && !s->done)
        step (s);
    }
}

static void
shim_free (struct shim *s)
{
  log_deferred (s);
  shim_io_close_all (s);
  shim_status_close (s);
  int *fds[] = { &s->wsig.fd, &s->wtimer.fd, &s->wcontrol.fd, &s->devnull,
                 &s->epfd,    &s->exit_fd,   &s->log_fd };
  for (size_t i = 0; i < ARRAY_SIZE (fds); i++)
    if (*fds[i] >= 0)
      {
        close (*fds[i]);
        *fds[i] = -1;
      }
  shim_config_free (&s->cfg);
  free (s->cwd);
}

static int
parse_sync_fd (void)
{
  const char *v = getenv (SHIM_SYNC_ENV);
  long long fd;
  if (v == NULL)
    return -1;
  int r = -1;
  if (parse_int64 (v, &fd, false) == 0 && fd > 2 && fd < 65536 && fcntl ((int) fd, F_GETFD) >= 0)
    {
      r = (int) fd;
      fd_set_cloexec (r, true);
    }
  unsetenv (SHIM_SYNC_ENV); /* never reaches the runtime or the container */
  return r == -1 ? -2 : r;
}

int
main (int argc, char **argv)
{
  struct shim s = { .log_fd = -1,
                    .sync_fd = -1,
                    .exit_fd = -1,
                    .devnull = -1,
                    .epfd = -1,
                    .master = -1,
                    .stdin_closer = -1,
                    .dir_fd = -1,
                    .status_fd = -1,
                    .cleanup_slot = -1 };
  s.wsig.fd = s.wtimer.fd = s.wcontrol.fd = s.wlisten.fd = s.wconn.fd = -1;
  for (int i = 0; i < 4; i++)
    s.fifo_keep[i] = -1;
  for (int i = 0; i < 3; i++)
    s.rel[i].win.fd = s.rel[i].wout.fd = s.child_fds[i] = -1, s.rel[i].done = true;
  s.nrel = 3;

  int sync_fd = parse_sync_fd ();
  s.sync_fd = sync_fd >= 0 ? sync_fd : -1;
  s.by_ctrd = sync_fd >= 0;
  s.log_fd = open (SHIM_FILE_SHIM_LOG, O_CREAT | O_WRONLY | O_APPEND | O_SYNC | O_CLOEXEC, 0666);
  cleanup_error struct ctrd_error *err = NULL;
  if (s.log_fd < 0)
    ctrd_error_set (&err, errno, "open shim-log.json");
  else if (sync_fd == -2)
    ctrd_error_set (&err, 0, "invalid %s: not an open file descriptor above 2", SHIM_SYNC_ENV);
  else if (argc != 4 || argv[1][0] == '\0' || argv[2][0] == '\0' || argv[3][0] == '\0')
    ctrd_error_set (&err, 0, "usage: %s <container-id> <bundle-path> <runtime>", argv[0]);
  else if ((s.cwd = getcwd (NULL, 0)) == NULL)
    ctrd_error_set (&err, errno, "getcwd");
  if (err == NULL)
    {
      s.id = argv[1];
      s.bundle = argv[2];
      s.runtime = argv[3];
      if (shim_start (&s, &err) == 0)
        shim_run (&s);
    }
  if (err != NULL)
    fail_shim (&s, &err, false);
  shim_free (&s);
  return s.exit_code;
}
