/* The daemon↔shim protocol: every name both sides use, in one place
 * (docs/state-directory.md "The shim", "The control FIFO", "The start-up
 * handshake"). libc only: the shim includes it. */
#ifndef CTRD_LIB_SHIM_PROTO_H
#define CTRD_LIB_SHIM_PROTO_H

/* Files of a process directory <state-dir>/<id>/<process-id>, the shim's
 * cwd (relative names). Writers: see docs/state-directory.md "Who writes
 * what". */
#define SHIM_FILE_PROCESS "process.json"   /* daemon; the shim, `<rt> exec --process` */
#define SHIM_FILE_EXIT_FIFO "exit"         /* FIFO: shim holds the only writer; HUP = gone */
#define SHIM_FILE_CONTROL_FIFO "control"   /* FIFO: control messages, daemon → shim */
#define SHIM_FILE_PID "pid"                /* the runtime (--pid-file): host pid, no newline */
#define SHIM_FILE_STARTTIME "starttime"    /* daemon: /proc/<pid>/stat field 22 */
#define SHIM_FILE_SHIM_PID "shim.pid"      /* daemon: the shim's pid */
#define SHIM_FILE_EXIT_STATUS "exitStatus" /* shim: 0–255, atomically */
#define SHIM_FILE_EXIT_STATUS_RESERVE "exitStatus.reserve" /* shim: renamed to exitStatus */
#define SHIM_FILE_SHIM_LOG "shim-log.json" /* shim: {"level":…,"msg":…} objects */
#define SHIM_FILE_RUNTIME_LOG "log.json"   /* the runtime (--log … --log-format json) */

/* Start-up handshake: the daemon names in this variable the fd of a pipe's
 * write end; once the runtime's create/exec/restore is over the shim
 * writes one line and closes it: SHIM_SYNC_OK "<pid>\n", or SHIM_SYNC_ERROR
 * followed by SHIM_SYNC_RUNTIME_ERROR or SHIM_SYNC_SHIM_ERROR and the
 * message. EOF without a line: the shim died. Without the variable the shim
 * behaves as containerd 0.2's. */
#define SHIM_SYNC_ENV "CTRD_SHIM_SYNC_FD"
#define SHIM_SYNC_OK "ok "
#define SHIM_SYNC_ERROR "error "
#define SHIM_SYNC_RUNTIME_ERROR "oci runtime error: "
#define SHIM_SYNC_SHIM_ERROR "shim error: "

/* The one line the shim may write into the exit FIFO, when exitStatus
 * cannot be written: SHIM_EXIT_LINE "<status>\n" (shorter than PIPE_BUF, so
 * written whole or not at all). */
#define SHIM_EXIT_LINE "exit "

/* While the daemon's `<runtime> start` of an init runs, the daemon holds
 * flock(LOCK_EX) on the init's process directory; the shim takes the same
 * lock (blocking) before its `<runtime> delete`. A container that exits at
 * once is then not deleted under the start: runc's start removes exec.fifo
 * after the container has read it, and a delete in between failed the start
 * of a container that ran (Docker's restart manager gave up on it). The
 * daemon never waits for it (LOCK_NB: a shim that holds it is deleting an
 * init that died before its start); its death releases it. */
#define SHIM_LOCK_START_DIR "." /* relative to the process directory */

/* An init's `<runtime> delete` takes turns with those of the other shims:
 * the shim first holds flock(LOCK_EX) on one of ncpu slot files of the
 * state directory (created by the shims, empty, never removed; a name with
 * a dot is never a container), so that a mass exit does not run a thousand
 * deletes at once. The exit status and the exit event come before it. The
 * name is relative to the process directory (<state-dir>/<id>/<process>);
 * %ld is the slot, 0 … ncpu-1 (the CPUs the shim may run on). Only a shim
 * started with SHIM_SYNC_ENV takes turns. */
#define SHIM_CLEANUP_SLOT_FORMAT "../../.cleanup-slot.%ld"
#define SHIM_CLEANUP_SLOTS_MAX 64

/* Control messages: one line "<type> <a> <b>\n" in decimal on the control
 * FIFO; a line that does not parse, and an unknown type, are ignored. */
enum shim_control
{
  SHIM_CONTROL_CLOSE_STDIN = 0, /* a = b = 0: the shim closes its stdin writer */
  SHIM_CONTROL_RESIZE = 1,      /* a = width (columns), b = height (rows) */
};
#define SHIM_CONTROL_FORMAT "%d %u %u\n"
/* No message is longer (the shim drops a longer line up to its newline). */
#define SHIM_CONTROL_LINE_MAX 64

/* Exit codes of containerd-shim: 0 done (for an init: `<runtime> delete`
 * succeeded); 1 a shim error (shim-log.json says which); 2 an init's
 * `<runtime> delete` failed or could not be run, so the runtime's state may
 * still be there: the daemon runs `<runtime> delete -f` before the id is
 * free again, and logs the runtime's message from the init's log.json. */
#define SHIM_EXIT_OK 0
#define SHIM_EXIT_ERROR 1
#define SHIM_EXIT_DELETE_FAILED 2

#endif
