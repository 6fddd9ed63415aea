/* Every types.API method the daemon serves, registered on its server. */
#include "api/api.pb-c.h"
#include "api/server.h"
#include "supervisor/api-handlers.h"
#include "supervisor/daemon.h"

#define METHOD(name, req, resp, stream, fn)                                                        \
  {                                                                                                \
    "/types.API/" name, &types__##req##__descriptor, &types__##resp##__descriptor, stream, fn      \
  }

void
daemon_register (struct daemon *d)
{
  static const struct api_method core[] = {
    METHOD ("CreateContainer", create_container_request, create_container_response, false,
            api_create_handle),
    METHOD ("Signal", signal_request, signal_response, false, api_signal_handle),
    METHOD ("State", state_request, state_response, false, api_state_handle),
    METHOD ("AddProcess", add_process_request, add_process_response, false, api_add_process_handle),
    METHOD ("UpdateProcess", update_process_request, update_process_response, false,
            api_update_process_handle),
    METHOD ("UpdateContainer", update_container_request, update_container_response, false,
            api_update_handle),
    METHOD ("CreateCheckpoint", create_checkpoint_request, create_checkpoint_response, false,
            api_checkpoint_create_handle),
    METHOD ("DeleteCheckpoint", delete_checkpoint_request, delete_checkpoint_response, false,
            api_checkpoint_delete_handle),
    METHOD ("ListCheckpoint", list_checkpoint_request, list_checkpoint_response, false,
            api_checkpoint_list_handle),
    METHOD ("Stats", stats_request, stats_response, false, api_stats_handle),
  };
  for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
    api_server_register (d->server, &core[i], d);
  static const struct api_method events =
      METHOD ("Events", events_request, event, true, api_events_handle);
  api_server_register (d->server, &events, d->bus);
  static const struct api_method version =
      METHOD ("GetServerVersion", get_server_version_request, get_server_version_response, false,
              api_version_handle);
  api_server_register (d->server, &version, d);
  api_server_register_health (d->server);
}
