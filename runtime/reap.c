/* Kill, wait, unmount, and only then delete: the recovery of an operation
 * whose daemon died (reap.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "lib/json-cleanup.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "runtime/internal.h"
#include "runtime/reap.h"
#include "runtime/statefile.h"

#define REAP_ROUNDS 5
#define REAP_STOP_SCANS 50
#define REAP_TIMEOUT_USEC (10 * 1000000ULL)

struct victim
{
  pid_t pid;
  int pidfd;
  sd_event_source *src;
};

struct reap
{
  struct container *c;
  struct reap_target t;
  char *criu_work, *rt_dir;
  char **cg_dirs;
  struct victim *v;
  size_t n, waiting;
  int round;
  sd_event_source *timer, *defer;
  reap_done_fn done;
};

/* ---- the runtime's state dir and the container's cgroups ---- */

char *
reap_runtime_state_dir (const struct container *c)
{
  const char *root = NULL;
  for (char **a = c->runtime_args; a && *a; a++)
    {
      if (strcmp (*a, "--root") == 0 && a[1])
        root = a[1];
      else if (strncmp (*a, "--root=", 7) == 0)
        root = *a + 7;
    }
  if (!root)
    {
      const char *b = strrchr (c->runtime_bin, '/');
      b = b ? b + 1 : c->runtime_bin;
      root = strstr (b, "crun") ? "/run/crun" : "/run/runc";
    }
  return path_join (root, c->id);
}

/* Field 5 of a mountinfo line (the mount point), octal escapes decoded;
 * *dev gets field 3 and *type the filesystem type. NULL when malformed. */
static char *
mountinfo_point (const char *line, char **dev, char **type)
{
  cleanup_strv char **f = NULL;
  const char *p = line;
  while (*p)
    {
      size_t n = strcspn (p, " ");
      cleanup_free char *w = xstrndup (p, n);
      strv_push (&f, w);
      p += n;
      p += strspn (p, " ");
    }
  size_t nf = strv_len (f), sep = 0;
  for (size_t i = 6; i < nf; i++)
    if (strcmp (f[i], "-") == 0)
      {
        sep = i;
        break;
      }
  if (nf < 6 || sep == 0 || sep + 1 >= nf)
    return NULL;
  char *out = xmalloc (strlen (f[4]) + 1), *o = out;
  for (const char *s = f[4]; *s; s++)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0'
          && s[3] <= '7')
        {
          *o++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
          s += 3;
        }
      else
        *o++ = *s;
    }
  *o = '\0';
  if (dev)
    *dev = xstrdup (f[2]);
  if (type)
    *type = xstrdup (f[sep + 1]);
  return out;
}

static char **
mountinfo_lines (void)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (read_file ("/proc/self/mountinfo", &text, &len, 16 << 20, NULL) < 0)
    return NULL;
  char **v = NULL;
  for (char *s = text, *nl; *s; s = nl + 1)
    {
      nl = strchr (s, '\n');
      if (!nl)
        nl = s + strlen (s) - 1;
      else
        *nl = '\0';
      if (*s)
        strv_push (&v, s);
    }
  return v;
}

/* Is path strictly inside dir? */
static bool
under (const char *path, const char *dir)
{
  size_t n = strlen (dir);
  return dir[0] && strncmp (path, dir, n) == 0 && path[n] == '/';
}

/* The mount point of every cgroup hierarchy (the first mount of each, so
 * bind mounts such as CRIU's cgroup yard are not taken for the system's). */
static char **
cgroup_hierarchies (void)
{
  cleanup_strv char **lines = mountinfo_lines ();
  cleanup_strv char **devs = NULL;
  char **out = NULL;
  for (size_t i = 0; lines && lines[i]; i++)
    {
      cleanup_free char *dev = NULL, *type = NULL;
      cleanup_free char *mp = mountinfo_point (lines[i], &dev, &type);
      if (!mp || (strcmp (type, "cgroup") != 0 && strcmp (type, "cgroup2") != 0))
        continue;
      bool seen = false;
      for (size_t k = 0; devs && devs[k]; k++)
        seen = seen || strcmp (devs[k], dev) == 0;
      if (seen)
        continue;
      strv_push (&devs, dev);
      strv_push (&out, mp);
    }
  return out;
}

/* The container's cgroup path relative to each hierarchy: the bundle's
 * linux.cgroupsPath when absolute, else /<id> (runc's and crun's default
 * with the cgroupfs driver). NULL for a path we cannot map (systemd). */
static char *
cgroup_rel_path (const struct container *c)
{
  /* (the translated copy of a pre-1.0 bundle when there is one: it stays
   * when the client removes its bundle) */
  cleanup_free char *bundle = c->bundle && *c->bundle ? container_runtime_bundle (c) : NULL;
  cleanup_free char *cfg = bundle ? path_join (bundle, "config.json") : NULL;
  cleanup_json json_object *j = NULL;
  json_object *linux_o, *cp;
  char *rel = NULL;
  if (cfg && statefile_read_json (cfg, &j, NULL) == 0 && json_object_is_type (j, json_type_object)
      && json_object_object_get_ex (j, "linux", &linux_o)
      && json_object_object_get_ex (linux_o, "cgroupsPath", &cp)
      && json_object_is_type (cp, json_type_string) && json_object_get_string_len (cp) > 0)
    {
      const char *s = json_object_get_string (cp);
      rel = s[0] == '/' ? xstrdup (s) : NULL;
    }
  else
    rel = xasprintf ("/%s", c->id);
  return rel;
}

/* Every directory that may hold the container's cgroup: the runtime's own
 * record (runc state.json "cgroup_paths") and, for a runtime that died
 * before writing it, the path of the bundle in every hierarchy. */
static char **
container_cgroup_dirs (const struct container *c, const char *rt_dir)
{
  char **out = NULL;
  cleanup_free char *st = path_join (rt_dir, "state.json");
  cleanup_json json_object *j = NULL;
  json_object *paths;
  if (statefile_read_json (st, &j, NULL) == 0 && json_object_is_type (j, json_type_object)
      && json_object_object_get_ex (j, "cgroup_paths", &paths)
      && json_object_is_type (paths, json_type_object))
    {
      json_object_object_foreach (paths, k, v)
      {
        (void) k;
        if (json_object_is_type (v, json_type_string) && json_object_get_string (v)[0] == '/')
          strv_push (&out, json_object_get_string (v));
      }
    }
  cleanup_free char *rel = cgroup_rel_path (c);
  cleanup_strv char **hier = cgroup_hierarchies ();
  for (size_t i = 0; rel && hier && hier[i]; i++)
    {
      cleanup_free char *d = xasprintf ("%s%s", hier[i], rel);
      bool dup = false;
      for (size_t k = 0; out && out[k]; k++)
        dup = dup || strcmp (out[k], d) == 0;
      if (!dup)
        strv_push (&out, d);
    }
  return out;
}

/* ---- the set of processes ---- */

struct procinfo
{
  pid_t pid, ppid, pgid;
};

static size_t
proc_list (struct procinfo **out)
{
  cleanup_dir DIR *d = opendir ("/proc");
  size_t n = 0;
  *out = NULL;
  if (!d)
    return 0;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      unsigned long long v;
      if (parse_uint64 (de->d_name, &v) < 0)
        continue;
      char path[64];
      snprintf (path, sizeof path, "/proc/%llu/stat", v);
      cleanup_free char *s = NULL;
      size_t len = 0;
      if (read_file (path, &s, &len, 4096, NULL) < 0)
        continue;
      char *rp = strrchr (s, ')');
      int ppid, pgid;
      char state;
      if (!rp || sscanf (rp + 1, " %c %d %d", &state, &ppid, &pgid) != 3 || state == 'Z')
        continue;
      *out = xrealloc (*out, (n + 1) * sizeof **out);
      (*out)[n++] = (struct procinfo){ (pid_t) v, (pid_t) ppid, (pid_t) pgid };
    }
  return n;
}

static bool
argv_names (pid_t pid, const char *id)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pid);
  cleanup_free char *cmd = NULL;
  size_t len = 0;
  if (read_file (path, &cmd, &len, 1 << 20, NULL) < 0)
    return false;
  for (size_t off = 0; off < len; off += strlen (cmd + off) + 1)
    if (strcmp (cmd + off, id) == 0)
      return true;
  return false;
}

/* Is the cwd of pid dir or inside it? */
static bool
cwd_under (pid_t pid, const char *dir)
{
  char link[64], cwd[4096];
  snprintf (link, sizeof link, "/proc/%d/cwd", (int) pid);
  ssize_t k = readlink (link, cwd, sizeof cwd - 1);
  if (k <= 0)
    return false;
  cwd[k] = '\0';
  return strcmp (cwd, dir) == 0 || under (cwd, dir);
}

static bool
in_set (const struct reap *r, pid_t pid)
{
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].pid == pid)
      return true;
  return false;
}

/* Add pid (stopped at once); false when it is already in or gone. */
static bool
add_victim (struct reap *r, pid_t pid)
{
  if (pid <= 1 || pid == getpid () || in_set (r, pid))
    return false;
  int fd = pidfd_open (pid, 0);
  if (fd < 0)
    return false;
  pidfd_send_signal (fd, SIGSTOP, NULL, 0);
  r->v = xrealloc (r->v, (r->n + 1) * sizeof *r->v);
  r->v[r->n++] = (struct victim){ pid, fd, NULL };
  return true;
}

static void
add_cgroup_procs (struct reap *r, bool *added)
{
  for (size_t i = 0; r->cg_dirs && r->cg_dirs[i]; i++)
    {
      cleanup_free char *procs = path_join (r->cg_dirs[i], "cgroup.procs");
      cleanup_free char *s = NULL;
      size_t len = 0;
      if (read_file (procs, &s, &len, 16 << 20, NULL) < 0)
        continue;
      for (char *p = s; *p;)
        {
          char *end;
          long v = strtol (p, &end, 10);
          if (end == p)
            break;
          if (v > 0 && add_victim (r, (pid_t) v))
            *added = true;
          p = end + strspn (end, "\n");
        }
    }
}

/* One scan: the group, descendants, cgroup members. True when it found a
 * process not in the set yet. The pgid of a group cannot be reused as a pid
 * while a member lives, so members with the shim's pgid are its own. */
static bool
scan_once (struct reap *r)
{
  bool added = false;
  struct procinfo *pi;
  size_t n = proc_list (&pi);
  pid_t sp = r->t.shim_pid;
  for (size_t i = 0; sp > 1 && i < n; i++)
    if (pi[i].pgid == sp && (r->t.shim_verified || argv_names (pi[i].pid, r->c->id)))
      added |= add_victim (r, pi[i].pid);
  /* CRIU works in the work dir ctrd chose for this restore (its cwd) */
  for (size_t i = 0; r->criu_work && i < n; i++)
    if (cwd_under (pi[i].pid, r->criu_work))
      added |= add_victim (r, pi[i].pid);
  for (bool more = true; more;)
    {
      more = false;
      for (size_t i = 0; i < n; i++)
        if (!in_set (r, pi[i].pid) && in_set (r, pi[i].ppid) && add_victim (r, pi[i].pid))
          more = added = true;
    }
  free (pi);
  if (r->t.whole)
    add_cgroup_procs (r, &added);
  return added;
}

static void
thaw (struct reap *r)
{
  for (size_t i = 0; r->cg_dirs && r->cg_dirs[i]; i++)
    {
      cleanup_free char *f = path_join (r->cg_dirs[i], "freezer.state");
      int fd = open (f, O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      if (write (fd, "THAWED", 6) < 0)
        log_msg (LOG_LVL_WARN, r->c->id, "thawing %s: %s", r->cg_dirs[i], strerror (errno));
      close (fd);
    }
}

static void
victims_free (struct reap *r)
{
  for (size_t i = 0; i < r->n; i++)
    {
      sd_event_source_disable_unref (r->v[i].src);
      if (r->v[i].pidfd >= 0)
        close (r->v[i].pidfd);
    }
  free (r->v);
  r->v = NULL;
  r->n = r->waiting = 0;
}

/* ---- unmounting ---- */

static int
cmp_len_desc (const void *a, const void *b)
{
  size_t la = strlen (*(char *const *) a), lb = strlen (*(char *const *) b);
  return la < lb ? 1 : la > lb ? -1 : 0;
}

static void
unmount_under (struct reap *r)
{
  cleanup_strv char **lines = mountinfo_lines ();
  cleanup_strv char **mps = NULL;
  for (size_t i = 0; lines && lines[i]; i++)
    {
      cleanup_free char *mp = mountinfo_point (lines[i], NULL, NULL);
      if (mp
          && ((r->t.whole && under (mp, r->rt_dir)) || (r->criu_work && under (mp, r->criu_work))))
        strv_push (&mps, mp);
    }
  if (!mps)
    return;
  qsort (mps, strv_len (mps), sizeof *mps, cmp_len_desc);
  for (size_t i = 0; mps[i]; i++)
    {
      if (umount2 (mps[i], MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
        log_msg (LOG_LVL_WARN, r->c->id, "unmounted %s, left by the dead operation", mps[i]);
      else if (errno != EINVAL && errno != ENOENT)
        log_msg (LOG_LVL_ERROR, r->c->id, "unmount %s: %s", mps[i], strerror (errno));
    }
}

/* ---- the rounds ---- */

static void reap_round (struct reap *r);

static void
reap_free (struct reap *r)
{
  victims_free (r);
  sd_event_source_disable_unref (r->timer);
  sd_event_source_disable_unref (r->defer);
  strv_free (r->cg_dirs);
  free (r->criu_work);
  free (r->rt_dir);
  free (r);
}

static void
reap_finish (struct reap *r, bool clean)
{
  struct container *c = r->c;
  reap_done_fn done = r->done;
  if (clean)
    unmount_under (r);
  else
    {
      cleanup_free char *left = xstrdup ("");
      for (size_t i = 0; i < r->n; i++)
        if (r->v[i].src)
          {
            char *n = xasprintf ("%s %d", left, (int) r->v[i].pid);
            free (left);
            left = n;
          }
      log_msg (LOG_LVL_ERROR, c->id,
               "processes of the dead operation did not go (pids:%s); deleting nothing of it",
               left);
    }
  reap_free (r);
  done (c, clean);
}

static int
on_victim_gone (sd_event_source *s, int fd UNUSED, uint32_t revents UNUSED, void *data)
{
  struct reap *r = data;
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].src == s)
      {
        r->v[i].src = sd_event_source_disable_unref (r->v[i].src);
        r->waiting--;
      }
  if (r->waiting == 0)
    reap_round (r);
  return 0;
}

static int
on_timeout (sd_event_source *s UNUSED, uint64_t usec UNUSED, void *data)
{
  reap_finish (data, false);
  return 0;
}

/* Collect the set (stopping each member), kill it all, wait for every
 * pidfd; an empty set ends the reap. */
static void
reap_round (struct reap *r)
{
  victims_free (r);
  if (r->round++ >= REAP_ROUNDS)
    {
      reap_finish (r, false);
      return;
    }
  if (r->round > 1)
    r->t.shim_verified = false; /* it was killed in round 1 */
  for (int i = 0; i < REAP_STOP_SCANS && scan_once (r); i++)
    ;
  if (r->n == 0)
    {
      reap_finish (r, true);
      return;
    }
  if (r->t.whole)
    thaw (r);
  sd_event *loop = r->c->rt->cfg.loop;
  for (size_t i = 0; i < r->n; i++)
    {
      pidfd_send_signal (r->v[i].pidfd, SIGKILL, NULL, 0);
      if (sd_event_add_io (loop, &r->v[i].src, r->v[i].pidfd, EPOLLIN, on_victim_gone, r) < 0)
        continue; /* counted as gone: the next round sees it if not */
      r->waiting++;
    }
  log_msg (LOG_LVL_WARN, r->c->id, "killed %zu process(es) of the dead operation (round %d)", r->n,
           r->round);
  if (r->waiting == 0)
    reap_round (r);
}

static int
on_defer (sd_event_source *s UNUSED, void *data)
{
  struct reap *r = data;
  r->defer = sd_event_source_disable_unref (r->defer);
  reap_round (r);
  return 0;
}

static struct reap *
reap_new (struct container *c, const struct reap_target *t)
{
  struct reap *r = xmalloc0 (sizeof *r);
  r->c = c;
  r->t = *t;
  r->criu_work = t->criu_work ? xstrdup (t->criu_work) : NULL;
  r->t.criu_work = r->criu_work;
  r->rt_dir = reap_runtime_state_dir (c);
  if (t->whole)
    r->cg_dirs = container_cgroup_dirs (c, r->rt_dir);
  return r;
}

int
reap_start (struct container *c, const struct reap_target *t, reap_done_fn done,
            struct ctrd_error **err)
{
  struct reap *r = reap_new (c, t);
  r->done = done;
  sd_event *loop = c->rt->cfg.loop;
  int e = sd_event_add_defer (loop, &r->defer, on_defer, r);
  if (e >= 0)
    e = sd_event_add_time_relative (loop, &r->timer, CLOCK_MONOTONIC, REAP_TIMEOUT_USEC, 0,
                                    on_timeout, r);
  if (e < 0)
    {
      reap_free (r);
      return ctrd_error_set (err, -e, "reaping the dead operation of %s", c->id);
    }
  return 0;
}

/* argv of pid (NUL-separated, *len bytes), or NULL. */
static char *
proc_argv (pid_t pid, size_t *len)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pid);
  char *cmd = NULL;
  if (read_file (path, &cmd, len, 1 << 20, NULL) < 0 || *len == 0)
    {
      free (cmd);
      return NULL;
    }
  return cmd;
}

char **
reap_orphan_jobs (const char *state_dir)
{
  struct reap *r = xmalloc0 (sizeof *r);
  char **ids = NULL;
  struct procinfo *pi;
  size_t n = proc_list (&pi);
  for (size_t i = 0; i < n; i++)
    {
      char link[64], cwd[4096];
      snprintf (link, sizeof link, "/proc/%d/cwd", (int) pi[i].pid);
      ssize_t k = readlink (link, cwd, sizeof cwd - 1);
      if (k <= 0 || pi[i].pid == getpid ())
        continue;
      cwd[k] = '\0';
      size_t len = 0;
      cleanup_free char *argv = strcmp (cwd, state_dir) == 0 ? proc_argv (pi[i].pid, &len) : NULL;
      if (!argv || !add_victim (r, pi[i].pid))
        continue;
      /* `<rt> [global options] <command> [options] <id>`: the id is last */
      const char *last = argv, *cmdname = NULL;
      for (size_t off = 0; off < len; off += strlen (argv + off) + 1)
        {
          last = argv + off;
          if (strcmp (last, "checkpoint") == 0)
            cmdname = last;
        }
      for (size_t off = 0; off + 1 < len; off++)
        if (argv[off] == '\0')
          argv[off] = ' ';
      log_msg (LOG_LVL_WARN, last, "killing the previous daemon's `%s`, still running (pid %d)",
               argv, (int) pi[i].pid);
      if (cmdname)
        strv_push (&ids, last);
    }
  free (pi);
  if (r->n == 0)
    {
      reap_free (r);
      return ids;
    }
  /* their descendants (CRIU), stopped as found, then all killed */
  for (int i = 0; i < REAP_STOP_SCANS && scan_once (r); i++)
    ;
  struct pollfd *pf = xmalloc (r->n * sizeof *pf);
  for (size_t i = 0; i < r->n; i++)
    {
      pidfd_send_signal (r->v[i].pidfd, SIGKILL, NULL, 0);
      pf[i] = (struct pollfd){ .fd = r->v[i].pidfd, .events = POLLIN };
    }
  /* Start-up, before anything is served: wait (pidfds, bounded) so that a
   * checkpoint's CRIU has let go of the container before it is resumed. */
  int64_t deadline = time_now_mono_ns () + 5000000000LL;
  for (size_t left = r->n; left > 0;)
    {
      int64_t now = time_now_mono_ns ();
      if (now >= deadline || poll (pf, r->n, (int) ((deadline - now) / 1000000) + 1) <= 0)
        break;
      left = 0;
      for (size_t i = 0; i < r->n; i++)
        if (pf[i].revents & POLLIN)
          pf[i].fd = -1;
        else if (pf[i].fd >= 0)
          left++;
    }
  free (pf);
  reap_free (r);
  return ids;
}

void
reap_kill_now (struct container *c, const struct reap_target *t)
{
  struct reap *r = reap_new (c, t);
  for (int i = 0; i < REAP_STOP_SCANS && scan_once (r); i++)
    ;
  for (size_t i = 0; i < r->n; i++)
    pidfd_send_signal (r->v[i].pidfd, SIGKILL, NULL, 0);
  if (r->n)
    log_msg (LOG_LVL_WARN, c->id, "killed %zu process(es) of the dead operation", r->n);
  reap_free (r);
}

void
reap_thaw (struct container *c)
{
  cleanup_free char *rt_dir = reap_runtime_state_dir (c);
  struct reap r = { .c = c };
  r.cg_dirs = container_cgroup_dirs (c, rt_dir);
  thaw (&r);
  for (size_t i = 0; r.cg_dirs && r.cg_dirs[i]; i++)
    {
      /* cgroup v2 */
      cleanup_free char *f = path_join (r.cg_dirs[i], "cgroup.freeze");
      int fd = open (f, O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      if (write (fd, "0", 1) < 0)
        log_msg (LOG_LVL_WARN, c->id, "thawing %s: %s", r.cg_dirs[i], strerror (errno));
      close (fd);
    }
  strv_free (r.cg_dirs);
}

void
reap_remove_leftovers (struct container *c)
{
  cleanup_free char *rt_dir = reap_runtime_state_dir (c);
  cleanup_strv char **dirs = container_cgroup_dirs (c, rt_dir);
  for (size_t i = 0; dirs && dirs[i]; i++)
    if (rmdir (dirs[i]) == 0)
      log_msg (LOG_LVL_WARN, c->id, "removed the cgroup %s, left by the runtime", dirs[i]);
    else if (errno != ENOENT)
      log_msg (LOG_LVL_WARN, c->id, "cgroup %s left: %s", dirs[i], strerror (errno));
  struct stat st;
  if (lstat (rt_dir, &st) == 0 && S_ISDIR (st.st_mode))
    {
      cleanup_error struct ctrd_error *e = NULL;
      if (rm_rf (rt_dir, &e) < 0)
        log_msg (LOG_LVL_WARN, c->id, "%s", e->msg);
      else
        log_msg (LOG_LVL_WARN, c->id, "removed %s, left by the runtime", rt_dir);
    }
}
