/* Harness of the ops integration tests (ops-harness.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/api.pb-c.h"
#include "api/client.h"
#include "lib/pb-cleanup.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "ops-harness.h"

/* ---- TAP ---- */

int tap_n, tap_failed;

bool __attribute__ ((format (printf, 2, 3))) ok (bool cond, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  printf ("%sok %d - ", cond ? "" : "not ", ++tap_n);
  vprintf (fmt, ap);
  printf ("\n");
  va_end (ap);
  fflush (stdout);
  if (!cond)
    tap_failed++;
  return cond;
}

bool
okd (bool cond, const struct ctrd_error *err, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  printf ("%sok %d - ", cond ? "" : "not ", ++tap_n);
  vprintf (fmt, ap);
  printf ("\n");
  va_end (ap);
  if (!cond)
    {
      tap_failed++;
      if (err)
        printf ("# %s\n", err->msg);
    }
  fflush (stdout);
  return cond;
}

void __attribute__ ((format (printf, 1, 2))) diag (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  printf ("# ");
  vprintf (fmt, ap);
  printf ("\n");
  va_end (ap);
  fflush (stdout);
}

void
skip (const char *name, const char *reason)
{
  printf ("ok %d - %s # SKIP %s\n", ++tap_n, name, reason);
  fflush (stdout);
}

bool
in_ci (void)
{
  const char *ci = getenv ("CI");
  return ci && strcmp (ci, "true") == 0;
}

void
skip_expected (const char *name, const char *reason)
{
  if (!in_ci ())
    {
      skip (name, reason);
      return;
    }
  printf ("not ok %d - %s: %s (CI: expected part missing)\n", ++tap_n, name, reason);
  tap_failed++;
  fflush (stdout);
}

/* The whole test cannot run: "1..0 # SKIP", or under CI=true a failing line. */
static void
skip_all_expected (const char *reason)
{
  if (in_ci ())
    printf ("1..1\nnot ok 1 - %s (CI: expected part missing)\n", reason);
  else
    printf ("1..0 # SKIP %s\n", reason);
  fflush (stdout);
}

/* ---- environment ---- */

const char *top_src, *top_build;
char *tmp, *sock_path, *log_path;
static pid_t daemon_pid;
struct api_client *cli;
static struct api_stream *events;

int
run (char *const argv[])
{
  pid_t p = fork ();
  if (p < 0)
    return -1;
  if (p == 0)
    {
      int null = open ("/dev/null", O_WRONLY);
      dup2 (null, 1);
      dup2 (null, 2);
      execvp (argv[0], argv);
      _exit (127);
    }
  int st;
  if (waitpid (p, &st, 0) < 0)
    return -1;
  return WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
}

static void
print_log_tail (void)
{
  cleanup_free char *s = NULL;
  size_t len;
  if (read_file (log_path, &s, &len, 16 << 20, NULL) < 0)
    return;
  const char *start = len > 3000 ? s + len - 3000 : s;
  for (char *line = strtok ((char *) start, "\n"); line; line = strtok (NULL, "\n"))
    diag ("daemon: %s", line);
}

/* Start containerd; readiness is its READY=1 on NOTIFY_SOCKET. */
static int
daemon_start (void)
{
  cleanup_free char *notify = path_join (tmp, "notify.sock");
  cleanup_close int ns = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf (sa.sun_path, sizeof sa.sun_path, "%s", notify);
  if (ns < 0 || bind (ns, (struct sockaddr *) &sa, sizeof sa) < 0)
    return -1;
  struct timeval tv = { .tv_sec = 30 };
  setsockopt (ns, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  cleanup_free char *bin = path_join (top_build, "supervisor/containerd");
  cleanup_free char *shim = path_join (top_build, "shim/containerd-shim");
  cleanup_free char *state = path_join (tmp, "state");
  cleanup_free char *listen = xasprintf ("unix://%s", sock_path);
  daemon_pid = fork ();
  if (daemon_pid < 0)
    return -1;
  if (daemon_pid == 0)
    {
      setsid ();
      int fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2 (fd, 1);
      dup2 (fd, 2);
      setenv ("NOTIFY_SOCKET", notify, 1);
      char *const argv[] = { bin,    (char *) "--state-dir", state, (char *) "--listen",
                             listen, (char *) "--shim",      shim,  (char *) "--debug",
                             NULL };
      execv (bin, argv);
      _exit (127);
    }
  char buf[4096];
  for (;;)
    {
      ssize_t n = recv (ns, buf, sizeof buf - 1, 0);
      if (n < 0)
        {
          diag ("no READY=1 from containerd: %s", strerror (errno));
          return -1;
        }
      buf[n] = '\0';
      if (strstr (buf, "READY=1"))
        return 0;
    }
}

int
rpc (const char *method, const void *req, const ProtobufCMessageDescriptor *rd, void *resp_out,
     struct ctrd_error **err)
{
  cleanup_free char *path = xasprintf ("/types.API/%s", method);
  ProtobufCMessage *resp = NULL;
  int r = api_client_call (cli, path, req, rd, &resp, CALL_TIMEOUT, err);
  if (r == 0)
    {
      if (resp_out)
        *(ProtobufCMessage **) resp_out = resp;
      else
        protobuf_c_message_free_unpacked (resp, NULL);
    }
  return r;
}

/* A failing call's code and message are as expected. */
bool
expect_error (struct ctrd_error *err, int code, const char *msg_part)
{
  if (!err)
    {
      diag ("call succeeded, expected code %d", code);
      return false;
    }
  bool good = err->grpc_code == code && (!msg_part || strstr (err->msg, msg_part));
  if (!good)
    diag ("got code %d message \"%s\"; want code %d containing \"%s\"", err->grpc_code, err->msg,
          code, msg_part ? msg_part : "");
  return good;
}

/* ---- events ---- */

static struct seen_event seen[256];
static size_t n_seen;

/* The first unused event of type for id (and pid unless NULL) within
 * timeout_ms: earlier arrivals are kept, so nothing is missed. */
struct seen_event *
wait_event (const char *type, const char *id, const char *pid, int timeout_ms)
{
  int64_t deadline = time_now_mono_ns () + timeout_ms * MSEC;
  size_t i = 0;
  for (;;)
    {
      for (; i < n_seen; i++)
        if (!seen[i].used && !strcmp (seen[i].type, type) && !strcmp (seen[i].id, id)
            && (!pid || !strcmp (seen[i].pid, pid)))
          {
            seen[i].used = true;
            return &seen[i];
          }
      int64_t left = deadline - time_now_mono_ns ();
      if (left <= 0)
        return NULL;
      cleanup_pb ProtobufCMessage *m = NULL;
      cleanup_error struct ctrd_error *err = NULL;
      int r = api_stream_next (events, &m, left, &err);
      if (r != API_STREAM_MSG)
        {
          if (r == API_STREAM_ERROR)
            diag ("events stream: %s", err->msg);
          if (r != API_STREAM_TIMEOUT)
            return NULL;
          continue;
        }
      Types__Event *e = (Types__Event *) m;
      if (n_seen < ARRAY_SIZE (seen))
        seen[n_seen++] = (struct seen_event){ xstrdup (e->type), xstrdup (e->id), xstrdup (e->pid),
                                              e->status, false };
    }
}

/* ---- containers ---- */

static char **created_ids; /* NULL-terminated, for cleanup */
static size_t n_created;

char *
make_bundle (const char *name, const char *script)
{
  char *dir = xasprintf ("%s/bundles/%s", tmp, name);
  cleanup_free char *mk = path_join (top_src, "tests/make-bundle.sh");
  char *const argv[] = {
    (char *) "sh", mk, dir, (char *) "sh", (char *) "-c", (char *) script, NULL
  };
  if (run (argv) != 0)
    {
      diag ("make-bundle.sh %s failed", dir);
      free (dir);
      return NULL;
    }
  return dir;
}

/* CreateContainer; returns the init's host pid, or 0 with err. */
uint32_t
create (const char *id, const char *bundle, const char *checkpoint, struct ctrd_error **err)
{
  return create_with_runtime (id, bundle, checkpoint, NULL, err);
}

uint32_t
create_with_runtime (const char *id, const char *bundle, const char *checkpoint,
                     const char *runtime, struct ctrd_error **err)
{
  Types__CreateContainerRequest req = TYPES__CREATE_CONTAINER_REQUEST__INIT;
  req.id = (char *) id;
  req.bundlepath = (char *) bundle;
  if (checkpoint)
    req.checkpoint = (char *) checkpoint;
  if (runtime)
    req.runtime = (char *) runtime;
  cleanup_pb Types__CreateContainerResponse *resp = NULL;
  if (rpc ("CreateContainer", &req, &types__create_container_response__descriptor, &resp, err) < 0)
    return 0;
  uint32_t pid = 0;
  if (resp->container && resp->container->n_processes > 0)
    pid = resp->container->processes[0]->systempid;
  bool known = false;
  for (size_t i = 0; i < n_created; i++)
    known = known || !strcmp (created_ids[i], id);
  if (!known)
    {
      strv_push (&created_ids, id);
      n_created++;
    }
  return pid;
}

char *
container_status (const char *id)
{
  Types__StateRequest req = TYPES__STATE_REQUEST__INIT;
  req.id = (char *) id;
  cleanup_pb Types__StateResponse *resp = NULL;
  cleanup_error struct ctrd_error *err = NULL;
  if (rpc ("State", &req, &types__state_response__descriptor, &resp, &err) < 0)
    return xasprintf ("error: %s", err->msg);
  return resp->n_containers == 1 ? xstrdup (resp->containers[0]->status) : xstrdup ("?");
}

int
update (const char *id, const char *status, const Types__UpdateResource *res,
        struct ctrd_error **err)
{
  Types__UpdateContainerRequest req = TYPES__UPDATE_CONTAINER_REQUEST__INIT;
  req.id = (char *) id;
  req.pid = (char *) "init";
  if (status)
    req.status = (char *) status;
  req.resources = (Types__UpdateResource *) res;
  return rpc ("UpdateContainer", &req, &types__update_container_response__descriptor, NULL, err);
}

/* Value of <rootfs>/cnt (the counter the test containers write), -1 if none. */
long
counter_read (const char *rootfs)
{
  cleanup_free char *p = path_join (rootfs, "cnt");
  cleanup_free char *s = NULL;
  if (read_file (p, &s, NULL, 4096, NULL) < 0)
    return -1;
  char *end;
  long v = strtol (s, &end, 10);
  return end == s ? -1 : v;
}

void
counter_watch_open (struct counter_watch *w, const char *rootfs)
{
  w->fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  w->rootfs = xstrdup (rootfs);
  /* the counter is renamed into place (test-ops.c's COUNTER) */
  inotify_add_watch (w->fd, rootfs, IN_MOVED_TO);
}

void
counter_watch_close (struct counter_watch *w)
{
  close (w->fd);
  free (w->rootfs);
}

/* Drop queued notifications (writes that happened before now). */
void
counter_watch_drain (struct counter_watch *w)
{
  char buf[4096];
  while (read (w->fd, buf, sizeof buf) > 0)
    ;
}

/* Wait until the counter is ≥ min (a write of `cnt` after now is what
 * wakes us); returns the value, or -1 after timeout_ms without it. */
long
counter_wait (struct counter_watch *w, long min, int timeout_ms)
{
  int64_t deadline = time_now_mono_ns () + timeout_ms * MSEC;
  long v = counter_read (w->rootfs);
  while (v < min)
    {
      int64_t left = deadline - time_now_mono_ns ();
      if (left <= 0)
        return -1;
      struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
      if (poll (&pfd, 1, (int) (left / MSEC) + 1) <= 0)
        return -1;
      counter_watch_drain (w);
      v = counter_read (w->rootfs);
    }
  return v;
}

/* True when the counter file is not written for quiet_ms. */
bool
counter_quiet (struct counter_watch *w, int quiet_ms)
{
  struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
  return poll (&pfd, 1, quiet_ms) == 0;
}

char *
cgroup_file (uint32_t pid, const char *controller, const char *file)
{
  cleanup_free char *p = xasprintf ("/proc/%u/cgroup", pid);
  cleanup_free char *s = NULL;
  if (read_file (p, &s, NULL, 1 << 20, NULL) < 0)
    return NULL;
  for (char *sp = NULL, *line = strtok_r (s, "\n", &sp); line; line = strtok_r (NULL, "\n", &sp))
    {
      char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      if (!c2)
        continue;
      *c2 = '\0';
      for (char *tp = NULL, *t = strtok_r (c1 + 1, ",", &tp); t; t = strtok_r (NULL, ",", &tp))
        if (!strcmp (t, controller))
          return xasprintf ("/sys/fs/cgroup/%s%s/%s", controller, c2 + 1, file);
    }
  return NULL;
}

char *
cgroup_read (uint32_t pid, const char *controller, const char *file)
{
  cleanup_free char *p = cgroup_file (pid, controller, file);
  char *s = NULL;
  if (!p || read_file (p, &s, NULL, 1 << 20, NULL) < 0)
    return NULL;
  s[strcspn (s, "\n")] = '\0';
  return s;
}

bool
cgroup_is (uint32_t pid, const char *controller, const char *file, const char *want)
{
  cleanup_free char *v = cgroup_read (pid, controller, file);
  if (!v || strcmp (v, want) != 0)
    {
      diag ("%s/%s = \"%s\", want \"%s\"", controller, file, v ? v : "(unreadable)", want);
      return false;
    }
  return true;
}

/* The next rename of `cnt` into place (IN_MOVED_TO): its value, or -1. */
long
counter_next (struct counter_watch *w, int timeout_ms)
{
  struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
  if (poll (&pfd, 1, timeout_ms) <= 0)
    return -1;
  counter_watch_drain (w);
  return counter_read (w->rootfs);
}

int
harness_start (void)
{
  if (geteuid () != 0)
    {
      skip_all_expected ("needs root");
      return 1;
    }
  char *const rv[] = { (char *) "runc", (char *) "--version", NULL };
  if (run (rv) != 0)
    {
      skip_all_expected ("runc not installed");
      return 1;
    }
  top_src = path_absolute (getenv ("CTRD_TOP_SRCDIR") ? getenv ("CTRD_TOP_SRCDIR") : "..");
  top_build = path_absolute (getenv ("CTRD_TOP_BUILDDIR") ? getenv ("CTRD_TOP_BUILDDIR") : "..");
  tmp = xstrdup ("/tmp/ctrd-ops-XXXXXX");
  if (!mkdtemp (tmp))
    {
      printf ("1..0 # SKIP mkdtemp: %s\n", strerror (errno));
      return 1;
    }
  sock_path = path_join (tmp, "ctrd.sock");
  log_path = path_join (tmp, "daemon.log");
  /* a hung daemon must not hang the test suite */
  alarm (600);

  cleanup_error struct ctrd_error *err = NULL;
  if (daemon_start () < 0 || api_client_connect (sock_path, 5 * NSEC_PER_SEC, &cli, &err) < 0)
    {
      ok (false, "daemon starts and accepts connections");
      if (err)
        diag ("%s", err->msg);
      return -1;
    }
  Types__EventsRequest ereq = TYPES__EVENTS_REQUEST__INIT;
  if (api_client_stream_open (cli, "/types.API/Events", &ereq.base, &types__event__descriptor,
                              &events, &err)
      < 0)
    {
      ok (false, "events stream opens: %s", err->msg);
      return -1;
    }
  /* requests of one connection are handled in order: after this round trip
   * the subscription is live */
  free (container_status ("none"));
  return 0;
}

void
harness_cleanup (void)
{
  /* kill what is left, stop the daemon, remove runtime state and files */
  for (size_t i = 0; i < n_created; i++)
    {
      Types__SignalRequest sreq = TYPES__SIGNAL_REQUEST__INIT;
      sreq.id = created_ids[i];
      sreq.pid = (char *) "init";
      sreq.signal = SIGKILL;
      cleanup_error struct ctrd_error *e2 = NULL;
      if (cli && rpc ("Signal", &sreq, &types__signal_response__descriptor, NULL, &e2) == 0)
        wait_event ("exit", created_ids[i], "init", 10000);
    }
  api_stream_free (events);
  api_client_free (cli);
  if (daemon_pid > 0)
    {
      kill (daemon_pid, SIGTERM);
      waitpid (daemon_pid, NULL, 0);
    }
  for (size_t i = 0; i < n_created; i++)
    {
      char *const dv[] = { (char *) "runc", (char *) "delete", (char *) "-f", created_ids[i],
                           NULL };
      char *const dc[] = { (char *) "crun", (char *) "delete", (char *) "-f", created_ids[i],
                           NULL };
      run (dv);
      run (dc);
    }
  strv_free (created_ids);
  created_ids = NULL;
  n_created = 0;
  if (tap_failed)
    print_log_tail ();
  rm_rf (tmp, NULL);
}

int
harness_finish (void)
{
  harness_cleanup ();
  printf ("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}
