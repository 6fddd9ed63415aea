/* Ownership by scope for unpacked protobuf-c messages.
 * Header-only and needs only protobuf-c's headers: lib/ itself (and the
 * shim, which links it) stays libc only; the modules that include this
 * already link protobuf-c. Sits beside cleanup_free / cleanup_file /
 * cleanup_dir (lib/util.h) and cleanup_json (lib/json-cleanup.h). */
#ifndef CTRD_PB_CLEANUP_H
#define CTRD_PB_CLEANUP_H

#include <string.h>

#include <protobuf-c/protobuf-c.h>

/* protobuf_c_message_free_unpacked (m, NULL) for a message made by
 * *__unpack or protobuf_c_message_unpack with the default allocator (NULL
 * is fine). Takes any message pointer (Types__X *, ProtobufCMessage *):
 * every generated message starts with its ProtobufCMessage base. Not for a
 * message built by hand on the stack or in parts. */
static inline void
cleanup_pb_freep (void *p)
{
  /* (copied: pointers to structures share one representation, and this
   * reads a Types__X * without an lvalue of another pointer type) */
  ProtobufCMessage *m;
  memcpy (&m, p, sizeof m);
  if (m != NULL)
    protobuf_c_message_free_unpacked (m, NULL);
}
#define cleanup_pb __attribute__ ((cleanup (cleanup_pb_freep)))

#endif
