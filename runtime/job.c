/* Spawning children and asynchronous runtime jobs (job.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/gotext.h"
#include "lib/log.h"
#include "lib/util.h"
#include "runtime/job.h"

/* Spawning costs the same with 1000 containers as with none. A fork copies
 * the daemon's page tables (COW faults follow) and its fd table, and the
 * exec then closes every close-on-exec fd one by one: ~5000 fds at 800
 * containers, 4 ms of kernel time per CreateContainer measured with perf
 * (dnotify_flush, filp_flush, copy_page_range). So the child shares the
 * daemon's memory and fd table (CLONE_VM | CLONE_VFORK | CLONE_FILES; the
 * daemon waits until it has exec'd), and gets a table of its own with
 * close_range(CLOSE_RANGE_UNSHARE), which copies only the fds below its
 * bound: the daemon's first few, and five slots reserved low at start-up
 * into which the child's stdio and pass_fd are placed just before. */
enum
{
  SLOT_STDIN,
  SLOT_STDOUT,
  SLOT_STDERR,
  SLOT_PASS,
  NSLOTS
};
static int spawn_devnull = -1;
static int spawn_slot[NSLOTS] = { -1, -1, -1, -1 };

/* Every fd from 3 up is made close-on-exec, once, before the slots are
 * reserved. The daemon opens its own with the flag; one it inherited
 * without it (from a shell, a supervisor) would otherwise reach every
 * runtime and shim: the child's close_range spares what lies below the
 * slots, and a kernel without close_range copies the whole table. */
static void
cloexec_all (void)
{
  if (close_range (3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return;
  cleanup_dir DIR *d = opendir ("/proc/self/fd");
  if (d == NULL)
    {
      struct rlimit rl;
      if (getrlimit (RLIMIT_NOFILE, &rl) < 0)
        return;
      for (rlim_t fd = 3; fd < rl.rlim_cur && fd <= INT_MAX; fd++)
        fcntl ((int) fd, F_SETFD, FD_CLOEXEC);
      return;
    }
  for (struct dirent *e; (e = readdir (d));)
    {
      char *end;
      long fd = strtol (e->d_name, &end, 10);
      if (*end != '\0' || end == e->d_name || fd < 3 || fd == dirfd (d))
        continue;
      int fl = fcntl ((int) fd, F_GETFD);
      if (fl >= 0 && !(fl & FD_CLOEXEC))
        fcntl ((int) fd, F_SETFD, fl | FD_CLOEXEC);
    }
}

int
spawn_reserve_fds (struct ctrd_error **err)
{
  if (spawn_devnull >= 0)
    return 0;
  cloexec_all ();
  int dn = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (dn < 0)
    return ctrd_error_set (err, errno, "open /dev/null");
  for (int i = 0; i < NSLOTS; i++)
    if ((spawn_slot[i] = fcntl (dn, F_DUPFD_CLOEXEC, 3)) < 0)
      {
        int e = errno;
        for (int j = 0; j < i; j++)
          close (spawn_slot[j]);
        close (dn);
        return ctrd_error_set (err, e, "reserving fds for spawning");
      }
  spawn_devnull = dn;
  return 0;
}

struct spawn_child_arg
{
  const char *file;
  char *const *argv;
  char *const *envp;
  const struct spawn_opts *o;
  unsigned top;    /* the highest fd the child keeps */
  int child_errno; /* written by the child when it fails before exec */
};

/* The child, on the daemon's memory until it execs: no allocation, no
 * stdio, nothing that writes the daemon's data but a->child_errno. */
static int
spawn_child (void *data)
{
  struct spawn_child_arg *a = data;
  const struct spawn_opts *o = a->o;
  /* First a table of its own (still the daemon's: dup2 onto 0–2 would
   * replace the daemon's stdio); a kernel without close_range (before 5.9)
   * copies the whole table instead, whose fds all close at the exec
   * (cloexec_all). */
  if (close_range (a->top + 1, ~0U, CLOSE_RANGE_UNSHARE) < 0 && unshare (CLONE_FILES) < 0)
    goto fail;
  /* Handlers back to default (the table is the child's own: no
   * CLONE_SIGHAND), then the mask the daemon blocked around the clone. */
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      signal (s, SIG_DFL);
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  if (o->pdeathsig)
    prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (o->new_pgid && setpgid (0, 0) < 0)
    goto fail;
  for (int i = 0; i < 3; i++)
    if (dup2 (spawn_slot[i], i) < 0)
      goto fail;
  if (o->pass_fd >= 0 && fcntl (spawn_slot[SLOT_PASS], F_SETFD, 0) < 0)
    goto fail;
  if (o->cwd && chdir (o->cwd) < 0)
    goto fail;
  execve (a->file, a->argv, a->envp);
fail:
  a->child_errno = errno ? errno : EINVAL;
  _exit (127);
}

/* environ, with env_name set to the pass fd's number in the child. */
static char **
spawn_env (const struct spawn_opts *o)
{
  extern char **environ;
  size_t n = 0;
  while (environ[n])
    n++;
  char **env = xmalloc ((n + 2) * sizeof *env);
  size_t k = 0, nl = o->env_name ? strlen (o->env_name) : 0;
  for (size_t i = 0; i < n; i++)
    if (!o->env_name || strncmp (environ[i], o->env_name, nl) != 0 || environ[i][nl] != '=')
      env[k++] = xstrdup (environ[i]);
  if (o->env_name)
    env[k++] = xasprintf ("%s=%d", o->env_name, spawn_slot[SLOT_PASS]);
  env[k] = NULL;
  return env;
}

int
spawn_process (char *const argv[], const struct spawn_opts *o, pid_t *pid, struct ctrd_error **err)
{
  if (spawn_reserve_fds (err) < 0)
    return -1;
  /* Looked up here, not by execvp in the child: no failing execve per
   * PATH element between clone and exec. */
  cleanup_free char *file = find_executable (argv[0]);
  if (file == NULL)
    return ctrd_error_set (err, errno, "exec %s", argv[0]);
  cleanup_strv char **env = spawn_env (o);
  int src[NSLOTS] = { o->stdin_fd, o->stdout_fd, o->stderr_fd, o->pass_fd };
  unsigned top = 0;
  for (int i = 0; i < NSLOTS; i++)
    {
      if (dup3 (src[i] >= 0 ? src[i] : spawn_devnull, spawn_slot[i], O_CLOEXEC) < 0
          && src[i] != spawn_slot[i])
        {
          int e = errno;
          for (int j = 0; j < NSLOTS; j++)
            dup3 (spawn_devnull, spawn_slot[j], O_CLOEXEC);
          return ctrd_error_set (err, e, "dup3");
        }
      if ((unsigned) spawn_slot[i] > top)
        top = (unsigned) spawn_slot[i];
    }
  struct spawn_child_arg a = { .file = file, .argv = argv, .envp = env, .o = o, .top = top };
  static char stack[64 * 1024] __attribute__ ((aligned (16)));
  sigset_t all, old;
  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, &old);
  int saved = errno;
  pid_t child =
      clone (spawn_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &a);
  int e = child < 0 ? errno : a.child_errno;
  errno = saved;
  sigprocmask (SIG_SETMASK, &old, NULL);
  for (int i = 0; i < NSLOTS; i++)
    dup3 (spawn_devnull, spawn_slot[i], O_CLOEXEC);
  if (child < 0)
    return ctrd_error_set (err, e, "clone");
  if (e != 0)
    {
      waitpid (child, NULL, 0);
      return ctrd_error_set (err, e, "exec %s", argv[0]);
    }
  *pid = child;
  return 0;
}

struct job
{
  sd_event *loop;
  pid_t pid;
  sd_event_source *child_src, *out_src, *err_src, *timer_src;
  int out_fd, err_fd;
  char *out, *errb;
  size_t out_len, err_len;
  bool timed_out;
  job_done_fn done;
  void *data;
};

static void
job_free (struct job *j)
{
  sd_event_source_disable_unref (j->child_src);
  sd_event_source_disable_unref (j->out_src);
  sd_event_source_disable_unref (j->err_src);
  sd_event_source_disable_unref (j->timer_src);
  if (j->out_fd >= 0)
    close (j->out_fd);
  if (j->err_fd >= 0)
    close (j->err_fd);
  free (j->out);
  free (j->errb);
  free (j);
}

/* Read what is available; returns true at EOF or error. */
static bool
job_drain (int fd, char **buf, size_t *len)
{
  char tmp[4096];
  for (;;)
    {
      ssize_t n = read (fd, tmp, sizeof tmp);
      if (n > 0)
        {
          *buf = xrealloc (*buf, *len + (size_t) n + 1);
          memcpy (*buf + *len, tmp, (size_t) n);
          *len += (size_t) n;
          (*buf)[*len] = '\0';
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      return !(n < 0 && errno == EAGAIN);
    }
}

static int
job_on_output (sd_event_source *s, int fd, uint32_t revents UNUSED, void *data)
{
  struct job *j = data;
  bool is_out = fd == j->out_fd;
  if (job_drain (fd, is_out ? &j->out : &j->errb, is_out ? &j->out_len : &j->err_len))
    sd_event_source_set_enabled (s, SD_EVENT_OFF);
  return 0;
}

static int
job_on_exit (sd_event_source *s UNUSED, const siginfo_t *si, void *data)
{
  struct job *j = data;
  int st;
  if (si->si_code == CLD_EXITED)
    st = W_EXITCODE (si->si_status, 0);
  else
    st = si->si_status & 0x7f; /* killed by signal */
  /* The child is gone: whatever it wrote is in the pipes. A grandchild that
   * inherited them must not make us wait (docs/failure-modes.md #1): read what is
   * there now and stop. */
  job_drain (j->out_fd, &j->out, &j->out_len);
  job_drain (j->err_fd, &j->errb, &j->err_len);
  struct job_result r = {
    .wait_status = st,
    .timed_out = j->timed_out,
    .out = j->out ? j->out : "",
    .out_len = j->out_len,
    .err = j->errb ? j->errb : "",
    .err_len = j->err_len,
  };
  job_done_fn done = j->done;
  void *d = j->data;
  j->done = NULL;
  done (&r, d);
  job_free (j);
  return 0;
}

static int
job_on_timeout (sd_event_source *s UNUSED, uint64_t usec UNUSED, void *data)
{
  struct job *j = data;
  j->timed_out = true;
  kill (j->pid, SIGKILL);
  return 0;
}

int
job_run (sd_event *loop, const char *cwd, char *const argv[], const char *stdin_data,
         size_t stdin_len, int64_t timeout_ns, unsigned flags, job_done_fn done, void *data,
         struct job **out, struct ctrd_error **err)
{
  int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, ip[2] = { -1, -1 };
  if (pipe2 (op, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2 (ep, O_CLOEXEC | O_NONBLOCK) < 0
      || (stdin_data && pipe2 (ip, O_CLOEXEC) < 0))
    {
      int e = errno;
      for (int i = 0; i < 2; i++)
        {
          if (op[i] >= 0)
            close (op[i]);
          if (ep[i] >= 0)
            close (ep[i]);
          if (ip[i] >= 0)
            close (ip[i]);
        }
      return ctrd_error_set (err, e, "pipe");
    }
  struct spawn_opts so = { .pdeathsig = !(flags & JOB_OUTLIVE_DAEMON),
                           .stdin_fd = ip[0],
                           .stdout_fd = op[1],
                           .stderr_fd = ep[1],
                           .pass_fd = -1,
                           .cwd = cwd };
  pid_t pid;
  int r = spawn_process (argv, &so, &pid, err);
  close (op[1]);
  close (ep[1]);
  if (ip[0] >= 0)
    close (ip[0]);
  if (r < 0)
    {
      close (op[0]);
      close (ep[0]);
      if (ip[1] >= 0)
        close (ip[1]);
      return -1;
    }
  if (stdin_data)
    {
      /* Small documents (update JSON) fit the pipe buffer: write and close. */
      fd_set_nonblock (ip[1], true);
      if (write_all (ip[1], stdin_data, stdin_len) < 0)
        log_warn ("writing stdin of %s: %s", argv[0], strerror (errno));
      close (ip[1]);
    }
  struct job *j = xmalloc0 (sizeof *j);
  j->loop = loop;
  j->pid = pid;
  j->out_fd = op[0];
  j->err_fd = ep[0];
  j->done = done;
  j->data = data;
  if (sd_event_add_child (loop, &j->child_src, pid, WEXITED, job_on_exit, j) < 0
      || sd_event_add_io (loop, &j->out_src, j->out_fd, EPOLLIN, job_on_output, j) < 0
      || sd_event_add_io (loop, &j->err_src, j->err_fd, EPOLLIN, job_on_output, j) < 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      job_free (j);
      return ctrd_error_set (err, EIO, "watching %s", argv[0]);
    }
  if (timeout_ns > 0)
    sd_event_add_time_relative (loop, &j->timer_src, CLOCK_MONOTONIC,
                                (uint64_t) (timeout_ns / 1000), 0, job_on_timeout, j);
  if (out)
    *out = j;
  return 0;
}

void
job_cancel (struct job *j)
{
  if (!j)
    return;
  kill (j->pid, SIGKILL);
  /* Reap now: SIGKILL makes this immediate, and the source goes with the job. */
  waitpid (j->pid, NULL, 0);
  job_free (j);
}

bool
job_succeeded (const struct job_result *r)
{
  return !r->timed_out && WIFEXITED (r->wait_status) && WEXITSTATUS (r->wait_status) == 0;
}

char *
job_error_text (const struct job_result *r)
{
  cleanup_free char *both = xmalloc (r->out_len + r->err_len + 1);
  memcpy (both, r->out, r->out_len);
  memcpy (both + r->out_len, r->err, r->err_len);
  both[r->out_len + r->err_len] = '\0';
  cleanup_free char *q = gotext_quote (both, r->out_len + r->err_len);
  if (r->timed_out)
    return xasprintf ("timed out: %s", q);
  if (WIFEXITED (r->wait_status))
    return xasprintf ("exit status %d: %s", WEXITSTATUS (r->wait_status), q);
  if (WIFSIGNALED (r->wait_status))
    {
      /* Go's text: "signal: killed" (lowercase) */
      cleanup_free char *sig = xstrdup (strsignal (WTERMSIG (r->wait_status)));
      if (sig[0] >= 'A' && sig[0] <= 'Z')
        sig[0] = (char) (sig[0] - 'A' + 'a');
      return xasprintf ("signal: %s: %s", sig, q);
    }
  return xasprintf ("unknown status: %s", q);
}

char **
runtime_argv (const char *rt, char *const *global_args, const char *const *sub)
{
  char **v = NULL;
  strv_push (&v, rt);
  for (size_t i = 0; global_args && global_args[i]; i++)
    strv_push (&v, global_args[i]);
  for (size_t i = 0; sub[i]; i++)
    strv_push (&v, sub[i]);
  return v;
}
