/* Restart recovery (docs/daemon.md §7): adopt every
 * container directory; damaged state never blocks start-up. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/json-cleanup.h"
#include "lib/log.h"
#include "lib/shim-proto.h"
#include "lib/util.h"
#include "runtime/internal.h"
#include "runtime/job.h"
#include "runtime/ops.h"
#include "runtime/reap.h"
#include "runtime/statefile.h"

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Sorted names of the sub-directories of dir. */
static char **
list_dirs (const char *dir)
{
  cleanup_dir DIR *d = opendir (dir);
  char **v = NULL;
  if (!d)
    return NULL;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.' || de->d_type != DT_DIR)
        continue;
      strv_push (&v, de->d_name);
    }
  if (v)
    qsort (v, strv_len (v), sizeof *v, cmp_str);
  return v;
}

/* Is the shim recorded in shim.pid still alive and still that shim (its
 * cwd is the process directory)? 1 yes, 0 no, -1 unknown (no shim.pid:
 * state written by another daemon). */
static int
shim_alive_dir (const char *dir, pid_t *shim_pid)
{
  unsigned long long pid;
  if (statefile_read_ull (dir, SHIM_FILE_SHIM_PID, &pid) < 0)
    return -1;
  *shim_pid = (pid_t) pid;
  int fd = pidfd_open ((pid_t) pid, 0);
  if (fd < 0)
    return false;
  char link[64], target[4096];
  snprintf (link, sizeof link, "/proc/%llu/cwd", pid);
  ssize_t n = readlink (link, target, sizeof target - 1);
  bool same = false;
  if (n > 0)
    {
      target[n] = '\0';
      same = strcmp (target, dir) == 0;
    }
  bool alive = pidfd_send_signal (fd, 0, NULL, 0) == 0;
  close (fd);
  return alive && same ? 1 : 0;
}

static int
shim_alive (struct process *p)
{
  return shim_alive_dir (p->dir, &p->shim_pid);
}

/* Is pid still the runtime's init stage, waiting for `start` (runc shows
 * as "runc:[2:INIT]", crun as "crun")? */
static bool
init_never_started (pid_t pid)
{
  char path[64], comm[64] = "";
  snprintf (path, sizeof path, "/proc/%d/comm", (int) pid);
  cleanup_file FILE *f = fopen (path, "re");
  if (!f)
    return false;
  if (!fgets (comm, sizeof comm, f))
    comm[0] = '\0';
  comm[strcspn (comm, "\n")] = '\0';
  return strncmp (comm, "runc:[", 6) == 0 || strcmp (comm, "crun") == 0;
}

/* The parent of pid (field 4 of /proc/<pid>/stat), or 0. */
static pid_t
proc_ppid (pid_t pid)
{
  return (pid_t) proc_stat_field (pid, 4);
}

/* The pid file must name the shim's child (the shim is the container
 * process's subreaper), or its grandchild below the runtime (below). When
 * it names another process (pid reused, a
 * damaged file), that process is left alone and the real one is found
 * among the live shim's children: the one with the recorded starttime, or
 * the only one when none was recorded. The pid file is then rewritten. */
static void
find_real_pid (struct container *c, struct process *p, unsigned long long recorded)
{
  if (shim_alive (p) != 1)
    return;
  /* The runtime's child while `<rt> create` still runs (the daemon died
   * after the pid file was written, before the runtime exited and the
   * container process was reparented to the shim): the runtime is then the
   * shim's only child, and taking it for the container process would leave
   * the real one unwatched and never killed. */
  pid_t parent = p->pidfd >= 0 ? proc_ppid (p->pid) : 0;
  if (parent > 0 && (parent == p->shim_pid || proc_ppid (parent) == p->shim_pid))
    return;
  unsigned long long opened = p->starttime;
  p->starttime = recorded;
  cleanup_dir DIR *d = opendir ("/proc");
  if (!d)
    return;
  pid_t found = 0;
  int n = 0;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      unsigned long long v;
      if (parse_uint64 (de->d_name, &v) < 0 || proc_ppid ((pid_t) v) != p->shim_pid)
        continue;
      unsigned long long st = proc_starttime ((pid_t) v);
      if (p->starttime && st == p->starttime)
        {
          found = (pid_t) v;
          n = 1;
          break;
        }
      if (!p->starttime)
        {
          found = (pid_t) v;
          n++;
        }
    }
  if (n != 1 || found == p->pid)
    {
      p->starttime = opened;
      return;
    }
  log_msg (LOG_LVL_WARN, c->id,
           "process %s: pid file names %d, not a child of its shim %d; "
           "using the shim's child %d",
           p->id, (int) p->pid, (int) p->shim_pid, (int) found);
  if (p->pidfd >= 0)
    {
      close (p->pidfd);
      p->pidfd = -1;
    }
  p->pid = found;
  p->starttime = recorded;
  process_open_pidfd (p);
  cleanup_error struct ctrd_error *err = NULL;
  if (p->pidfd >= 0
      && statefile_write_ull (p->dir, SHIM_FILE_PID, (unsigned long long) found, &err) < 0)
    log_msg (LOG_LVL_WARN, c->id, "%s", err->msg);
}

/* An init whose operation (create, restore) the previous daemon died in. */
struct dead_init
{
  bool found;
  struct reap_target t;
  char *criu_work;
};

/* Was the exit of process pid of c reported before the restart (the event
 * log says so; runtime_set_exit_reported)? */
static bool
exit_reported (struct container *c, const char *pid)
{
  struct runtime *rt = c->rt;
  return rt->exit_reported && rt->exit_reported (rt->exit_reported_data, c->id, pid);
}

/* The init's exit was reported before the restart and it has really ended
 * (exitStatus written, or its shim gone): the container is removed (held
 * until a live shim's cleanup is over) with nothing reported again. */
static bool
init_exit_reported (struct container *c)
{
  if (!exit_reported (c, "init"))
    return false;
  cleanup_free char *dir = path_join (c->dir, "init");
  unsigned long long v;
  pid_t spid = 0;
  return statefile_read_ull (dir, SHIM_FILE_EXIT_STATUS, &v) == 0
         || shim_alive_dir (dir, &spid) != 1;
}

/* Load one process directory. Returns the process, or NULL when it never
 * started (no pid and no exitStatus): an exec's operation is killed and its
 * directory removed; an init's is left for restore_container to reap
 * (*dead: nothing of it may be deleted before that). */
static struct process *
restore_process (struct container *c, const char *name, struct process ***pending, size_t *npend,
                 struct dead_init *dead)
{
  struct process *p = process_new (c, name);
  cleanup_error struct ctrd_error *err = NULL;
  cleanup_free char *pj = path_join (p->dir, SHIM_FILE_PROCESS);
  if (statefile_read_json (pj, &p->spec, &err) < 0)
    {
      /* Still adopt it: the spec only feeds State. */
      log_msg (LOG_LVL_WARN, c->id, "process %s: %s; adopting without a spec", name, err->msg);
      ctrd_error_free (&err);
      p->spec = json_object_new_object ();
    }
  unsigned long long v;
  if (statefile_read_ull (p->dir, SHIM_FILE_PID, &v) < 0)
    {
      unsigned long long st;
      if (statefile_read_ull (p->dir, SHIM_FILE_EXIT_STATUS, &st) < 0)
        {
          /* The previous daemon died while this shim was starting: its
           * client never got an answer. Stop the shim and everything its
           * operation started (reap.h) before anything is deleted. */
          struct reap_target t = { 0 };
          t.shim_verified = shim_alive (p) == 1;
          t.shim_pid = p->shim_pid;
          if (strcmp (name, "init") != 0)
            {
              log_msg (LOG_LVL_WARN, c->id, "process %s never started; removing it", name);
              reap_kill_now (c, &t);
              process_discard (p);
              return NULL;
            }
          log_msg (LOG_LVL_WARN, c->id,
                   "init never started; stopping what its %s started, "
                   "then deleting it",
                   c->runtime_bin);
          json_object *ck;
          if (json_object_object_get_ex (p->spec, "checkpoint", &ck)
              && json_object_is_type (ck, json_type_string) && json_object_get_string_len (ck) > 0)
            dead->criu_work = path_join (json_object_get_string (ck), "criu.work");
          t.whole = true;
          t.criu_work = dead->criu_work;
          dead->t = t;
          dead->found = true;
          process_forget (p);
          return NULL;
        }
    }
  else
    p->pid = (pid_t) v;
  if (statefile_read_ull (p->dir, SHIM_FILE_STARTTIME, &v) == 0)
    p->starttime = v;
  unsigned long long recorded = p->starttime;
  process_open_pidfd (p);
  find_real_pid (c, p, recorded);
  if (p->pidfd >= 0 && strcmp (name, "init") == 0 && init_never_started (p->pid))
    {
      /* Created but never started (the daemon died before or during
       * `<rt> start`): nobody will start it; its shim would wait forever.
       * Killing it makes the shim report the exit (137) as usual. */
      log_msg (LOG_LVL_WARN, c->id, "init (pid %d) was never started; killing it", (int) p->pid);
      pidfd_send_signal (p->pidfd, SIGKILL, NULL, 0);
    }
  /* Register first, then look at exitStatus and the shim: a shim that
   * exits after this open delivers HUP; one that exited before is caught by
   * the checks below (the original's race; docs/daemon.md "Restart recovery"). */
  if (process_watch_exit (p, &err) < 0)
    {
      log_msg (LOG_LVL_WARN, c->id, "process %s: %s", name, err->msg);
      ctrd_error_free (&err);
    }
  p->state = PROCESS_RUNNING;
  /* A live shim that already wrote exitStatus is still cleaning up (kill
   * --all, delete): its HUP follows, and reporting the exit before would
   * free the id while the runtime's state still exists. */
  int alive = shim_alive (p);
  bool has_status = statefile_read_ull (p->dir, SHIM_FILE_EXIT_STATUS, &v) == 0;
  if ((p->exit_fd < 0 || alive == 0 || has_status) && strcmp (name, "init") != 0
      && exit_reported (c, name))
    {
      /* Killed between the exit event and the directory's removal. */
      log_msg (LOG_LVL_INFO, c->id, "process %s: exit already reported; removing it", name);
      process_discard (p);
      return NULL;
    }
  if (p->exit_fd < 0 || alive == 0 || (alive < 0 && has_status))
    {
      *pending = xrealloc (*pending, (*npend + 1) * sizeof **pending);
      (*pending)[(*npend)++] = p;
    }
  return p;
}

/* The init never started: hold the id while its operation is reaped, then
 * delete (container_drain_reap). */
static void
reap_dead_init (struct container *c, struct dead_init *dead)
{
  container_drain_reap (c, &dead->t);
}

/* The container's exit was reported by the previous daemon while its shim
 * was still cleaning up: hold the id until that shim is gone, report
 * nothing. */
static void
restore_reported (struct runtime *rt, struct container *c)
{
  struct process *p = process_new (c, "init");
  cleanup_error struct ctrd_error *err = NULL;
  if (shim_alive (p) == 1 && process_watch_exit (p, &err) == 0 && shim_alive (p) == 1)
    {
      p->state = PROCESS_CLEANUP;
      container_drain_add (c);
      return;
    }
  (void) rt;
  container_drain_add (c);
  container_drain_settle (c);
}

/* state.json is unreadable: take what it held from a live shim of the
 * container (its argv is `<shim> <id> <bundle> <runtime>`, its cwd the
 * process dir) and the process's process.json (runtimeArgs), and write
 * state.json again. Labels and noPivotRoot are lost. 0 when recovered. */
static int
recover_state (struct container *c)
{
  cleanup_strv char **procs = list_dirs (c->dir);
  for (size_t i = 0; procs && procs[i]; i++)
    {
      cleanup_free char *pdir = path_join (c->dir, procs[i]);
      pid_t spid = 0;
      int alive = shim_alive_dir (pdir, &spid);
      char path[64];
      snprintf (path, sizeof path, "/proc/%d/cmdline", (int) spid);
      cleanup_free char *cmd = NULL;
      size_t len = 0;
      cleanup_free char *pj = path_join (pdir, SHIM_FILE_PROCESS);
      if (alive != 1 || read_file (path, &cmd, &len, 65536, NULL) < 0)
        continue;
      const char *argv[5] = { NULL };
      size_t argc = 0;
      for (size_t off = 0; off < len && argc < 5; off += strlen (cmd + off) + 1)
        argv[argc++] = cmd + off;
      if (argc != 4 || strcmp (argv[1], c->id) != 0 || argv[2][0] != '/' || !*argv[3])
        continue;
      c->bundle = statefile_client_bundle (c->dir, argv[2]); /* not our .bundle */
      c->runtime_bin = xstrdup (argv[3]);
      c->shim = xstrdup (argv[0]);
      cleanup_json json_object *spec = NULL;
      json_object *ra;
      if (statefile_read_json (pj, &spec, NULL) == 0 && json_object_is_type (spec, json_type_object)
          && json_object_object_get_ex (spec, "runtimeArgs", &ra)
          && json_object_is_type (ra, json_type_array))
        for (size_t k = 0; k < json_object_array_length (ra); k++)
          {
            json_object *e = json_object_array_get_idx (ra, k);
            if (json_object_is_type (e, json_type_string))
              strv_push (&c->runtime_args, json_object_get_string (e));
          }
      cleanup_error struct ctrd_error *err = NULL;
      if (statefile_write_state (c, &err) < 0)
        log_msg (LOG_LVL_WARN, c->id, "rewriting state.json: %s", err->msg);
      log_msg (LOG_LVL_WARN, c->id,
               "state.json recovered from the shim of process %s: bundle %s, runtime %s "
               "(labels lost)",
               procs[i], c->bundle, c->runtime_bin);
      return 0;
    }
  return -1;
}

static void
restore_container (struct runtime *rt, const char *name)
{
  struct container *c = container_alloc (rt, name);
  cleanup_error struct ctrd_error *err = NULL;
  if (statefile_read_state (c, &err) < 0)
    {
      /* Never orphan a live container (ctrd): a damaged state.json is
       * rebuilt from its shim; only without a live shim is it dropped (the
       * processes, if any, are handled as below with no state: the removal
       * happens only when none is left). */
      free (c->bundle);
      free (c->runtime_bin);
      free (c->shim);
      c->bundle = c->runtime_bin = c->shim = NULL;
      if (recover_state (c) == 0)
        {
          log_msg (LOG_LVL_ERROR, name, "damaged state.json (%s): recovered from the shim",
                   err->msg);
          ctrd_error_free (&err);
        }
      else
        {
          cleanup_strv char **procs = list_dirs (c->dir);
          if (!procs)
            {
              log_msg (LOG_LVL_WARN, name,
                       "failed to load container,removing state directory. (%s)", err->msg);
              goto remove;
            }
          /* No live shim: its processes are handled as any whose shim died
           * (killed if still the same process, exit reported); the
           * directory goes only after that. */
          c->bundle = xstrdup ("");
          c->runtime_bin = xstrdup (rt->cfg.runtime && *rt->cfg.runtime ? rt->cfg.runtime : "runc");
          log_msg (LOG_LVL_ERROR, name,
                   "damaged state.json (%s) and no live shim: adopting it with runtime %s to "
                   "stop its processes",
                   err->msg, c->runtime_bin);
          ctrd_error_free (&err);
        }
    }
  statefile_remove_leftovers (c->dir);
  {
    cleanup_free char *marker = path_join (c->dir, EXIT_REPORTED_FILE);
    if (access (marker, F_OK) == 0 || init_exit_reported (c))
      {
        restore_reported (rt, c);
        return;
      }
  }
  struct process **pending = NULL;
  size_t npend = 0;
  struct dead_init dead = { 0 };
  {
    /* (a block: `goto remove` above must not skip a cleanup variable) */
    cleanup_strv char **procs = list_dirs (c->dir);
    for (size_t i = 0; procs && procs[i]; i++)
      restore_process (c, procs[i], &pending, &npend, &dead);
  }
  if (dead.found)
    {
      /* Exec dirs of a container that never started are left to the
       * container's removal. */
      free (pending);
      reap_dead_init (c, &dead);
      free (dead.criu_work);
      return;
    }
  if (!c->procs)
    {
      log_msg (LOG_LVL_WARN, name, "container has no process running,removing state directory.");
      free (pending);
      goto remove;
    }
  struct stat sb;
  if (stat (c->bundle, &sb) < 0)
    log_msg (LOG_LVL_WARN, name, "bundle %s is gone; adopting anyway", c->bundle);
  c->state = CONTAINER_RUNNING;
  if (!c->init)
    {
      /* Only execs left (daemon killed mid-cleanup): stop once they end. */
      c->state = CONTAINER_STOPPING;
      c->need_delete = true;
    }
  runtime_table_add (rt, c);
  if (c->init && c->init->state == PROCESS_RUNNING)
    {
      container_watch_oom (c);
      /* paused by the previous daemon (or a pause it left running)? */
      c->paused = ops_cgroup_frozen (c->init->pid);
    }
  log_msg (LOG_LVL_INFO, name, "restored container with %zu pending exit(s)", npend);
  /* Exits that happened while the daemon was down: execs first, init last
   * (with no init, the last exec's exit may free c: use locals only). */
  struct process *init = c->init;
  for (size_t i = 0; i < npend; i++)
    if (pending[i] != init)
      process_handle_shim_gone (pending[i]);
  for (size_t i = 0; i < npend; i++)
    if (pending[i] == init)
      process_handle_shim_gone (pending[i]);
  free (pending);
  return;
remove:
  {
    cleanup_error struct ctrd_error *e = NULL;
    if (statefile_remove_dir (c->dir, &e) < 0)
      log_warn ("%s", e->msg);
    container_free (c);
  }
}

/* A checkpoint the previous daemon died in left the container frozen by
 * CRIU (its dump was killed with the daemon's job): thaw it before anything
 * is served, so that State never shows a pause nobody asked for. */
static void
resume_after_checkpoint (struct runtime *rt, const char *id)
{
  struct container *c = runtime_find (rt, id);
  if (!c || c->state != CONTAINER_RUNNING)
    return;
  log_msg (LOG_LVL_WARN, id,
           "its checkpoint was interrupted by the daemon's death; thawing it "
           "(CRIU freezes the container while it dumps)");
  reap_thaw (c);
  /* read as frozen when it was adopted: what the thaw left */
  c->paused = c->init && ops_cgroup_frozen (c->init->pid);
}

void
runtime_restore (struct runtime *rt)
{
  /* directories a crash left half-removed (statefile_remove_dir) */
  statefile_remove_leftovers (rt->cfg.state_dir);
  /* the dead daemon's runtime invocations first (reap.h) */
  cleanup_strv char **frozen = reap_orphan_jobs (rt->cfg.state_dir);
  cleanup_strv char **dirs = list_dirs (rt->cfg.state_dir);
  for (size_t i = 0; dirs && dirs[i]; i++)
    restore_container (rt, dirs[i]);
  for (size_t i = 0; frozen && frozen[i]; i++)
    resume_after_checkpoint (rt, frozen[i]);
  rt->exit_reported = NULL;
  rt->exit_reported_data = NULL;
}

void
runtime_set_exit_reported (struct runtime *rt,
                           bool (*fn) (void *data, const char *id, const char *pid), void *data)
{
  rt->exit_reported = fn;
  rt->exit_reported_data = data;
}
