/* The daemon's Prometheus metrics (docs/daemon.md "Prometheus metrics"): --metrics-address serves
 * them at /metrics (text format 0.0.4, supervisor/httpd.h) from the loop.
 * Counters are fed by the daemon's event emitter and the gRPC server's call
 * observer, each O(1); gauges (containers by state, processes, the
 * process_* family) are read when scraped. Independent of the go-metrics /
 * graphite output of metrics.h, which stays as it was. */
#ifndef CTRD_SUPERVISOR_PROMETHEUS_H
#define CTRD_SUPERVISOR_PROMETHEUS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

struct daemon;
struct prom;

/* Serve d's metrics on address (httpd.h's forms) from d->loop. d->rt,
 * d->bus and d->server are read at scrape time (any may be NULL). */
int prom_new (struct daemon *d, const char *address, struct prom **out, struct ctrd_error **err);
void prom_free (struct prom *p);

/* The runtime's events (daemon_emit): start-container counts a create,
 * and a restart when the id's previous container exited in this daemon's
 * life (how Docker's restart policies restart one; the newest
 * PROM_RECENT_EXITS exited ids are remembered); exit counts container (pid
 * "init") or exec exits; oom counts OOMs; pause and resume keep the set of
 * paused containers (seeded from the freezers at the first scrape, for
 * containers adopted at start-up). NULL p is fine. */
#define PROM_RECENT_EXITS 4096
void prom_on_event (struct prom *p, const char *type, const char *id, const char *pid);
/* api_call_observer_fn for api_server_set_observer (data = the prom). */
void prom_on_call (const char *path, int grpc_code, int64_t duration_ns, void *data);

/* The whole page (what GET /metrics answers); caller frees. */
char *prom_render (struct prom *p, size_t *len);

#endif
