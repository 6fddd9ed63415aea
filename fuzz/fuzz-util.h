/* Shared by the libFuzzer targets of fuzz/: a private temporary directory
 * made once per process (removed at exit), and writing one input into a file
 * of it as the code under test would find it. */
#ifndef CTRD_FUZZ_UTIL_H
#define CTRD_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[64];

static void
fuzz_dir_remove (void)
{
  char cmd[128];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
  if (system (cmd) != 0)
    fprintf (stderr, "fuzz: cannot remove %s\n", fuzz_dir);
}

/* The directory, made on the first call. */
static const char *
fuzz_tmpdir (void)
{
  if (fuzz_dir[0] == '\0')
    {
      const char *t = getenv ("TMPDIR");
      snprintf (fuzz_dir, sizeof fuzz_dir, "%s/ctrd-fuzz-XXXXXX", t && *t ? t : "/tmp");
      if (!mkdtemp (fuzz_dir))
        abort ();
      atexit (fuzz_dir_remove);
    }
  return fuzz_dir;
}

/* Replace <dir>/<name> with the size bytes at data. */
static void
fuzz_write (const char *dir, const char *name, const uint8_t *data, size_t size)
{
  char path[256];
  snprintf (path, sizeof path, "%s/%s", dir, name);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    abort ();
  while (size > 0)
    {
      ssize_t n = write (fd, data, size);
      if (n <= 0)
        abort ();
      data += n, size -= (size_t) n;
    }
  close (fd);
}

#endif
