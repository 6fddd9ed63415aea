/* docs/daemon.md §9 metrics (metrics.h). Timers keep a uniform reservoir of 1028
 * samples for percentiles (go-metrics: an exponentially decaying sample of
 * the same size) and go-metrics' EWMA rates ticked every 5 s. */
#include "supervisor/metrics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/util.h"

#define RESERVOIR 1028
#define TICK_NS (5LL * NSEC_PER_SEC)
#define GAUGE_NS (30LL * NSEC_PER_SEC)
#define NTIMERS (METRICS_EXIT + 1)

static const char *const names[METRICS_N] = {
  "container-create-time",
  "container-start-time",
  "container-delete-time",
  "container-stats-time",
  "exec-process-time",
  "exit-process-time",
  "containers",
  "event-subscribers",
  "tasks",
  "epoll-fds",
};
static const double pcts[] = { 0.5, 0.75, 0.95, 0.99, 0.999 };
static const char *const pct_keys[] = { "50", "75", "95", "99", "999" };

struct ewma
{
  double rate; /* per second */
  double alpha;
  int64_t uncounted;
  bool init;
};

struct timer
{
  int64_t count;
  int64_t sample[RESERVOIR];
  size_t nsample;
  struct ewma r[3]; /* 1, 5, 15 minutes */
};

struct graphite_send
{
  struct metrics *m;
  int fd;
  char *buf;
  size_t len, off;
  sd_event_source *src;
  int waited; /* flush intervals it has been in flight */
};

struct metrics
{
  struct metrics_config cfg;
  char *graphite;
  struct addrinfo *ai;
  int64_t start_ns;
  struct timer timers[NTIMERS];
  int64_t counters[METRICS_N];
  int64_t goroutines, fds, memory_used;
  sd_event_source *print_src, *tick_src, *gauge_src, *graphite_src;
  struct graphite_send *sending;
};

void
metrics_timer_record (struct metrics *m, enum metrics_id id, int64_t ns)
{
  if (!m || (int) id >= NTIMERS)
    return;
  struct timer *t = &m->timers[id];
  t->count++;
  if (t->nsample < RESERVOIR)
    t->sample[t->nsample++] = ns;
  else
    {
      /* algorithm R: each value seen is kept with the same chance */
      int64_t j = random () % t->count;
      if (j < RESERVOIR)
        t->sample[j] = ns;
    }
  for (int i = 0; i < 3; i++)
    t->r[i].uncounted++;
}

void
metrics_counter_add (struct metrics *m, enum metrics_id id, int64_t n)
{
  if (m && id >= NTIMERS && id < METRICS_N)
    m->counters[id] += n;
}

void
metrics_counter_set (struct metrics *m, enum metrics_id id, int64_t v)
{
  if (m && id >= NTIMERS && id < METRICS_N)
    m->counters[id] = v;
}

void
metrics_tick (struct metrics *m)
{
  if (!m)
    return;
  for (int i = 0; i < NTIMERS; i++)
    for (int k = 0; k < 3; k++)
      {
        struct ewma *e = &m->timers[i].r[k];
        double instant = (double) e->uncounted / ((double) TICK_NS / 1e9);
        e->uncounted = 0;
        if (e->init)
          e->rate += e->alpha * (instant - e->rate);
        else
          {
            e->rate = instant;
            e->init = true;
          }
      }
}

static void
gauges_refresh (struct metrics *m)
{
  FILE *f = fopen ("/proc/self/status", "re");
  char line[256];
  if (f)
    {
      long long v;
      while (fgets (line, sizeof line, f))
        if (sscanf (line, "Threads: %lld", &v) == 1)
          m->goroutines = v;
      fclose (f);
    }
  DIR *d = opendir ("/proc/self/fd");
  if (d)
    {
      int64_t n = 0;
      struct dirent *de;
      while ((de = readdir (d)))
        if (de->d_name[0] != '.')
          n++;
      closedir (d);
      m->fds = n - 1; /* not the directory's own fd */
    }
  f = fopen ("/proc/self/statm", "re");
  if (f)
    {
      long long pages;
      if (fscanf (f, "%lld", &pages) == 1)
        m->memory_used = pages * 4096;
      fclose (f);
    }
}

static void
metrics_refresh (struct metrics *m)
{
  if (m->cfg.refresh)
    m->cfg.refresh (m, m->cfg.data);
}

static int
cmp_i64 (const void *a, const void *b)
{
  int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
  return x < y ? -1 : x > y;
}

/* go-metrics' SamplePercentiles interpolation */
static double
percentile (const int64_t *v, size_t n, double p)
{
  if (n == 0)
    return 0;
  double pos = p * (double) (n + 1);
  if (pos < 1.0)
    return (double) v[0];
  if (pos >= (double) n)
    return (double) v[n - 1];
  double lower = (double) v[(size_t) pos - 1], upper = (double) v[(size_t) pos];
  return lower + (pos - floor (pos)) * (upper - lower);
}

struct snap
{
  int64_t count, min, max;
  double mean, stddev, ps[5], rate[3], mean_rate;
};

static void
timer_snapshot (struct metrics *m, int i, struct snap *s)
{
  struct timer *t = &m->timers[i];
  int64_t *v = xmalloc ((t->nsample ? t->nsample : 1) * sizeof *v);
  memcpy (v, t->sample, t->nsample * sizeof *v);
  qsort (v, t->nsample, sizeof *v, cmp_i64);
  memset (s, 0, sizeof *s);
  s->count = t->count;
  if (t->nsample)
    {
      s->min = v[0];
      s->max = v[t->nsample - 1];
      double sum = 0, sq = 0;
      for (size_t k = 0; k < t->nsample; k++)
        sum += (double) v[k];
      s->mean = sum / (double) t->nsample;
      for (size_t k = 0; k < t->nsample; k++)
        sq += ((double) v[k] - s->mean) * ((double) v[k] - s->mean);
      s->stddev = sqrt (sq / (double) t->nsample);
    }
  for (int k = 0; k < 5; k++)
    s->ps[k] = percentile (v, t->nsample, pcts[k]);
  for (int k = 0; k < 3; k++)
    s->rate[k] = t->r[k].rate;
  double el = (double) (time_now_mono_ns () - m->start_ns) / 1e9;
  s->mean_rate = el > 0 ? (double) t->count / el : 0;
  free (v);
}

struct out
{
  char *buf;
  size_t len, cap;
};

static void out_printf (struct out *o, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
out_printf (struct out *o, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *s = xvasprintf (fmt, ap);
  va_end (ap);
  size_t n = strlen (s);
  if (o->len + n + 1 > o->cap)
    {
      o->cap = (o->len + n + 1) * 2;
      o->buf = xrealloc (o->buf, o->cap);
    }
  memcpy (o->buf + o->len, s, n + 1);
  o->len += n;
}

char *
metrics_format_log (struct metrics *m, time_t now)
{
  metrics_refresh (m);
  struct tm tm;
  localtime_r (&now, &tm);
  char p[64];
  strftime (p, sizeof p, "[containerd] %Y/%m/%d %H:%M:%S ", &tm);
  struct out o = { 0 };
  out_printf (&o, "%s", "");
  for (int i = 0; i < NTIMERS; i++)
    {
      struct snap s;
      timer_snapshot (m, i, &s);
      out_printf (&o, "%stimer %s\n", p, names[i]);
      out_printf (&o, "%s  count:       %9lld\n", p, (long long) s.count);
      out_printf (&o, "%s  min:         %12.2fns\n", p, (double) s.min);
      out_printf (&o, "%s  max:         %12.2fns\n", p, (double) s.max);
      out_printf (&o, "%s  mean:        %12.2fns\n", p, s.mean);
      out_printf (&o, "%s  stddev:      %12.2fns\n", p, s.stddev);
      out_printf (&o, "%s  median:      %12.2fns\n", p, s.ps[0]);
      out_printf (&o, "%s  75%%:         %12.2fns\n", p, s.ps[1]);
      out_printf (&o, "%s  95%%:         %12.2fns\n", p, s.ps[2]);
      out_printf (&o, "%s  99%%:         %12.2fns\n", p, s.ps[3]);
      out_printf (&o, "%s  99.9%%:       %12.2fns\n", p, s.ps[4]);
      out_printf (&o, "%s  1-min rate:  %12.2f\n", p, s.rate[0]);
      out_printf (&o, "%s  5-min rate:  %12.2f\n", p, s.rate[1]);
      out_printf (&o, "%s  15-min rate: %12.2f\n", p, s.rate[2]);
      out_printf (&o, "%s  mean rate:   %12.2f\n", p, s.mean_rate);
    }
  for (int i = NTIMERS; i < METRICS_N; i++)
    {
      out_printf (&o, "%scounter %s\n", p, names[i]);
      out_printf (&o, "%s  count:       %9lld\n", p, (long long) m->counters[i]);
    }
  const char *gn[] = { "goroutines", "fds", "memory-used" };
  int64_t gv[] = { m->goroutines, m->fds, m->memory_used };
  for (int i = 0; i < 3; i++)
    {
      out_printf (&o, "%sgauge %s\n", p, gn[i]);
      out_printf (&o, "%s  value:       %9lld\n", p, (long long) gv[i]);
    }
  return o.buf;
}

char *
metrics_format_graphite (struct metrics *m, time_t now)
{
  metrics_refresh (m);
  long long t = (long long) now;
  struct out o = { 0 };
  out_printf (&o, "%s", "");
  for (int i = 0; i < NTIMERS; i++)
    {
      struct snap s;
      timer_snapshot (m, i, &s);
      const char *n = names[i];
      out_printf (&o, "metrics.%s.count %lld %lld\n", n, (long long) s.count, t);
      out_printf (&o, "metrics.%s.min %lld %lld\n", n, (long long) s.min, t);
      out_printf (&o, "metrics.%s.max %lld %lld\n", n, (long long) s.max, t);
      out_printf (&o, "metrics.%s.mean %.2f %lld\n", n, s.mean, t);
      out_printf (&o, "metrics.%s.std-dev %.2f %lld\n", n, s.stddev, t);
      for (int k = 0; k < 5; k++)
        out_printf (&o, "metrics.%s.%s-percentile %.2f %lld\n", n, pct_keys[k], s.ps[k], t);
      out_printf (&o, "metrics.%s.one-minute %.2f %lld\n", n, s.rate[0], t);
      out_printf (&o, "metrics.%s.five-minute %.2f %lld\n", n, s.rate[1], t);
      out_printf (&o, "metrics.%s.fifteen-minute %.2f %lld\n", n, s.rate[2], t);
      out_printf (&o, "metrics.%s.mean-rate %.2f %lld\n", n, s.mean_rate, t);
    }
  for (int i = NTIMERS; i < METRICS_N; i++)
    out_printf (&o, "metrics.%s.count %lld %lld\n", names[i], (long long) m->counters[i], t);
  out_printf (&o, "metrics.goroutines.value %lld %lld\n", (long long) m->goroutines, t);
  out_printf (&o, "metrics.fds.value %lld %lld\n", (long long) m->fds, t);
  out_printf (&o, "metrics.memory-used.value %lld %lld\n", (long long) m->memory_used, t);
  return o.buf;
}

int
metrics_epoll_fd_count (int epfd)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/self/fdinfo/%d", epfd);
  cleanup_file FILE *f = fopen (path, "re");
  if (!f)
    return -1;
  char line[256];
  int n = 0;
  while (fgets (line, sizeof line, f))
    if (strncmp (line, "tfd:", 4) == 0)
      n++;
  return n;
}

/* ---- timers of the loop ---- */

static int
rearm (sd_event_source *s, uint64_t usec, int64_t every_ns)
{
  /* from now, not from the missed deadline: a loop that lagged does not
   * get a burst of catch-up runs */
  uint64_t now;
  if (sd_event_now (sd_event_source_get_event (s), CLOCK_MONOTONIC, &now) >= 0 && now > usec)
    usec = now;
  sd_event_source_set_time (s, usec + (uint64_t) (every_ns / 1000));
  return sd_event_source_set_enabled (s, SD_EVENT_ON);
}

static int
on_print (sd_event_source *s, uint64_t usec, void *data)
{
  struct metrics *m = data;
  cleanup_free char *t = metrics_format_log (m, time (NULL));
  fputs (t, stdout);
  fflush (stdout);
  return rearm (s, usec, m->cfg.interval_ns);
}

static int
on_tick (sd_event_source *s, uint64_t usec, void *data)
{
  metrics_tick (data);
  return rearm (s, usec, TICK_NS);
}

static int
on_gauges (sd_event_source *s, uint64_t usec, void *data)
{
  gauges_refresh (data);
  return rearm (s, usec, GAUGE_NS);
}

static void
graphite_send_free (struct graphite_send *g)
{
  sd_event_source_disable_unref (g->src);
  if (g->fd >= 0)
    close (g->fd);
  free (g->buf);
  free (g);
}

static int
on_graphite_io (sd_event_source *s UNUSED, int fd, uint32_t ev UNUSED, void *data)
{
  struct graphite_send *g = data;
  int soerr = 0;
  socklen_t sl = sizeof soerr;
  if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr)
    {
      log_warn ("metrics: graphite %s: %s", g->m->graphite, strerror (soerr ? soerr : errno));
      goto done;
    }
  while (g->off < g->len)
    {
      ssize_t n = send (fd, g->buf + g->off, g->len - g->off, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN)
        return 0;
      if (n < 0)
        {
          log_warn ("metrics: graphite %s: %s", g->m->graphite, strerror (errno));
          goto done;
        }
      g->off += (size_t) n;
    }
done:
  g->m->sending = NULL;
  graphite_send_free (g);
  return 0;
}

static int
on_graphite (sd_event_source *s, uint64_t usec, void *data)
{
  struct metrics *m = data;
  int64_t every = m->cfg.graphite_interval_ns > 0 ? m->cfg.graphite_interval_ns : 10 * NSEC_PER_SEC;
  if (m->sending)
    {
      /* the previous push is still connecting or writing: give it one more
       * interval, then drop it (a dead graphite must not pile up sockets) */
      if (++m->sending->waited < 2)
        return rearm (s, usec, every);
      log_warn ("metrics: graphite %s: push timed out", m->graphite);
      graphite_send_free (m->sending);
      m->sending = NULL;
    }
  struct graphite_send *g = xmalloc0 (sizeof *g);
  g->m = m;
  g->buf = metrics_format_graphite (m, time (NULL));
  g->len = strlen (g->buf);
  g->fd = socket (m->ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int c = g->fd < 0 ? -1 : connect (g->fd, m->ai->ai_addr, m->ai->ai_addrlen);
  if (c < 0 && (g->fd < 0 || errno != EINPROGRESS))
    {
      log_warn ("metrics: graphite %s: %s", m->graphite, strerror (errno));
      graphite_send_free (g);
      return rearm (s, usec, every);
    }
  m->sending = g;
  if (c == 0)
    {
      /* connected at once (loopback): write now; the loop waits only
       * when the socket is full */
      on_graphite_io (NULL, g->fd, EPOLLOUT, g);
      if (!m->sending)
        return rearm (s, usec, every);
    }
  if (sd_event_add_io (m->cfg.loop, &g->src, g->fd, EPOLLOUT, on_graphite_io, g) < 0)
    {
      log_warn ("metrics: graphite %s: cannot watch the socket", m->graphite);
      m->sending = NULL;
      graphite_send_free (g);
    }
  return rearm (s, usec, every);
}

static int
metrics_resolve (struct metrics *m, const char *addr, struct ctrd_error **err)
{
  const char *colon = strrchr (addr, ':');
  if (!colon)
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "address %s: missing port in address",
                            addr);
  cleanup_free char *host = xstrndup (addr, (size_t) (colon - addr));
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      memmove (host, host + 1, strlen (host));
      host[strlen (host) - 1] = '\0';
    }
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
  int r = getaddrinfo (*host ? host : NULL, colon + 1, &hints, &m->ai);
  if (r != 0)
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "graphite address %s: %s", addr,
                            gai_strerror (r));
  m->graphite = xstrdup (addr);
  return 0;
}

int
metrics_new (const struct metrics_config *cfg, struct metrics **out, struct ctrd_error **err)
{
  struct metrics *m = xmalloc0 (sizeof *m);
  m->cfg = *cfg;
  m->cfg.graphite = NULL;
  m->start_ns = time_now_mono_ns ();
  for (int i = 0; i < NTIMERS; i++)
    {
      const double minutes[3] = { 1, 5, 15 };
      for (int k = 0; k < 3; k++)
        m->timers[i].r[k].alpha = 1.0 - exp (-5.0 / 60.0 / minutes[k]);
    }
  if (cfg->graphite && *cfg->graphite && metrics_resolve (m, cfg->graphite, err) < 0)
    {
      metrics_free (m);
      return -1;
    }
  gauges_refresh (m);
  if (cfg->loop)
    {
      sd_event *l = cfg->loop;
      int r = sd_event_add_time_relative (l, &m->tick_src, CLOCK_MONOTONIC, TICK_NS / 1000, 0,
                                          on_tick, m);
      if (r >= 0)
        r = sd_event_add_time_relative (l, &m->gauge_src, CLOCK_MONOTONIC, GAUGE_NS / 1000, 0,
                                        on_gauges, m);
      if (r >= 0 && m->graphite)
        {
          int64_t every =
              cfg->graphite_interval_ns > 0 ? cfg->graphite_interval_ns : 10 * NSEC_PER_SEC;
          r = sd_event_add_time_relative (l, &m->graphite_src, CLOCK_MONOTONIC,
                                          (uint64_t) (every / 1000), 0, on_graphite, m);
        }
      else if (r >= 0 && cfg->interval_ns > 0)
        r = sd_event_add_time_relative (l, &m->print_src, CLOCK_MONOTONIC,
                                        (uint64_t) (cfg->interval_ns / 1000), 0, on_print, m);
      if (r < 0)
        {
          metrics_free (m);
          return ctrd_error_set (err, -r, "metrics timers");
        }
    }
  *out = m;
  return 0;
}

void
metrics_free (struct metrics *m)
{
  if (!m)
    return;
  sd_event_source_disable_unref (m->print_src);
  sd_event_source_disable_unref (m->tick_src);
  sd_event_source_disable_unref (m->gauge_src);
  sd_event_source_disable_unref (m->graphite_src);
  if (m->sending)
    graphite_send_free (m->sending);
  if (m->ai)
    freeaddrinfo (m->ai);
  free (m->graphite);
  free (m);
}
