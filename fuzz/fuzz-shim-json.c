/* libFuzzer target: the shim's own JSON parser (shim/json.c), which reads
 * process.json and a checkpoint's config.json in the shim. Every accessor
 * is run on the root, as the shim's config reader does. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/error.h"
#include "lib/util.h"
#include "shim/json.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct ctrd_error *err = NULL;
  struct json *j = json_parse ((const char *) data, size, &err);
  if (!j)
    {
      ctrd_error_free (&err);
      return 0;
    }
  static const char *const keys[] = { "terminal", "args",       "containerdStdin", "runtimeArgs",
                                      "rootUID",  "checkpoint", "emptyNS",         "" };
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    {
      bool b;
      const char *s;
      long long n;
      char **v = NULL;
      (void) json_get (j, keys[i]);
      if (json_get_bool (j, keys[i], false, &b, &err) < 0)
        ctrd_error_free (&err);
      if (json_get_string (j, keys[i], "", &s, &err) < 0)
        ctrd_error_free (&err);
      if (json_get_int (j, keys[i], 0, &n, &err) < 0)
        ctrd_error_free (&err);
      if (json_get_strv (j, keys[i], &v, &err) < 0)
        ctrd_error_free (&err);
      strv_free (v);
    }
  json_free (j);
  return 0;
}
