/* containerd-shim internals (docs/state-directory.md "The shim" and "The
 * control FIFO"). One process per container process, single-threaded:
 * everything happens in one epoll loop (main.c) fed by a signalfd
 * (SIGCHLD), the control FIFO, the stdio relays, the console socket and one
 * timerfd. */
#ifndef CTRD_SHIM_H
#define CTRD_SHIM_H

#include "lib/shim-proto.h"
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"

/* All stdio/console waits share this deadline (docs/state-directory.md "Opening stdio"). */
#define SHIM_OPEN_TIMEOUT_MS 15000

/* After the process exited: how long background holders of its stdout/stderr
 * may keep the pipes open before the shim stops relaying (docs/failure-modes.md #1). */
#define SHIM_DRAIN_GRACE_MS 500
/* After the grace: a relay still blocked on a full client FIFO is given up
 * when it made no progress for this long. */
#define SHIM_DRAIN_STALL_MS 15000

/* What process.json (and, for a restore, <checkpoint>/config.json and the
 * bundle's config.json) tell the shim. */
struct shim_config
{
  bool terminal;
  bool exec;
  bool no_pivot;
  char *stdin_path, *stdout_path, *stderr_path;
  char **runtime_args; /* global runtime args, may be NULL */
  char *checkpoint;    /* "" unless restoring */
  unsigned root_uid, root_gid;
  /* checkpoint config.json */
  bool ck_tcp, ck_unix_sockets, ck_shell;
  char **ck_empty_ns;
  /* init only: the bundle creates a new PID namespace of its own */
  bool own_pid_ns;
};

struct shim;

/* An epoll registration: fd plus the callback run on its events. */
struct watch
{
  int fd;
  bool registered;
  void (*cb) (struct shim *s, struct watch *w, uint32_t events);
};

/* One direction of stdio: data from in to out. splice() between two pipes
 * while out is drained (no copy through user space); a 4 KiB buffer when
 * one side is a tty, or while out's reader lags (see relay_pump). */
struct relay
{
  struct watch win, wout;
  const char *name;
  char *buf; /* allocated on first copy */
  size_t buf_len, buf_off;
  bool splice;
  bool done;      /* in reached EOF/EIO, or out failed: fds closed */
  bool close_out; /* close out when done (container stdin pipe, so it sees EOF) */
  uint64_t moved; /* bytes relayed, for drain progress */
};

enum shim_phase
{
  PHASE_STARTING, /* runtime create/exec/restore running, or console awaited */
  PHASE_RUNNING,  /* container process alive */
  PHASE_DRAINING, /* exit status written; waiting for stdio EOF (and kill --all) */
  PHASE_DELETING, /* runtime delete running (init) */
};

struct shim
{
  /* arguments */
  const char *id, *bundle, *runtime;
  char *cwd;
  struct shim_config cfg;

  int log_fd;  /* shim-log.json */
  int sync_fd; /* CTRD_SHIM_SYNC_FD, -1 once written */
  int exit_fd; /* write end of the exit FIFO; closed by exiting */
  int devnull;
  int epfd;
  char oom_orig[16]; /* oom_score_adj to restore in children */
  int oom_errno;     /* setting -1000 failed: logged once the start is synced */

  struct watch wsig, wtimer, wcontrol;
  enum shim_phase phase;
  int64_t last_progress_ns;
  bool grace_over;
  bool io_changed; /* set by io.c; main.c re-evaluates the phase */

  pid_t runtime_pid, kill_pid, delete_pid, container_pid;
  int exit_status;
  bool by_ctrd;     /* started with the sync handshake: <state>/<id>/<process> is ctrd's */
  int cleanup_slot; /* flock'ed slot while the init's delete runs (lib/shim-proto.h), or -1 */

  /* exitStatus (status.c): the process dir, the reserved file, and the
   * status held in memory while it cannot be written */
  int dir_fd;
  int status_fd;       /* exitStatus.reserve, open until renamed */
  bool reserve_named;  /* exitStatus.reserve exists */
  bool status_pending; /* exit_status known, exitStatus not written */
  bool holding;        /* would exit, but the status is not written yet */
  int held_code;       /* the shim's exit code once it is */
  int64_t retry_ms;    /* the hold's retry backoff */

  /* stdio */
  int child_fds[3];    /* fds 0/1/2 of the runtime (and so of the container) */
  int stdin_closer;    /* the shim's own writer on the stdin FIFO */
  int fifo_keep[4];    /* FIFO ends held so clients may come and go */
  struct relay rel[3]; /* stdin, stdout, stderr (tty: stdin→master, master→stdout) */
  int nrel;

  /* console (terminal: true) */
  struct watch wlisten, wconn;
  char *console_dir, *console_sock;
  int master;
  bool want_resize;
  unsigned short resize_w, resize_h;

  char ctl_buf[SHIM_CONTROL_LINE_MAX];
  size_t ctl_len;
  bool ctl_skip;

  bool done;
  int exit_code;
};

/* main.c */
void shim_log (struct shim *s, const char *level, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
int shim_watch_add (struct shim *s, struct watch *w, uint32_t events);
void shim_watch_del (struct shim *s, struct watch *w);
void shim_arm_timer (struct shim *s, int64_t deadline_ns);

/* config.c */
int shim_config_load (struct shim *s, struct ctrd_error **err);
void shim_config_free (struct shim_config *cfg);
/* The msg of the first "level":"error" line of runc's log.json, or NULL. */
char *shim_runtime_log_error (const char *path);

/* spawn.c */
/* argv for create / exec -d / restore -d (docs/runtime.md §2 #1–#3). */
char **shim_argv_start (struct shim *s);
/* argv `<rt> <g> <words...> <id> [tail]` for kill --all / delete. */
char **shim_argv_simple (struct shim *s, const char *word1, const char *word2, const char *tail);
/* fork+exec with fds[0..2] as stdio, cwd, pdeathsig SIGKILL, default signal
 * mask and the original oom_score_adj. Reports an exec failure (ENOENT …). */
pid_t shim_spawn (struct shim *s, char **argv, const int fds[3], const char *cwd,
                  struct ctrd_error **err);
/* Spawn and wait synchronously (failure paths only); returns the wait status or -1. */
int shim_spawn_wait (struct shim *s, char **argv);

/* status.c */
/* Open the process dir and create exitStatus.reserve with its bytes
 * written (before the runtime runs: no space fails the start, cleanly). */
int shim_status_reserve (struct shim *s, struct ctrd_error **err);
/* Write exitStatus (s->exit_status) into the reserved block and rename it;
 * when that fails, keep it pending and send "exit <status>" on the exit FIFO. */
void shim_status_write (struct shim *s);
bool shim_status_pending (const struct shim *s);
/* The shim would exit with code but the status is pending: retry on a
 * backoff timer (wtimer); s->done once written (or the dir removed). */
void shim_status_hold (struct shim *s, int code);
/* The hold's timer fired: try again. */
void shim_status_retry (struct shim *s);
/* Close the fds; remove an unused reserve. */
void shim_status_close (struct shim *s);

/* io.c */
/* Open the stdio FIFOs and create pipes/console socket; fills child_fds. */
int shim_io_setup (struct shim *s, struct ctrd_error **err);
/* After the runtime was started: close the shim's copies of the child's ends. */
void shim_io_after_start (struct shim *s);
/* Console master received, or no terminal. */
bool shim_io_have_master (struct shim *s);
/* True when the stdout/stderr relays are finished. */
bool shim_io_outputs_done (struct shim *s);
/* Drain timer: give up relays held open by background processes. */
void shim_io_drain_tick (struct shim *s, bool grace_over, bool stalled);
void shim_io_close_stdin (struct shim *s);
void shim_io_resize (struct shim *s, unsigned w, unsigned h);
void shim_io_close_all (struct shim *s);
/* io.c → main.c: a relay moved data or ended, or the master arrived. */
void shim_on_io_progress (struct shim *s);

#endif
