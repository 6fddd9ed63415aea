/* The daemon's command line (docs/daemon.md §1), parsed with lib/goflag so that
 * the syntax and the --help text come from one table. */
#ifndef CTRD_SUPERVISOR_OPTIONS_H
#define CTRD_SUPERVISOR_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/log.h"

struct daemon_options
{
  bool debug;
  char *log_level; /* "" when not given; "info" after an unparsable value */
  char *state_dir; /* absolute */
  int64_t metrics_interval_ns;
  char *listen; /* "proto://address"; a unix:// path is absolute */
  char *runtime;
  char **runtime_args; /* NULL-terminated, NULL when none */
  char *shim;
  char *pprof_address; /* accepted, ignored (warned) */
  int64_t start_timeout_ns;
  long long retain_count;
  char *graphite_address;           /* accepted, ignored (warned) */
  long long max_connections;        /* 1..1000000 */
  long long max_concurrent_streams; /* per connection, 1..2^31-1 */
  long long events_queue_bytes;     /* per Events subscriber, 1 KiB..4 GiB */
  char *metrics_address;            /* Prometheus /metrics listener, "" = off */
};

/* Defaults of the limits (containerd(8), api-server.md "Limits"; the same as
 * api/server.h's). */
#define DEFAULT_MAX_CONNECTIONS 256
#define DEFAULT_MAX_CONCURRENT_STREAMS 1024
#define DEFAULT_EVENTS_QUEUE_BYTES 262144

/* Parse argv (defaults from docs/daemon.md). Returns 0 to run; 1 when --help,
 * --version or the `help` command printed to stdout (exit 0); -1 on a bad
 * command line (the error and the usage went to stderr; exit 1). Relative
 * --state-dir and unix:// paths are made absolute against the current
 * directory. An unparsable --log-level prints the original's notice to
 * stderr and becomes "info". Whatever it returns, *o holds allocated values:
 * call daemon_options_free(). */
int daemon_options_parse (int argc, char **argv, struct daemon_options *o);
void daemon_options_free (struct daemon_options *o);
/* Level to log at: --debug gives debug, then --log-level (if set) wins. */
enum log_level daemon_options_log_level (const struct daemon_options *o);
/* The usage text (also printed by --help). */
void daemon_options_print_usage (FILE *out);

#endif
