/* End-to-end tests of UpdateContainer (pause/resume, resources), Stats and
 * checkpoints (create/list/delete, restore with CRIU) against the real
 * daemon, shim, runc, CRIU and cgroups, through the C client (api/client.h).
 * TAP, plan at the end.
 *
 * Progress of a container is observed through a counter file its shell
 * rewrites in its rootfs, watched with inotify (no polling): a paused
 * container must not write it, a restored one must continue counting. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/pb-cleanup.h"
#include "lib/util.h"
#include "ops-harness.h"

/* The counter is written to a temp file and renamed over /cnt: a reader (or
 * a checkpoint) never sees it empty or half-written. */
#define COUNTER                                                                                    \
  "i=0; while :; do i=$((i+1)); echo $i > /cnt.new; mv /cnt.new /cnt; sleep 0.05; done"

static void
test_pause_resume (const char *id, uint32_t pid, const char *rootfs)
{
  cleanup_error struct ctrd_error *err = NULL;
  struct counter_watch w;
  counter_watch_open (&w, rootfs);
  ok (counter_wait (&w, 2, 10000) >= 2, "the container counts");

  okd (update (id, "paused", NULL, &err) == 0, err, "UpdateContainer status=paused");
  ctrd_error_free (&err);
  ok (wait_event ("pause", id, NULL, 5000) != NULL, "pause event");
  cleanup_free char *st = container_status (id);
  ok (!strcmp (st, "paused"), "State says paused (%s)", st);
  counter_watch_drain (&w);
  long v = counter_read (rootfs);
  ok (cgroup_is (pid, "freezer", "freezer.state", "FROZEN") && counter_quiet (&w, 500)
          && counter_read (rootfs) == v,
      "paused: its freezer cgroup is FROZEN, no progress for 500 ms (counter stays %ld)", v);
  ok (update (id, "paused", NULL, &err) < 0 && expect_error (err, GRPC_UNKNOWN, "exit status"),
      "pausing a paused container: the runtime's error");
  ctrd_error_free (&err);

  okd (update (id, "running", NULL, &err) == 0, err, "UpdateContainer status=running");
  ctrd_error_free (&err);
  ok (wait_event ("resume", id, NULL, 5000) != NULL, "resume event");
  cleanup_free char *st2 = container_status (id);
  ok (!strcmp (st2, "running") && cgroup_is (pid, "freezer", "freezer.state", "THAWED"),
      "State says running (%s), freezer THAWED", st2);
  long v2 = counter_wait (&w, v + 1, 5000);
  ok (v2 > v, "counting again after resume (%ld → %ld)", v, v2);

  ok (update (id, "bogus", NULL, &err) < 0
          && expect_error (err, GRPC_INVALID_ARGUMENT, "containerd: unknown container status ")
          && err->msg[strlen (err->msg) - 1] == ' ',
      "unknown status → the original's text, trailing space included");
  ctrd_error_free (&err);
  counter_watch_close (&w);
}

/* memory+swap: a finite limit first (so that "unlimited" afterwards is a
 * change the runtime made), then Docker's unlimited (2^64-1, sent as -1),
 * which the kernel shows as LONG_MAX rounded down to the page size. Only a
 * kernel without swap accounting (no memory.memsw.* files at all) has
 * nothing to check; that is stated, and the update must still succeed. */
static void
test_memsw (const char *id, uint32_t pid)
{
  cleanup_error struct ctrd_error *err = NULL;
  cleanup_free char *f = cgroup_file (pid, "memory", "memory.memsw.limit_in_bytes");
  Types__UpdateResource fin = TYPES__UPDATE_RESOURCE__INIT, inf = TYPES__UPDATE_RESOURCE__INIT;
  fin.memoryswap = 256 << 20; /* the memory limit is 128 MiB here */
  inf.memoryswap = UINT64_MAX;
  if (!f || access (f, F_OK) < 0)
    {
      diag ("this kernel has no swap accounting (no memory.memsw.limit_in_bytes): memoryswap "
            "cannot be observed");
      ok (access ("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) < 0
              && update (id, NULL, &inf, &err) == 0,
          "memoryswap -1 without swap accounting: accepted");
      ctrd_error_free (&err);
      return;
    }
  long page = sysconf (_SC_PAGESIZE);
  char unlimited[32];
  snprintf (unlimited, sizeof unlimited, "%lld", (long long) (LLONG_MAX / page * page));
  okd (update (id, NULL, &fin, &err) == 0
           && cgroup_is (pid, "memory", "memory.memsw.limit_in_bytes", "268435456"),
       err, "memoryswap 256 MiB: memory.memsw.limit_in_bytes");
  ctrd_error_free (&err);
  okd (update (id, NULL, &inf, &err) == 0
           && cgroup_is (pid, "memory", "memory.memsw.limit_in_bytes", unlimited),
       err, "memoryswap 2^64-1 (Docker's unlimited): memsw back to unlimited (%s)", unlimited);
  ctrd_error_free (&err);
}

static void
test_update (const char *id, uint32_t pid)
{
  cleanup_error struct ctrd_error *err = NULL;
  Types__UpdateResource r = TYPES__UPDATE_RESOURCE__INIT;
  r.memorylimit = 64 << 20;
  r.cpushares = 512;
  r.cpuquota = 50000;
  r.cpuperiod = 100000;
  r.pidslimit = 50;
  okd (update (id, NULL, &r, &err) == 0, err, "update memory, cpu shares/quota/period, pids");
  ctrd_error_free (&err);
  ok (cgroup_is (pid, "memory", "memory.limit_in_bytes", "67108864"), "memory.limit_in_bytes");
  ok (cgroup_is (pid, "cpu", "cpu.shares", "512"), "cpu.shares");
  ok (cgroup_is (pid, "cpu", "cpu.cfs_quota_us", "50000")
          && cgroup_is (pid, "cpu", "cpu.cfs_period_us", "100000"),
      "cpu.cfs_quota_us / cpu.cfs_period_us");
  ok (cgroup_is (pid, "pids", "pids.max", "50"), "pids.max");

  /* only the given fields change */
  Types__UpdateResource r2 = TYPES__UPDATE_RESOURCE__INIT;
  r2.memorylimit = 128 << 20;
  ok (update (id, NULL, &r2, &err) == 0
          && cgroup_is (pid, "memory", "memory.limit_in_bytes", "134217728")
          && cgroup_is (pid, "cpu", "cpu.shares", "512")
          && cgroup_is (pid, "pids", "pids.max", "50"),
      "a second update changes only what it names");
  ctrd_error_free (&err);

  /* the remaining fields: reservation, Docker's unlimited swap (2^64-1 → -1),
   * cpuset, and the realtime pair the original server dropped */
  Types__UpdateResource r3 = TYPES__UPDATE_RESOURCE__INIT;
  r3.memoryreservation = 32 << 20;
  r3.cpusetcpus = (char *) "0";
  r3.cpusetmems = (char *) "0";
  okd (update (id, NULL, &r3, &err) == 0, err, "update reservation, cpuset");
  ctrd_error_free (&err);
  ok (cgroup_is (pid, "memory", "memory.soft_limit_in_bytes", "33554432")
          && cgroup_is (pid, "cpuset", "cpuset.cpus", "0")
          && cgroup_is (pid, "cpuset", "cpuset.mems", "0"),
      "memory.soft_limit_in_bytes, cpuset.cpus/mems");
  test_memsw (id, pid);
  cleanup_free char *rt = cgroup_file (pid, "cpu", "cpu.rt_runtime_us");
  if (rt && access (rt, F_OK) == 0)
    {
      Types__UpdateResource r4 = TYPES__UPDATE_RESOURCE__INIT;
      r4.cpurealtimeperiod = 1000000;
      r4.cpurealtimeruntime = 10000;
      okd (update (id, NULL, &r4, &err) == 0 && cgroup_is (pid, "cpu", "cpu.rt_runtime_us", "10000")
               && cgroup_is (pid, "cpu", "cpu.rt_period_us", "1000000"),
           err, "cpuRealtimePeriod/Runtime honoured (cpu.rt_period_us, cpu.rt_runtime_us)");
      ctrd_error_free (&err);
    }
  else
    skip ("cpuRealtimePeriod/Runtime", "no CONFIG_RT_GROUP_SCHED (cpu.rt_runtime_us)");

  Types__UpdateResource none = TYPES__UPDATE_RESOURCE__INIT;
  ok (update (id, NULL, &none, &err) == 0 && update (id, NULL, NULL, &err) == 0,
      "an empty update succeeds");
  ctrd_error_free (&err);

  /* blkio weight: applied where the I/O scheduler has weights, else a clear error */
  Types__UpdateResource bw = TYPES__UPDATE_RESOURCE__INIT;
  bw.blkioweight = 300;
  cleanup_free char *bfq = cgroup_file (pid, "blkio", "blkio.bfq.weight");
  cleanup_free char *cfq = cgroup_file (pid, "blkio", "blkio.weight");
  bool has_weight = (bfq && access (bfq, F_OK) == 0) || (cfq && access (cfq, F_OK) == 0);
  int rw = update (id, NULL, &bw, &err);
  if (has_weight)
    {
      cleanup_free char *v =
          cgroup_read (pid, "blkio", access (bfq, F_OK) == 0 ? "blkio.bfq.weight" : "blkio.weight");
      okd (rw == 0 && v && strstr (v, "300"), err, "blkioWeight 300 applied (%s)", v ? v : "?");
    }
  else
    ok (rw < 0 && expect_error (err, GRPC_FAILED_PRECONDITION, "blkioWeight cannot be set"),
        "blkioWeight without a weight-capable I/O scheduler → FAILED_PRECONDITION");
  ctrd_error_free (&err);
  bw.blkioweight = 5;
  ok (update (id, NULL, &bw, &err) < 0 && expect_error (err, GRPC_INVALID_ARGUMENT, "out of range"),
      "blkioWeight 5 → INVALID_ARGUMENT");
  ctrd_error_free (&err);
  Types__UpdateResource leaf = TYPES__UPDATE_RESOURCE__INIT;
  leaf.blkioleafweight = 100;
  ok (update (id, NULL, &leaf, &err) < 0
          && expect_error (err, GRPC_UNIMPLEMENTED, "blkioLeafWeight"),
      "blkioLeafWeight → UNIMPLEMENTED (the runtime cannot update it)");
  ctrd_error_free (&err);

  /* kernel memory: either really applied, or a clear error (runc ≥ 1.0 drops it) */
  Types__UpdateResource km = TYPES__UPDATE_RESOURCE__INIT;
  km.kernelmemorylimit = 256 << 20;
  if (update (id, NULL, &km, &err) == 0)
    ok (cgroup_is (pid, "memory", "memory.kmem.limit_in_bytes", "268435456"),
        "kernelMemoryLimit applied");
  else
    ok (expect_error (err, GRPC_FAILED_PRECONDITION, "kernel memory"),
        "kernelMemoryLimit ignored by the runtime → FAILED_PRECONDITION");
  ctrd_error_free (&err);

  Types__UpdateResource cs = TYPES__UPDATE_RESOURCE__INIT;
  cs.cpusetcpus = (char *) "0-4095";
  ok (update (id, NULL, &cs, &err) < 0 && expect_error (err, GRPC_UNKNOWN, "cpuset.cpus")
          && !strstr (err->msg, "exit status"),
      "a runtime failure of update carries the runtime's output only");
  ctrd_error_free (&err);
}

static void
test_stats (void)
{
  cleanup_error struct ctrd_error *err = NULL;
  /* 32 MiB in the container's /dev/shm (tmpfs, charged to its memory
   * cgroup), then a busy loop that bumps the counter every few thousand
   * iterations: each counter step is CPU time spent. */
  cleanup_free char *b = make_bundle (
      "burner", "head -c 33554432 /dev/zero > /dev/shm/fill; n=0; while :; do i=0; "
                "while [ $i -lt 3000 ]; do i=$((i+1)); done; n=$((n+1)); echo $n > /cnt.new; "
                "mv /cnt.new /cnt; done");
  if (!ok (b != NULL, "burner bundle"))
    return;
  cleanup_free char *rootfs = path_join (b, "rootfs");
  struct counter_watch w;
  counter_watch_open (&w, rootfs);
  uint32_t pid = create ("ops-stats", b, NULL, &err);
  if (!ok (pid > 0, "create a cpu/memory burner"))
    {
      diag ("%s", err->msg);
      counter_watch_close (&w);
      return;
    }
  long v = counter_wait (&w, 1, 20000);
  ok (v >= 1, "the burner allocated and runs");
  Types__StatsRequest req = TYPES__STATS_REQUEST__INIT;
  req.id = (char *) "ops-stats";
  cleanup_pb Types__StatsResponse *s1 = NULL;
  cleanup_pb Types__StatsResponse *s2 = NULL;
  int r1 = rpc ("Stats", &req, &types__stats_response__descriptor, &s1, &err);
  if (r1 < 0)
    diag ("Stats: %s", err->msg);
  ctrd_error_free (&err);
  ok (counter_wait (&w, v + 3, 20000) > v, "the burner made progress");
  int r2 = rpc ("Stats", &req, &types__stats_response__descriptor, &s2, &err);
  counter_watch_close (&w);
  if (!ok (r1 == 0 && r2 == 0, "Stats succeeds twice"))
    {
      if (err)
        diag ("Stats: %s", err->msg);
      return;
    }
  Types__CgroupStats *c1 = s1->cgroup_stats, *c2 = s2->cgroup_stats;
  bool complete = c1 && c2 && c1->cpu_stats && c2->cpu_stats && c1->cpu_stats->cpu_usage
                  && c2->cpu_stats->cpu_usage && c2->memory_stats && c2->memory_stats->usage
                  && c2->pids_stats && c2->blkio_stats;
  if (ok (complete, "cgroup_stats has cpu, memory, blkio and pids sections"))
    {
      uint64_t t1 = c1->cpu_stats->cpu_usage->total_usage,
               t2 = c2->cpu_stats->cpu_usage->total_usage;
      ok (t1 > 0 && t2 > t1, "cpu total_usage moves (%llu → %llu ns)", (unsigned long long) t1,
          (unsigned long long) t2);
      Types__CpuUsage *u = c2->cpu_stats->cpu_usage;
      ok (u->n_percpu_usage > 0 && u->usage_in_usermode + u->usage_in_kernelmode > 0,
          "percpu (%zu cpus) and user/kernel time filled", u->n_percpu_usage);
      ok (c2->cpu_stats->system_usage > 0, "system_usage filled");
      uint64_t mem = c2->memory_stats->usage->usage;
      ok (mem >= 32u << 20, "memory usage ≥ 32 MiB (%llu)", (unsigned long long) mem);
      uint64_t cache = 0;
      for (size_t i = 0; i < c2->memory_stats->n_stats; i++)
        if (!strcmp (c2->memory_stats->stats[i]->key, "cache")
            || !strcmp (c2->memory_stats->stats[i]->key, "file"))
          cache = c2->memory_stats->stats[i]->value;
      ok (c2->memory_stats->n_stats > 5 && cache >= 32u << 20,
          "memory.stat keys (%zu) with the tmpfs pages in cache/file (%llu)",
          c2->memory_stats->n_stats, (unsigned long long) cache);
      ok (c2->pids_stats->current >= 1, "pids current %llu",
          (unsigned long long) c2->pids_stats->current);
    }
  int64_t now = time_now_real_ns () / NSEC_PER_SEC;
  ok (s1->timestamp && s2->timestamp && s2->timestamp->seconds >= s1->timestamp->seconds
          && s2->timestamp->seconds <= now && s2->timestamp->seconds > now - 60,
      "timestamps are collection times");

  /* latency figure (bench/ has the proper measurement) */
  int64_t best = INT64_MAX;
  for (int i = 0; i < 20; i++)
    {
      cleanup_pb Types__StatsResponse *s = NULL;
      int64_t t0 = time_now_mono_ns ();
      rpc ("Stats", &req, &types__stats_response__descriptor, &s, NULL);
      int64_t dt = time_now_mono_ns () - t0;
      best = dt < best ? dt : best;
    }
  diag ("Stats round trip: best of 20 = %lld us", (long long) (best / 1000));
}

static bool
criu_usable (char **why)
{
  char *const argv[] = { (char *) "criu", (char *) "check", NULL };
  int r = run (argv);
  if (r == 0)
    return true;
  if (r == 127)
    *why = xasprintf ("no criu on PATH (scripts/setup.sh builds one into /opt/ctrd-criu/sbin)");
  else
    *why = xasprintf ("`criu check` fails (status %d)", r);
  return false;
}

static Types__ListCheckpointResponse *
list_checkpoints (const char *id, const char *dir, struct ctrd_error **err)
{
  Types__ListCheckpointRequest req = TYPES__LIST_CHECKPOINT_REQUEST__INIT;
  req.id = (char *) id;
  if (dir)
    req.checkpointdir = (char *) dir;
  Types__ListCheckpointResponse *resp = NULL;
  if (rpc ("ListCheckpoint", &req, &types__list_checkpoint_response__descriptor, &resp, err) < 0)
    return NULL;
  return resp;
}

static int checkpoint_opts (const char *id, const char *name, bool exit_, bool shell,
                            const char *dir, struct ctrd_error **err);

static int
checkpoint (const char *id, const char *name, bool exit_, const char *dir, struct ctrd_error **err)
{
  return checkpoint_opts (id, name, exit_, false, dir, err);
}

static int
checkpoint_opts (const char *id, const char *name, bool exit_, bool shell, const char *dir,
                 struct ctrd_error **err)
{
  Types__CreateCheckpointRequest req = TYPES__CREATE_CHECKPOINT_REQUEST__INIT;
  Types__Checkpoint cp = TYPES__CHECKPOINT__INIT;
  char *ns[] = { (char *) "network" };
  cp.name = (char *) name;
  cp.exit = exit_;
  /* what Docker 1.13 sends */
  cp.tcp = true;
  cp.unixsockets = true;
  cp.shell = shell;
  cp.n_emptyns = 1;
  cp.emptyns = ns;
  req.id = (char *) id;
  req.checkpoint = &cp;
  if (dir)
    req.checkpointdir = (char *) dir;
  return rpc ("CreateCheckpoint", &req, &types__create_checkpoint_response__descriptor, NULL, err);
}

static int
delete_checkpoint (const char *id, const char *name, const char *dir, struct ctrd_error **err)
{
  Types__DeleteCheckpointRequest req = TYPES__DELETE_CHECKPOINT_REQUEST__INIT;
  req.id = (char *) id;
  req.name = (char *) name;
  if (dir)
    req.checkpointdir = (char *) dir;
  return rpc ("DeleteCheckpoint", &req, &types__delete_checkpoint_response__descriptor, NULL, err);
}

/* ListCheckpoint as "name:<tcp><unixSockets><shell><exit><n emptyNS>" entries,
 * space-separated: docs/api.md says List fills only name and the first three. */
static bool
list_is (const char *id, const char *dir, const char *want)
{
  cleanup_error struct ctrd_error *err = NULL;
  cleanup_pb Types__ListCheckpointResponse *l = list_checkpoints (id, dir, &err);
  if (!l)
    {
      diag ("ListCheckpoint: %s", err->msg);
      return false;
    }
  char got[512] = "";
  for (size_t i = 0; i < l->n_checkpoints; i++)
    {
      Types__Checkpoint *c = l->checkpoints[i];
      size_t n = strlen (got);
      snprintf (got + n, sizeof got - n, "%s%s:%d%d%d%d%zu", i ? " " : "", c->name, c->tcp,
                c->unixsockets, c->shell, c->exit, c->n_emptyns);
    }
  if (strcmp (got, want) != 0)
    diag ("checkpoints \"%s\", want \"%s\"", got, want);
  return strcmp (got, want) == 0;
}

static void
test_checkpoint (void)
{
  cleanup_free char *why = NULL;
  if (!criu_usable (&why))
    {
      skip_expected ("checkpoint/restore with CRIU", why);
      return;
    }
  cleanup_error struct ctrd_error *err = NULL;
  const char *id = "ops-ckpt";
  cleanup_free char *b = make_bundle ("ckpt", COUNTER);
  if (!ok (b != NULL, "checkpoint bundle"))
    return;
  cleanup_free char *rootfs = path_join (b, "rootfs");
  struct counter_watch w;
  counter_watch_open (&w, rootfs);
  uint32_t pid0 = create (id, b, NULL, &err);
  if (!ok (pid0 > 0, "create a counting container"))
    {
      diag ("%s", err->msg);
      counter_watch_close (&w);
      return;
    }
  ok (counter_wait (&w, 3, 10000) >= 3, "it counts");

  okd (checkpoint (id, "cp1", false, NULL, &err) == 0, err, "CreateCheckpoint cp1 (leave running)");
  ctrd_error_free (&err);
  cleanup_free char *cfgp = path_join (b, "checkpoints/cp1/config.json");
  cleanup_free char *cfg = NULL;
  ok (read_file (cfgp, &cfg, NULL, 1 << 16, NULL) == 0
          && strstr (cfg, "\"name\":\"cp1\",\"tcp\":true,\"unixSockets\":true,\"shell\":false,"
                          "\"exit\":false,\"emptyNS\":[\"network\"]}\n"),
      "<bundle>/checkpoints/cp1/config.json as docs/runtime.md §3.2");
  cleanup_free char *img = path_join (b, "checkpoints/cp1/inventory.img");
  ok (access (img, F_OK) == 0, "CRIU images written");
  long v = counter_read (rootfs);
  ok (counter_wait (&w, v + 2, 5000) > v, "still counting after a leave-running checkpoint");
  ok (list_is (id, NULL, "cp1:11000"),
      "ListCheckpoint: name, tcp, unixSockets, shell (docs/api.md)");

  ok (checkpoint (id, "cp1", false, NULL, &err) < 0
          && expect_error (err, GRPC_ALREADY_EXISTS, "cp1: file exists"),
      "an existing name → ALREADY_EXISTS \"mkdir …: file exists\"");
  ctrd_error_free (&err);
  cleanup_free char *evil = path_join (b, "evil");
  ok (checkpoint (id, "../evil", false, NULL, &err) < 0
          && expect_error (err, GRPC_INVALID_ARGUMENT, NULL) && access (evil, F_OK) < 0,
      "a hostile name → INVALID_ARGUMENT, nothing created");
  ctrd_error_free (&err);

  /* shell job (--shell-job) is accepted for a process without a terminal too */
  cleanup_free char *sdir = path_join (tmp, "shelljob");
  okd (checkpoint_opts (id, "sh1", false, true, sdir, &err) == 0 && list_is (id, sdir, "sh1:11100"),
       err, "CreateCheckpoint with shell=true; List reports shell");
  ctrd_error_free (&err);

  /* custom checkpointDir */
  cleanup_free char *cdir = path_join (tmp, "elsewhere");
  ok (checkpoint (id, "cp3", false, cdir, &err) == 0 && list_is (id, cdir, "cp3:11000")
          && delete_checkpoint (id, "cp3", cdir, &err) == 0 && list_is (id, cdir, ""),
      "checkpointDir: create, list, delete there");
  ctrd_error_free (&err);

  /* checkpoint with exit, then restore: the counter continues */
  counter_watch_drain (&w);
  okd (checkpoint (id, "cp2", true, NULL, &err) == 0, err, "CreateCheckpoint cp2 with exit");
  ctrd_error_free (&err);
  /* CRIU kills the dumped tasks: SIGKILL, 128+9 */
  struct seen_event *ex = wait_event ("exit", id, "init", 10000);
  ok (ex != NULL && ex->status == 137, "the container exits after the dump with 137 (%s %u)",
      ex ? "status" : "no exit event", ex ? ex->status : 0);
  long last = counter_read (rootfs);
  counter_watch_drain (&w);
  ok (kill ((pid_t) pid0, 0) < 0 && errno == ESRCH && last >= 3,
      "the dumped init is gone; its counter stopped at %ld", last);
  ok (list_checkpoints (id, NULL, &err) == NULL
          && expect_error (err, GRPC_NOT_FOUND, "no such containers"),
      "ListCheckpoint once the container is gone → NOT_FOUND");
  ctrd_error_free (&err);
  uint32_t rpid = create (id, b, "cp2", &err);
  if (ok (rpid > 0, "CreateContainer with checkpoint=cp2 restores it"))
    {
      ok (wait_event ("start-container", id, NULL, 5000) != NULL
              && wait_event ("start-container", id, NULL, 5000) != NULL,
          "start-container emitted for create and restore");
      long first = counter_next (&w, 5000);
      ok (last >= 3 && (first == last || first == last + 1),
          "the restored counter continues (%ld after %ld), not restarted", first, last);
      long later = counter_wait (&w, first + 2, 5000);
      ok (later >= first + 2, "and keeps counting (%ld)", later);
      cleanup_free char *st = container_status (id);
      ok (!strcmp (st, "running"), "State of the restored container: %s", st);
    }
  else
    diag ("%s", err->msg);
  ctrd_error_free (&err);
  counter_watch_close (&w);

  ok (list_is (id, NULL, "cp1:11000 cp2:11000"), "ListCheckpoint sorted by name");
  cleanup_free char *cp1 = path_join (b, "checkpoints/cp1");
  ok (delete_checkpoint (id, "cp1", NULL, &err) == 0 && access (cp1, F_OK) < 0
          && list_is (id, NULL, "cp2:11000"),
      "DeleteCheckpoint removes the directory");
  ctrd_error_free (&err);
  ok (delete_checkpoint (id, "cp1", NULL, &err) == 0, "deleting an absent checkpoint succeeds");
  ctrd_error_free (&err);
  ok (delete_checkpoint (id, "", NULL, &err) < 0
          && expect_error (err, GRPC_INVALID_ARGUMENT, "checkpoint name cannot be empty"),
      "DeleteCheckpoint without a name");
  ctrd_error_free (&err);
  cleanup_free char *cps = path_join (b, "checkpoints");
  ok (delete_checkpoint (id, "..", NULL, &err) < 0
          && expect_error (err, GRPC_INVALID_ARGUMENT, NULL) && access (cps, F_OK) == 0,
      "DeleteCheckpoint \"..\" → INVALID_ARGUMENT, nothing removed");
  ctrd_error_free (&err);

  /* a container that is gone */
  Types__SignalRequest sreq = TYPES__SIGNAL_REQUEST__INIT;
  sreq.id = (char *) id;
  sreq.pid = (char *) "init";
  sreq.signal = SIGKILL;
  rpc ("Signal", &sreq, &types__signal_response__descriptor, NULL, NULL);
  struct seen_event *kx = wait_event ("exit", id, "init", 10000);
  ok (kx != NULL && kx->status == 137, "restored container killed: exit status 137 (%s %u)",
      kx ? "status" : "no exit event", kx ? kx->status : 0);
  ok (checkpoint (id, "late", false, NULL, &err) < 0
          && expect_error (err, GRPC_NOT_FOUND, "containerd: container not found"),
      "checkpoint of a stopped (removed) container → container not found");
  ctrd_error_free (&err);
}

/* The same operations through crun (per-container runtime). */
static void
test_crun (void)
{
  char *const cv[] = { (char *) "crun", (char *) "--version", NULL };
  if (run (cv) != 0)
    {
      skip_expected ("pause/update/checkpoint with crun", "crun not installed");
      return;
    }
  cleanup_error struct ctrd_error *err = NULL;
  const char *id = "ops-crun";
  cleanup_free char *b = make_bundle ("crun", COUNTER);
  cleanup_free char *rootfs = b ? path_join (b, "rootfs") : NULL;
  uint32_t pid = b ? create_with_runtime (id, b, NULL, "crun", &err) : 0;
  if (!okd (pid > 0, err, "crun: create a counting container"))
    return;
  struct counter_watch w;
  counter_watch_open (&w, rootfs);
  ok (counter_wait (&w, 2, 10000) >= 2, "crun: it counts");
  okd (update (id, "paused", NULL, &err) == 0, err, "crun: pause");
  ctrd_error_free (&err);
  ok (wait_event ("pause", id, NULL, 5000) != NULL, "crun: pause event");
  counter_watch_drain (&w);
  long v = counter_read (rootfs);
  /* crun 1.8 returns from pause once it wrote FROZEN, without waiting for
   * the kernel to finish (runc waits): FREEZING is the freezer at work */
  cleanup_free char *fz = cgroup_read (pid, "freezer", "freezer.state");
  ok (fz && (!strcmp (fz, "FROZEN") || !strcmp (fz, "FREEZING")) && counter_quiet (&w, 300),
      "crun: paused, freezer %s, no progress for 300 ms", fz ? fz : "unreadable");
  okd (update (id, "running", NULL, &err) == 0, err, "crun: resume");
  ctrd_error_free (&err);
  ok (wait_event ("resume", id, NULL, 5000) != NULL && counter_wait (&w, v + 1, 5000) > v,
      "crun: resume event, counting again");
  counter_watch_close (&w);
  Types__UpdateResource r = TYPES__UPDATE_RESOURCE__INIT;
  r.memorylimit = 96 << 20;
  r.pidslimit = 60;
  okd (update (id, NULL, &r, &err) == 0, err, "crun: update memory and pids");
  ctrd_error_free (&err);
  ok (cgroup_is (pid, "memory", "memory.limit_in_bytes", "100663296")
          && cgroup_is (pid, "pids", "pids.max", "60"),
      "crun: limits visible in the cgroup");
  /* crun built without CRIU fails the dump: the error must say why and where */
  char *const feat[] = { (char *) "sh", (char *) "-c", (char *) "crun --version | grep -q +CRIU",
                         NULL };
  if (run (feat) != 0)
    {
      ok (checkpoint (id, "c1", false, NULL, &err) < 0
              && expect_error (err, GRPC_UNKNOWN, "CRIU log: "),
          "crun without CRIU: checkpoint fails with the runtime's message and the log path");
      ctrd_error_free (&err);
    }
  else
    {
      okd (checkpoint (id, "c1", false, NULL, &err) == 0, err, "crun: checkpoint");
      ctrd_error_free (&err);
    }
}

static void
test_errors (const char *running_id)
{
  cleanup_error struct ctrd_error *err = NULL;
  ok (update ("nope", "paused", NULL, &err) < 0
          && expect_error (err, GRPC_NOT_FOUND, "containerd: container not found"),
      "UpdateContainer of an unknown container");
  ctrd_error_free (&err);
  ok (checkpoint ("nope", "x", false, NULL, &err) < 0
          && expect_error (err, GRPC_NOT_FOUND, "containerd: container not found"),
      "CreateCheckpoint of an unknown container");
  ctrd_error_free (&err);
  ok (list_checkpoints ("nope", NULL, &err) == NULL
          && expect_error (err, GRPC_NOT_FOUND, "no such containers"),
      "ListCheckpoint of an unknown container → NOT_FOUND \"no such containers\"");
  ctrd_error_free (&err);
  ok (delete_checkpoint ("nope", "x", NULL, &err) < 0
          && expect_error (err, GRPC_NOT_FOUND, "containerd: container not found"),
      "DeleteCheckpoint of an unknown container");
  ctrd_error_free (&err);
  Types__StatsRequest sreq = TYPES__STATS_REQUEST__INIT;
  sreq.id = (char *) "nope";
  ok (rpc ("Stats", &sreq, &types__stats_response__descriptor, NULL, &err) < 0
          && expect_error (err, GRPC_NOT_FOUND, "containerd: container not found"),
      "Stats of an unknown container");
  ctrd_error_free (&err);
  ok (list_checkpoints (running_id, NULL, &err) == NULL && expect_error (err, GRPC_NOT_FOUND, NULL),
      "ListCheckpoint without a checkpoint directory → NOT_FOUND");
  ctrd_error_free (&err);
  Types__CreateCheckpointRequest creq = TYPES__CREATE_CHECKPOINT_REQUEST__INIT;
  creq.id = (char *) running_id;
  ok (rpc ("CreateCheckpoint", &creq, &types__create_checkpoint_response__descriptor, NULL, &err)
              < 0
          && expect_error (err, GRPC_INVALID_ARGUMENT, "checkpoint name cannot be empty"),
      "CreateCheckpoint without `checkpoint` → INVALID_ARGUMENT (the original crashed)");
  ctrd_error_free (&err);
}

int
main (void)
{
  int r = harness_start ();
  if (r > 0)
    return in_ci () ? 1 : 0;
  if (r == 0)
    {
      cleanup_error struct ctrd_error *err = NULL;
      cleanup_free char *b = make_bundle ("counter", COUNTER);
      cleanup_free char *rootfs = b ? path_join (b, "rootfs") : NULL;
      uint32_t pid = b ? create ("ops-pause", b, NULL, &err) : 0;
      if (ok (pid > 0, "create a counting container"))
        {
          test_pause_resume ("ops-pause", pid, rootfs);
          test_update ("ops-pause", pid);
          test_errors ("ops-pause");
        }
      else if (err)
        diag ("%s", err->msg);
      test_stats ();
      test_checkpoint ();
      test_crun ();
    }
  return harness_finish ();
}
