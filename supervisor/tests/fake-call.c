/* The recording fake of api/server.h's calls (fake-call.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "supervisor/tests/fake-call.h"

static ProtobufCMessage *
copy_through_wire (const ProtobufCMessage *msg)
{
  uint8_t buf[8192];
  assert_true (protobuf_c_message_get_packed_size (msg) <= sizeof buf);
  size_t n = protobuf_c_message_pack (msg, buf);
  ProtobufCMessage *m = protobuf_c_message_unpack (msg->descriptor, NULL, n, buf);
  assert_non_null (m);
  return m;
}

int
api_call_send (struct api_call *call, const ProtobufCMessage *msg)
{
  assert_int_equal (call->finished, 0);
  size_t bound = call->extra > SIZE_MAX - call->limit ? SIZE_MAX : call->limit + call->extra;
  if (call->cancelled || call->nsent >= bound)
    return -1;
  assert_true (call->nsent < FAKE_CALL_MAX_SENT);
  call->sent[call->nsent++] = copy_through_wire (msg);
  return 0;
}

void
api_call_end (struct api_call *call, int grpc_code, const char *msg)
{
  call->finished++;
  call->code = grpc_code;
  snprintf (call->msg, sizeof call->msg, "%s", msg ? msg : "");
}

void
api_call_fail (struct api_call *call, int grpc_code, const char *fmt, ...)
{
  va_list ap;
  call->finished++;
  call->code = grpc_code;
  va_start (ap, fmt);
  vsnprintf (call->msg, sizeof call->msg, fmt, ap);
  va_end (ap);
}

void
api_call_fail_error (struct api_call *call, const struct ctrd_error *err)
{
  api_call_fail (call, ctrd_error_code (err), "%s", err->msg);
}

void
api_call_reply (struct api_call *call, const ProtobufCMessage *resp)
{
  call->finished++;
  call->code = 0;
  assert_true (protobuf_c_message_get_packed_size (resp) <= sizeof call->reply);
  call->reply_len = protobuf_c_message_pack (resp, call->reply);
}

/* The fake counts messages as its queue's bytes: none is ever sent on. */
size_t
api_call_queued (const struct api_call *call)
{
  return call->nsent;
}

void
api_call_set_queue_extra (struct api_call *call, size_t bytes)
{
  call->extra = bytes;
}

bool
api_call_cancelled (const struct api_call *call)
{
  return call->cancelled;
}

void
api_call_on_cancel (struct api_call *call, api_cancel_fn fn, void *data)
{
  call->cancel_fn = fn;
  call->cancel_data = data;
}

void
fake_call_cancel (struct api_call *call)
{
  call->cancelled = true;
  if (call->cancel_fn)
    call->cancel_fn (call, call->cancel_data);
}

void
fake_call_clear (struct api_call *call)
{
  for (size_t i = 0; i < call->nsent; i++)
    protobuf_c_message_free_unpacked (call->sent[i], NULL);
  memset (call, 0, sizeof *call);
}

ProtobufCMessage *
fake_call_reply (const struct api_call *call, const ProtobufCMessageDescriptor *desc)
{
  return protobuf_c_message_unpack (desc, NULL, call->reply_len, call->reply);
}
