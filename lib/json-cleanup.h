/* Ownership by scope for json-c objects.
 * Header-only and needs only json-c's headers: lib/ itself (and the shim,
 * which links it) stays libc only; the modules that include this already
 * link json-c. Sits beside cleanup_free / cleanup_file / cleanup_dir
 * (lib/util.h) and cleanup_pb (lib/pb-cleanup.h). */
#ifndef CTRD_JSON_CLEANUP_H
#define CTRD_JSON_CLEANUP_H

#include <errno.h>

#include <json-c/json.h>

/* json_object_put what the variable holds (one reference; NULL is fine) when
 * it goes out of scope, keeping errno. Hand the reference on with take_ptr. */
static inline void
cleanup_json_putp (struct json_object **o)
{
  if (*o != NULL)
    {
      int saved = errno;
      json_object_put (*o);
      errno = saved;
    }
}
#define cleanup_json __attribute__ ((cleanup (cleanup_json_putp)))

#endif
