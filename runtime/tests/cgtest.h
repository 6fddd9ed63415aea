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

#endif
