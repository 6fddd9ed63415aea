/* Linked only while api/ has no client yet (libctr-pending.a comes after
 * libctrdapi.a on the link line, so the archive member is pulled only for
 * symbols nothing else defines): every call fails with a clear error.
 * Delete this file once api/client.c has landed. */
#include "api/client.h"

int
api_client_connect (const char *address, int64_t timeout_ns, struct api_client **out,
                    struct ctrd_error **err)
{
  (void) timeout_ns;
  *out = NULL;
  return ctrd_error_grpc (err, GRPC_UNIMPLEMENTED,
                          "cannot connect to %s: this ctr was built without the gRPC client "
                          "(api/client.c missing)",
                          address);
}

void
api_client_free (struct api_client *c)
{
  (void) c;
}

int
api_client_fd (const struct api_client *c)
{
  (void) c;
  return -1;
}

int
api_client_call (struct api_client *c, const char *path, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
                 int64_t timeout_ns, struct ctrd_error **err)
{
  (void) c, (void) req, (void) resp_desc, (void) timeout_ns;
  *resp = NULL;
  return ctrd_error_grpc (err, GRPC_UNIMPLEMENTED, "%s: no gRPC client", path);
}

int
api_client_stream_open (struct api_client *c, const char *path, const ProtobufCMessage *req,
                        const ProtobufCMessageDescriptor *msg_desc, struct api_stream **out,
                        struct ctrd_error **err)
{
  (void) c, (void) req, (void) msg_desc;
  *out = NULL;
  return ctrd_error_grpc (err, GRPC_UNIMPLEMENTED, "%s: no gRPC client", path);
}

int
api_stream_next (struct api_stream *s, ProtobufCMessage **msg, int64_t timeout_ns,
                 struct ctrd_error **err)
{
  (void) s, (void) msg, (void) timeout_ns;
  return ctrd_error_grpc (err, GRPC_UNIMPLEMENTED, "no gRPC client");
}

void
api_stream_free (struct api_stream *s)
{
  (void) s;
}
