/* OOM watches: cgroup v1 eventfd + memory.oom_control, cgroup v2 inotify on
 * memory.events.
 *
 * v1 notifies *before* the OOM killer picks a victim and notifies again when
 * the cgroup is removed, so a notification alone is neither "one kill" nor
 * even "an OOM". We count kills with the oom_kill counter of
 * memory.oom_control (Linux >= 4.13): a notification whose kill is not
 * counted yet is reported at once and credited against the next increase,
 * so one kill gives one fn call whichever is seen first. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/oom.h"

struct oom_watch
{
  sd_event_source *src;
  int fd;  /* eventfd (v1) or inotify fd (v2) */
  int dfd; /* the memory cgroup directory */
  bool v2;
  bool active;
  bool has_counter; /* oom_kill counter available */
  uint64_t kills;   /* last counter value seen */
  uint64_t credit;  /* OOMs reported before their kill was counted */
  void (*fn) (void *data);
  void *data;
};

/* The kill counter: v1 "oom_kill" of memory.oom_control, v2 "oom_kill" (or,
 * on old kernels, "oom") of memory.events. -1 when the file is gone. */
static int
read_counter (struct oom_watch *w, uint64_t *kills, bool *found, bool *under_oom)
{
  char buf[512];
  int fd = openat (w->dfd, w->v2 ? "memory.events" : "memory.oom_control", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n < 0)
    return -1;
  buf[n] = 0;
  *found = false;
  *under_oom = false;
  *kills = 0;
  uint64_t oom = 0;
  bool have_oom = false;
  for (char *p = buf; p && *p;)
    {
      char *nl = strchr (p, '\n');
      if (nl)
        *nl = 0;
      unsigned long long v;
      char key[32];
      if (sscanf (p, "%31s %llu", key, &v) == 2)
        {
          if (strcmp (key, "oom_kill") == 0)
            {
              *kills = v;
              *found = true;
            }
          else if (strcmp (key, "under_oom") == 0)
            *under_oom = v != 0;
          else if (strcmp (key, "oom") == 0)
            {
              oom = v;
              have_oom = true;
            }
        }
      p = nl ? nl + 1 : NULL;
    }
  if (w->v2 && !*found && have_oom)
    {
      *kills = oom;
      *found = true;
    }
  return 0;
}

static void
deactivate (struct oom_watch *w)
{
  w->active = false;
  if (w->src)
    sd_event_source_set_enabled (w->src, SD_EVENT_OFF);
}

/* Work out how many OOMs to report now; notified: the kernel signalled one. */
static unsigned
count_new (struct oom_watch *w, bool notified)
{
  uint64_t k;
  bool found, under;
  if (read_counter (w, &k, &found, &under) < 0)
    return 0;
  if (!found && w->v2)
    return 0; /* v2 wakes for "max" and "high" too: only counters count */
  if (!found || !w->has_counter)
    {
      w->has_counter = found;
      w->kills = k;
      return notified ? 1 : 0; /* v1 without a counter: one per notification */
    }
  uint64_t delta = k >= w->kills ? k - w->kills : 0;
  w->kills = k;
  if (delta == 0)
    {
      /* v1 notifies before the kill; v2 also wakes for "max"/"high" etc. */
      if (notified && !w->v2)
        {
          w->credit++;
          return 1;
        }
      return 0;
    }
  uint64_t used = delta < w->credit ? delta : w->credit;
  w->credit -= used;
  delta -= used;
  return delta > 1000 ? 1000 : (unsigned) delta;
}

static void
deliver (struct oom_watch *w, unsigned n)
{
  while (n-- > 0)
    w->fn (w->data);
}

/* v1: the eventfd fired: an OOM notification or the cgroup's removal. */
static int
on_eventfd (sd_event_source *s UNUSED, int fd, uint32_t revents UNUSED, void *userdata)
{
  struct oom_watch *w = userdata;
  uint64_t cnt = 0;
  if (read (fd, &cnt, sizeof cnt) != sizeof cnt)
    return 0; /* EAGAIN: already drained */
  if (faccessat (w->dfd, "cgroup.event_control", F_OK, 0) < 0 && errno == ENOENT)
    {
      /* Removed. The removal is the last signal; any before it were OOM
       * notifications whose kill count we can no longer read. */
      deactivate (w);
      if (cnt > 1 && w->credit == 0)
        deliver (w, 1);
      return 0;
    }
  deliver (w, count_new (w, true));
  return 0;
}

/* v2: memory.events was modified (or deleted). */
static int
on_inotify (sd_event_source *s UNUSED, int fd, uint32_t revents UNUSED, void *userdata)
{
  struct oom_watch *w = userdata;
  char buf[4096] __attribute__ ((aligned (__alignof__(struct inotify_event))));
  bool gone = false;
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0)
    for (char *p = buf; p < buf + n;)
      {
        struct inotify_event *ev = (struct inotify_event *) p;
        if (ev->mask & (IN_IGNORED | IN_DELETE_SELF))
          gone = true;
        p += sizeof *ev + ev->len;
      }
  unsigned k = count_new (w, true);
  if (gone || faccessat (w->dfd, "memory.events", F_OK, 0) < 0)
    deactivate (w);
  deliver (w, k);
  return 0;
}

static int
setup_v1 (struct oom_watch *w, struct ctrd_error **err)
{
  cleanup_close int ctl = openat (w->dfd, "memory.oom_control", O_RDONLY | O_CLOEXEC);
  if (ctl < 0)
    return ctrd_error_set (err, errno, "open memory.oom_control");
  w->fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (w->fd < 0)
    return ctrd_error_set (err, errno, "eventfd");
  cleanup_close int ec = openat (w->dfd, "cgroup.event_control", O_WRONLY | O_CLOEXEC);
  if (ec < 0)
    return ctrd_error_set (err, errno, "open cgroup.event_control");
  char line[64];
  int len = snprintf (line, sizeof line, "%d %d", w->fd, ctl);
  if (write_all (ec, line, (size_t) len) < 0)
    return ctrd_error_set (err, errno, "write cgroup.event_control");
  return 0;
}

static int
setup_v2 (struct oom_watch *w, const char *dir, struct ctrd_error **err)
{
  w->fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  if (w->fd < 0)
    return ctrd_error_set (err, errno, "inotify_init1");
  cleanup_free char *path = path_join (dir, "memory.events");
  if (inotify_add_watch (w->fd, path, IN_MODIFY | IN_DELETE_SELF) < 0)
    return ctrd_error_set (err, errno == ENOENT ? EOPNOTSUPP : errno,
                           "watch `%s` (memory controller not enabled?)", path);
  return 0;
}

int
oom_watch_new_dirs (sd_event *loop, const struct cgdirs *dirs, void (*fn) (void *data), void *data,
                    struct oom_watch **out, struct ctrd_error **err)
{
  bool v2 = !dirs->dir[CGDIRS_MEMORY];
  const char *dir = v2 ? dirs->dir[CGDIRS_UNIFIED] : dirs->dir[CGDIRS_MEMORY];
  if (!dir)
    return ctrd_error_set (err, EOPNOTSUPP, "no memory cgroup");
  struct oom_watch *w = xmalloc0 (sizeof *w);
  w->fd = -1;
  w->v2 = v2;
  w->fn = fn;
  w->data = data;
  w->active = true;
  w->dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r;
  if (w->dfd < 0)
    r = ctrd_error_set (err, errno, "open `%s`", dir);
  else
    r = v2 ? setup_v2 (w, dir, err) : setup_v1 (w, err);
  if (r == 0)
    {
      /* Baseline: kills before the watch are not this watch's business. */
      bool under;
      if (read_counter (w, &w->kills, &w->has_counter, &under) < 0)
        w->has_counter = false;
      r = sd_event_add_io (loop, &w->src, w->fd, EPOLLIN, v2 ? on_inotify : on_eventfd, w);
      if (r < 0)
        r = ctrd_error_set (err, -r, "sd_event_add_io");
      else
        {
          /* Before exit FIFOs of the same iteration: `oom` precedes `exit`. */
          sd_event_source_set_priority (w->src, SD_EVENT_PRIORITY_IMPORTANT);
          sd_event_source_set_description (w->src, "oom");
        }
    }
  if (r < 0)
    {
      ctrd_error_wrap (err, "oom watch on `%s`", dir);
      oom_watch_free (w);
      return -1;
    }
  *out = w;
  return 0;
}

int
oom_watch_new (sd_event *loop, pid_t pid, void (*fn) (void *data), void *data,
               struct oom_watch **out, struct ctrd_error **err)
{
  struct cgdirs d;
  if (cgdirs_for_pid (pid, &d, err) < 0)
    return ctrd_error_wrap (err, "oom watch for pid %d", (int) pid);
  int r = oom_watch_new_dirs (loop, &d, fn, data, out, err);
  cgdirs_clear (&d);
  return r;
}

void
oom_watch_drain (struct oom_watch *w)
{
  if (!w || !w->active)
    return;
  bool notified = false;
  if (!w->v2)
    {
      uint64_t cnt;
      notified = read (w->fd, &cnt, sizeof cnt) == sizeof cnt;
      if (notified && faccessat (w->dfd, "cgroup.event_control", F_OK, 0) < 0)
        {
          deactivate (w);
          if (cnt > 1 && w->credit == 0)
            deliver (w, 1);
          return;
        }
    }
  else
    {
      char buf[4096];
      while (read (w->fd, buf, sizeof buf) > 0)
        ;
    }
  deliver (w, count_new (w, notified));
}

bool
oom_watch_active (const struct oom_watch *w)
{
  return w && w->active;
}

void
oom_watch_free (struct oom_watch *w)
{
  if (!w)
    return;
  sd_event_source_disable_unref (w->src);
  if (w->fd >= 0)
    close (w->fd);
  if (w->dfd >= 0)
    close (w->dfd);
  free (w);
}
