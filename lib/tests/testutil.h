/* Helpers shared by the unit tests of every module (lib/libctrdtest.a, built
 * for make check only; nothing of the daemon, shim or ctr links it). */
#ifndef CTRD_LIB_TESTS_TESTUTIL_H
#define CTRD_LIB_TESTS_TESTUTIL_H

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

#endif
