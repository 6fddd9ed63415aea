/* Signal (docs/api.md): kill(2) through the process's pidfd, which was opened
 * only after its start time matched (no signal to a reused pid). */
#include "api/api.pb-c.h"
#include "api/server.h"
#include "runtime/runtime.h"
#include "supervisor/api-container.h"
#include "supervisor/api-handlers.h"
#include "supervisor/daemon.h"

void
api_signal_handle (struct api_call *call, const ProtobufCMessage *request, void *userdata)
{
  struct daemon *d = userdata;
  const Types__SignalRequest *r = (const Types__SignalRequest *) request;
  struct process *p = api_find_process (call, d->rt, r->id, r->pid);
  if (!p)
    return;
  /* 0 only checks that the process exists, as kill(2) (the original
   * passed any number through) */
  if (r->signal >= 65)
    {
      api_call_fail (call, GRPC_INVALID_ARGUMENT, "invalid signal %u", r->signal);
      return;
    }
  cleanup_error struct ctrd_error *err = NULL;
  if (process_signal (p, (int) r->signal, &err) < 0)
    {
      api_call_fail_error (call, err);
      return;
    }
  Types__SignalResponse resp = TYPES__SIGNAL_RESPONSE__INIT;
  api_call_reply (call, &resp.base);
}
