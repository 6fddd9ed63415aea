/* containerd: the daemon (docs/daemon.md §1–§2). One sd-event loop runs
 * everything: the gRPC server, shims' exit FIFOs, runtime jobs, timers,
 * signals. SIGTERM/SIGINT stop the loop and leave containers and shims
 * running for the next daemon to adopt. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "api/listen.h"
#include "api/server.h"
#include "lib/log.h"
#include "lib/util.h"
#include "runtime/runtime.h"
#include "runtime/statefile.h"
#include "supervisor/bridge.h"
#include "supervisor/daemon.h"
#include "supervisor/events.h"
#include "supervisor/reported.h"
#include "supervisor/journal.h"
#include "supervisor/machine.h"
#include "supervisor/metrics.h"
#include "supervisor/options.h"
#include "supervisor/prometheus.h"

static int
daemon_on_stop (sd_event_source *s UNUSED, const struct signalfd_siginfo *si, void *data)
{
  struct daemon *d = data;
  log_info ("stopping containerd after receiving %s", strsignal ((int) si->ssi_signo));
  sd_event_exit (d->loop, 0);
  return 0;
}

static int
daemon_on_usr1 (sd_event_source *s UNUSED, const struct signalfd_siginfo *si UNUSED, void *data)
{
  struct daemon *d = data;
  log_info ("containers: %zu, api connections: %zu, calls in flight: %zu", runtime_count (d->rt),
            api_server_connection_count (d->server), api_server_call_count (d->server));
  return 0;
}

/* docs/daemon.md §2 step 2: a soft RLIMIT_NOFILE ≤ 1024 is raised to the hard limit. */
static int
daemon_raise_nofile (struct ctrd_error **err)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) < 0)
    return ctrd_error_set (err, errno, "getrlimit");
  if (rl.rlim_cur > 1024)
    return 0;
  log_warn ("containerd: low RLIMIT_NOFILE changing to max (current %llu, max %llu)",
            (unsigned long long) rl.rlim_cur, (unsigned long long) rl.rlim_max);
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &rl) < 0)
    return ctrd_error_set (err, errno, "setrlimit");
  return 0;
}

/* docs/daemon.md §2 step 7: exactly one listener for "proto://address". */
static int
daemon_listen (struct api_server *server, const char *spec, struct ctrd_error **err)
{
  const char *sep = strstr (spec, "://");
  if (!sep)
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT,
                            "bad listen address format %s, expected proto://address", spec);
  cleanup_free char *proto = xstrndup (spec, (size_t) (sep - spec));
  const char *addr = sep + 3;
  if (strcmp (proto, "unix") == 0 || strcmp (proto, "tcp") == 0)
    {
      int fd = api_listen_address (spec, err);
      if (fd < 0)
        return strcmp (proto, "unix") == 0
                   ? ctrd_error_wrap (err, "can't create unix socket %s", addr)
                   : -1;
      return api_server_add_listener (server, fd, err);
    }
  if (strcmp (proto, "fd") == 0)
    {
      int n = sd_listen_fds (1);
      if (n < 0)
        return ctrd_error_set (err, -n, "sd_listen_fds");
      long long want = -1;
      if (*addr && strcmp (addr, "*") != 0
          && (parse_int64 (addr, &want, false) < 0 || want < SD_LISTEN_FDS_START))
        return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "invalid fd address %s", addr);
      int used = 0;
      for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++)
        {
          if (want >= 0 && fd != want)
            {
              close (fd);
              continue;
            }
          fd_set_cloexec (fd, true);
          fd_set_nonblock (fd, true);
          if (api_server_add_listener (server, fd, err) < 0)
            return -1;
          used++;
        }
      if (used == 0)
        return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "incorrect number of listeners");
      return 0;
    }
  return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "invalid protocol format: \"%s\"", proto);
}

static int
daemon_run (struct daemon *d, const struct daemon_options *o, struct ctrd_error **err)
{
  if (daemon_raise_nofile (err) < 0)
    return -1;
  /* Signals are taken from the loop (signalfd); children through sd-event
   * child sources, which need SIGCHLD blocked. */
  sigset_t ss;
  sigemptyset (&ss);
  sigaddset (&ss, SIGTERM);
  sigaddset (&ss, SIGINT);
  sigaddset (&ss, SIGCHLD);
  sigaddset (&ss, SIGUSR1);
  sigprocmask (SIG_BLOCK, &ss, NULL);
  signal (SIGPIPE, SIG_IGN);

  /* One daemon per state dir (ctrd): a second one would adopt every
   * container and report every exit twice. Taken before events.log, the
   * socket or any container is touched; held (never closed) until exit. */
  pid_t holder;
  d->lock_fd = statefile_lock_root (o->state_dir, &holder, err);
  if (d->lock_fd < 0)
    return -1;
  int r = sd_event_new (&d->loop);
  if (r < 0)
    return ctrd_error_set (err, -r, "sd_event_new");
  if (sd_event_add_signal (d->loop, NULL, SIGTERM, daemon_on_stop, d) < 0
      || sd_event_add_signal (d->loop, NULL, SIGINT, daemon_on_stop, d) < 0
      || sd_event_add_signal (d->loop, NULL, SIGUSR1, daemon_on_usr1, d) < 0)
    return ctrd_error_set (err, EIO, "signal sources");
  machine_info_read (&d->machine_cpus, &d->machine_memory_mib);
  if (event_bus_open (o->state_dir, o->retain_count, &d->bus, err) < 0)
    return -1;
  struct runtime_config cfg = {
    .loop = d->loop,
    .state_dir = o->state_dir,
    .shim = o->shim,
    .runtime = o->runtime,
    .runtime_args = o->runtime_args,
    .start_timeout_ns = o->start_timeout_ns,
    .emit = daemon_emit,
    .emit_data = d,
    .timing = daemon_timing,
  };
  d->rt = runtime_new (&cfg);
  /* docs/daemon.md §9: only with --debug and --metrics-interval > 0 */
  if (o->debug && o->metrics_interval_ns > 0)
    {
      struct metrics_config mc = {
        .loop = d->loop,
        .interval_ns = o->metrics_interval_ns,
        .graphite = o->graphite_address,
        .refresh = daemon_metrics_refresh,
        .data = d,
      };
      if (metrics_new (&mc, &d->metrics, err) < 0)
        return -1;
    }
  if (api_server_new (d->loop, &d->server, err) < 0)
    return -1;
  api_server_set_limits (d->server,
                         &(struct api_limits){
                             .max_connections = (size_t) o->max_connections,
                             .max_concurrent_streams = (uint32_t) o->max_concurrent_streams,
                             .stream_queue_bytes = (size_t) o->events_queue_bytes,
                         });
  daemon_register (d);
  if (daemon_listen (d->server, o->listen, err) < 0)
    return -1;
  /* docs/daemon.md "Prometheus metrics": before restore, so exits found there are counted */
  if (o->metrics_address[0] != '\0')
    {
      if (prom_new (d, o->metrics_address, &d->prom, err) < 0)
        return -1;
      api_server_set_observer (d->server, prom_on_call, d->prom);
    }
  /* Adopt what the previous daemon left; exits that happened meanwhile are
   * published now, before any client can subscribe live. Exits the event
   * log already holds are not published again (reported.h). */
  struct reported *rep = reported_build (d->bus);
  runtime_set_exit_reported (d->rt, reported_exit, rep);
  runtime_restore (d->rt);
  reported_free (rep);
  /* Unset NOTIFY_SOCKET: shims and runtimes inherit our environment, and
   * runc would take it for its own notify socket. */
  sd_notify (1, "READY=1");
  log_info ("containerd: serving on %s (state %s)", o->listen, o->state_dir);
  r = sd_event_loop (d->loop);
  if (r < 0)
    return ctrd_error_set (err, -r, "event loop");
  return 0;
}

/* glibc's per-thread cache keeps up to 7 freed chunks of every small size
 * out of the heap's free lists, where malloc_trim cannot return their
 * pages: after 600 containers came and went, 600 KiB stayed resident
 * (150 KiB without the cache; issue 13: memory that comes back). Its only
 * switch is a tunable read at program start, so the daemon execs itself
 * once with glibc.malloc.tcache_count=0 added, unless GLIBC_TUNABLES already
 * sets the cache. Children get the environment as it was. */
#define TUNED_ENV "CTRD_MALLOC_TUNED" /* the original GLIBC_TUNABLES, or "" */
#define TCACHE_OFF "glibc.malloc.tcache_count=0"

static void
malloc_tune (char **argv)
{
  const char *orig = getenv (TUNED_ENV);
  if (orig)
    {
      /* the second start: the tunables are read; restore what the
       * children inherit */
      if (*orig)
        setenv ("GLIBC_TUNABLES", orig, 1);
      else
        unsetenv ("GLIBC_TUNABLES");
      unsetenv (TUNED_ENV);
      return;
    }
  const char *t = getenv ("GLIBC_TUNABLES");
  if (t && strstr (t, "glibc.malloc.tcache_count"))
    return; /* set by whoever started us */
  cleanup_free char *tuned = t && *t ? xasprintf ("%s:%s", t, TCACHE_OFF) : xstrdup (TCACHE_OFF);
  if (setenv (TUNED_ENV, t ? t : "", 1) < 0 || setenv ("GLIBC_TUNABLES", tuned, 1) < 0)
    return;
  execv ("/proc/self/exe", argv);
  /* no /proc: run on with the cache */
  if (t)
    setenv ("GLIBC_TUNABLES", t, 1);
  else
    unsetenv ("GLIBC_TUNABLES");
  unsetenv (TUNED_ENV);
}

int
main (int argc, char **argv)
{
  malloc_tune (argv);
  struct daemon_options o;
  int pr = daemon_options_parse (argc, argv, &o);
  if (pr != 0)
    {
      daemon_options_free (&o);
      return pr > 0 ? 0 : 1;
    }
  log_set_level (daemon_options_log_level (&o));
  journal_log_setup ();
  if (o.pprof_address && *o.pprof_address)
    log_warn ("--pprof-address is accepted for compatibility and ignored");
  struct daemon d = { .opts = &o, .lock_fd = -1 };
  cleanup_error struct ctrd_error *err = NULL;
  int rc = daemon_run (&d, &o, &err);
  if (rc < 0)
    log_msg (LOG_LVL_FATAL, NULL, "%s", err->msg);
  /* Shims and containers keep running: the model is freed, not the state. */
  api_server_free (d.server); /* removes the observer before prom goes */
  runtime_free (d.rt);
  metrics_free (d.metrics);
  prom_free (d.prom);
  event_bus_free (d.bus);
  sd_event_unref (d.loop);
  daemon_options_free (&o);
  return rc < 0 ? 1 : 0;
}
