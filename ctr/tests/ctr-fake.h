/* The recording transport of ctr's unit tests: requests are kept
 * (decoded from their wire form), responses and stream messages come from
 * hand-built messages. */
#ifndef CTRD_CTR_TEST_FAKE_H
#define CTRD_CTR_TEST_FAKE_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct fake
{
  char method[64];
  ProtobufCMessage *req; /* the last request, decoded from its wire form */
  int ncalls;
  ProtobufCMessage *resp; /* packed and returned (decoded copy) */
  int fail_code;          /* non-zero: fail with this code and fail_msg */
  const char *fail_msg;
  ProtobufCMessage **events; /* stream messages, then END */
  size_t nevents, next_event;
};

extern struct fake fk;

/* Run ctr with the NULL-terminated arguments; output and error text in
 * malloc'd strings. */
struct result
{
  int status;
  char *out, *err;
};

struct result run_ctr (const char *first, ...);
void result_free (struct result *r);
/* cmocka setup: forget the last request and all canned answers */
int reset (void **state);

#define REQ(type) ((type *) fk.req)

#endif
