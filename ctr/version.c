/* ctr version and ctr state. */
#include "api/api.pb-c.h"
#include "ctr/containers.h"
#include "lib/pb-cleanup.h"

static const struct ctr_command cmd_version = { "version", "return the daemon version", "", NULL };

int
ctr_version_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  int first = ctr_parse_flags (ctx, "version", &cmd_version, NULL, 0, argc, argv, err);
  if (first < 0)
    return first == GOFLAG_HELP ? 0 : -1;
  if (ctr_check_args (argc, argv, first, 0, err) < 0)
    return -1;
  Types__GetServerVersionRequest req = TYPES__GET_SERVER_VERSION_REQUEST__INIT;
  cleanup_pb Types__GetServerVersionResponse *resp = NULL;
  if (ctr_rpc (ctx, "GetServerVersion", NULL, &req.base,
               &types__get_server_version_response__descriptor, (ProtobufCMessage **) &resp, err)
      < 0)
    return -1;
  fprintf (ctx->out, "daemon version %u.%u.%u commit: %s\n", resp->major, resp->minor, resp->patch,
           resp->revision);
  return 0;
}

int
ctr_state_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  return containers_state (ctx, "state", argc, argv, err);
}
