/* libFuzzer target: reading the state directory's files as restart recovery
 * does (runtime/statefile.c). The first byte chooses the file, the rest is
 * its content: 0 state.json (statefile_read_state), 1 a decimal file such
 * as pid or exitStatus (statefile_read_ull), 2 a bundle config.json turned
 * into the init's process.json (statefile_read_json, then, for a document
 * with a `process` object as spec_load_bundle guarantees its caller,
 * statefile_init_process_spec: rootUID/rootGID from the user namespace
 * mappings). */
#include <stdint.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "fuzz/fuzz-util.h"
#include "lib/error.h"
#include "lib/json-cleanup.h"
#include "lib/util.h"
#include "runtime/runtime.h"
#include "runtime/statefile.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
read_state (const char *dir)
{
  struct container c = { 0 };
  c.dir = (char *) dir;
  struct ctrd_error *err = NULL;
  if (statefile_read_state (&c, &err) < 0)
    ctrd_error_free (&err);
  free (c.bundle);
  free (c.runtime_bin);
  free (c.shim);
  strv_free (c.runtime_args);
  strv_free (c.labels);
}

static void
read_process (const char *dir)
{
  cleanup_free char *path = path_join (dir, "config.json");
  cleanup_json json_object *o = NULL;
  struct ctrd_error *err = NULL;
  if (statefile_read_json (path, &o, &err) < 0)
    {
      ctrd_error_free (&err);
      return;
    }
  /* Its one caller passes a config that spec_load_bundle accepted: an
   * object whose `process` is an object. */
  json_object *proc = NULL;
  if (!json_object_is_type (o, json_type_object) || !json_object_object_get_ex (o, "process", &proc)
      || !json_object_is_type (proc, json_type_object))
    return;
  char *args[] = { (char *) "--root", (char *) "/run/x", NULL };
  json_object_put (
      statefile_init_process_spec (o, "/dev/null", "/dev/null", "/dev/null", args, false, ""));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  const char *dir = fuzz_tmpdir ();
  unsigned long long v;
  switch (data[0] % 3)
    {
    case 0:
      fuzz_write (dir, "state.json", data + 1, size - 1);
      read_state (dir);
      break;
    case 1:
      fuzz_write (dir, "pid", data + 1, size - 1);
      (void) statefile_read_ull (dir, "pid", &v);
      break;
    default:
      fuzz_write (dir, "config.json", data + 1, size - 1);
      read_process (dir);
      break;
    }
  return 0;
}
