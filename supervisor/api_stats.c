/* Stats (api.md): the init process's cgroup statistics, read straight from
 * the cgroup files (runtime/stats.h) in the loop — no `runc events --stats`
 * fork per call (FAILURES.md #10). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.pb-c.h"
#include "api/server.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "runtime/runtime.h"
#include "supervisor/api_handlers.h"
#include "supervisor/daemon.h"

/* Switched on once runtime/stats.c is part of libruntime.a (the header alone
 * appearing in the tree must not break the link). */
#ifdef API_STATS_HAVE_CGROUP
#include "runtime/stats.h"
#endif

#ifdef API_STATS_HAVE_CGROUP
/* Host CPU time in ns (runtime.md §4 step 3): the first /proc/stat line of
 * field `cpu`, sum of fields 2–8, × 10^9 / CLK_TCK. Errors give 0. */
static uint64_t
api_stats_system_usage (void)
{
  cleanup_free char *text = NULL;
  if (read_file ("/proc/stat", &text, NULL, 1 << 20, NULL) < 0)
    return 0;
  unsigned long long f[7];
  for (char *line = text; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    if (strncmp (line, "cpu ", 4) == 0)
      {
        if (sscanf (line + 4, "%llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3],
                    &f[4], &f[5], &f[6])
            != 7)
          return 0;
        unsigned long long ticks = 0;
        for (int i = 0; i < 7; i++)
          ticks += f[i];
        long hz = sysconf (_SC_CLK_TCK);
        return hz > 0 ? (uint64_t) ticks * (1000000000ULL / (uint64_t) hz) : 0;
      }
  return 0;
}
#endif

void
api_stats_handle (struct api_call *call, const ProtobufCMessage *request, void *userdata)
{
  struct daemon *d = userdata;
  const Types__StatsRequest *r = (const Types__StatsRequest *) request;
  struct container *c = runtime_find (d->rt, r->id);
  if (!c)
    {
      api_call_fail (call, GRPC_NOT_FOUND, "containerd: container not found");
      return;
    }
  if (!c->init || c->init->state != PROCESS_RUNNING || c->init->pid <= 0)
    {
      api_call_fail (call, GRPC_FAILED_PRECONDITION, "container %s is not running", c->id);
      return;
    }
#ifdef API_STATS_HAVE_CGROUP
  int64_t now = time_now_real_ns ();
  Types__CgroupStats *cs = NULL;
  cleanup_error struct ctrd_error *err = NULL;
  if (stats_cgroup_read (c->init->pid, &cs, &err) < 0)
    {
      api_call_fail_error (call, err);
      return;
    }
  if (cs->cpu_stats && cs->cpu_stats->system_usage == 0)
    cs->cpu_stats->system_usage = api_stats_system_usage ();
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  time_to_timestamp (now, &ts.seconds, &ts.nanos);
  Types__StatsResponse resp = TYPES__STATS_RESPONSE__INIT;
  resp.cgroup_stats = cs;
  resp.timestamp = &ts;
  /* containerd 0.2.2 clients (Docker 1.11) read the retired tag 3 */
  resp.legacytimestamp = ts.seconds > 0 ? (uint64_t) ts.seconds : 0;
  api_call_reply (call, &resp.base);
  stats_cgroup_free (cs);
#else
  api_call_fail (call, GRPC_UNIMPLEMENTED, "stats: cgroup statistics are not built in");
#endif
}
