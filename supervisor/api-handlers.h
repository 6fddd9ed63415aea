/* Handlers of types.API methods (api/server.h contract). One file per
 * method in supervisor/; each owner adds its declarations here. */
#ifndef CTRD_SUPERVISOR_API_HANDLERS_H
#define CTRD_SUPERVISOR_API_HANDLERS_H

#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

struct api_call;

/* GetServerVersion: 0.2.3 and the build's commit (userdata unused). */
void api_version_handle (struct api_call *call, const ProtobufCMessage *req, void *userdata);
/* Events: userdata = struct event_bus * (supervisor/events.h). */
void api_events_handle (struct api_call *call, const ProtobufCMessage *req, void *userdata);

/* daemon core (userdata = struct daemon *, supervisor/daemon.h) */
void api_create_handle (struct api_call *call, const ProtobufCMessage *req, void *userdata);
void api_signal_handle (struct api_call *call, const ProtobufCMessage *req, void *userdata);
void api_state_handle (struct api_call *call, const ProtobufCMessage *req, void *userdata);
void api_add_process_handle (struct api_call *call, const ProtobufCMessage *req, void *userdata);
void api_update_process_handle (struct api_call *call, const ProtobufCMessage *req, void *userdata);

/* ops (userdata = struct daemon *): UpdateContainer, checkpoints, Stats */
void api_update_handle (struct api_call *call, const ProtobufCMessage *req, void *userdata);
void api_checkpoint_create_handle (struct api_call *call, const ProtobufCMessage *req,
                                   void *userdata);
void api_checkpoint_delete_handle (struct api_call *call, const ProtobufCMessage *req,
                                   void *userdata);
void api_checkpoint_list_handle (struct api_call *call, const ProtobufCMessage *req,
                                 void *userdata);
void api_stats_handle (struct api_call *call, const ProtobufCMessage *req, void *userdata);

#endif
