/* libFuzzer target: the bundle's config.json reader and validator
 * (specs/spec.c spec_load_bundle, with the seccomp check), on a bundle whose
 * rootfs exists, so that every check past the JSON parse is reachable; a
 * document it accepts is also given to spec_has_own_pid_ns. */
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "fuzz/fuzz-util.h"
#include "lib/error.h"
#include "specs/spec.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static char bundle[128];
  if (bundle[0] == '\0')
    {
      snprintf (bundle, sizeof bundle, "%s/bundle", fuzz_tmpdir ());
      char rootfs[160];
      snprintf (rootfs, sizeof rootfs, "%s/rootfs", bundle);
      if (mkdir (bundle, 0755) < 0 || mkdir (rootfs, 0755) < 0)
        abort ();
    }
  fuzz_write (bundle, "config.json", data, size);
  struct ctrd_error *err = NULL;
  json_object *o = spec_load_bundle (bundle, &err);
  if (o)
    {
      (void) spec_has_own_pid_ns (o);
      json_object_put (o);
    }
  ctrd_error_free (&err);
  return 0;
}
