/* The daemon's Prometheus metrics (prometheus.h): counters, the per-RPC
 * histograms, the recently exited ids behind the restart counter, and the
 * page rendered at scrape time. */
#include "config.h"

#include "supervisor/prometheus.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "api/server.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "runtime/runtime.h"
#include "runtime/statefile.h"
#include "supervisor/api-container.h"
#include "supervisor/daemon.h"
#include "supervisor/events.h"
#include "supervisor/httpd.h"
#include "supervisor/promtext.h"

#define STR_(x) #x
#define STR(x) STR_ (x)
#define VERSION_TEXT                                                                               \
  STR (CTRD_VERSION_MAJOR) "." STR (CTRD_VERSION_MINOR) "." STR (CTRD_VERSION_PATCH)

/* Upper bounds of the RPC latency buckets, seconds: 100 µs (a State of a
 * few containers) to a minute (a create under a slow runtime). */
static const double rpc_bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                     0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                     1,      2.5,     5,      10,    30,     60 };
#define N_BOUNDS ARRAY_SIZE (rpc_bounds)
#define N_CODES 17 /* OK .. UNAUTHENTICATED */
#define MAX_METHODS 32

/* grpc-go's codes.Code.String() */
static const char *const code_names[N_CODES] = {
  "OK",       "Canceled",        "Unknown",          "InvalidArgument",   "DeadlineExceeded",
  "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
  "Aborted",  "OutOfRange",      "Unimplemented",    "Internal",          "Unavailable",
  "DataLoss", "Unauthenticated",
};

struct histogram
{
  uint64_t counts[N_BOUNDS + 1];
  double sum;
};

struct rpc_method
{
  char *service, *method;             /* "/types.API/State" → "types.API", "State" */
  struct histogram *by_code[N_CODES]; /* NULL until a call ended with that code */
};

/* Recently exited container ids: a ring in exit order (the oldest is
 * forgotten when it is full) indexed by a chained hash. */
#define RECENT_BUCKETS (PROM_RECENT_EXITS * 2)
struct recent_node
{
  char *id;  /* NULL: slot free */
  int chain; /* next node in the bucket, -1 */
};

/* Ids of paused containers: a chained hash, one node per paused container. */
#define PAUSED_BUCKETS 1024
struct paused_node
{
  char *id;
  struct paused_node *next;
};

struct prom
{
  struct daemon *d;
  struct httpd *httpd;
  double start_time; /* unix seconds */
  uint64_t creates, exits, exec_exits, ooms, restarts;
  struct rpc_method methods[MAX_METHODS];
  size_t n_methods;
  struct recent_node recent[PROM_RECENT_EXITS];
  int buckets[RECENT_BUCKETS];
  size_t recent_next; /* ring slot written next */
  struct paused_node *paused[PAUSED_BUCKETS];
  bool paused_seeded; /* the freezers were read once (first scrape) */
};

/* ---- recently exited ids -------------------------------------------------- */

static unsigned
id_hash (const char *s)
{
  uint32_t h = 2166136261u; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 16777619u;
  return h % RECENT_BUCKETS;
}

static int *
recent_link (struct prom *p, const char *id)
{
  int *link = &p->buckets[id_hash (id)];
  while (*link >= 0 && strcmp (p->recent[*link].id, id) != 0)
    link = &p->recent[*link].chain;
  return link;
}

static void
recent_remove (struct prom *p, int *link)
{
  struct recent_node *n = &p->recent[*link];
  *link = n->chain;
  n->id = (free (n->id), NULL);
  n->chain = -1;
}

static void
recent_add (struct prom *p, const char *id)
{
  if (*recent_link (p, id) >= 0)
    return;
  int slot = (int) p->recent_next;
  p->recent_next = (p->recent_next + 1) % PROM_RECENT_EXITS;
  struct recent_node *n = &p->recent[slot];
  if (n->id)
    recent_remove (p, recent_link (p, n->id));
  n->id = xstrdup (id);
  unsigned b = id_hash (id);
  n->chain = p->buckets[b];
  p->buckets[b] = slot;
}

/* Forget id; true when it was there. */
static bool
recent_take (struct prom *p, const char *id)
{
  int *link = recent_link (p, id);
  if (*link < 0)
    return false;
  recent_remove (p, link);
  return true;
}

/* ---- paused containers ------------------------------------------------------ */

static struct paused_node **
paused_link (struct prom *p, const char *id)
{
  struct paused_node **l = &p->paused[id_hash (id) % PAUSED_BUCKETS];
  while (*l && strcmp ((*l)->id, id) != 0)
    l = &(*l)->next;
  return l;
}

static void
paused_set (struct prom *p, const char *id, bool paused)
{
  struct paused_node **l = paused_link (p, id);
  if (paused && *l == NULL)
    {
      struct paused_node *n = xmalloc0 (sizeof *n);
      n->id = xstrdup (id);
      *l = n;
    }
  else if (!paused && *l)
    {
      struct paused_node *n = *l;
      *l = n->next;
      free (n->id);
      free (n);
    }
}

/* Containers adopted at start-up may have been paused before: their
 * freezer is read once, at the first scrape; from then on the pause and
 * resume events keep the set (a scrape makes no syscall per container). */
static void
paused_seed (struct prom *p)
{
  struct runtime *rt = p->d->rt;
  p->paused_seeded = true;
  for (struct container *c = rt ? runtime_next (rt, NULL) : NULL; c; c = runtime_next (rt, c))
    paused_set (p, c->id, strcmp (api_container_status (c), "paused") == 0);
}

/* ---- feeds ---------------------------------------------------------------- */

void
prom_on_event (struct prom *p, const char *type, const char *id, const char *pid)
{
  if (p == NULL)
    return;
  if (strcmp (type, EVENT_START_CONTAINER) == 0)
    {
      p->creates++;
      if (recent_take (p, id))
        p->restarts++;
      paused_set (p, id, false);
    }
  else if (strcmp (type, EVENT_EXIT) == 0 && pid && strcmp (pid, "init") == 0)
    {
      p->exits++;
      recent_add (p, id);
      paused_set (p, id, false);
    }
  else if (strcmp (type, EVENT_EXIT) == 0)
    p->exec_exits++;
  else if (strcmp (type, EVENT_OOM) == 0)
    p->ooms++;
  else if (strcmp (type, EVENT_PAUSE) == 0)
    paused_set (p, id, true);
  else if (strcmp (type, EVENT_RESUME) == 0)
    paused_set (p, id, false);
}

static struct rpc_method *
method_get (struct prom *p, const char *path)
{
  const char *svc = path[0] == '/' ? path + 1 : path;
  const char *slash = strchr (svc, '/');
  if (slash == NULL)
    return NULL;
  size_t sl = (size_t) (slash - svc);
  for (size_t i = 0; i < p->n_methods; i++)
    {
      struct rpc_method *m = &p->methods[i];
      if (strlen (m->service) == sl && strncmp (m->service, svc, sl) == 0
          && strcmp (m->method, slash + 1) == 0)
        return m;
    }
  /* the server reports registered methods only: the table stays small */
  if (p->n_methods == MAX_METHODS)
    return NULL;
  struct rpc_method *m = &p->methods[p->n_methods++];
  m->service = xstrndup (svc, sl);
  m->method = xstrdup (slash + 1);
  return m;
}

void
prom_on_call (const char *path, int grpc_code, int64_t duration_ns, void *data)
{
  struct prom *p = data;
  struct rpc_method *m = method_get (p, path);
  if (m == NULL)
    return;
  int code = grpc_code >= 0 && grpc_code < N_CODES ? grpc_code : GRPC_UNKNOWN;
  if (m->by_code[code] == NULL)
    m->by_code[code] = xmalloc0 (sizeof *m->by_code[code]);
  struct histogram *h = m->by_code[code];
  double s = (double) duration_ns / 1e9;
  size_t b = 0;
  while (b < N_BOUNDS && s > rpc_bounds[b])
    b++;
  h->counts[b]++;
  h->sum += s;
}

/* ---- the page ------------------------------------------------------------- */

static void
render_containers (struct prom *p, struct promtext *t)
{
  static const char *const states[] = { "creating", "running", "paused", "stopped" };
  double n[ARRAY_SIZE (states)] = { 0 };
  double procs = 0;
  struct runtime *rt = p->d->rt;
  if (!p->paused_seeded)
    paused_seed (p);
  for (struct container *c = rt ? runtime_next (rt, NULL) : NULL; c; c = runtime_next (rt, c))
    {
      /* the API's rule (api_container_status) without reading the freezer */
      bool init_running = c->init && c->init->state == PROCESS_RUNNING && c->init->pid > 0;
      const char *s;
      if (c->state == CONTAINER_CREATING || container_state_aborting (c->state)
          || (c->state == CONTAINER_STARTING && !init_running))
        s = "creating";
      else if (container_state_stopping (c->state) || container_state_draining (c->state)
               || !init_running)
        s = "stopped";
      else
        s = *paused_link (p, c->id) ? "paused" : "running";
      for (size_t i = 0; i < ARRAY_SIZE (states); i++)
        if (strcmp (s, states[i]) == 0)
          n[i]++;
      for (struct process *pr = c->procs; pr; pr = pr->next)
        if (!process_has_status (pr))
          procs++;
    }
  promtext_family (t, "ctrd_containers", "gauge",
                   "Containers by state: creating (shim or runtime start running), running, "
                   "paused (by a pause event), stopped (init exited, cleanup running).");
  for (size_t i = 0; i < ARRAY_SIZE (states); i++)
    promtext_sample (t, "ctrd_containers", (const char *const[]){ "state", states[i], NULL }, n[i]);
  promtext_family (t, "ctrd_processes", "gauge",
                   "Processes of all containers (init and exec) not known to have exited.");
  promtext_sample (t, "ctrd_processes", NULL, procs);
}

static void
counter (struct promtext *t, const char *name, const char *help, double v)
{
  promtext_family (t, name, "counter", help);
  promtext_sample (t, name, NULL, v);
}

static void
gauge (struct promtext *t, const char *name, const char *help, double v)
{
  promtext_family (t, name, "gauge", help);
  promtext_sample (t, name, NULL, v);
}

static void
render_rpcs (struct prom *p, struct promtext *t)
{
  promtext_family (t, "ctrd_grpc_server_handling_seconds", "histogram",
                   "Duration of gRPC calls from their request headers to their status, by "
                   "service, method and status code (streams: until they end).");
  for (size_t i = 0; i < p->n_methods; i++)
    for (int code = 0; code < N_CODES; code++)
      {
        struct histogram *h = p->methods[i].by_code[code];
        if (h == NULL)
          continue;
        const char *const labels[] = {
          "grpc_service", p->methods[i].service, "grpc_method", p->methods[i].method,
          "grpc_code",    code_names[code],      NULL
        };
        promtext_histogram (t, "ctrd_grpc_server_handling_seconds", labels, rpc_bounds, h->counts,
                            N_BOUNDS, h->sum);
      }
  struct api_server *s = p->d->server;
  gauge (t, "ctrd_grpc_connections", "Open gRPC client connections.",
         s ? (double) api_server_connection_count (s) : 0);
  gauge (t, "ctrd_grpc_calls_in_flight", "gRPC calls not finished yet (including event streams).",
         s ? (double) api_server_call_count (s) : 0);
}

static double
count_open_fds (void)
{
  cleanup_dir DIR *dir = opendir ("/proc/self/fd");
  if (dir == NULL)
    return 0;
  double n = 0;
  struct dirent *e;
  while ((e = readdir (dir)))
    if (e->d_name[0] != '.')
      n++;
  return n - 1; /* the directory's own fd */
}

static void
render_process (struct prom *p, struct promtext *t)
{
  double tick = (double) sysconf (_SC_CLK_TCK);
  pid_t self = getpid ();
  double cpu = (double) (proc_stat_field (self, 14) + proc_stat_field (self, 15)) / tick;
  long long vsize = 0, rss_pages = 0;
  FILE *f = fopen ("/proc/self/statm", "re");
  if (f)
    {
      if (fscanf (f, "%lld %lld", &vsize, &rss_pages) != 2)
        vsize = rss_pages = 0;
      fclose (f);
    }
  double page = (double) sysconf (_SC_PAGESIZE);
  struct rlimit rl = { 0 };
  getrlimit (RLIMIT_NOFILE, &rl);
  counter (t, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", cpu);
  promtext_family (t, "process_open_fds", "gauge", "Number of open file descriptors.");
  promtext_sample (t, "process_open_fds", NULL, count_open_fds ());
  gauge (t, "process_max_fds", "Maximum number of open file descriptors.",
         rl.rlim_cur == RLIM_INFINITY ? -1 : (double) rl.rlim_cur);
  gauge (t, "process_virtual_memory_bytes", "Virtual memory size in bytes.", (double) vsize * page);
  gauge (t, "process_resident_memory_bytes", "Resident memory size in bytes.",
         (double) rss_pages * page);
  gauge (t, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
         p->start_time);
}

char *
prom_render (struct prom *p, size_t *len)
{
  struct promtext t = { 0 };
  promtext_family (&t, "ctrd_build_info", "gauge", "ctrd's API version (always 1).");
  promtext_sample (&t, "ctrd_build_info", (const char *const[]){ "version", VERSION_TEXT, NULL },
                   1);
  render_containers (p, &t);
  counter (&t, "ctrd_container_creates_total",
           "Containers created and started (start-container events).", (double) p->creates);
  counter (&t, "ctrd_container_exits_total", "Container exits (exit events of init).",
           (double) p->exits);
  counter (&t, "ctrd_exec_exits_total", "Exits of exec'd processes (AddProcess).",
           (double) p->exec_exits);
  counter (&t, "ctrd_container_ooms_total", "OOM events of containers' memory cgroups.",
           (double) p->ooms);
  counter (&t, "ctrd_container_restarts_total",
           "Creates of an id whose previous container exited under this daemon "
           "(how Docker's restart policies restart a container).",
           (double) p->restarts);
  struct event_bus *bus = p->d->bus;
  gauge (&t, "ctrd_events_subscribers", "Live Events streams.",
         bus ? (double) event_bus_subscriber_count (bus) : 0);
  counter (&t, "ctrd_events_subscribers_dropped_total",
           "Events streams ended RESOURCE_EXHAUSTED because they could not keep up.",
           bus ? (double) event_bus_dropped_total (bus) : 0);
  render_rpcs (p, &t);
  render_process (p, &t);
  return promtext_take (&t, len);
}

static char *
prom_render_cb (void *data, size_t *len)
{
  return prom_render (data, len);
}

/* From /proc: the boot time plus the daemon's start in clock ticks. */
static double
process_start_time (void)
{
  unsigned long long start = proc_stat_field (getpid (), 22);
  FILE *f = fopen ("/proc/stat", "re");
  char line[256];
  long long btime = -1;
  if (f)
    {
      while (fgets (line, sizeof line, f))
        if (sscanf (line, "btime %lld", &btime) == 1)
          break;
      fclose (f);
    }
  if (btime < 0 || start == 0)
    return (double) time_now_real_ns () / 1e9;
  return (double) btime + (double) start / (double) sysconf (_SC_CLK_TCK);
}

int
prom_new (struct daemon *d, const char *address, struct prom **out, struct ctrd_error **err)
{
  struct prom *p = xmalloc0 (sizeof *p);
  p->d = d;
  p->start_time = process_start_time ();
  for (size_t i = 0; i < RECENT_BUCKETS; i++)
    p->buckets[i] = -1;
  for (size_t i = 0; i < PROM_RECENT_EXITS; i++)
    p->recent[i].chain = -1;
  struct httpd_config hc = {
    .loop = d->loop,
    .address = address,
    .path = "/metrics",
    .content_type = PROMTEXT_CONTENT_TYPE,
    .render = prom_render_cb,
    .data = p,
  };
  if (httpd_new (&hc, &p->httpd, err) < 0)
    {
      prom_free (p);
      return -1;
    }
  *out = p;
  return 0;
}

void
prom_free (struct prom *p)
{
  if (p == NULL)
    return;
  httpd_free (p->httpd);
  for (size_t i = 0; i < p->n_methods; i++)
    {
      free (p->methods[i].service);
      free (p->methods[i].method);
      for (int c = 0; c < N_CODES; c++)
        free (p->methods[i].by_code[c]);
    }
  for (size_t i = 0; i < PROM_RECENT_EXITS; i++)
    free (p->recent[i].id);
  for (size_t i = 0; i < PAUSED_BUCKETS; i++)
    while (p->paused[i])
      {
        struct paused_node *n = p->paused[i];
        p->paused[i] = n->next;
        free (n->id);
        free (n);
      }
  free (p);
}
