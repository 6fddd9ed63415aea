/* State (docs/api.md): containers with their processes, pids from the cgroup
 * (no runtime call in the loop), machine information of docs/daemon.md §10. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.pb-c.h"
#include "api/server.h"
#include "lib/util.h"
#include "runtime/runtime.h"
#include "supervisor/api-container.h"
#include "supervisor/api-handlers.h"
#include "supervisor/daemon.h"
#include "runtime/cgroup-pids.h"

void
api_state_handle (struct api_call *call, const ProtobufCMessage *request, void *userdata)
{
  struct daemon *d = userdata;
  const Types__StateRequest *r = (const Types__StateRequest *) request;
  struct api_bytes out = { NULL, 0, 0 };
  struct pidvec pids = { NULL, 0, 0 };
  if (r->id && *r->id)
    {
      struct container *c = api_find_container (call, d->rt, r->id);
      if (!c)
        return;
      api_container_state_append (c, &out, &pids);
    }
  else
    {
      /* about the size of the last answer: one allocation, no regrowth */
      if (d->state_reply_hint)
        out.v = xmalloc (out.cap = d->state_reply_hint);
      for (struct container *c = runtime_next (d->rt, NULL); c; c = runtime_next (d->rt, c))
        api_container_state_append (c, &out, &pids);
      d->state_reply_hint = out.n + out.n / 8;
    }
  /* StateResponse.machine (field 2) after the containers, as protobuf-c
   * packs it */
  Types__Machine machine = TYPES__MACHINE__INIT;
  machine.cpus = d->machine_cpus;
  machine.memory = d->machine_memory_mib;
  size_t ml = protobuf_c_message_get_packed_size (&machine.base);
  if (out.n + 2 + ml > out.cap)
    out.v = xrealloc (out.v, out.cap = out.n + 2 + ml);
  out.v[out.n++] = 2 << 3 | 2;
  out.v[out.n++] = (uint8_t) ml; /* two varints: < 128 bytes */
  out.n += protobuf_c_message_pack (&machine.base, out.v + out.n);
  api_call_reply_packed (call, out.v, out.n);
  free (out.v);
  free (pids.v);
}
