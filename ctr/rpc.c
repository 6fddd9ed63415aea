/* ctr's transport over api/client.h, and the error texts users see. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/client.h"
#include "ctr/ctr.h"
#include "lib/util.h"

static int
grpc_connect (struct ctr_ctx *ctx, struct ctrd_error **err)
{
  if (ctx->tdata != NULL)
    return 0;
  cleanup_error struct ctrd_error *e = NULL;
  struct api_client *c = NULL;
  if (api_client_connect (ctx->address, ctx->conn_timeout, &c, &e) == 0)
    {
      ctx->tdata = c;
      return 0;
    }
  /* one line: what, where, why, and what to do about it */
  cleanup_free char *what = NULL;
  if (e->status != 0)
    {
      cleanup_free char *why = xstrdup (strerror (e->status));
      why[0] = (char) tolower ((unsigned char) why[0]);
      what = xasprintf ("cannot connect to %s: %s", ctx->address, why);
    }
  else if (e->msg && strstr (e->msg, ctx->address) != NULL)
    what = xstrdup (e->msg);
  else
    what = xasprintf ("cannot connect to %s: %s", ctx->address, e->msg ? e->msg : "error");
  return ctrd_error_grpc (err, GRPC_UNAVAILABLE,
                          "%s (is %s running? start it with: %s --listen %s)", what,
                          CTRD_DAEMON_NAME, CTRD_DAEMON_NAME, ctx->address);
}

static int
grpc_call (struct ctr_ctx *ctx, const char *method, const ProtobufCMessage *req,
           const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
           struct ctrd_error **err)
{
  if (grpc_connect (ctx, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf ("/types.API/%s", method);
  return api_client_call (ctx->tdata, path, req, resp_desc, resp, 0, err);
}

static int
grpc_stream_open (struct ctr_ctx *ctx, const char *method, const ProtobufCMessage *req,
                  const ProtobufCMessageDescriptor *msg_desc, void **stream,
                  struct ctrd_error **err)
{
  if (grpc_connect (ctx, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf ("/types.API/%s", method);
  struct api_stream *s = NULL;
  if (api_client_stream_open (ctx->tdata, path, req, msg_desc, &s, err) < 0)
    return -1;
  *stream = s;
  return 0;
}

static int
grpc_stream_next (struct ctr_ctx *ctx, void *stream, ProtobufCMessage **msg, int64_t timeout_ns,
                  struct ctrd_error **err)
{
  (void) ctx;
  return api_stream_next (stream, msg, timeout_ns, err);
}

static void
grpc_stream_free (struct ctr_ctx *ctx, void *stream)
{
  (void) ctx;
  if (stream)
    api_stream_free (stream);
}

static int
grpc_fd (struct ctr_ctx *ctx)
{
  return ctx->tdata ? api_client_fd (ctx->tdata) : -1;
}

const struct ctr_transport ctr_grpc_transport = {
  .call = grpc_call,
  .stream_open = grpc_stream_open,
  .stream_next = grpc_stream_next,
  .stream_free = grpc_stream_free,
  .fd = grpc_fd,
};

void
ctr_grpc_close (struct ctr_ctx *ctx)
{
  if (ctx->transport == &ctr_grpc_transport && ctx->tdata)
    api_client_free (ctx->tdata);
  ctx->tdata = NULL;
}

int
ctr_rpc_error (const char *id, struct ctrd_error **err)
{
  struct ctrd_error *e = *err;
  if (e == NULL)
    return ctrd_error_set (err, 0, "unknown error");
  const char *m = e->msg ? e->msg : "";
  /* the daemon's texts for an unknown id (docs/api.md "Error texts"): State and
   * the task RPCs say "container not found", ListCheckpoint "no such
   * containers" */
  if (id && *id
      && (strstr (m, "containerd: container not found") != NULL
          || (ctrd_error_code (e) == GRPC_NOT_FOUND && strcmp (m, "no such containers") == 0)))
    {
      ctrd_error_free (err);
      return ctrd_error_grpc (err, GRPC_NOT_FOUND, "container %s not found", id);
    }
  return -1;
}

/* The client's own texts for a peer that is not a gRPC server ("server
 * answered HTTP status 404", "call reset by the server: …") do not say which
 * server: add the address. */
static void
name_the_peer (struct ctr_ctx *ctx, struct ctrd_error *e)
{
  if (e == NULL || e->msg == NULL || ctx->address == NULL || strstr (e->msg, ctx->address))
    return;
  if (strncmp (e->msg, "server ", 7) != 0 && strncmp (e->msg, "call ", 5) != 0)
    return;
  char *m = xasprintf ("%s: %s", ctx->address, e->msg);
  free (e->msg);
  e->msg = m;
}

int
ctr_rpc (struct ctr_ctx *ctx, const char *method, const char *id, const ProtobufCMessage *req,
         const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
         struct ctrd_error **err)
{
  *resp = NULL;
  if (ctx->transport->call (ctx, method, req, resp_desc, resp, err) < 0)
    {
      name_the_peer (ctx, *err);
      return ctr_rpc_error (id, err);
    }
  return 0;
}

int
ctr_stream_open (struct ctr_ctx *ctx, const char *method, const char *id,
                 const ProtobufCMessage *req, const ProtobufCMessageDescriptor *msg_desc,
                 void **stream, struct ctrd_error **err)
{
  *stream = NULL;
  if (ctx->transport->stream_open (ctx, method, req, msg_desc, stream, err) < 0)
    {
      name_the_peer (ctx, *err);
      return ctr_rpc_error (id, err);
    }
  return 0;
}
