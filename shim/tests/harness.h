/* Test harness for containerd-shim: prepares a process directory exactly
 * as the daemon does (docs/state-directory.md "The daemon's side of a
 * start"), starts the real shim with a sync pipe, and collects its
 * outputs. Real runc, busybox bundles. */
#ifndef CTRD_SHIM_TEST_HARNESS_H
#define CTRD_SHIM_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct buf
{
  char *data;
  size_t len;
};

struct proc
{
  char *id; /* container id */
  char *bundle;
  char *dir;      /* process directory (cwd of the shim) */
  char *fifo[3];  /* client stdio FIFOs (stdin, stdout, stderr) */
  int exit_rd;    /* daemon's read end of `exit` */
  int control;    /* daemon's O_RDWR end of `control` */
  int out_rd[3];  /* client readers of stdout/stderr ([1], [2]) */
  pid_t shim;     /* shim pid (our child, or reparented to us) */
  char sync[512]; /* the sync line */
  struct buf out[3];
  int shim_status;
};

extern const char *h_shim; /* path of the shim binary */
extern const char *h_root; /* temp dir of this run */

void h_init (int argc, char **argv);
void h_fini (void);
/* TAP helpers */
void h_plan (int n);
void h_ok (bool ok, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void h_skip (const char *name, const char *why);
void h_diag (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Build a busybox bundle (terminal: --terminal) with args; returns its path. */
char *h_bundle (const char *name, bool terminal, const char *const *args);
/* Set process.args in the bundle's config.json (runc create reads it). */
int h_bundle_set_args (const char *bundle, const char *const *args);
/* Edit the bundle's config.json with a jq filter. */
int h_bundle_jq (const char *bundle, const char *filter);
/* Run a command (argv) and return its wait status; output to /dev/null
 * unless out is non-NULL (stdout captured). */
int h_run (const char *const *argv, struct buf *out);
int h_runc (const char *a, const char *b, const char *c);

/* Prepare a process directory: proc name "init" or an exec id. args
 * overrides process.args (NULL: the bundle's); exec = AddProcess. */
struct proc *h_proc_new (const char *id, const char *bundle, const char *name, bool exec,
                         const char *const *args);
/* Start the shim (via an intermediate parent when indirect) and read the sync line. */
int h_proc_start (struct proc *p, const char *runtime, bool indirect, pid_t *middle);
/* Wait (timeout ms) for the exit FIFO HUP while collecting stdout/stderr;
 * then reap the shim. Returns 0, or -1 on timeout. */
int h_proc_wait (struct proc *p, int timeout_ms);
/* Read a file of the process dir; NULL when missing. */
char *h_proc_file (struct proc *p, const char *name);
bool h_proc_has (struct proc *p, const char *name);
int h_proc_control (struct proc *p, const char *msg);
pid_t h_proc_pid (struct proc *p);
void h_proc_free (struct proc *p);
/* Children of pid in state Z. */
int h_zombies_of (pid_t pid);
/* Wait until name appears in dir (inotify), up to timeout ms. */
int h_wait_file (const char *dir, const char *name, int timeout_ms);

#endif
