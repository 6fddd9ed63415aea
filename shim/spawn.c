/* Runtime invocations (docs/runtime.md §2 #1–#3, #5, #6a) and the fork+exec
 * that runs them. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/timeutil.h"
#include "lib/util.h"
#include "shim/shim.h"

/* runtime [--log <cwd>/log.json --log-format json] [args]: the log for
 * kill/delete, so that the daemon can give the runtime's message when a
 * cleanup failed. */
static void
push_globals (char ***v, struct shim *s)
{
  strv_push (v, s->runtime);
  cleanup_free char *log = path_join (s->cwd, SHIM_FILE_RUNTIME_LOG);
  strv_push (v, "--log");
  strv_push (v, log);
  strv_push (v, "--log-format");
  strv_push (v, "json");
  for (char **a = s->cfg.runtime_args; a && *a; a++)
    strv_push (v, *a);
}

char **
shim_argv_start (struct shim *s)
{
  char **v = NULL;
  cleanup_free char *log = path_join (s->cwd, SHIM_FILE_RUNTIME_LOG);
  cleanup_free char *pid = path_join (s->cwd, SHIM_FILE_PID);
  strv_push (&v, s->runtime);
  strv_push (&v, "--log");
  strv_push (&v, log);
  strv_push (&v, "--log-format");
  strv_push (&v, "json");
  for (char **a = s->cfg.runtime_args; a && *a; a++)
    strv_push (&v, *a);
  if (s->cfg.exec)
    {
      cleanup_free char *proc = path_join (s->cwd, SHIM_FILE_PROCESS);
      strv_push (&v, "exec");
      strv_push (&v, "-d");
      strv_push (&v, "--process");
      strv_push (&v, proc);
      if (s->console_sock)
        {
          strv_push (&v, "--console-socket");
          strv_push (&v, s->console_sock);
        }
    }
  else if (s->cfg.checkpoint[0] != '\0')
    {
      char now[64];
      time_format_rfc3339_nano (time_now_real_ns (), false, now, sizeof now);
      cleanup_free char *work = xasprintf ("%s/criu.work/restore-%s", s->cfg.checkpoint, now);
      strv_push (&v, "restore");
      strv_push (&v, "-d");
      strv_push (&v, "--image-path");
      strv_push (&v, s->cfg.checkpoint);
      strv_push (&v, "--work-path");
      strv_push (&v, work);
      if (s->cfg.ck_shell)
        strv_push (&v, "--shell-job");
      if (s->cfg.ck_tcp)
        strv_push (&v, "--tcp-established");
      if (s->cfg.ck_unix_sockets)
        strv_push (&v, "--ext-unix-sk");
      if (s->cfg.no_pivot)
        strv_push (&v, "--no-pivot");
      for (char **n = s->cfg.ck_empty_ns; n && *n; n++)
        {
          strv_push (&v, "--empty-ns");
          strv_push (&v, *n);
        }
      /* Not in the original (which could never restore a terminal process):
       * runc needs a console socket for a detached tty. */
      if (s->console_sock)
        {
          strv_push (&v, "--console-socket");
          strv_push (&v, s->console_sock);
        }
    }
  else
    {
      strv_push (&v, "create");
      strv_push (&v, "--bundle");
      strv_push (&v, s->bundle);
      if (s->console_sock)
        {
          strv_push (&v, "--console-socket");
          strv_push (&v, s->console_sock);
        }
      if (s->cfg.no_pivot)
        strv_push (&v, "--no-pivot");
    }
  strv_push (&v, "--pid-file");
  strv_push (&v, pid);
  strv_push (&v, s->id);
  return v;
}

char **
shim_argv_simple (struct shim *s, const char *word1, const char *word2, const char *tail)
{
  char **v = NULL;
  push_globals (&v, s);
  strv_push (&v, word1);
  if (word2)
    strv_push (&v, word2);
  strv_push (&v, s->id);
  if (tail)
    strv_push (&v, tail);
  return v;
}

/* In the child between fork and exec: only async-signal-safe calls. */
static void __attribute__ ((noreturn))
child_exec (struct shim *s, const char *file, char **argv, const int fds[3], const char *cwd,
            int errfd, pid_t parent)
{
  int e;
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
    _exit (127);
  /* Move the stdio sources above 2 first so dup2 cannot clobber one with another. */
  int tmp[3];
  for (int i = 0; i < 3; i++)
    if ((tmp[i] = fcntl (fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
      goto fail;
  for (int i = 0; i < 3; i++)
    if (dup2 (tmp[i], i) < 0)
      goto fail;
  /* Nothing of the shim beyond 0–2 may reach the runtime or the container
   * (the sync pipe above all: the daemon waits for its EOF). */
  if (close_range (3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    goto fail;
  if (cwd && chdir (cwd) < 0)
    goto fail;
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  /* The shim runs at -1000; the runtime and the container must not inherit it. */
  if (s->oom_orig[0] != '\0')
    {
      int fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          if (write (fd, s->oom_orig, strlen (s->oom_orig)) < 0)
            {
              /* best effort: the runtime sets the spec's value anyway */
            }
          close (fd);
        }
    }
  execv (file, argv);
fail:
  e = errno;
  if (write (errfd, &e, sizeof e) < 0)
    {
    }
  _exit (127);
}

pid_t
shim_spawn (struct shim *s, char **argv, const int fds[3], const char *cwd, struct ctrd_error **err)
{
  cleanup_free char *file = find_executable (argv[0]);
  if (file == NULL)
    return ctrd_error_set (err, errno, "exec `%s`", argv[0]);
  int ep[2];
  if (pipe2 (ep, O_CLOEXEC) < 0)
    return ctrd_error_set (err, errno, "pipe");
  pid_t parent = getpid ();
  pid_t pid = fork ();
  if (pid < 0)
    {
      int e = errno;
      close (ep[0]);
      close (ep[1]);
      return ctrd_error_set (err, e, "fork");
    }
  if (pid == 0)
    child_exec (s, file, argv, fds, cwd, ep[1], parent);
  close (ep[1]);
  /* EOF as soon as the exec succeeded (close-on-exec); an errno otherwise. */
  int e = 0;
  ssize_t n;
  do
    n = read (ep[0], &e, sizeof e);
  while (n < 0 && errno == EINTR);
  close (ep[0]);
  if (n == (ssize_t) sizeof e)
    {
      /* The child _exits at once: reap it here so no zombie is left. */
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      return ctrd_error_set (err, e, "exec `%s`", argv[0]);
    }
  return pid;
}

int
shim_spawn_wait (struct shim *s, char **argv)
{
  int fds[3] = { s->devnull, s->devnull, s->devnull };
  pid_t pid = shim_spawn (s, argv, fds, s->cwd, NULL);
  if (pid < 0)
    return -1;
  int st;
  while (waitpid (pid, &st, 0) < 0)
    if (errno != EINTR)
      return -1;
  return st;
}
