/* Building the API's Container and Process messages from the runtime model
 * (api.md "Container", "Process"), shared by CreateContainer and State. */
#ifndef CTRD_SUPERVISOR_API_CONTAINER_H
#define CTRD_SUPERVISOR_API_CONTAINER_H

#include <stdbool.h>

#include "api/api.pb-c.h"

struct container;

/* Every string and array is malloc'd: free the result with
 * protobuf_c_message_free_unpacked (&m->base, NULL). with_pids: fill `pids`
 * with every pid of the container's cgroup (read from cgroup.procs, no
 * runtime call) when it is running. */
Types__Container *api_container_message (struct container *c, bool with_pids);

#endif
