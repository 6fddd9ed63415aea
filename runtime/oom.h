/* OOM watches on a container's memory cgroup, in the daemon's sd-event loop
 * (docs/daemon.md §6). No polling: cgroup v1 registers an eventfd on
 * memory.oom_control through cgroup.event_control; cgroup v2 watches
 * memory.events with inotify. fn runs once per OOM kill (the oom_kill
 * counter's increase; on kernels without it, once per notification).
 *
 * Register between the runtime's create and start, so that a container that
 * is killed 10 ms after start still has its OOM seen (docs/failure-modes.md #9), and
 * call oom_watch_drain() when handling its exit so the `oom` event precedes
 * the `exit` event. fn runs from the loop (or from oom_watch_drain) and must
 * not free the watch. */
#ifndef CTRD_RUNTIME_OOM_H
#define CTRD_RUNTIME_OOM_H

#include <stdbool.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "lib/error.h"
#include "runtime/cgdirs.h"

struct oom_watch;

/* Watch the memory cgroup of pid (v1 memory hierarchy, else the unified
 * one). Fails (ENOENT/EOPNOTSUPP) when the pid has no memory cgroup; the
 * caller logs that and carries on without OOM events. */
int oom_watch_new (sd_event *loop, pid_t pid, void (*fn) (void *data), void *data,
                   struct oom_watch **out, struct ctrd_error **err);

/* The same from known directories (tests; callers that resolved cgdirs). */
int oom_watch_new_dirs (sd_event *loop, const struct cgdirs *dirs, void (*fn) (void *data),
                        void *data, struct oom_watch **out, struct ctrd_error **err);

/* Deliver at once any OOM the kernel already signalled but the loop has not
 * dispatched yet (fn may run). */
void oom_watch_drain (struct oom_watch *w);

/* False once the cgroup has gone (its removal wakes the watch; that is not an
 * OOM and fn is not called). */
bool oom_watch_active (const struct oom_watch *w);

/* Unregister and free; NULL is fine. fn is not called. */
void oom_watch_free (struct oom_watch *w);

#endif
