/* GetServerVersion (docs/api.md): the version constant of containerd 0.2.9
 * (0.2.3, it lags the tags) and the commit baked in at build time. */
#include "supervisor/api-handlers.h"

#include "api/api.pb-c.h"
#include "api/server.h"
#include "lib/util.h"

void
api_version_handle (struct api_call *call, const ProtobufCMessage *req UNUSED,
                    void *userdata UNUSED)
{
  Types__GetServerVersionResponse resp = TYPES__GET_SERVER_VERSION_RESPONSE__INIT;
  resp.major = CTRD_VERSION_MAJOR;
  resp.minor = CTRD_VERSION_MINOR;
  resp.patch = CTRD_VERSION_PATCH;
  resp.revision = (char *) CTRD_REVISION;
  api_call_reply (call, &resp.base);
}
