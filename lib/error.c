#include "lib/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static int __attribute__ ((format (printf, 4, 0)))
error_vmake (struct ctrd_error **err, int status, int code, const char *fmt, va_list ap)
{
  if (err == NULL)
    return -1;
  char *msg = xvasprintf (fmt, ap);
  if (status != 0)
    {
      char *full = NULL;
      if (asprintf (&full, "%s: %s", msg, strerror (status)) < 0)
        abort ();
      free (msg);
      msg = full;
    }
  ctrd_error_free (err);
  struct ctrd_error *e = xmalloc0 (sizeof *e);
  e->status = status;
  e->grpc_code = code;
  e->msg = msg;
  *err = e;
  return -1;
}

int
ctrd_error_vset (struct ctrd_error **err, int status, const char *fmt, va_list ap)
{
  return error_vmake (err, status, -1, fmt, ap);
}

int
ctrd_error_vgrpc (struct ctrd_error **err, int grpc_code, const char *fmt, va_list ap)
{
  return error_vmake (err, 0, grpc_code, fmt, ap);
}

int
ctrd_error_set (struct ctrd_error **err, int status, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  int r = error_vmake (err, status, -1, fmt, ap);
  va_end (ap);
  return r;
}

int
ctrd_error_grpc (struct ctrd_error **err, int grpc_code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  int r = error_vmake (err, 0, grpc_code, fmt, ap);
  va_end (ap);
  return r;
}

int
ctrd_error_wrap (struct ctrd_error **err, const char *fmt, ...)
{
  if (err == NULL || *err == NULL)
    return -1;
  va_list ap;
  va_start (ap, fmt);
  char *ctx = xvasprintf (fmt, ap);
  va_end (ap);
  char *full = NULL;
  if (asprintf (&full, "%s: %s", ctx, (*err)->msg) < 0)
    abort ();
  free (ctx);
  free ((*err)->msg);
  (*err)->msg = full;
  return -1;
}

int
ctrd_error_code (const struct ctrd_error *err)
{
  if (err == NULL)
    return GRPC_OK;
  if (err->grpc_code >= 0)
    return err->grpc_code;
  switch (err->status)
    {
    case EEXIST:
      return GRPC_ALREADY_EXISTS;
    case ENOENT:
      return GRPC_NOT_FOUND;
    case EACCES:
    case EPERM:
      return GRPC_PERMISSION_DENIED;
    case ETIMEDOUT:
      return GRPC_DEADLINE_EXCEEDED;
    case ECANCELED:
      return GRPC_CANCELLED;
    case EINVAL:
      return GRPC_INVALID_ARGUMENT;
    case EMFILE:
    case ENFILE:
      return GRPC_RESOURCE_EXHAUSTED;
    default:
      return GRPC_UNKNOWN;
    }
}

void
ctrd_error_free (struct ctrd_error **err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}

struct ctrd_error *
ctrd_error_steal (struct ctrd_error **err)
{
  struct ctrd_error *e = *err;
  *err = NULL;
  return e;
}
