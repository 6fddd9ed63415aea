/* Shared by pause.c, update.c and checkpoint.c only. */
#ifndef CTRD_RUNTIME_OPS_INTERNAL_H
#define CTRD_RUNTIME_OPS_INTERNAL_H

#include <stddef.h>

#include "runtime/ops.h"

enum ops_kind
{
  OPS_PAUSE,
  OPS_RESUME,
  OPS_UPDATE,
  OPS_CHECKPOINT,
};

/* c can take an operation: its init is running and no other operation is
 * in flight (FAILED_PRECONDITION / ABORTED otherwise). */
int ops_check_container (const struct container *c, struct ctrd_error **err);
/* Run `<rt> <g> <sub...>` as c's operation (c must pass
 * ops_check_container). log_hint: appended to a failure's message (the CRIU
 * log path), or NULL. */
int ops_run (struct container *c, enum ops_kind kind, const char *const *sub,
             const char *stdin_data, size_t stdin_len, const char *log_hint, ops_done_fn done,
             void *data, struct ctrd_error **err);

#endif
