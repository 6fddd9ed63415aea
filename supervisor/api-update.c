/* UpdateContainer (docs/api.md): pause/resume by `status`, else a resource
 * update. The runtime call runs as a job; the call is answered from its
 * completion (runtime/ops.h), and the `pause`/`resume` event is emitted
 * just before the answer, as the original did. */
#include <string.h>

#include "api/api.pb-c.h"
#include "api/server.h"
#include "runtime/ops.h"
#include "runtime/runtime.h"
#include "supervisor/api-container.h"
#include "supervisor/api-handlers.h"
#include "supervisor/daemon.h"

static void
api_update_done (const struct ctrd_error *err, void *data)
{
  struct api_call *call = data;
  if (err)
    {
      api_call_fail_error (call, err);
      return;
    }
  Types__UpdateContainerResponse resp = TYPES__UPDATE_CONTAINER_RESPONSE__INIT;
  api_call_reply (call, &resp.base);
}

/* Request fields → ops_resources. The realtime fields, which the original
 * server dropped, are honoured. */
static void
api_update_resources (const Types__UpdateResource *u, struct ops_resources *r)
{
  *r = (struct ops_resources){
    .blkio_weight = u->blkioweight,
    .cpu_shares = u->cpushares,
    .cpu_period = u->cpuperiod,
    .cpu_quota = u->cpuquota,
    .cpu_rt_period = u->cpurealtimeperiod,
    .cpu_rt_runtime = u->cpurealtimeruntime,
    .cpuset_cpus = u->cpusetcpus,
    .cpuset_mems = u->cpusetmems,
    .memory_limit = u->memorylimit,
    .memory_swap = u->memoryswap,
    .memory_reservation = u->memoryreservation,
    .kernel_memory = u->kernelmemorylimit,
    .kernel_tcp_memory = u->kerneltcpmemorylimit,
    .pids_limit = u->pidslimit,
    .blkio_leaf_weight = u->blkioleafweight,
    .n_blkio_devices = u->n_blkioweightdevice + u->n_blkiothrottlereadbpsdevice
                       + u->n_blkiothrottlewritebpsdevice + u->n_blkiothrottlereadiopsdevice
                       + u->n_blkiothrottlewriteiopsdevice,
  };
}

void
api_update_handle (struct api_call *call, const ProtobufCMessage *request, void *userdata)
{
  struct daemon *d = userdata;
  const Types__UpdateContainerRequest *r = (const Types__UpdateContainerRequest *) request;
  struct container *c = api_find_container (call, d->rt, r->id);
  if (!c)
    return;
  cleanup_error struct ctrd_error *err = NULL;
  if (r->status && *r->status)
    {
      bool pause = strcmp (r->status, "paused") == 0;
      if (!pause && strcmp (r->status, "running") != 0)
        {
          /* the original's text, trailing space included */
          api_call_fail (call, GRPC_INVALID_ARGUMENT, "containerd: unknown container status ");
          return;
        }
      if (ops_pause (c, pause, api_update_done, call, &err) < 0)
        api_call_fail_error (call, err);
      return;
    }
  struct ops_resources res = { 0 };
  if (r->resources)
    api_update_resources (r->resources, &res);
  if (ops_resources_empty (&res))
    {
      api_update_done (NULL, call); /* nothing to change */
      return;
    }
  if (ops_update (c, &res, api_update_done, call, &err) < 0)
    api_call_fail_error (call, err);
}
