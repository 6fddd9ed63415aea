/* Handlers of types.API methods (api/server.h contract). One file per
 * method in supervisor/; each owner adds its declarations here. */
#ifndef CTRD_SUPERVISOR_API_HANDLERS_H
#define CTRD_SUPERVISOR_API_HANDLERS_H

#include <protobuf-c/protobuf-c.h>

struct api_call;

/* GetServerVersion: 0.2.3 and the build's commit (userdata unused). */
void api_version_handle (struct api_call *call, const ProtobufCMessage *req, void *userdata);
/* Events: userdata = struct event_bus * (supervisor/events.h). */
void api_events_handle (struct api_call *call, const ProtobufCMessage *req, void *userdata);

#endif
