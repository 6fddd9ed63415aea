#include "shim/tests/harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "lib/tests/testutil.h"

const char *h_shim;
const char *h_root;
static int h_n;
static char **h_ids; /* containers to runc delete -f at the end */

static void
buf_add (struct buf *b, const char *d, size_t n)
{
  b->data = xrealloc (b->data, b->len + n + 1);
  memcpy (b->data + b->len, d, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void
h_plan (int n)
{
  printf ("1..%d\n", n);
  fflush (stdout);
}

void
h_ok (bool ok, const char *fmt, ...)
{
  va_list ap;
  printf ("%s %d - ", ok ? "ok" : "not ok", ++h_n);
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  printf ("\n");
  fflush (stdout);
}

void
h_skip (const char *name, const char *why)
{
  printf ("ok %d - %s # SKIP %s\n", ++h_n, name, why);
  fflush (stdout);
}

void
h_diag (const char *fmt, ...)
{
  va_list ap;
  printf ("# ");
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  printf ("\n");
  fflush (stdout);
}

void
h_init (int argc, char **argv)
{
  (void) argc;
  (void) argv;
  const char *b = getenv ("CTRD_TOP_BUILDDIR");
  const char *shim = getenv ("CTRD_SHIM");
  h_shim = shim ? xstrdup (shim) : xasprintf ("%s/shim/containerd-shim", b ? b : ".");
  char tmpl[] = "/tmp/ctrd-shim-test-XXXXXX";
  if (mkdtemp (tmpl) == NULL)
    {
      perror ("mkdtemp");
      exit (99);
    }
  h_root = xstrdup (tmpl);
  /* Shims whose parent we kill are reparented to us, so we can reap them. */
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  signal (SIGPIPE, SIG_IGN);
}

void
h_fini (void)
{
  for (char **i = h_ids; i && *i; i++)
    {
      const char *argv[] = { "runc", "delete", "-f", *i, NULL };
      h_run (argv, NULL);
    }
  strv_free (h_ids);
  rm_rf (h_root, NULL);
  /* reap anything left (none expected) */
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
}

int
h_run (const char *const *argv, struct buf *out)
{
  int p[2] = { -1, -1 };
  if (out && pipe2 (p, O_CLOEXEC) < 0)
    return -1;
  pid_t pid = fork ();
  if (pid == 0)
    {
      int dn = open ("/dev/null", O_RDWR);
      dup2 (dn, 0);
      dup2 (out ? p[1] : dn, 1);
      dup2 (dn, 2);
      execvp (argv[0], (char **) argv);
      _exit (127);
    }
  int st = -1;
  if (out)
    {
      close (p[1]);
      char tmp[4096];
      ssize_t n;
      while ((n = read (p[0], tmp, sizeof tmp)) > 0)
        buf_add (out, tmp, (size_t) n);
      close (p[0]);
    }
  waitpid (pid, &st, 0);
  return st;
}

int
h_runc (const char *a, const char *b, const char *c)
{
  const char *argv[] = { "runc", a, b, c, NULL };
  return h_run (argv, NULL);
}

char *
h_bundle (const char *name, bool terminal, const char *const *args)
{
  const char *src = getenv ("CTRD_TOP_SRCDIR");
  cleanup_free char *script = xasprintf ("%s/tests/make-bundle.sh", src ? src : "../..");
  char *dir = xasprintf ("%s/bundles/%s", h_root, name);
  const char *argv[32] = { "sh", script };
  int n = 2;
  if (terminal)
    argv[n++] = "--terminal";
  argv[n++] = dir;
  for (const char *const *a = args; a && *a && n < 30; a++)
    argv[n++] = *a;
  argv[n] = NULL;
  int st = h_run (argv, NULL);
  if (st != 0)
    {
      h_diag ("make-bundle.sh %s failed (status %d)", dir, st);
      free (dir);
      return NULL;
    }
  return dir;
}

int
h_bundle_jq (const char *bundle, const char *filter)
{
  cleanup_free char *cfg = xasprintf ("%s/config.json", bundle);
  cleanup_free char *tmp = xasprintf ("%s/config.json.new", bundle);
  struct buf out = { 0 };
  const char *argv[] = { "jq", filter, cfg, NULL };
  int st = h_run (argv, &out);
  int r = -1;
  if (st == 0 && write_file (tmp, out.data, out.len, 0644, NULL) == 0 && rename (tmp, cfg) == 0)
    r = 0;
  free (out.data);
  return r;
}

int
h_bundle_set_args (const char *bundle, const char *const *args)
{
  cleanup_free char *path = xasprintf ("%s/config.json", bundle);
  json_object *cfg = json_object_from_file (path), *proc = NULL;
  if (cfg == NULL || !json_object_object_get_ex (cfg, "process", &proc))
    {
      json_object_put (cfg);
      return -1;
    }
  json_object *a = json_object_new_array ();
  for (const char *const *i = args; *i; i++)
    json_object_array_add (a, json_object_new_string (*i));
  json_object_object_add (proc, "args", a);
  int r = json_object_to_file_ext (path, cfg, JSON_C_TO_STRING_PLAIN);
  json_object_put (cfg);
  return r;
}

struct proc *
h_proc_new (const char *id, const char *bundle, const char *name, bool exec,
            const char *const *args)
{
  struct proc *p = xmalloc0 (sizeof *p);
  p->id = xstrdup (id);
  p->bundle = xstrdup (bundle);
  p->dir = xasprintf ("%s/state/%s/%s", h_root, id, name);
  p->exit_rd = p->control = p->out_rd[0] = p->out_rd[1] = p->out_rd[2] = -1;
  p->shim = -1;
  mkdir_p (p->dir, 0755, NULL);
  cleanup_free char *iodir = xasprintf ("%s/io", h_root);
  mkdir_p (iodir, 0755, NULL);
  static const char *const names[3] = { "stdin", "stdout", "stderr" };
  for (int i = 0; i < 3; i++)
    {
      p->fifo[i] = xasprintf ("%s/%s-%s-%s", iodir, id, name, names[i]);
      mkfifo_ok (p->fifo[i], 0700, NULL);
    }
  /* process.json: the bundle's process + containerd's keys
   * (docs/state-directory.md "process.json") */
  cleanup_free char *cfgpath = xasprintf ("%s/config.json", bundle);
  json_object *cfg = json_object_from_file (cfgpath), *proc = NULL;
  if (cfg == NULL || !json_object_object_get_ex (cfg, "process", &proc))
    {
      h_diag ("cannot read %s", cfgpath);
      json_object_put (cfg);
      return p;
    }
  if (args)
    {
      json_object *a = json_object_new_array ();
      for (const char *const *i = args; *i; i++)
        json_object_array_add (a, json_object_new_string (*i));
      json_object_object_add (proc, "args", a);
    }
  json_object_object_add (proc, "exec", json_object_new_boolean (exec));
  for (int i = 0; i < 3; i++)
    {
      static const char *const keys[3] = { "containerdStdin", "containerdStdout",
                                           "containerdStderr" };
      json_object_object_add (proc, keys[i], json_object_new_string (p->fifo[i]));
    }
  json_object_object_add (proc, "runtimeArgs", NULL);
  json_object_object_add (proc, "noPivotRoot", json_object_new_boolean (false));
  json_object_object_add (proc, "checkpoint", json_object_new_string (""));
  json_object_object_add (proc, "rootUID", json_object_new_int (0));
  json_object_object_add (proc, "rootGID", json_object_new_int (0));
  cleanup_free char *pj = xasprintf ("%s/process.json", p->dir);
  const char *text = json_object_to_json_string_ext (proc, JSON_C_TO_STRING_PLAIN);
  write_file (pj, text, strlen (text), 0666, NULL);
  json_object_put (cfg);

  cleanup_free char *ex = xasprintf ("%s/exit", p->dir);
  cleanup_free char *ctl = xasprintf ("%s/control", p->dir);
  mkfifo_ok (ex, 0755, NULL);
  mkfifo_ok (ctl, 0755, NULL);
  p->exit_rd = open (ex, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  p->control = open (ctl, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  p->out_rd[1] = open (p->fifo[1], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  p->out_rd[2] = open (p->fifo[2], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  return p;
}

static void __attribute__ ((noreturn)) exec_shim (struct proc *p, const char *runtime, int sync_wr)
{
  setpgid (0, 0);
  int fd = fcntl (sync_wr, F_DUPFD, 10); /* without FD_CLOEXEC */
  char num[16];
  snprintf (num, sizeof num, "%d", fd);
  setenv ("CTRD_SHIM_SYNC_FD", num, 1);
  int dn = open ("/dev/null", O_RDWR);
  dup2 (dn, 0);
  dup2 (dn, 1);
  dup2 (dn, 2);
  if (chdir (p->dir) < 0)
    _exit (126);
  const char *wrap = getenv ("CTRD_SHIM_WRAPPER"); /* e.g. valgrind */
  if (wrap)
    {
      cleanup_free char *cmd = xasprintf ("exec %s \"$@\"", wrap);
      execl ("/bin/sh", "sh", "-c", cmd, "sh", h_shim, p->id, p->bundle, runtime, (char *) NULL);
    }
  execl (h_shim, h_shim, p->id, p->bundle, runtime, (char *) NULL);
  _exit (127);
}

int
h_proc_start (struct proc *p, const char *runtime, bool indirect, pid_t *middle)
{
  int sp[2];
  if (pipe2 (sp, O_CLOEXEC) < 0)
    return -1;
  strv_push (&h_ids, p->id);
  if (indirect)
    {
      /* A stand-in for the daemon that we kill later. */
      int pp[2];
      if (pipe2 (pp, O_CLOEXEC) < 0)
        return -1;
      *middle = fork ();
      if (*middle == 0)
        {
          pid_t c = fork ();
          if (c == 0)
            exec_shim (p, runtime, sp[1]);
          close (sp[1]); /* the shim's EOF on the sync pipe must be its own */
          write_all (pp[1], &c, sizeof c);
          for (;;)
            pause ();
        }
      close (pp[1]);
      read_all (pp[0], &p->shim, sizeof p->shim);
      close (pp[0]);
    }
  else
    {
      p->shim = fork ();
      if (p->shim == 0)
        exec_shim (p, runtime, sp[1]);
    }
  close (sp[1]);
  struct pollfd pf = { .fd = sp[0], .events = POLLIN };
  size_t n = 0;
  while (n < sizeof p->sync - 1 && poll (&pf, 1, 60000) > 0)
    {
      ssize_t r = read (sp[0], p->sync + n, sizeof p->sync - 1 - n);
      if (r <= 0)
        break;
      n += (size_t) r;
    }
  p->sync[n] = '\0';
  close (sp[0]);
  return n > 0 ? 0 : -1;
}

int
h_proc_wait (struct proc *p, int timeout_ms)
{
  struct pollfd pf[3] = { { .fd = p->exit_rd, .events = POLLIN },
                          { .fd = p->out_rd[1], .events = POLLIN },
                          { .fd = p->out_rd[2], .events = POLLIN } };
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  bool hup = false;
  char tmp[65536];
  while (!hup)
    {
      struct timespec t;
      clock_gettime (CLOCK_MONOTONIC, &t);
      long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
      if (el >= timeout_ms)
        return -1;
      if (poll (pf, 3, (int) (timeout_ms - el)) < 0)
        return -1;
      if (pf[0].revents & POLLHUP)
        hup = true;
      for (int i = 1; i < 3; i++)
        if (pf[i].revents & POLLIN)
          {
            ssize_t r = read (pf[i].fd, tmp, sizeof tmp);
            if (r > 0)
              buf_add (&p->out[i], tmp, (size_t) r);
          }
        else if (pf[i].revents & POLLHUP)
          pf[i].fd = -1; /* writers gone and drained */
    }
  /* After the HUP every byte must already be in the FIFOs. */
  for (int i = 1; i < 3; i++)
    {
      ssize_t r;
      while (p->out_rd[i] >= 0 && (r = read (p->out_rd[i], tmp, sizeof tmp)) > 0)
        buf_add (&p->out[i], tmp, (size_t) r);
    }
  if (p->shim > 0 && waitpid (p->shim, &p->shim_status, 0) == p->shim)
    p->shim = -1;
  return 0;
}

char *
h_proc_file (struct proc *p, const char *name)
{
  cleanup_free char *path = xasprintf ("%s/%s", p->dir, name);
  char *out = NULL;
  if (read_file (path, &out, NULL, 1 << 20, NULL) < 0)
    return NULL;
  return out;
}

bool
h_proc_has (struct proc *p, const char *name)
{
  cleanup_free char *path = xasprintf ("%s/%s", p->dir, name);
  return access (path, F_OK) == 0;
}

int
h_proc_control (struct proc *p, const char *msg)
{
  return write_all (p->control, msg, strlen (msg)) < 0 ? -1 : 0;
}

pid_t
h_proc_pid (struct proc *p)
{
  cleanup_free char *s = h_proc_file (p, "pid");
  long long v = 0;
  if (s == NULL || parse_int64 (s, &v, false) < 0)
    return -1;
  return (pid_t) v;
}

void
h_proc_free (struct proc *p)
{
  if (p == NULL)
    return;
  if (p->shim > 0)
    {
      kill (p->shim, SIGKILL);
      waitpid (p->shim, NULL, 0);
    }
  int fds[] = { p->exit_rd, p->control, p->out_rd[1], p->out_rd[2] };
  for (size_t i = 0; i < ARRAY_SIZE (fds); i++)
    if (fds[i] >= 0)
      close (fds[i]);
  for (int i = 0; i < 3; i++)
    {
      unlink (p->fifo[i]);
      free (p->fifo[i]);
      free (p->out[i].data);
    }
  rm_rf (p->dir, NULL);
  free (p->id);
  free (p->bundle);
  free (p->dir);
  free (p);
}

int
h_zombies_of (pid_t pid)
{
  DIR *d = opendir ("/proc");
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir (d)) != NULL)
    {
      if (e->d_name[0] < '0' || e->d_name[0] > '9')
        continue;
      cleanup_free char *path = xasprintf ("/proc/%s/stat", e->d_name);
      cleanup_free char *s = NULL;
      if (read_file (path, &s, NULL, 4096, NULL) < 0)
        continue;
      char *rp = strrchr (s, ')'); /* the name may contain ") " */
      char state;
      int ppid;
      if (rp && sscanf (rp + 1, " %c %d", &state, &ppid) == 2 && ppid == pid && state == 'Z')
        n++;
    }
  if (d)
    closedir (d);
  return n;
}

int
h_wait_file (const char *dir, const char *name, int timeout_ms)
{
  int fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0)
    return -1;
  inotify_add_watch (fd, dir, IN_CREATE | IN_MOVED_TO);
  cleanup_free char *path = xasprintf ("%s/%s", dir, name);
  int r = -1;
  struct pollfd pf = { .fd = fd, .events = POLLIN };
  for (;;)
    {
      if (access (path, F_OK) == 0)
        {
          r = 0;
          break;
        }
      if (poll (&pf, 1, timeout_ms) <= 0)
        break;
      char ev[4096];
      while (read (fd, ev, sizeof ev) > 0)
        ;
    }
  close (fd);
  return r;
}
