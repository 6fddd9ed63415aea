#include "supervisor/options.h"

#include <stdlib.h>
#include <string.h>

#include "lib/goflag.h"
#include "lib/timeutil.h"
#include "lib/util.h"

#define DEFAULT_STATE_DIR "/run/containerd"
#define DEFAULT_LISTEN "unix:///run/containerd/containerd.sock"

#define STR_(x) #x
#define STR(x) STR_ (x)
#define VERSION_TEXT                                                                               \
  STR (CTRD_VERSION_MAJOR) "." STR (CTRD_VERSION_MINOR) "." STR (CTRD_VERSION_PATCH)

enum
{
  N_FLAGS = 18
};

/* The one table: parser and --help. Order as in containerd 0.2's --help. */
static void
options_table (struct goflag *f, struct daemon_options *o, bool *version)
{
  const struct goflag t[N_FLAGS] = {
    { "debug", NULL, GOFLAG_BOOL, &o->debug, "enable debug output in the logs", NULL, false },
    { "log-level", NULL, GOFLAG_STRING, &o->log_level,
      "log level: debug, info, warn, error, fatal or panic (applied after --debug)", NULL, false },
    { "state-dir", NULL, GOFLAG_STRING, &o->state_dir,
      "runtime state directory (locked: one daemon per directory)", "\"" DEFAULT_STATE_DIR "\"",
      false },
    { "metrics-interval", NULL, GOFLAG_DURATION, &o->metrics_interval_ns,
      "interval for printing metrics to stdout with --debug; 0 disables them", "5m0s", false },
    { "listen", "l", GOFLAG_STRING, &o->listen,
      "address the gRPC API listens on: unix://<path>, tcp://<host:port> or fd://[<n>|*]",
      "\"" DEFAULT_LISTEN "\"", false },
    { "runtime", "r", GOFLAG_STRING, &o->runtime, "name or path of the OCI runtime binary",
      "\"runc\"", false },
    { "runtime-args", NULL, GOFLAG_STRINGS, &o->runtime_args,
      "argument passed to the runtime before its subcommand (repeatable)", NULL, false },
    { "shim", NULL, GOFLAG_STRING, &o->shim, "name or path of the shim binary",
      "\"" CTRD_SHIM_NAME "\"", false },
    { "pprof-address", NULL, GOFLAG_STRING, &o->pprof_address,
      "Go pprof HTTP address (ctrd: not implemented, accepted and ignored)", NULL, false },
    { "start-timeout", NULL, GOFLAG_DURATION, &o->start_timeout_ns,
      "how long to wait for a new process to start (create and exec)", "30s", false },
    { "retain-count", NULL, GOFLAG_INT, &o->retain_count,
      "number of events kept in events.log for replay; <= 0 keeps all", "500", false },
    { "graphite-address", NULL, GOFLAG_STRING, &o->graphite_address,
      "graphite host:port to push metrics to every 10s instead of stdout (with --debug)", NULL,
      false },
    { "metrics-address", NULL, GOFLAG_STRING, &o->metrics_address,
      "serve Prometheus metrics at /metrics on unix://<path>, tcp://<host:port> or <host:port> "
      "(off when empty)",
      NULL, false },
    { "max-connections", NULL, GOFLAG_INT, &o->max_connections,
      "most client connections open at once; more are refused with an HTTP/2 GOAWAY",
      STR (DEFAULT_MAX_CONNECTIONS), false },
    { "max-concurrent-streams", NULL, GOFLAG_INT, &o->max_concurrent_streams,
      "most calls open at once on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS)",
      STR (DEFAULT_MAX_CONCURRENT_STREAMS), false },
    { "events-queue-bytes", NULL, GOFLAG_INT, &o->events_queue_bytes,
      "bytes of events one Events subscriber may leave unread before its stream is ended "
      "with RESOURCE_EXHAUSTED",
      STR (DEFAULT_EVENTS_QUEUE_BYTES), false },
    { "help", "h", GOFLAG_BOOL, NULL, "show help", NULL, false },
    { "version", "v", GOFLAG_BOOL, version, "print the version", NULL, false },
  };
  memcpy (f, t, sizeof t);
}

static void
options_defaults (struct daemon_options *o)
{
  memset (o, 0, sizeof *o);
  o->log_level = xstrdup ("");
  o->state_dir = xstrdup (DEFAULT_STATE_DIR);
  o->metrics_interval_ns = 5 * 60 * NSEC_PER_SEC;
  o->listen = xstrdup (DEFAULT_LISTEN);
  o->runtime = xstrdup ("runc");
  o->shim = xstrdup (CTRD_SHIM_NAME);
  o->pprof_address = xstrdup ("");
  o->start_timeout_ns = 30 * NSEC_PER_SEC;
  o->retain_count = 500;
  o->graphite_address = xstrdup ("");
  o->max_connections = DEFAULT_MAX_CONNECTIONS;
  o->max_concurrent_streams = DEFAULT_MAX_CONCURRENT_STREAMS;
  o->events_queue_bytes = DEFAULT_EVENTS_QUEUE_BYTES;
  o->metrics_address = xstrdup ("");
}

static void
print_version (FILE *out)
{
  if (CTRD_REVISION[0] != '\0')
    fprintf (out, "containerd version " VERSION_TEXT " commit: %s\n", CTRD_REVISION);
  else
    fprintf (out, "containerd version " VERSION_TEXT "\n");
}

void
daemon_options_print_usage (FILE *out)
{
  struct daemon_options o;
  bool version = false;
  struct goflag f[N_FLAGS];
  options_table (f, &o, &version);
  fprintf (out,
           "NAME:\n"
           "   containerd - container supervisor (ctrd, compatible with containerd 0.2)\n\n"
           "USAGE:\n"
           "   containerd [global options] command [command options] [arguments...]\n\n"
           "VERSION:\n"
           "   " VERSION_TEXT "%s%s\n\n"
           "COMMANDS:\n"
           "     help, h  Shows this help\n\n"
           "GLOBAL OPTIONS:\n",
           CTRD_REVISION[0] ? " commit: " : "", CTRD_REVISION);
  goflag_print_usage (out, f, N_FLAGS);
}

/* "unix://run/x.sock" means a path relative to the start-up directory; the
 * daemon's children run elsewhere, so make it absolute now. */
static void
listen_make_absolute (char **listen)
{
  const char *prefix = "unix://";
  size_t pl = strlen (prefix);
  if (strncmp (*listen, prefix, pl) != 0 || (*listen)[pl] == '\0' || (*listen)[pl] == '/')
    return;
  cleanup_free char *abs = path_absolute (*listen + pl);
  char *n = xasprintf ("%s%s", prefix, abs);
  free (*listen);
  *listen = n;
}

static int
limit_check (const char *flag, long long v, long long min, long long max)
{
  if (v >= min && v <= max)
    return 0;
  fprintf (stderr, "invalid value \"%lld\" for flag -%s: must be between %lld and %lld\n", v, flag,
           min, max);
  return -1;
}

int
daemon_options_parse (int argc, char **argv, struct daemon_options *o)
{
  struct goflag f[N_FLAGS];
  bool version = false;
  cleanup_error struct ctrd_error *err = NULL;

  options_defaults (o);
  options_table (f, o, &version);
  int r = goflag_parse (f, N_FLAGS, argc, argv, 1, &err);
  if (r == GOFLAG_HELP)
    {
      daemon_options_print_usage (stdout);
      return 1;
    }
  if (r < 0)
    {
      fprintf (stderr, "%s\n\n", err->msg);
      daemon_options_print_usage (stderr);
      return -1;
    }
  if (version)
    {
      print_version (stdout);
      return 1;
    }
  /* positional arguments are ignored, except urfave/cli's help command */
  if (r < argc && (strcmp (argv[r], "help") == 0 || strcmp (argv[r], "h") == 0))
    {
      daemon_options_print_usage (stdout);
      return 1;
    }

  enum log_level lvl;
  if (o->log_level[0] != '\0' && log_parse_level (o->log_level, &lvl) < 0)
    {
      fprintf (stderr, "Unable to parse logging level: %s\n, and being defaulted to info\n",
               o->log_level);
      free (o->log_level);
      o->log_level = xstrdup ("info");
    }

  if (o->state_dir[0] != '\0' && o->state_dir[0] != '/')
    {
      char *abs = path_absolute (o->state_dir);
      free (o->state_dir);
      o->state_dir = abs;
    }
  listen_make_absolute (&o->listen);
  listen_make_absolute (&o->metrics_address);

  if (limit_check ("max-connections", o->max_connections, 1, 1000000) < 0
      || limit_check ("max-concurrent-streams", o->max_concurrent_streams, 1, 2147483647) < 0
      || limit_check ("events-queue-bytes", o->events_queue_bytes, 1024, 1ll << 32) < 0)
    return -1;

  if (o->pprof_address[0] != '\0')
    log_warn ("--pprof-address %s ignored: ctrd has no pprof server", o->pprof_address);
  return 0;
}

enum log_level
daemon_options_log_level (const struct daemon_options *o)
{
  enum log_level lvl = o->debug ? LOG_LVL_DEBUG : LOG_LVL_INFO;
  if (o->log_level && o->log_level[0] != '\0')
    log_parse_level (o->log_level, &lvl);
  return lvl;
}

void
daemon_options_free (struct daemon_options *o)
{
  struct goflag f[N_FLAGS];
  bool version;
  options_table (f, o, &version);
  goflag_free_values (f, N_FLAGS);
}
