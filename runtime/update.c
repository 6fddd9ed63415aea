/* Resource update (docs/runtime.md #12 and §5): `<rt> <g> update -r - <id>` with
 * a runtime-spec LinuxResources document on stdin. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/json-cleanup.h"
#include "lib/util.h"
#include "runtime/internal.h"
#include "runtime/ops-internal.h"

bool
ops_resources_empty (const struct ops_resources *r)
{
  return !r->blkio_weight && !r->cpu_shares && !r->cpu_period && !r->cpu_quota && !r->cpu_rt_period
         && !r->cpu_rt_runtime && !(r->cpuset_cpus && *r->cpuset_cpus)
         && !(r->cpuset_mems && *r->cpuset_mems) && !r->memory_limit && !r->memory_swap
         && !r->memory_reservation && !r->kernel_memory && !r->kernel_tcp_memory && !r->pids_limit
         && !r->blkio_leaf_weight && !r->n_blkio_devices;
}

/* The original casts these uint64 request fields to int64 (docs/api.md
 * UpdateResource): 2^64-1 becomes -1, "unlimited" for the runtime. */
static void
json_add_signed (json_object *o, const char *key, uint64_t v)
{
  if (v)
    json_object_object_add (o, key, json_object_new_int64 ((int64_t) v));
}

static void
json_add_unsigned (json_object *o, const char *key, uint64_t v)
{
  if (v)
    json_object_object_add (o, key, json_object_new_uint64 (v));
}

static void
json_add_section (json_object *doc, const char *key, json_object *section)
{
  if (json_object_object_length (section) > 0)
    json_object_object_add (doc, key, section);
  else
    json_object_put (section);
}

char *
ops_update_json (const struct ops_resources *r, struct ctrd_error **err)
{
  /* runc's (and crun's) `update` has no way to change these; the original
   * dropped them silently. */
  if (r->blkio_leaf_weight || r->n_blkio_devices)
    return ctrd_error_grpc (err, GRPC_UNIMPLEMENTED,
                            "blkioLeafWeight and the blkio weight/throttle device lists cannot be "
                            "updated: the OCI runtime's update command does not support them"),
           NULL;
  if (r->blkio_weight && (r->blkio_weight < 10 || r->blkio_weight > 1000))
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT,
                            "blkioWeight %" PRIu64 " is out of range (10 to 1000)",
                            r->blkio_weight),
           NULL;

  cleanup_json json_object *doc = json_object_new_object ();
  json_object *mem = json_object_new_object ();
  json_add_signed (mem, "limit", r->memory_limit);
  json_add_signed (mem, "reservation", r->memory_reservation);
  json_add_signed (mem, "swap", r->memory_swap);
  json_add_signed (mem, "kernel", r->kernel_memory);
  json_add_signed (mem, "kernelTCP", r->kernel_tcp_memory);
  json_add_section (doc, "memory", mem);

  json_object *cpu = json_object_new_object ();
  json_add_unsigned (cpu, "shares", r->cpu_shares);
  json_add_signed (cpu, "quota", r->cpu_quota);
  json_add_unsigned (cpu, "period", r->cpu_period);
  if (r->cpu_rt_runtime)
    json_object_object_add (cpu, "realtimeRuntime", json_object_new_int64 (r->cpu_rt_runtime));
  json_add_unsigned (cpu, "realtimePeriod", r->cpu_rt_period);
  if (r->cpuset_cpus && *r->cpuset_cpus)
    json_object_object_add (cpu, "cpus", json_object_new_string (r->cpuset_cpus));
  if (r->cpuset_mems && *r->cpuset_mems)
    json_object_object_add (cpu, "mems", json_object_new_string (r->cpuset_mems));
  json_add_section (doc, "cpu", cpu);

  json_object *pids = json_object_new_object ();
  json_add_signed (pids, "limit", r->pids_limit);
  json_add_section (doc, "pids", pids);

  /* runtime-spec 1.0 key, read by runc ≥ 1.0.0-rc4 and crun. */
  json_object *bio = json_object_new_object ();
  json_add_unsigned (bio, "weight", r->blkio_weight);
  json_add_section (doc, "blockIO", bio);

  return xasprintf ("%s\n", json_object_to_json_string_ext (
                                doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Directory of pid's cgroup for a v1 controller (or the unified one when
 * controller is NULL), from /proc/<pid>/cgroup and the daemon's own
 * /proc/self/mountinfo (mount point + path below the mount's root). NULL
 * when it cannot be determined. */
static char *
ops_cgroup_dir (pid_t pid, const char *controller)
{
  cleanup_free char *cg_path = xasprintf ("/proc/%d/cgroup", (int) pid);
  cleanup_free char *cg = NULL, *mi = NULL;
  if (read_file (cg_path, &cg, NULL, 1 << 20, NULL) < 0
      || read_file ("/proc/self/mountinfo", &mi, NULL, 16 << 20, NULL) < 0)
    return NULL;
  const char *rel = NULL;
  size_t rel_len = 0;
  for (char *line = cg; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    {
      char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      char *end = strchrnul (line, '\n');
      if (!c2 || c2 > end)
        continue;
      bool match = false;
      if (!controller)
        match = c2 == c1 + 1 && strncmp (line, "0:", 2) == 0;
      else
        for (char *t = c1 + 1; t < c2;)
          {
            char *e = memchr (t, ',', (size_t) (c2 - t));
            if (!e)
              e = c2;
            if ((size_t) (e - t) == strlen (controller)
                && !strncmp (t, controller, (size_t) (e - t)))
              match = true;
            t = e + 1;
          }
      if (match)
        {
          rel = c2 + 1;
          rel_len = (size_t) (end - rel);
          break;
        }
    }
  if (!rel)
    return NULL;
  for (char *line = mi; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    {
      char *end = strchrnul (line, '\n');
      cleanup_free char *l = xstrndup (line, (size_t) (end - line));
      char *sep = strstr (l, " - ");
      if (!sep)
        continue;
      *sep = '\0';
      char fstype[32], super[512], root[4096], mnt[4096];
      if (sscanf (sep + 3, "%31s %*s %511s", fstype, super) != 2
          || sscanf (l, "%*s %*s %*s %4095s %4095s", root, mnt) != 2)
        continue;
      if (controller)
        {
          if (strcmp (fstype, "cgroup") != 0)
            continue;
          bool has = false;
          for (char *sp = NULL, *t = strtok_r (super, ",", &sp); t; t = strtok_r (NULL, ",", &sp))
            if (strcmp (t, controller) == 0)
              has = true;
          if (!has)
            continue;
        }
      else if (strcmp (fstype, "cgroup2") != 0)
        continue;
      cleanup_free char *path = xstrndup (rel, rel_len);
      const char *below = path;
      size_t rl = strlen (root);
      if (strcmp (root, "/") != 0 && strncmp (path, root, rl) == 0)
        below = path + rl;
      return xasprintf ("%s%s%s", mnt, *below == '/' ? "" : "/", below);
    }
  return NULL;
}

/* A blkio weight needs a proportional I/O scheduler (BFQ, or CFQ on old
 * kernels); without one the cgroup has no weight file and the runtime fails
 * with an obscure "open ...: no such file or directory". */
static int
ops_check_blkio_weight (const struct container *c, struct ctrd_error **err)
{
  static const char *const v1_files[] = { "blkio.weight", "blkio.bfq.weight", NULL };
  static const char *const v2_files[] = { "io.weight", "io.bfq.weight", NULL };
  pid_t pid = c->init->pid;
  cleanup_free char *dir = ops_cgroup_dir (pid, "blkio");
  const char *const *files = v1_files;
  if (!dir)
    {
      dir = ops_cgroup_dir (pid, NULL);
      files = v2_files;
    }
  if (!dir)
    return 0; /* unknown layout: let the runtime decide */
  for (size_t i = 0; files[i]; i++)
    {
      cleanup_free char *f = path_join (dir, files[i]);
      if (access (f, F_OK) == 0)
        return 0;
    }
  return ctrd_error_grpc (err, GRPC_FAILED_PRECONDITION,
                          "blkioWeight cannot be set: no %s or %s in %s (the host's block I/O "
                          "scheduler has no proportional weights; BFQ provides them)",
                          files[0], files[1], dir);
}

int
ops_update (struct container *c, const struct ops_resources *r, ops_done_fn done, void *data,
            struct ctrd_error **err)
{
  if (ops_check_container (c, err) < 0)
    return -1;
  cleanup_free char *doc = ops_update_json (r, err);
  if (!doc)
    return -1;
  if (r->blkio_weight && ops_check_blkio_weight (c, err) < 0)
    return -1;
  const char *sub[] = { "update", "-r", "-", c->id, NULL };
  return ops_run (c, OPS_UPDATE, sub, doc, strlen (doc), NULL, done, data, err);
}
