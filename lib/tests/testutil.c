/* Helpers shared by the unit tests (lib/tests/testutil.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
