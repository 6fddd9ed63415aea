/* TEST DOUBLE shared by the handler tests: the api_call_* functions of
 * api/server.h as a recording fake, to drive a handler through cases a real
 * client cannot produce on demand (a send queue that fills after exactly N
 * messages, a cancel in the middle of a replay, a reply checked field by
 * field). The handlers under test are the real ones; end-to-end coverage
 * over real gRPC belongs to the integration tests. A call must be finished
 * exactly once. */
#ifndef CTRD_SUPERVISOR_TESTS_FAKE_CALL_H
#define CTRD_SUPERVISOR_TESTS_FAKE_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "api/server.h"

#define FAKE_CALL_MAX_SENT 64

struct api_call
{
  /* how it ended: times finished, its gRPC code and message */
  int finished;
  int code;
  char msg[512];
  /* api_call_reply: the reply, packed */
  uint8_t reply[8192];
  size_t reply_len;
  /* streams: sends accepted before -1 ("over its queue bound"), plus extra
   * after api_call_set_queue_extra; what was sent, copied through the wire
   * format (unpacked with each message's own descriptor) */
  size_t limit;
  size_t extra;
  size_t nsent;
  ProtobufCMessage *sent[FAKE_CALL_MAX_SENT];
  bool cancelled;
  api_cancel_fn cancel_fn;
  void *cancel_data;
};

/* The client goes away: cancelled, and the handler's cancel callback runs. */
void fake_call_cancel (struct api_call *call);
/* Free what was recorded; the call is all zero again. */
void fake_call_clear (struct api_call *call);
/* The reply, unpacked with desc (free with protobuf_c_message_free_unpacked). */
ProtobufCMessage *fake_call_reply (const struct api_call *call,
                                   const ProtobufCMessageDescriptor *desc);

#endif
