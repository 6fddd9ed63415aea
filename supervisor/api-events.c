/* The Events RPC (docs/api.md "Events", docs/daemon.md §8): replay from the bus's
 * window, then live events, as one server stream. A stream whose client
 * reads too slowly (api_call_send refuses past --events-queue-bytes unsent,
 * or past its share of the server's total) is ended with RESOURCE_EXHAUSTED
 * and a warning: the daemon never blocks on it, never buffers for it without
 * bound, and never drops an event for it silently (the original did, and
 * Docker missed exits); the client resubscribes from the timestamp of the
 * last event it got and the replay gives it the rest. */
#include "supervisor/events.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.pb-c.h"
#include "api/server.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "supervisor/api-handlers.h"

/* google.protobuf.Timestamp's valid range: [0001-01-01, 10000-01-01). */
#define TS_MIN_SECONDS (-62135596800LL)
#define TS_MAX_SECONDS 253402300800LL

#define EVENTS_TOO_SLOW_MESSAGE                                                                    \
  "events subscriber too slow: more events were waiting than its queue holds; subscribe again "    \
  "with the timestamp of the last event received to get the rest"

struct events_stream
{
  struct api_call *call;
  struct event_sub *sub;
  char *filter;
  unsigned serial;     /* names the subscriber in logs */
  bool in_subscribe;   /* inside event_bus_subscribe (replay running) */
  bool finished;       /* the call was ended */
  bool cancel_pending; /* on_cancel arrived during the replay */
};

static void
stream_free (struct events_stream *st)
{
  free (st->filter);
  free (st);
}

/* End the call (once) and drop the subscription. */
static void
stream_finish (struct events_stream *st, int code, const char *msg)
{
  if (!st->finished)
    {
      st->finished = true;
      api_call_on_cancel (st->call, NULL, NULL);
      api_call_end (st->call, code, msg);
    }
  event_sub_free (st->sub);
  st->sub = NULL;
}

static int
stream_deliver (const struct ctrd_event *ev, void *data)
{
  struct events_stream *st = data;
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  Types__Event msg = TYPES__EVENT__INIT;
  time_to_timestamp (ev->ts_ns, &ts.seconds, &ts.nanos);
  msg.type = ev->type;
  msg.id = ev->id;
  msg.pid = ev->pid;
  msg.status = ev->status;
  msg.timestamp = &ts;
  /* tag 5 for containerd 0.2.2 clients (Docker 1.11); invisible to others */
  msg.legacytimestamp = ts.seconds > 0 ? (uint64_t) ts.seconds : 0;
  if (api_call_send (st->call, &msg.base) == 0)
    return 0;

  bool slow = !api_call_cancelled (st->call);
  if (!slow)
    log_debug ("events: subscriber #%u went away", st->serial);
  else
    log_warn ("events: subscriber #%u (%s%s) too slow: over its queue bound unsent, ending its "
              "stream with RESOURCE_EXHAUSTED at event %s %s",
              st->serial, st->filter ? "id " : "all ids", st->filter ? st->filter : "", ev->type,
              ev->id);
  st->finished = true;
  /* the call is finished here: its cancel notice must not reach freed state */
  api_call_on_cancel (st->call, NULL, NULL);
  if (slow)
    api_call_end (st->call, GRPC_RESOURCE_EXHAUSTED, EVENTS_TOO_SLOW_MESSAGE);
  else
    api_call_end (st->call, GRPC_CANCELLED, "context canceled");
  /* returning < 0 makes the bus free the subscription */
  st->sub = NULL;
  if (!st->in_subscribe)
    stream_free (st);
  return slow ? EVENT_SUB_TOO_SLOW : -1;
}

static void
stream_on_cancel (struct api_call *call UNUSED, void *data)
{
  struct events_stream *st = data;
  if (st->in_subscribe)
    {
      st->cancel_pending = true;
      return;
    }
  stream_finish (st, GRPC_CANCELLED, "context canceled");
  stream_free (st);
}

/* Go's ptypes.Timestamp validation message (the proto's compact text form). */
static void
timestamp_fail (struct api_call *call, const Google__Protobuf__Timestamp *t, const char *what)
{
  char text[64] = "";
  if (t->seconds != 0)
    snprintf (text, sizeof text, "seconds:%" PRId64, t->seconds);
  if (t->nanos != 0)
    snprintf (text + strlen (text), sizeof text - strlen (text), "%snanos:%" PRId32,
              t->seconds != 0 ? " " : "", t->nanos);
  api_call_fail (call, GRPC_UNKNOWN, "timestamp: %s%s", text, what);
}

void
api_events_handle (struct api_call *call, const ProtobufCMessage *request, void *userdata)
{
  static unsigned serial;
  struct event_bus *bus = userdata;
  const Types__EventsRequest *req = (const Types__EventsRequest *) request;
  bool replay = false;
  int64_t from_sec = 0;
  int32_t from_nsec = 0;

  if (req->timestamp != NULL)
    {
      const Google__Protobuf__Timestamp *t = req->timestamp;
      if (t->seconds < TS_MIN_SECONDS)
        {
          timestamp_fail (call, t, " before 0001-01-01");
          return;
        }
      if (t->seconds >= TS_MAX_SECONDS)
        {
          timestamp_fail (call, t, " after 10000-01-01");
          return;
        }
      if (t->nanos < 0 || t->nanos >= NSEC_PER_SEC)
        {
          timestamp_fail (call, t, ": nanos not in range [0, 1e9)");
          return;
        }
      /* the zero time.Time means "no replay" */
      replay = !(t->seconds == TS_MIN_SECONDS && t->nanos == 0);
      from_sec = t->seconds;
      from_nsec = t->nanos;
    }
  else if (req->legacytimestamp != 0)
    {
      /* tag 1: unix seconds from containerd 0.2.2 clients */
      replay = true;
      from_sec = req->legacytimestamp > INT64_MAX ? INT64_MAX : (int64_t) req->legacytimestamp;
    }
  if (req->storedonly && !replay)
    {
      api_call_fail (call, GRPC_UNKNOWN,
                     "invalid parameter: StoredOnly cannot be specified "
                     "without setting a valid Timestamp");
      return;
    }

  struct events_stream *st = xmalloc0 (sizeof *st);
  st->call = call;
  st->serial = ++serial;
  st->filter = req->id && req->id[0] ? xstrdup (req->id) : NULL;
  api_call_on_cancel (call, stream_on_cancel, st);

  struct event_sub *sub = NULL;
  st->in_subscribe = true;
  /* The replay is bounded by the retained window, not by the queue bound:
   * a client resubscribing after it was too slow must be able to get the
   * window back at once. Only what is live after it counts. */
  if (replay)
    api_call_set_queue_extra (call, SIZE_MAX);
  event_bus_subscribe (bus, st->filter, replay, from_sec, from_nsec, req->storedonly,
                       stream_deliver, st, &sub);
  st->in_subscribe = false;
  if (replay && !st->finished)
    api_call_set_queue_extra (call, api_call_queued (call));
  st->sub = sub;
  if (st->finished)
    {
      /* the stream failed during the replay: already ended */
      stream_free (st);
      return;
    }
  if (st->cancel_pending)
    {
      stream_finish (st, GRPC_CANCELLED, "context canceled");
      stream_free (st);
      return;
    }
  if (req->storedonly)
    {
      stream_finish (st, GRPC_OK, NULL);
      stream_free (st);
      return;
    }
  log_debug ("events: subscriber #%u (%s) connected, %zu live", st->serial,
             st->filter ? st->filter : "all ids", event_bus_subscriber_count (bus));
}
