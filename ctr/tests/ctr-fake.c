/* The recording transport of ctr's unit tests (see ctr-fake.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/client.h"
#include "ctr/ctr.h"
#include "ctr/tests/ctr-fake.h"
#include "lib/util.h"

/* ---- recording transport ------------------------------------------------ */

struct fake fk;

static ProtobufCMessage *
roundtrip (const ProtobufCMessage *m, const ProtobufCMessageDescriptor *d)
{
  size_t len = protobuf_c_message_get_packed_size (m);
  uint8_t *buf = xmalloc (len + 1);
  protobuf_c_message_pack (m, buf);
  ProtobufCMessage *out = protobuf_c_message_unpack (d, NULL, len, buf);
  free (buf);
  assert_non_null (out);
  return out;
}

static void
record (const char *method, const ProtobufCMessage *req)
{
  snprintf (fk.method, sizeof fk.method, "%s", method);
  if (fk.req)
    protobuf_c_message_free_unpacked (fk.req, NULL);
  fk.req = roundtrip (req, req->descriptor);
  fk.ncalls++;
}

static int
fake_call (struct ctr_ctx *ctx, const char *method, const ProtobufCMessage *req,
           const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
           struct ctrd_error **err)
{
  (void) ctx;
  record (method, req);
  if (fk.fail_code)
    return ctrd_error_grpc (err, fk.fail_code, "%s", fk.fail_msg);
  if (fk.resp && fk.resp->descriptor == resp_desc)
    *resp = roundtrip (fk.resp, resp_desc);
  else
    {
      /* an empty response of the right type */
      ProtobufCMessage *empty = xmalloc0 (resp_desc->sizeof_message);
      protobuf_c_message_init (resp_desc, empty);
      *resp = roundtrip (empty, resp_desc);
      free (empty);
    }
  return 0;
}

static int
fake_stream_open (struct ctr_ctx *ctx, const char *method, const ProtobufCMessage *req,
                  const ProtobufCMessageDescriptor *msg_desc, void **stream,
                  struct ctrd_error **err)
{
  (void) ctx, (void) msg_desc;
  record (method, req);
  if (fk.fail_code)
    return ctrd_error_grpc (err, fk.fail_code, "%s", fk.fail_msg);
  *stream = &fk;
  return 0;
}

static int
fake_stream_next (struct ctr_ctx *ctx, void *stream, ProtobufCMessage **msg, int64_t timeout_ns,
                  struct ctrd_error **err)
{
  (void) ctx, (void) stream, (void) timeout_ns, (void) err;
  if (fk.next_event < fk.nevents)
    {
      ProtobufCMessage *m = fk.events[fk.next_event++];
      *msg = roundtrip (m, m->descriptor);
      return API_STREAM_MSG;
    }
  return API_STREAM_END;
}

static void
fake_stream_free (struct ctr_ctx *ctx, void *stream)
{
  (void) ctx, (void) stream;
}

static int
fake_fd (struct ctr_ctx *ctx)
{
  (void) ctx;
  return -1;
}

static const struct ctr_transport fake_transport = {
  fake_call, fake_stream_open, fake_stream_next, fake_stream_free, fake_fd,
};

int
reset (void **state)
{
  (void) state;
  if (fk.req)
    protobuf_c_message_free_unpacked (fk.req, NULL);
  memset (&fk, 0, sizeof fk);
  return 0;
}

struct result
run_ctr (const char *first, ...)
{
  char *argv[64];
  int argc = 0;
  argv[argc++] = (char *) "ctr";
  va_list ap;
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    argv[argc++] = (char *) a;
  va_end (ap);
  argv[argc] = NULL;
  struct result r = { 0 };
  size_t lo, le;
  FILE *out = open_memstream (&r.out, &lo);
  FILE *errf = open_memstream (&r.err, &le);
  r.status = ctr_main (argc, argv, out, errf, &fake_transport, NULL);
  fclose (out);
  fclose (errf);
  return r;
}

void
result_free (struct result *r)
{
  free (r->out);
  free (r->err);
}
