/* Metrics of docs/daemon.md §9 (only with --debug and --metrics-interval > 0):
 * the original's counters, gauges and timers, printed every interval to
 * stdout in go-metrics' log layout behind Go log's "[containerd] " prefix,
 * or, with --graphite-address, pushed as graphite plaintext (prefix
 * "metrics.") every graphite interval. Driven by the daemon's loop: timer
 * sources, a non-blocking connect for graphite; nothing blocks.
 *
 * (Reconstructed by the daemon engineer after accidentally overwriting the
 * lead's first version; the API follows supervisor/tests/test-metrics.c.) */
#ifndef CTRD_SUPERVISOR_METRICS_H
#define CTRD_SUPERVISOR_METRICS_H

#include <stdint.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "lib/error.h"

enum metrics_id
{
  /* timers */
  METRICS_CREATE, /* container-create-time */
  METRICS_START,  /* container-start-time */
  METRICS_DELETE, /* container-delete-time */
  METRICS_STATS,  /* container-stats-time */
  METRICS_EXEC,   /* exec-process-time */
  METRICS_EXIT,   /* exit-process-time */
  /* counters */
  METRICS_CONTAINERS,
  METRICS_EVENT_SUBSCRIBERS,
  METRICS_TASKS,
  METRICS_EPOLL_FDS,
  METRICS_N
};

struct metrics;

struct metrics_config
{
  sd_event *loop;               /* NULL: no timers (formatting only, tests) */
  int64_t interval_ns;          /* stdout print interval (without graphite) */
  const char *graphite;         /* "host:port" or NULL */
  int64_t graphite_interval_ns; /* 0: 10 s */
  /* Called before each print/flush to set counters read from elsewhere. */
  void (*refresh) (struct metrics *m, void *data);
  void *data;
};

int metrics_new (const struct metrics_config *cfg, struct metrics **out, struct ctrd_error **err);
void metrics_free (struct metrics *m);

/* NULL m is fine everywhere (metrics off). */
void metrics_timer_record (struct metrics *m, enum metrics_id id, int64_t ns);
void metrics_counter_add (struct metrics *m, enum metrics_id id, int64_t n);
void metrics_counter_set (struct metrics *m, enum metrics_id id, int64_t v);
/* Advance the EWMA rates by one 5-second tick (the loop does this itself). */
void metrics_tick (struct metrics *m);

/* The whole registry as go-metrics' log layout / graphite lines at time
 * now (unix seconds). Caller frees. */
char *metrics_format_log (struct metrics *m, time_t now);
char *metrics_format_graphite (struct metrics *m, time_t now);

/* Number of fds registered with the epoll instance epfd (its fdinfo). */
int metrics_epoll_fd_count (int epfd);

#endif
