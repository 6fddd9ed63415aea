/* The event bus (docs/daemon.md §8): publish, live subscribers with an id filter,
 * the persistent journal <state-dir>/events.log, and replay by timestamp.
 *
 * Single-threaded: every function runs on the daemon's loop thread. Nothing
 * here blocks on a subscriber: delivery is a synchronous callback, and a
 * subscriber that cannot take an event (its stream is gone or too slow)
 * says so by returning -1 and is dropped — never silently skipped.
 *
 * Retention: the newest `retain_count` events (all, when ≤ 0) are kept in
 * memory and are what replay serves. events.log always holds at least that
 * window (between retain_count and 2×retain_count lines, so appends stay
 * O(1) amortized); on open it is rewritten atomically to exactly the window,
 * so repeated restarts lose nothing inside the window and duplicate nothing
 * (unlike the original's truncate-on-read, docs/failure-modes.md #7). */
#ifndef CTRD_SUPERVISOR_EVENTS_H
#define CTRD_SUPERVISOR_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/error.h"

#define EVENT_START_CONTAINER "start-container"
#define EVENT_START_PROCESS "start-process"
#define EVENT_EXIT "exit"
#define EVENT_PAUSE "pause"
#define EVENT_RESUME "resume"
#define EVENT_OOM "oom"

struct ctrd_event
{
  char *type, *id, *pid; /* never NULL; pid "" when not set */
  uint32_t status;       /* 0..255 */
  int64_t ts_ns;         /* CLOCK_REALTIME ns since the epoch */
};

struct event_bus;
struct event_sub;

/* Load <state_dir>/events.log tolerantly (a line that does not decode is
 * logged "containerd: Cannot parse event. Skipping." and only that line is
 * dropped; a status outside 0..255 becomes 255), keep the newest
 * retain_count, rewrite the file atomically to exactly that window and open
 * it for appending. Creates state_dir if needed. Fails only when the file
 * cannot be read or written at all. */
int event_bus_open (const char *state_dir, long long retain_count, struct event_bus **out,
                    struct ctrd_error **err);
/* Frees the bus. Subscriptions still alive are detached (no more events);
 * their owners must still call event_sub_free(). */
void event_bus_free (struct event_bus *b);

/* Stamp with the wall clock, append to memory and events.log, and deliver to
 * every subscriber whose filter matches. pid NULL = "". status > 255 is
 * stored as 255. Timestamps strictly increase while the clock moves forward
 * or steps back by less than a second, so a client resuming from the
 * timestamp of the last event it saw neither misses nor repeats events. A
 * failing write to events.log is logged and the file is rewritten whole on
 * the next publish; the event is still delivered. */
void event_bus_publish (struct event_bus *b, const char *type, const char *id, const char *pid,
                        uint32_t status);

/* What an event_sub_fn returns to be dropped because it is too slow (its
 * queue is over its bound, docs/daemon.md §8): like -1, and counted in
 * event_bus_dropped_total(). */
#define EVENT_SUB_TOO_SLOW (-2)

/* Called for each event; ev is valid only during the call. Return 0 to stay
 * subscribed, -1 (gone) or EVENT_SUB_TOO_SLOW to be dropped: the bus then
 * unsubscribes and frees the subscription itself, and its owner must forget
 * the pointer (not call event_sub_free). Alternatively the callback may call event_sub_free() on
 * its own subscription (or any other) and return anything. Callbacks may
 * publish and subscribe. */
typedef int (*event_sub_fn) (const struct ctrd_event *ev, void *data);

/* If replay: first deliver, synchronously and in log order, every stored
 * event whose timestamp is strictly after (from_sec, from_nsec) and whose id
 * equals id_filter (NULL or "" = all). Then, unless stored_only, register fn
 * for live events (same filter). No gap and no duplicate between replay and
 * live. Returns 0 with *out = the subscription, or *out = NULL when
 * stored_only or when fn returned -1 during the replay (then nothing is
 * registered). */
int event_bus_subscribe (struct event_bus *b, const char *id_filter, bool replay, int64_t from_sec,
                         int32_t from_nsec, bool stored_only, event_sub_fn fn, void *data,
                         struct event_sub **out);
/* Unsubscribe and free; NULL is fine. Safe from inside any callback. */
void event_sub_free (struct event_sub *s);
/* Live subscribers (the `event-subscribers` metric). */
size_t event_bus_subscriber_count (const struct event_bus *b);
/* Subscribers dropped for being too slow (their callback returned
 * EVENT_SUB_TOO_SLOW, live or during a replay) since the bus was opened:
 * a counter for metrics, never decreasing. */
uint64_t event_bus_dropped_total (const struct event_bus *b);
/* Events in the in-memory window (tests, metrics). */
size_t event_bus_stored_count (const struct event_bus *b);
/* Path of events.log (tests). */
const char *event_bus_log_path (const struct event_bus *b);

/* One events.log line (with the trailing '\n') for ev, as Go's json.Encoder
 * writes it: {"id","type","timestamp","pid"(omitted when ""),"status"
 * (omitted when 0)}, the time as RFC 3339 with nanoseconds in the local
 * zone. Caller frees. */
char *event_format_line (const struct ctrd_event *ev);

/* The Events RPC (docs/api.md "Events"); userdata = struct event_bus *. */
struct api_call;
void api_events_handle (struct api_call *call, const ProtobufCMessage *req, void *userdata);

#endif
