/* Helpers shared by the unit tests of every module (lib/libctrdtest.a, built
 * for make check only; nothing of the daemon, shim or ctr links it). */
#ifndef CTRD_LIB_TESTS_TESTUTIL_H
#define CTRD_LIB_TESTS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/error.h"

/* Plain write (O_CREAT|O_TRUNC, mode) of a fixture file; not atomic (the
 * code under test writes with write_file_atomic). */
int write_file (const char *path, const void *data, size_t len, mode_t mode,
                struct ctrd_error **err);

/* A fresh directory /tmp/ctrd-<name>.XXXXXX (malloc'ed path); aborts the test
 * program with a message when it cannot be made. */
char *test_tmpdir (const char *name);

/* rm -rf dir and free the path; aborts when something of it stays. */
void test_tmpdir_remove (char *dir);

/* One temp dir for a test program's group: test_dir_setup and
 * test_dir_teardown have cmocka's group setup/teardown signature
 * (cmocka_run_group_tests (tests, test_dir_setup, test_dir_teardown)). */
extern char *test_dir;
int test_dir_setup (void **state);
int test_dir_teardown (void **state);

/* A fresh OCI bundle directory <dir>/b<n> with an empty rootfs/ and the
 * given config.json text (NULL: no config.json); malloc'ed path. Aborts
 * when it cannot be made. */
char *test_bundle (const char *dir, const char *config);

/* The contents of a file of at most 1 MiB (malloc'ed); NULL when it cannot
 * be read. */
char *test_slurp (const char *path);

/* The process's open file descriptors (those of /proc/self/fd, less the
 * one it reads them through); -1 when /proc/self/fd cannot be read. */
int test_count_fds (void);

/* system (cmd): its exit status, -1 when it did not exit. */
int test_sh (const char *cmd);

/* Block SIGCHLD for the whole test program (sd-event child sources need it);
 * call first in main. */
void test_block_sigchld (void);

/* An argument vector in argv (size entries): argv[0] = prog, then the
 * NULL-terminated list of const char * of ap, then NULL; returns argc.
 * Aborts when the list does not fit. */
int test_argv (char **argv, size_t size, const char *prog, va_list ap);

/* A recording fake OCI runtime in dir: the shell script bin appends its
 * arguments (one line a call) to calls and copies its stdin to stdin_log,
 * then runs the shell lines extra (NULL: none) and exits 0. The calls and
 * stdin files of an earlier one are removed. Aborts when it cannot be made. */
struct test_fake_runtime
{
  char *bin, *calls, *stdin_log;
};
void test_fake_runtime (struct test_fake_runtime *f, const char *dir, const char *extra);
void test_fake_runtime_free (struct test_fake_runtime *f);

#endif
