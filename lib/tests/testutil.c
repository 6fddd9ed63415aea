/* Helpers shared by the unit tests (lib/tests/testutil.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/tests/testutil.h"
#include "lib/util.h"

int
write_file (const char *path, const void *data, size_t len, mode_t mode, struct ctrd_error **err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return ctrd_error_set (err, errno, "create `%s`", path);
  if (write_all (fd, data, len) < 0)
    return ctrd_error_set (err, errno, "write `%s`", path);
  if (close (take_fd (&fd)) < 0)
    return ctrd_error_set (err, errno, "close `%s`", path);
  return 0;
}

char *
test_tmpdir (const char *name)
{
  char *t = xasprintf ("/tmp/ctrd-%s.XXXXXX", name);
  if (mkdtemp (t) == NULL)
    {
      fprintf (stderr, "Bail out! mkdtemp %s: %s\n", t, strerror (errno));
      abort ();
    }
  return t;
}

void
test_tmpdir_remove (char *dir)
{
  cleanup_error struct ctrd_error *err = NULL;
  if (rm_rf (dir, &err) < 0)
    {
      fprintf (stderr, "Bail out! %s\n", err->msg);
      abort ();
    }
  free (dir);
}

char *
test_bundle (const char *dir, const char *config)
{
  static int n;
  char *b = xasprintf ("%s/b%d", dir, n++);
  cleanup_free char *rootfs = path_join (b, "rootfs");
  cleanup_free char *cfg = path_join (b, "config.json");
  cleanup_error struct ctrd_error *err = NULL;
  if (mkdir_p (rootfs, 0755, &err) < 0
      || (config && write_file (cfg, config, strlen (config), 0644, &err) < 0))
    {
      fprintf (stderr, "Bail out! bundle %s: %s\n", b, err->msg);
      abort ();
    }
  return b;
}

char *test_dir;

int
test_dir_setup (void **state)
{
  (void) state;
  extern char *program_invocation_short_name;
  test_dir = test_tmpdir (program_invocation_short_name);
  return 0;
}

int
test_dir_teardown (void **state)
{
  (void) state;
  test_tmpdir_remove (test_dir);
  test_dir = NULL;
  return 0;
}

char *
test_slurp (const char *path)
{
  char *s = NULL;
  if (read_file (path, &s, NULL, 1 << 20, NULL) < 0)
    return NULL;
  return s;
}

int
test_count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  if (d == NULL)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir (d)))
    if (e->d_name[0] != '.')
      n++;
  closedir (d);
  return n - 1; /* the DIR's own fd */
}

int
test_sh (const char *cmd)
{
  int st = system (cmd);
  return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

void
test_block_sigchld (void)
{
  sigset_t ss;
  sigemptyset (&ss);
  sigaddset (&ss, SIGCHLD);
  sigprocmask (SIG_BLOCK, &ss, NULL);
}

int
test_argv (char **argv, size_t size, const char *prog, va_list ap)
{
  size_t argc = 0;
  const char *a = prog;
  do
    {
      if (argc + 1 >= size)
        {
          fprintf (stderr, "Bail out! more than %zu arguments\n", size - 2);
          abort ();
        }
      argv[argc++] = (char *) a;
    }
  while ((a = va_arg (ap, const char *)) != NULL);
  argv[argc] = NULL;
  return (int) argc;
}

void
test_fake_runtime (struct test_fake_runtime *f, const char *dir, const char *extra)
{
  f->bin = path_join (dir, "fake-runtime");
  f->calls = path_join (dir, "calls");
  f->stdin_log = path_join (dir, "stdin");
  unlink (f->calls);
  unlink (f->stdin_log);
  cleanup_free char *script = xasprintf ("#!/bin/sh\necho \"$*\" >> '%s'\ncat > '%s'\n%sexit 0\n",
                                         f->calls, f->stdin_log, extra ? extra : "");
  cleanup_error struct ctrd_error *err = NULL;
  if (write_file (f->bin, script, strlen (script), 0755, &err) < 0)
    {
      fprintf (stderr, "Bail out! %s\n", err->msg);
      abort ();
    }
}

void
test_fake_runtime_free (struct test_fake_runtime *f)
{
  free (f->bin);
  free (f->calls);
  free (f->stdin_log);
  memset (f, 0, sizeof *f);
}
