/* Building the API's Container and Process messages from the runtime model
 * (docs/api.md "Container", "Process"), shared by CreateContainer and State. */
#ifndef CTRD_SUPERVISOR_API_CONTAINER_H
#define CTRD_SUPERVISOR_API_CONTAINER_H

#include <stdbool.h>

#include "api/api.pb-c.h"

struct api_call;
struct container;
struct process;
struct runtime;

/* The container a request names, or NULL once the call has been failed with
 * NOT_FOUND and the original's text "containerd: container not found"
 * (clients match it). */
struct container *api_find_container (struct api_call *call, struct runtime *rt, const char *id);
/* Likewise a process of c ("containerd: process not found for container"). */
struct process *api_find_process (struct api_call *call, struct container *c, const char *pid);

/* Every string and array is malloc'd: free the result with
 * protobuf_c_message_free_unpacked (&m->base, NULL). with_pids: fill `pids`
 * with every pid of the container's cgroup (read from cgroup.procs, no
 * runtime call) when it is running. */
Types__Container *api_container_message (struct container *c, bool with_pids);
/* The API's status of c: "running", "paused" (its cgroup is frozen) or
 * "stopped" (init not running). Reads the freezer state. */
const char *api_container_status (struct container *c);

#endif
