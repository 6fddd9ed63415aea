/* Test helper: a fresh cgroup under the test's own cgroup in every v1
 * controller ctrd reads (and the unified hierarchy when it is writable),
 * removed again by cgtest_destroy. */
#ifndef CTRD_RUNTIME_TESTS_CGTEST_H
#define CTRD_RUNTIME_TESTS_CGTEST_H

#include <stdbool.h>
#include <sys/types.h>

#include "runtime/cgdirs.h"

struct cgtest
{
  struct cgdirs dirs; /* the new cgroup per controller (NULL: not mounted) */
};

/* mkdir <own cgroup>/<name> in each mounted controller; false on failure. */
bool cgtest_create (struct cgtest *cg, const char *name);
/* Move pid into every created cgroup. */
bool cgtest_add (struct cgtest *cg, pid_t pid);
/* Write value to file of one controller's cgroup. */
bool cgtest_write (struct cgtest *cg, enum cgdirs_controller c, const char *file,
                   const char *value);
/* rmdir everything (the processes must be gone). */
void cgtest_destroy (struct cgtest *cg);

/* A bundle for a real runc container (test-stats, test-oom): in a fresh
 * directory /tmp/ctrd-<name>-runc.XXXXXX, tests/make-bundle.sh <opts>
 * <bundle> <cmd> made it; the container is to be called id
 * (ctrd-<name>-test-<pid>), runc writes its pid to pidfile. */
struct runc_bundle
{
  char *dir, *bundle, *pidfile;
  char id[64];
};
/* False, with nothing left behind, when CTRD_TOP_SRCDIR is unset, runc is
 * not on PATH or make-bundle.sh fails: the test skips. */
bool runc_bundle_make (struct runc_bundle *rb, const char *name, const char *opts, const char *cmd);
/* rm -rf the directory (the container deleted before) and free. */
void runc_bundle_remove (struct runc_bundle *rb);

#endif
