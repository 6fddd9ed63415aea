/* One error contract for all of ctrd (after crun's):
 * a fallible function takes `struct ctrd_error **err`, returns a negative
 * value on failure and fills *err with {errno, message}. Callers add context
 * with ctrd_error_wrap() and return early. The final message says what failed
 * and why: "cannot open `/run/containerd/x/state.json`: No such file or directory". */
#ifndef CTRD_ERROR_H
#define CTRD_ERROR_H

#include <stdarg.h>

/* gRPC status codes (all of them: use these names, never the numbers). */
enum grpc_code
{
  GRPC_OK = 0,
  GRPC_CANCELLED = 1,
  GRPC_UNKNOWN = 2,
  GRPC_INVALID_ARGUMENT = 3,
  GRPC_DEADLINE_EXCEEDED = 4,
  GRPC_NOT_FOUND = 5,
  GRPC_ALREADY_EXISTS = 6,
  GRPC_PERMISSION_DENIED = 7,
  GRPC_RESOURCE_EXHAUSTED = 8,
  GRPC_FAILED_PRECONDITION = 9,
  GRPC_ABORTED = 10,
  GRPC_OUT_OF_RANGE = 11,
  GRPC_UNIMPLEMENTED = 12,
  GRPC_INTERNAL = 13,
  GRPC_UNAVAILABLE = 14,
  GRPC_DATA_LOSS = 15,
  GRPC_UNAUTHENTICATED = 16,
};

struct ctrd_error
{
  int status;    /* errno value, 0 when not an OS error */
  int grpc_code; /* explicit gRPC code, or -1 to derive it from status */
  char *msg;     /* full text shown to the user */
};

/* Fill *err (if err is non-NULL) and return -1. status is an errno value or 0;
 * with a non-zero status ": strerror(status)" is appended. */
int ctrd_error_set (struct ctrd_error **err, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* As ctrd_error_set but with an explicit gRPC code and no strerror suffix. */
int ctrd_error_grpc (struct ctrd_error **err, int grpc_code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* The same two with a va_list (for wrappers with their own format). */
int ctrd_error_vset (struct ctrd_error **err, int status, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 3, 0)));
int ctrd_error_vgrpc (struct ctrd_error **err, int grpc_code, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 3, 0)));
/* Prefix the message of *err with context: "<context>: <old msg>". Returns -1. */
int ctrd_error_wrap (struct ctrd_error **err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* The gRPC code: explicit, or derived from errno as grpc-go derives it from an
 * OS error (EEXIST → ALREADY_EXISTS, ENOENT → NOT_FOUND, EACCES/EPERM →
 * PERMISSION_DENIED, ETIMEDOUT → DEADLINE_EXCEEDED, ECANCELED → CANCELLED,
 * EINVAL → INVALID_ARGUMENT; ctrd: EMFILE/ENFILE → RESOURCE_EXHAUSTED, out of
 * file descriptors is never the client's fault; anything else → UNKNOWN). */
int ctrd_error_code (const struct ctrd_error *err);
void ctrd_error_free (struct ctrd_error **err);
/* Move the error out (for hand-over), leaving *err NULL. */
struct ctrd_error *ctrd_error_steal (struct ctrd_error **err);

#define cleanup_error __attribute__ ((cleanup (ctrd_error_free)))

#endif
