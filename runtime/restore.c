/* Restart recovery (daemon.md §7, with its Notes fixed): adopt every
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

#include "lib/log.h"
#include "lib/util.h"
#include "runtime/internal.h"
#include "runtime/job.h"
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
  DIR *d = opendir (dir);
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
  closedir (d);
  if (v)
    qsort (v, strv_len (v), sizeof *v, cmp_str);
  return v;
}

/* Is the shim recorded in shim.pid still alive and still that shim (its
 * cwd is the process directory)? 1 yes, 0 no, -1 unknown (no shim.pid:
 * state written by another daemon). */
static int
shim_alive (struct process *p)
{
  unsigned long long pid;
  if (statefile_read_ull (p->dir, "shim.pid", &pid) < 0)
    return -1;
  p->shim_pid = (pid_t) pid;
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
      same = strcmp (target, p->dir) == 0;
    }
  bool alive = pidfd_send_signal (fd, 0, NULL, 0) == 0;
  close (fd);
  return alive && same ? 1 : 0;
}

static void
restore_job_done (const struct job_result *r, void *data UNUSED)
{
  if (!job_succeeded (r) && !strstr (r->err, "does not exist") && !strstr (r->out, "does not exist"))
    {
      cleanup_free char *t = job_error_text (r);
      log_warn ("delete of a container that never started: %s", t);
    }
}

/* Is pid still the runtime's init stage, waiting for `start` (runc shows
 * as "runc:[2:INIT]", crun as "crun")? */
static bool
init_never_started (pid_t pid)
{
  char path[64], comm[64] = "";
  snprintf (path, sizeof path, "/proc/%d/comm", (int) pid);
  FILE *f = fopen (path, "re");
  if (!f)
    return false;
  if (!fgets (comm, sizeof comm, f))
    comm[0] = '\0';
  fclose (f);
  comm[strcspn (comm, "\n")] = '\0';
  return strncmp (comm, "runc:[", 6) == 0 || strcmp (comm, "crun") == 0;
}

/* Load one process directory. Returns the process, or NULL when it never
 * started (no pid: its directory is removed). */
static struct process *
restore_process (struct container *c, const char *name, struct process ***pending, size_t *npend)
{
  struct process *p = process_new (c, name);
  cleanup_error struct ctrd_error *err = NULL;
  cleanup_free char *pj = path_join (p->dir, "process.json");
  if (statefile_read_json (pj, &p->spec, &err) < 0)
    {
      /* Still adopt it: the spec only feeds State. */
      log_msg (LOG_LVL_WARN, c->id, "process %s: %s; adopting without a spec", name, err->msg);
      ctrd_error_free (&err);
      p->spec = json_object_new_object ();
    }
  unsigned long long v;
  if (statefile_read_ull (p->dir, "pid", &v) < 0)
    {
      unsigned long long st;
      if (statefile_read_ull (p->dir, "exitStatus", &st) < 0)
        {
          /* The previous daemon died while this shim was starting: its
           * client never got an answer. Stop the shim and what the runtime
           * may have created. */
          log_msg (LOG_LVL_WARN, c->id, "process %s never started; removing it", name);
          if (shim_alive (p) == 1)
            kill (p->shim_pid, SIGKILL);
          if (strcmp (name, "init") == 0)
            {
              const char *sub[] = { "delete", "-f", c->id, NULL };
              if (container_runtime_job (c, sub, NULL, 0, restore_job_done, NULL, NULL, &err) < 0)
                log_msg (LOG_LVL_WARN, c->id, "%s", err->msg);
            }
          process_discard (p);
          return NULL;
        }
    }
  else
    p->pid = (pid_t) v;
  if (statefile_read_ull (p->dir, "starttime", &v) == 0)
    p->starttime = v;
  process_open_pidfd (p);
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
   * the checks below (the original lost it, daemon.md Notes). */
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
  bool has_status = statefile_read_ull (p->dir, "exitStatus", &v) == 0;
  if (p->exit_fd < 0 || alive == 0 || (alive < 0 && has_status))
    {
      *pending = xrealloc (*pending, (*npend + 1) * sizeof **pending);
      (*pending)[(*npend)++] = p;
    }
  return p;
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
      p->state = PROCESS_EXITED;
      p->shim_running = true;
      container_drain_add (c);
      return;
    }
  (void) rt;
  container_drain_add (c);
  container_drain_settle (c);
}

static void
restore_container (struct runtime *rt, const char *name)
{
  struct container *c = container_alloc (rt, name);
  cleanup_error struct ctrd_error *err = NULL;
  if (statefile_read_state (c, &err) < 0)
    {
      log_msg (LOG_LVL_WARN, name, "failed to load container,removing state directory. (%s)",
               err->msg);
      goto remove;
    }
  {
    cleanup_free char *marker = path_join (c->dir, EXIT_REPORTED_FILE);
    if (access (marker, F_OK) == 0)
      {
        restore_reported (rt, c);
        return;
      }
  }
  struct process **pending = NULL;
  size_t npend = 0;
  {
    /* (a block: `goto remove` above must not skip a cleanup variable) */
    cleanup_strv char **procs = list_dirs (c->dir);
    for (size_t i = 0; procs && procs[i]; i++)
      restore_process (c, procs[i], &pending, &npend);
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
    container_watch_oom (c);
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
    if (rm_rf (c->dir, &e) < 0)
      log_warn ("%s", e->msg);
    container_free (c);
  }
}

void
runtime_restore (struct runtime *rt)
{
  cleanup_strv char **dirs = list_dirs (rt->cfg.state_dir);
  for (size_t i = 0; dirs && dirs[i]; i++)
    restore_container (rt, dirs[i]);
}
