#include "lib/id.h"

#include <string.h>

int
id_validate (const char *id, const char *what, struct ctrd_error **err)
{
  if (id == NULL || *id == '\0')
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "%s cannot be empty", what);
  size_t n = strlen (id);
  if (n > CTRD_ID_MAX)
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "invalid %s: longer than %d bytes", what,
                            CTRD_ID_MAX);
  if (strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "invalid %s %s", what, id);
  /* Restore skips hidden names, and the state dir keeps its own files
   * (.lock) under them: an id cannot be one. */
  if (id[0] == '.')
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "invalid %s %s: must not start with '.'",
                            what, id);
  if (id[0] == '-')
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "invalid %s %s: must not start with '-'",
                            what, id);
  for (const unsigned char *p = (const unsigned char *) id; *p; p++)
    {
      if (*p == '/')
        return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "invalid %s %s: contains '/'", what,
                                id);
      if (*p < 0x20 || *p == 0x7f)
        return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT,
                                "invalid %s: contains control character 0x%02x", what, *p);
    }
  return 0;
}
