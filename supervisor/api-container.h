/* Building the API's Container and Process messages from the runtime model
 * (docs/api.md "Container", "Process"), shared by CreateContainer and State. */
#ifndef CTRD_SUPERVISOR_API_CONTAINER_H
#define CTRD_SUPERVISOR_API_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.pb-c.h"

struct api_call;
struct container;
struct process;
struct runtime;

/* The container a request names, or NULL once the call has been failed with
 * NOT_FOUND and the original's text "containerd: container not found"
 * (clients match it). */
struct container *api_find_container (struct api_call *call, struct runtime *rt, const char *id);
/* Likewise the process pid of that container ("containerd: process not
 * found for container" when the container is there). */
struct process *api_find_process (struct api_call *call, struct runtime *rt, const char *id,
                                  const char *pid);

/* Every string and array is malloc'd: free the result with
 * protobuf_c_message_free_unpacked (&m->base, NULL). No pids (State's come
 * with api_container_state_append). */
Types__Container *api_container_message (struct container *c);
/* The API's status of c: "running", "paused" (c->paused: frozen by a
 * pause of this daemon, or found frozen when adopted) or "stopped" (init
 * not running). From memory. */
const char *api_container_status (const struct container *c);

struct api_bytes
{
  uint8_t *v;
  size_t n, cap;
};
struct pidvec;

/* State: append c's Container message as a StateResponse `containers`
 * field (tag, length, message) to out, byte for byte what protobuf-c packs
 * for api_container_message (c) with its pids set. The message without
 * status and pids is packed once and kept in c->state_cache until c's
 * processes change; status comes from memory; pids (scratch space: pids)
 * from the container's cgroup directory, held open while it runs
 * (cgroup-pids.h). */
void api_container_state_append (struct container *c, struct api_bytes *out, struct pidvec *pids);

#endif
