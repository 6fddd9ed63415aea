/* The bridge from the runtime to what reports on it: its events go to the
 * event bus (subscribers, events.log) and Prometheus, its timings to the
 * debug metrics, freed containers to the server's idle malloc_trim. */
#include <systemd/sd-event.h>

#include "api/server.h"
#include "runtime/runtime.h"
#include "supervisor/bridge.h"
#include "supervisor/daemon.h"
#include "supervisor/events.h"
#include "supervisor/metrics.h"
#include "supervisor/prometheus.h"

void
daemon_emit (void *data, const char *type, const char *id, const char *pid, uint32_t status)
{
  struct daemon *d = data;
  prom_on_event (d->prom, type, id, pid);
  event_bus_publish (d->bus, type, id, pid, status);
}

#define CONTAINER_COST (16 * 1024)

void
daemon_timing (void *data, enum runtime_timing what, int64_t ns)
{
  struct daemon *d = data;
  metrics_timer_record (d->metrics, what == RUNTIME_TIMING_EXIT ? METRICS_EXIT : METRICS_DELETE,
                        ns);
  /* the container is freed right after: its memory (~14 KiB measured with
   * bench/scale) goes back to the system when the loop is next idle */
  if (what == RUNTIME_TIMING_DELETE && d->server)
    {
      api_server_note_freed (d->server, CONTAINER_COST);
      if (runtime_empty (d->rt))
        api_server_trim_when_idle (d->server);
    }
}

/* Counters the daemon owns, read when the metrics are written. */
void
daemon_metrics_refresh (struct metrics *m, void *data)
{
  struct daemon *d = data;
  metrics_counter_set (m, METRICS_CONTAINERS, (int64_t) runtime_count (d->rt));
  metrics_counter_set (m, METRICS_EVENT_SUBSCRIBERS, (int64_t) event_bus_subscriber_count (d->bus));
  metrics_counter_set (m, METRICS_EPOLL_FDS, metrics_epoll_fd_count (sd_event_get_fd (d->loop)));
}
