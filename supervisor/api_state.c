/* State (docs/api.md): containers with their processes, pids from the cgroup
 * (no runtime call in the loop), machine information of docs/daemon.md §10. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.pb-c.h"
#include "api/server.h"
#include "lib/util.h"
#include "runtime/runtime.h"
#include "supervisor/api_container.h"
#include "supervisor/api_handlers.h"
#include "supervisor/daemon.h"

void
machine_info_read (uint32_t *cpus, uint64_t *memory_mib)
{
  *cpus = 0;
  *memory_mib = 0;
  FILE *f = fopen ("/proc/stat", "re");
  char line[4096];
  if (f)
    {
      while (fgets (line, sizeof line, f))
        if (strncmp (line, "cpu", 3) == 0 && line[3] != ' ' && line[3] != '\0')
          (*cpus)++;
      fclose (f);
    }
  f = fopen ("/proc/meminfo", "re");
  if (f)
    {
      unsigned long long kb;
      while (fgets (line, sizeof line, f))
        if (sscanf (line, "MemTotal: %llu kB", &kb) == 1)
          *memory_mib = kb * 1024 / 1024 / 1024;
      fclose (f);
    }
}

void
api_state_handle (struct api_call *call, const ProtobufCMessage *request, void *userdata)
{
  struct daemon *d = userdata;
  const Types__StateRequest *r = (const Types__StateRequest *) request;
  Types__StateResponse resp = TYPES__STATE_RESPONSE__INIT;
  Types__Machine machine = TYPES__MACHINE__INIT;
  machine.cpus = d->machine_cpus;
  machine.memory = d->machine_memory_mib;
  resp.machine = &machine;
  if (r->id && *r->id)
    {
      struct container *c = api_find_container (call, d->rt, r->id);
      if (!c)
        return;
      resp.containers = xmalloc (sizeof *resp.containers);
      resp.containers[resp.n_containers++] = api_container_message (c, true);
    }
  else
    {
      size_t n = runtime_count (d->rt);
      resp.containers = n ? xmalloc (n * sizeof *resp.containers) : NULL;
      for (struct container *c = runtime_next (d->rt, NULL); c && resp.n_containers < n;
           c = runtime_next (d->rt, c))
        resp.containers[resp.n_containers++] = api_container_message (c, true);
    }
  api_call_reply (call, &resp.base);
  for (size_t i = 0; i < resp.n_containers; i++)
    protobuf_c_message_free_unpacked (&resp.containers[i]->base, NULL);
  free (resp.containers);
}
