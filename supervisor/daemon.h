/* The daemon's shared context: what every API handler needs. One instance,
 * created by main.c; handlers receive it as their userdata. */
#ifndef CTRD_SUPERVISOR_DAEMON_H
#define CTRD_SUPERVISOR_DAEMON_H

#include <stdint.h>

#include <systemd/sd-event.h>

struct api_server;
struct daemon_options;
struct event_bus;
struct metrics;
struct prom;
struct runtime;

struct daemon
{
  sd_event *loop;
  const struct daemon_options *opts;
  struct event_bus *bus;     /* events (supervisor/events.h) */
  struct runtime *rt;        /* containers (runtime/runtime.h) */
  struct api_server *server; /* gRPC (api/server.h) */
  uint32_t machine_cpus;     /* docs/daemon.md §10, read at start-up */
  uint64_t machine_memory_mib;
  size_t state_reply_hint; /* State of all: buffer for the next answer (api-state.c) */
  struct metrics *metrics; /* NULL unless --debug with --metrics-interval > 0 */
  struct prom *prom;       /* Prometheus /metrics, NULL without --metrics-address */
  int lock_fd;             /* <state-dir>/.lock, flock'ed for the daemon's life */
};

/* Register every types.API method on d->server, with d (the Events method:
 * d->bus) as the handlers' userdata (supervisor/methods.c). */
void daemon_register (struct daemon *d);

#endif
