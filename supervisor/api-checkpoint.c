/* CreateCheckpoint, DeleteCheckpoint, ListCheckpoint (docs/api.md; docs/runtime.md
 * §3). The checkpoint itself (CRIU) runs as a job off the loop. */
#include <stdlib.h>

#include "api/api.pb-c.h"
#include "api/server.h"
#include "lib/util.h"
#include "runtime/ops.h"
#include "runtime/runtime.h"
#include "supervisor/api-container.h"
#include "supervisor/api-handlers.h"
#include "supervisor/daemon.h"

static void
api_checkpoint_create_done (const struct ctrd_error *err, void *data)
{
  struct api_call *call = data;
  if (err)
    {
      api_call_fail_error (call, err);
      return;
    }
  Types__CreateCheckpointResponse resp = TYPES__CREATE_CHECKPOINT_RESPONSE__INIT;
  api_call_reply (call, &resp.base);
}

void
api_checkpoint_create_handle (struct api_call *call, const ProtobufCMessage *request,
                              void *userdata)
{
  struct daemon *d = userdata;
  const Types__CreateCheckpointRequest *r = (const Types__CreateCheckpointRequest *) request;
  struct container *c = api_find_container (call, d->rt, r->id);
  if (!c)
    return;
  /* The original crashed on an absent `checkpoint`. */
  if (!r->checkpoint)
    {
      api_call_fail (call, GRPC_INVALID_ARGUMENT, "checkpoint name cannot be empty");
      return;
    }
  const Types__Checkpoint *ck = r->checkpoint;
  cleanup_strv char **empty_ns = NULL;
  for (size_t i = 0; i < ck->n_emptyns; i++)
    strv_push (&empty_ns, ck->emptyns[i]);
  struct ops_checkpoint cp = {
    .name = ck->name,
    .exit = ck->exit,
    .tcp = ck->tcp,
    .unix_sockets = ck->unixsockets,
    .shell = ck->shell,
    .empty_ns = empty_ns,
  };
  cleanup_free char *parent = ops_checkpoint_parent (c, r->checkpointdir);
  cleanup_error struct ctrd_error *err = NULL;
  if (ops_checkpoint_create (c, parent, &cp, api_checkpoint_create_done, call, &err) < 0)
    api_call_fail_error (call, err);
}

void
api_checkpoint_delete_handle (struct api_call *call, const ProtobufCMessage *request,
                              void *userdata)
{
  struct daemon *d = userdata;
  const Types__DeleteCheckpointRequest *r = (const Types__DeleteCheckpointRequest *) request;
  if (!r->name || !*r->name)
    {
      api_call_fail (call, GRPC_INVALID_ARGUMENT, "checkpoint name cannot be empty");
      return;
    }
  struct container *c = api_find_container (call, d->rt, r->id);
  if (!c)
    return;
  cleanup_free char *parent = ops_checkpoint_parent (c, r->checkpointdir);
  cleanup_error struct ctrd_error *err = NULL;
  if (ops_checkpoint_delete (parent, r->name, &err) < 0)
    {
      api_call_fail_error (call, err);
      return;
    }
  Types__DeleteCheckpointResponse resp = TYPES__DELETE_CHECKPOINT_RESPONSE__INIT;
  api_call_reply (call, &resp.base);
}

void
api_checkpoint_list_handle (struct api_call *call, const ProtobufCMessage *request, void *userdata)
{
  struct daemon *d = userdata;
  const Types__ListCheckpointRequest *r = (const Types__ListCheckpointRequest *) request;
  struct container *c = runtime_find (d->rt, r->id);
  if (!c)
    {
      api_call_fail (call, GRPC_NOT_FOUND, "no such containers");
      return;
    }
  cleanup_free char *parent = ops_checkpoint_parent (c, r->checkpointdir);
  cleanup_error struct ctrd_error *err = NULL;
  struct ops_checkpoint_info *v;
  size_t n;
  if (ops_checkpoint_list (parent, &v, &n, &err) < 0)
    {
      api_call_fail_error (call, err);
      return;
    }
  Types__ListCheckpointResponse resp = TYPES__LIST_CHECKPOINT_RESPONSE__INIT;
  Types__Checkpoint *items = n ? xmalloc (n * sizeof *items) : NULL;
  cleanup_free Types__Checkpoint **ptrs = n ? xmalloc (n * sizeof *ptrs) : NULL;
  for (size_t i = 0; i < n; i++)
    {
      /* docs/api.md: List fills name and the three flags; exit and emptyNS stay zero. */
      types__checkpoint__init (&items[i]);
      items[i].name = v[i].name;
      items[i].tcp = v[i].tcp;
      items[i].unixsockets = v[i].unix_sockets;
      items[i].shell = v[i].shell;
      ptrs[i] = &items[i];
    }
  resp.n_checkpoints = n;
  resp.checkpoints = ptrs;
  api_call_reply (call, &resp.base);
  free (items);
  ops_checkpoint_list_free (v, n);
}
