/* UpdateProcess (docs/api.md): close stdin and/or resize through the process's
 * `control` FIFO (docs/state-directory.md "The control FIFO"). */
#include "api/api.pb-c.h"
#include "api/server.h"
#include "runtime/runtime.h"
#include "supervisor/api-container.h"
#include "supervisor/api-handlers.h"
#include "supervisor/daemon.h"

void
api_update_process_handle (struct api_call *call, const ProtobufCMessage *request, void *userdata)
{
  struct daemon *d = userdata;
  const Types__UpdateProcessRequest *r = (const Types__UpdateProcessRequest *) request;
  struct process *p = api_find_process (call, d->rt, r->id, r->pid);
  if (!p)
    return;
  cleanup_error struct ctrd_error *err = NULL;
  if (r->closestdin && process_control (p, SHIM_CONTROL_CLOSE_STDIN, 0, 0, &err) < 0)
    {
      api_call_fail_error (call, err);
      return;
    }
  if ((r->width > 0 || r->height > 0)
      && process_control (p, SHIM_CONTROL_RESIZE, r->width, r->height, &err) < 0)
    {
      api_call_fail_error (call, err);
      return;
    }
  Types__UpdateProcessResponse resp = TYPES__UPDATE_PROCESS_RESPONSE__INIT;
  api_call_reply (call, &resp.base);
}
