/* Stats (docs/api.md): the init process's cgroup statistics, read straight from
 * the cgroup files (runtime/stats.h) in the loop — no `runc events --stats`
 * fork per call (docs/failure-modes.md #10). The container keeps its cgroup
 * directory fds between calls (runtime/stats.h); the plain struct
 * container_stats becomes the wire message in stats-message.c. */
#include "api/api.pb-c.h"
#include "api/server.h"
#include "lib/timeutil.h"
#include "runtime/runtime.h"
#include "runtime/stats.h"
#include "supervisor/api-container.h"
#include "supervisor/api-handlers.h"
#include "supervisor/daemon.h"
#include "supervisor/metrics.h"
#include "supervisor/stats-message.h"

void
api_stats_handle (struct api_call *call, const ProtobufCMessage *request, void *userdata)
{
  struct daemon *d = userdata;
  const Types__StatsRequest *r = (const Types__StatsRequest *) request;
  struct container *c = api_find_container (call, d->rt, r->id);
  if (!c)
    return;
  if (!c->init || c->init->state != PROCESS_RUNNING || c->init->pid <= 0)
    {
      api_call_fail (call, GRPC_FAILED_PRECONDITION, "container %s is not running", c->id);
      return;
    }
  /* docs/api.md: the time just before collection */
  int64_t now = time_now_real_ns ();
  int64_t t0 = time_now_mono_ns ();
  metrics_counter_add (d->metrics, METRICS_TASKS, 1);
  struct container_stats st;
  cleanup_error struct ctrd_error *err = NULL;
  if (!c->stats)
    c->stats = stats_cache_new ();
  /* the requests of one loop iteration share the host's /proc/stat */
  uint64_t stamp = 0;
  if (!d->loop || sd_event_now (d->loop, CLOCK_MONOTONIC, &stamp) < 0)
    stamp = 0;
  if (stats_cgroup_read_cached (c->stats, c->init->pid, stamp, &st, &err) < 0)
    {
      api_call_fail_error (call, err);
      return;
    }
  Types__CgroupStats *cs = stats_message_new (&st);
  container_stats_clear (&st);
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  time_to_timestamp (now, &ts.seconds, &ts.nanos);
  Types__StatsResponse resp = TYPES__STATS_RESPONSE__INIT;
  resp.cgroup_stats = cs;
  resp.timestamp = &ts;
  /* containerd 0.2.2 clients (Docker 1.11) read the retired tag 3 */
  resp.legacytimestamp = ts.seconds > 0 ? (uint64_t) ts.seconds : 0;
  api_call_reply (call, &resp.base);
  stats_message_free (cs);
  metrics_timer_record (d->metrics, METRICS_STATS, time_now_mono_ns () - t0);
}
