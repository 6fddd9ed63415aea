/* The runtime's callbacks, wired by main.c (supervisor/bridge.c); data is
 * the struct daemon *. */
#ifndef CTRD_SUPERVISOR_BRIDGE_H
#define CTRD_SUPERVISOR_BRIDGE_H

#include <stdint.h>

#include "runtime/runtime.h"
#include "supervisor/metrics.h"

/* runtime_config.emit: an event to the bus and to Prometheus. */
void daemon_emit (void *data, const char *type, const char *id, const char *pid, uint32_t status);
/* runtime_config.timing: exit and delete latencies to the debug metrics;
 * a freed container counts toward the server's idle trim. */
void daemon_timing (void *data, enum runtime_timing what, int64_t ns);
/* metrics_config.refresh: the counters the daemon owns. */
void daemon_metrics_refresh (struct metrics *m, void *data);

#endif
