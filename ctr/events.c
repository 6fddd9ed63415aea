/* ctr events and ctr containers watch. */
#include <string.h>

#include "api/api.pb-c.h"
#include "api/client.h"
#include "ctr/ctr.h"
#include "ctr/output.h"
#include "lib/pb-cleanup.h"
#include "lib/timeutil.h"
#include "lib/util.h"

/* The zero time of Go, 0001-01-01T00:00:00Z: "no replay". */
#define GO_ZERO_TIME_SECONDS (-62135596800LL)

enum ev_format
{
  EV_TABLE,
  EV_JSON,
  EV_GO,
};

/* Receive until the stream ends or fails; print the events matching id
 * (all when id is empty). */
static int
follow (struct ctr_ctx *ctx, Types__EventsRequest *req, const char *id, enum ev_format fmt,
        struct ctrd_error **err)
{
  void *stream = NULL;
  if (ctr_stream_open (ctx, "Events", id, &req->base, &types__event__descriptor, &stream, err) < 0)
    return -1;
  if (fmt == EV_TABLE)
    event_write_header (ctx->out);
  int ret;
  for (;;)
    {
      cleanup_pb ProtobufCMessage *m = NULL;
      int r = ctx->transport->stream_next (ctx, stream, &m, -1, err);
      if (r == API_STREAM_MSG)
        {
          Types__Event *e = (Types__Event *) m;
          if (*id == '\0' || strcmp (e->id, id) == 0)
            {
              if (fmt == EV_TABLE)
                event_write_row (ctx->out, e);
              else if (fmt == EV_JSON)
                event_write_json (ctx->out, e);
              else
                event_write_gosyntax (ctx->out, e);
            }
          if (ferror (ctx->out))
            {
              ret = ctrd_error_set (err, 0, "cannot write the output");
              break;
            }
          continue;
        }
      /* ctr never asks for storedOnly: a live stream ends only when the
       * daemon goes away, which is an error for a follower */
      if (r == API_STREAM_END)
        ret = ctrd_error_set (err, 0, "containerd ended the event stream");
      else
        ret = ctrd_error_wrap (err, "event stream");
      break;
    }
  ctx->transport->stream_free (ctx, stream);
  return ret;
}

static const struct ctr_command cmd_events = { "events",
                                               "receive events from the containerd daemon", "",
                                               NULL };

int
ctr_events_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  cleanup_free char *ts = NULL;
  bool json = false;
  struct goflag flags[] = {
    { "timestamp", "t", GOFLAG_STRING, &ts,
      "first replay the stored events newer than this RFC 3339 time "
      "(e.g. 2017-05-30T16:13:03.5Z)",
      NULL, false },
    { "json", NULL, GOFLAG_BOOL, &json, "print one JSON object per event and line", NULL, false },
  };
  int first = ctr_parse_flags (ctx, "events", &cmd_events, flags, 2, argc, argv, err);
  if (first < 0)
    return first == GOFLAG_HELP ? 0 : -1;
  if (ctr_check_args (argc, argv, first, 0, err) < 0)
    return -1;
  Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  t.seconds = GO_ZERO_TIME_SECONDS;
  if (ts && *ts && time_parse_rfc3339 (ts, &t.seconds, &t.nanos) < 0)
    return ctrd_error_set (err, 0,
                           "parsing time \"%s\" as RFC 3339 (e.g. 2006-01-02T15:04:05Z07:00) "
                           "failed",
                           ts);
  Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
  req.timestamp = &t;
  return follow (ctx, &req, "", json ? EV_JSON : EV_TABLE, err);
}

static const struct ctr_command cmd_watch = { "watch", "print container events", "[ID]", NULL };

int
ctr_watch_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  bool json = false;
  struct goflag flags[] = {
    { "json", NULL, GOFLAG_BOOL, &json, "print one JSON object per event and line", NULL, false },
  };
  int first = ctr_parse_flags (ctx, "containers watch", &cmd_watch, flags, 1, argc, argv, err);
  if (first < 0)
    return first == GOFLAG_HELP ? 0 : -1;
  if (ctr_check_args (argc, argv, first, 1, err) < 0)
    return -1;
  const char *id = ctr_arg (argc, argv, first);
  if (*id)
    {
      /* an unknown container is an error, not a silent wait */
      Types__StateRequest sreq = TYPES__STATE_REQUEST__INIT;
      sreq.id = (char *) id;
      cleanup_pb ProtobufCMessage *resp = NULL;
      if (ctr_rpc (ctx, "State", id, &sreq.base, &types__state_response__descriptor, &resp, err)
          < 0)
        return -1;
    }
  Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
  req.id = (char *) id;
  return follow (ctx, &req, id, json ? EV_JSON : EV_GO, err);
}
