/* ctr --attach: stdio FIFOs in a private temp dir, copying both ways,
 * terminal raw mode and resize, waiting for the process's exit event. */
#ifndef CTRD_CTR_ATTACH_H
#define CTRD_CTR_ATTACH_H

#include <stdbool.h>

#include "ctr/ctr.h"

struct attach;

/* mkdtemp($TMPDIR/ctr-XXXXXX) (mode 0700) with FIFOs stdin, stdout, stderr,
 * opened without blocking: stdout/stderr for reading, stdin for writing. */
int attach_prepare (bool tty, struct attach **out, struct ctrd_error **err);
/* 0 stdin, 1 stdout, 2 stderr */
const char *attach_path (const struct attach *a, int which);
/* Copy stdio until process pid of container id exits (its exit event on
 * stream, subscribed before the process was created); closes the
 * process's stdin (UpdateProcess closeStdin) when ctr's stdin ends; with a
 * tty: raw mode and SIGWINCH → resize. Returns the process's exit status,
 * 129 when the connection to the daemon is lost, 128+N on signal N, or -1
 * with *err. */
int attach_wait (struct ctr_ctx *ctx, struct attach *a, void *stream, const char *id,
                 const char *pid, struct ctrd_error **err);
/* Remove the FIFOs and their dir now (our fds stay open). Once the shim has
 * opened its ends (the creating RPC returned), nothing needs the names:
 * then not even a SIGKILLed ctr leaves the dir behind. */
void attach_unlink (struct attach *a);
/* Restore the terminal, close the FIFOs and remove the temp dir. */
void attach_free (struct attach *a);

/* Read process.terminal from <bundle>/config.json. */
int attach_bundle_terminal (const char *bundle, bool *terminal, struct ctrd_error **err);

#endif
