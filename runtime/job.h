/* Child processes of the daemon: spawning (shims and runtime calls) and
 * asynchronous runtime jobs (docs/runtime.md §1–2).
 *
 * A job runs one binary with stdout and stderr captured separately (and
 * optional stdin data), completes from the loop when the child exits (sd-event
 * child source, pidfd based), and is bounded by a timeout. Nothing waits: the
 * caller gets a callback. A job's child gets SIGKILL when the daemon dies
 * (parent-death signal) unless it runs with JOB_OUTLIVE_DAEMON: operations
 * that must not stop half-way (pause, resume, update, checkpoint: a runtime
 * or CRIU killed mid-freeze can leave the container frozen) finish on their
 * own and the next daemon reads the result from the cgroups. Shims have no
 * parent-death signal either (they must outlive the daemon). */
#ifndef CTRD_RUNTIME_JOB_H
#define CTRD_RUNTIME_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "lib/error.h"

struct spawn_opts
{
  const char *cwd;                    /* NULL: inherit */
  bool new_pgid;                      /* setpgid(0,0) in the child */
  bool pdeathsig;                     /* PR_SET_PDEATHSIG SIGKILL */
  int stdin_fd, stdout_fd, stderr_fd; /* -1: /dev/null */
  int pass_fd;                        /* one more fd kept open (not cloexec) in the child, or -1 */
  const char *env_name; /* NULL, or an environment variable set to pass_fd's number in the child */
};

/* Reserve the few low fds spawn_process places a child's fds in (called at
 * start-up, before containers open theirs; spawn_process does it on first
 * use otherwise). */
int spawn_reserve_fds (struct ctrd_error **err);

/* clone + exec (PATH lookup in the parent) with a clean signal mask and
 * default handlers; its cost does not grow with the daemon's fds or
 * memory. Returns 0 and *pid once exec succeeded; an exec failure is
 * reported here (ENOENT → "<argv0> not installed on system" is left to
 * callers: err->status carries errno). */
int spawn_process (char *const argv[], const struct spawn_opts *o, pid_t *pid,
                   struct ctrd_error **err);

struct job_result
{
  int wait_status; /* as from waitpid; valid unless timed_out */
  bool timed_out;
  const char *out; /* stdout, NUL-terminated */
  size_t out_len;
  const char *err; /* stderr, NUL-terminated */
  size_t err_len;
};

struct job;
/* Called once from the loop; the job is freed after it returns. */
typedef void (*job_done_fn) (const struct job_result *r, void *data);

enum job_flags
{
  JOB_OUTLIVE_DAEMON = 1 << 0, /* no parent-death signal */
};

/* Start argv as a job in directory cwd (NULL: the daemon's own). stdin_data
 * may be NULL. timeout_ns ≤ 0: none. flags: enum job_flags. */
int job_run (sd_event *loop, const char *cwd, char *const argv[], const char *stdin_data,
             size_t stdin_len, int64_t timeout_ns, unsigned flags, job_done_fn done, void *data,
             struct job **out, struct ctrd_error **err);
/* Kill (SIGKILL) and forget a job: its callback never runs. NULL is fine. */
void job_cancel (struct job *j);

/* True when the job exited with status 0. */
bool job_succeeded (const struct job_result *r);
/* Error text as the original builds it: `exit status N: "<output>"` (output
 * = stdout then stderr, Go %q quoted), `signal: killed: ...`, or a timeout. */
char *job_error_text (const struct job_result *r);

/* `<rt> <global args...> <sub...>`: the runtime's global arguments always
 * precede the subcommand (docs/runtime.md §2, including checkpoint). sub is a
 * NULL-terminated list. Caller frees with strv_free. */
char **runtime_argv (const char *rt, char *const *global_args, const char *const *sub);

#endif
