/* containerd-shim driven directly, as the daemon drives it: real runc,
 * busybox bundles, real FIFOs. TAP output. Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"
#include "shim/tests/harness.h"

static char *
new_id (const char *tag)
{
  static int n;
  return xasprintf ("shimt-%d-%d-%s", (int) getpid (), ++n, tag);
}

static bool
file_is (struct proc *p, const char *name, const char *want)
{
  cleanup_free char *s = h_proc_file (p, name);
  if (s == NULL || strcmp (s, want) != 0)
    {
      h_diag ("%s: got `%s`, want `%s`", name, s ? s : "(missing)", want);
      return false;
    }
  return true;
}

static bool
sync_ok (struct proc *p)
{
  char want[64];
  snprintf (want, sizeof want, "ok %d\n", (int) h_proc_pid (p));
  if (strcmp (p->sync, want) != 0)
    {
      h_diag ("sync line `%s`, want `%s`", p->sync, want);
      return false;
    }
  return true;
}

/* create + start an init; returns the proc or NULL */
static struct proc *
start_init (const char *bundle, const char *tag, const char *const *args)
{
  cleanup_free char *id = new_id (tag);
  if (args && h_bundle_set_args (bundle, args) < 0)
    h_diag ("cannot set args in %s", bundle);
  struct proc *p = h_proc_new (id, bundle, "init", false, NULL);
  if (h_proc_start (p, "runc", false, NULL) < 0 || !sync_ok (p))
    {
      h_diag ("start failed: `%s`", p->sync);
      return p;
    }
  if (h_runc ("start", p->id, NULL) != 0)
    h_diag ("runc start %s failed", p->id);
  return p;
}

static void
t_exit_codes (const char *bundle)
{
  const char *a0[] = { "sh", "-c", "echo hello; echo oops >&2", NULL };
  struct proc *p = start_init (bundle, "exit0", a0);
  bool ok = h_proc_wait (p, 20000) == 0;
  h_ok (ok && sync_ok (p) && file_is (p, "exitStatus", "0") && p->out[1].data
            && strcmp (p->out[1].data, "hello\n") == 0 && p->out[2].data
            && strcmp (p->out[2].data, "oops\n") == 0 && WIFEXITED (p->shim_status)
            && WEXITSTATUS (p->shim_status) == 0 && !h_proc_has (p, "exitStatus.reserve"),
        "exit 0: exitStatus (the reserve renamed to it), stdout and stderr through the FIFOs, "
        "sync line = pid file");
  h_proc_free (p);

  const char *a7[] = { "sh", "-c", "exit 7", NULL };
  p = start_init (bundle, "exit7", a7);
  h_ok (h_proc_wait (p, 20000) == 0 && file_is (p, "exitStatus", "7"), "exit 7 → exitStatus 7");
  h_proc_free (p);

  const char *as[] = { "sleep", "100", NULL };
  p = start_init (bundle, "sig", as);
  kill (h_proc_pid (p), SIGKILL);
  h_ok (h_proc_wait (p, 20000) == 0 && file_is (p, "exitStatus", "137"),
        "killed by SIGKILL → exitStatus 137");
  h_ok (h_zombies_of (getpid ()) == 0 && h_runc ("state", p->id, NULL) != 0,
        "after init exit: runc state deleted by the shim, no zombie");
  h_proc_free (p);
}

static void
t_output (const char *bundle)
{
  /* 1.5 MiB then a last line written right before exit */
  const char *a[] = { "sh", "-c", "dd if=/dev/zero bs=1024 count=1536 2>/dev/null; echo last",
                      NULL };
  struct proc *p = start_init (bundle, "big", a);
  bool ok = h_proc_wait (p, 30000) == 0;
  size_t want = 1536 * 1024 + 5;
  bool content = p->out[1].len == want && memcmp (p->out[1].data + want - 5, "last\n", 5) == 0;
  if (!content)
    h_diag ("stdout length %zu, want %zu", p->out[1].len, want);
  h_ok (ok && content && file_is (p, "exitStatus", "0"), "1.5 MiB of stdout, last line intact");
  h_proc_free (p);

  /* A late reader: the container exits before anyone reads; nothing lost. */
  const char *b[] = { "sh", "-c", "dd if=/dev/zero bs=1000 count=100 2>/dev/null; echo end >&2",
                      NULL };
  p = start_init (bundle, "late", b);
  ok = h_wait_file (p->dir, "exitStatus", 20000) == 0;
  ok = ok && h_proc_wait (p, 20000) == 0;
  h_ok (ok && p->out[1].len == 100000 && p->out[2].data && strcmp (p->out[2].data, "end\n") == 0,
        "reader opened after the exit still gets all 100000+4 bytes (got %zu)", p->out[1].len);
  h_proc_free (p);

  /* The same in small writes, each relayed before the next arrives: spliced
   * one by one, every 1000 bytes would take a slot of the FIFO's 16 and the
   * container would block at about 80 KB with nobody reading. The shim
   * holds 64 KiB in the FIFO as the original did, so 120 KB fit. */
  const char *c[] = { "sh", "-c",
                      "i=0; while [ $i -lt 120 ]; do head -c 1000 /dev/zero; usleep 1000; "
                      "i=$((i+1)); done",
                      NULL };
  p = start_init (bundle, "trickle", c);
  ok = h_wait_file (p->dir, "exitStatus", 20000) == 0;
  ok = ok && h_proc_wait (p, 20000) == 0;
  h_ok (ok && p->out[1].len == 120000 && file_is (p, "exitStatus", "0"),
        "120 writes of 1000 bytes with no reader: the container exits, a late reader gets "
        "all 120000 (got %zu)",
        p->out[1].len);
  h_proc_free (p);
}

static void
t_stdin (const char *bundle)
{
  const char *a[] = { "cat", NULL };
  struct proc *p = start_init (bundle, "stdin", a);
  int w = open (p->fifo[0], O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  bool ok = w >= 0 && write_all (w, "hello stdin\n", 12) == 12;
  if (w >= 0)
    close (w);
  /* cat only sees EOF once the shim's own writer is closed */
  ok = ok && h_proc_control (p, "garbage line\n0 0 0\n") == 0;
  ok = ok && h_proc_wait (p, 20000) == 0;
  h_ok (ok && p->out[1].data && strcmp (p->out[1].data, "hello stdin\n") == 0
            && file_is (p, "exitStatus", "0"),
        "stdin through the FIFO, EOF by control `0 0 0` (after an unparsable line)");
  h_proc_free (p);
}

static void
t_terminal (void)
{
  const char *a[] = { "sh", "-c", "read x; stty size; echo tty:$(tty)", NULL };
  cleanup_free char *bundle = h_bundle ("tty", true, a);
  if (bundle == NULL)
    {
      h_ok (false, "terminal bundle");
      return;
    }
  cleanup_free char *id = new_id ("tty");
  struct proc *p = h_proc_new (id, bundle, "init", false, NULL);
  bool ok = h_proc_start (p, "runc", false, NULL) == 0 && sync_ok (p);
  ok = ok && h_runc ("start", p->id, NULL) == 0;
  ok = ok && h_proc_control (p, "1 100 40\n") == 0;
  int w = open (p->fifo[0], O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  ok = ok && w >= 0 && write_all (w, "go\n", 3) == 3;
  if (w >= 0)
    close (w);
  ok = ok && h_proc_wait (p, 20000) == 0;
  const char *o = p->out[1].data ? p->out[1].data : "";
  h_ok (ok && strstr (o, "40 100") && strstr (o, "tty:/dev/pts/") && file_is (p, "exitStatus", "0"),
        "terminal: pty via console socket, resize via control (`stty size` = 40 100)");
  if (!ok || !strstr (o, "40 100"))
    h_diag ("tty output: `%s`", o);
  h_proc_free (p);
}

static void
t_exec (const char *bundle)
{
  const char *a[] = { "sleep", "100", NULL };
  struct proc *init = start_init (bundle, "exec", a);
  const char *e[] = { "sh", "-c", "echo exec-out; echo exec-err >&2; exit 5", NULL };
  struct proc *x = h_proc_new (init->id, bundle, "e1", true, e);
  bool ok = h_proc_start (x, "runc", false, NULL) == 0 && sync_ok (x);
  ok = ok && h_proc_wait (x, 20000) == 0;
  h_ok (ok && file_is (x, "exitStatus", "5") && x->out[1].data
            && strcmp (x->out[1].data, "exec-out\n") == 0 && x->out[2].data
            && strcmp (x->out[2].data, "exec-err\n") == 0 && kill (h_proc_pid (init), 0) == 0,
        "exec -d in a running container: status 5 and output; the init keeps running");
  h_proc_free (x);

  /* docs/failure-modes.md #1/#2: a background child keeps the exec's stdout open */
  const char *bg[] = { "sh", "-c", "sleep 100 & echo started", NULL };
  x = h_proc_new (init->id, bundle, "e2", true, bg);
  ok = h_proc_start (x, "runc", false, NULL) == 0 && sync_ok (x);
  ok = ok && h_proc_wait (x, 5000) == 0;
  h_ok (ok && file_is (x, "exitStatus", "0") && x->out[1].data
            && strcmp (x->out[1].data, "started\n") == 0,
        "exec whose background child holds stdout: the shim exits within 5 s with status 0");
  h_proc_free (x);

  /* 20 instant exits */
  int good = 0;
  for (int i = 0; i < 20; i++)
    {
      char name[16];
      snprintf (name, sizeof name, "i%d", i);
      const char *t[] = { "true", NULL };
      x = h_proc_new (init->id, bundle, name, true, t);
      if (h_proc_start (x, "runc", false, NULL) == 0 && sync_ok (x) && h_proc_wait (x, 10000) == 0
          && file_is (x, "exitStatus", "0") && WIFEXITED (x->shim_status)
          && WEXITSTATUS (x->shim_status) == 0)
        good++;
      h_proc_free (x);
    }
  h_ok (good == 20 && h_zombies_of (getpid ()) == 0, "20 instant-exit execs (%d ok), no zombie",
        good);
  kill (h_proc_pid (init), SIGKILL);
  h_ok (h_proc_wait (init, 20000) == 0 && file_is (init, "exitStatus", "137"),
        "init of the exec tests killed → 137");
  h_proc_free (init);
}

static void
t_background_init (const char *bundle)
{
  /* own PID namespace: the kernel kills the background sleep with the init */
  const char *a[] = { "sh", "-c", "sleep 100 & echo bg", NULL };
  struct proc *p = start_init (bundle, "bgns", a);
  h_ok (h_proc_wait (p, 5000) == 0 && file_is (p, "exitStatus", "0"),
        "init with a background child (own PID ns): shim exits at once");
  h_proc_free (p);

  /* no PID namespace: the shim's `runc kill --all` must stop the sleep */
  const char *b[] = { "sh", "-c", "sleep 100 & echo $! > /tmp/bgpid; echo bg", NULL };
  cleanup_free char *nb = h_bundle ("nopidns", false, b);
  if (nb == NULL || h_bundle_jq (nb, "del(.linux.namespaces[] | select(.type == \"pid\"))") < 0)
    {
      h_ok (false, "bundle without a PID namespace");
      return;
    }
  p = start_init (nb, "bgnons", NULL);
  bool ok = h_proc_wait (p, 10000) == 0 && file_is (p, "exitStatus", "0");
  cleanup_free char *pidpath = xasprintf ("%s/rootfs/tmp/bgpid", nb);
  cleanup_free char *bgs = NULL;
  read_file (pidpath, &bgs, NULL, 64, NULL);
  /* the pid inside == host pid without a PID namespace */
  long long bg = bgs ? strtoll (bgs, NULL, 10) : 0;
  cleanup_free char *comm_path = xasprintf ("/proc/%lld/cmdline", bg);
  cleanup_free char *comm = NULL;
  bool gone =
      bg > 0 && (read_file (comm_path, &comm, NULL, 4096, NULL) < 0 || strcmp (comm, "sleep") != 0);
  h_ok (ok && gone, "init without a PID ns: kill --all stopped the background child (%lld)", bg);
  h_proc_free (p);
}

static void
t_failures (const char *bundle)
{
  /* runtime failure: a bundle without rootfs */
  const char *a[] = { "true", NULL };
  cleanup_free char *bad = h_bundle ("bad", false, a);
  cleanup_free char *rootfs = xasprintf ("%s/rootfs", bad);
  rm_rf (rootfs, NULL);
  cleanup_free char *id = new_id ("bad");
  struct proc *p = h_proc_new (id, bad, "init", false, NULL);
  bool ok = h_proc_start (p, "runc", false, NULL) == 0 && h_proc_wait (p, 20000) == 0;
  cleanup_free char *log = h_proc_file (p, "log.json");
  h_ok (ok && strncmp (p->sync, "error oci runtime error: ", 25) == 0 && log
            && strstr (log, "\"level\":\"error\"") && !h_proc_has (p, "exitStatus")
            && !h_proc_has (p, "exitStatus.reserve") && WIFEXITED (p->shim_status)
            && WEXITSTATUS (p->shim_status) == 0 && h_runc ("state", p->id, NULL) != 0,
        "runtime failure: sync `%.*s`, error in log.json, no exitStatus (nor its reserve), no "
        "runc state",
        (int) strcspn (p->sync, "\n"), p->sync);
  h_proc_free (p);

  /* shim failure: stdout path missing; the message has a quote to escape */
  cleanup_free char *id2 = new_id ("nofifo");
  p = h_proc_new (id2, bundle, "init", false, NULL);
  unlink (p->fifo[1]);
  free (p->fifo[1]);
  p->fifo[1] = xasprintf ("%s/no\"such", h_root);
  cleanup_free char *pj = xasprintf ("%s/process.json", p->dir);
  json_object *o = json_object_from_file (pj);
  json_object_object_add (o, "containerdStdout", json_object_new_string (p->fifo[1]));
  json_object_to_file (pj, o);
  json_object_put (o);
  ok = h_proc_start (p, "runc", false, NULL) == 0 && h_proc_wait (p, 20000) == 0;
  cleanup_free char *sl = h_proc_file (p, "shim-log.json");
  /* concatenated objects, as the daemon reads them: the first error entry */
  const char *m = "";
  json_object *lj = NULL;
  json_tokener *tok = json_tokener_new ();
  for (const char *c = sl; c && *c;)
    {
      json_object *e = json_tokener_parse_ex (tok, c, (int) strlen (c));
      if (e == NULL)
        break;
      c += json_tokener_get_parse_end (tok);
      json_object *lvl, *msg;
      if (json_object_object_get_ex (e, "level", &lvl)
          && strcmp (json_object_get_string (lvl), "error") == 0
          && json_object_object_get_ex (e, "msg", &msg))
        {
          lj = e;
          m = json_object_get_string (msg);
          break;
        }
      json_object_put (e);
    }
  json_tokener_free (tok);
  h_ok (ok && strncmp (p->sync, "error shim error: containerd-shim: opening ", 43) == 0
            && strstr (m, "no\"such") && strstr (m, "No such file") && WIFEXITED (p->shim_status)
            && WEXITSTATUS (p->shim_status) == 1 && !h_proc_has (p, "exitStatus"),
        "shim failure: sync `error shim error: …`, shim-log.json valid JSON with the escaped "
        "message, exit 1");
  json_object_put (lj);
  h_proc_free (p);

  /* runtime binary missing */
  cleanup_free char *id3 = new_id ("nort");
  p = h_proc_new (id3, bundle, "init", false, NULL);
  ok = h_proc_start (p, "/nonexistent/runtime", false, NULL) == 0 && h_proc_wait (p, 20000) == 0;
  h_ok (ok && strstr (p->sync, "error shim error: exec `/nonexistent/runtime`: No such file"),
        "missing runtime binary: `%.*s`", (int) strcspn (p->sync, "\n"), p->sync);
  h_proc_free (p);
}

static void
t_parent_dies (const char *bundle)
{
  const char *a[] = { "sleep", "100", NULL };
  cleanup_free char *id = new_id ("orphan");
  h_bundle_set_args (bundle, a);
  struct proc *p = h_proc_new (id, bundle, "init", false, NULL);
  pid_t middle = -1;
  bool ok = h_proc_start (p, "runc", true, &middle) == 0 && sync_ok (p);
  ok = ok && h_runc ("start", p->id, NULL) == 0;
  kill (middle, SIGKILL);
  waitpid (middle, NULL, 0);
  pid_t c = h_proc_pid (p);
  /* the container and the shim survive their parent */
  bool alive = ok && kill (c, 0) == 0 && kill (p->shim, 0) == 0;
  kill (c, SIGKILL);
  ok = ok && h_proc_wait (p, 20000) == 0;
  h_ok (alive && ok && file_is (p, "exitStatus", "137"),
        "shim's parent killed: container and shim survive; the later exit is still written");
  h_proc_free (p);
}

static void
t_valgrind (const char *bundle)
{
  if (access ("/usr/bin/valgrind", X_OK) != 0)
    {
      h_skip ("valgrind: no leak", "valgrind not installed");
      return;
    }
  if (CTRD_SAN_CFLAGS[0] != '\0')
    {
      h_skip ("valgrind: no leak",
              "sanitizer build (ASan checks leaks at the shim's exit instead)");
      return;
    }
  cleanup_free char *vlog = xasprintf ("%s/valgrind.log", h_root);
  cleanup_free char *wrap = xasprintf ("valgrind -q --leak-check=full --show-leak-kinds=all "
                                       "--errors-for-leak-kinds=all --error-exitcode=99 "
                                       "--log-file=%s",
                                       vlog);
  setenv ("CTRD_SHIM_WRAPPER", wrap, 1);
  const char *a[] = { "sh", "-c", "echo vg; exit 3", NULL };
  struct proc *p = start_init (bundle, "vg", a);
  unsetenv ("CTRD_SHIM_WRAPPER");
  bool ok = h_proc_wait (p, 60000) == 0;
  cleanup_free char *log = NULL;
  read_file (vlog, &log, NULL, 1 << 20, NULL);
  h_ok (ok && file_is (p, "exitStatus", "3") && WIFEXITED (p->shim_status)
            && WEXITSTATUS (p->shim_status) == 0 && log && log[0] == '\0',
        "valgrind: no leak and no error in the shim (exit %d)",
        WIFEXITED (p->shim_status) ? WEXITSTATUS (p->shim_status) : -1);
  if (log && log[0])
    h_diag ("%s", log);
  h_proc_free (p);
}

int
main (int argc, char **argv)
{
  if (geteuid () != 0)
    {
      printf ("1..0 # SKIP needs root (runc)\n");
      return 0;
    }
  h_init (argc, argv);
  h_plan (21);
  cleanup_free char *bundle = h_bundle ("plain", false, NULL);
  if (bundle == NULL)
    {
      h_fini ();
      return 1;
    }
  t_exit_codes (bundle);
  t_output (bundle);
  t_stdin (bundle);
  t_terminal ();
  t_exec (bundle);
  t_background_init (bundle);
  t_failures (bundle);
  t_parent_dies (bundle);
  t_valgrind (bundle);
  h_ok (h_zombies_of (getpid ()) == 0, "no zombie left at the end");
  h_fini ();
  return 0;
}
