/* libFuzzer target: events.log replay at start-up (supervisor/events.c
 * event_bus_open: decode every line, skip damaged ones, clamp statuses,
 * keep the newest retain-count, rewrite the file atomically), then one
 * publish and a replay of everything retained, as an Events call with a
 * timestamp would get it. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz/fuzz-util.h"
#include "lib/error.h"
#include "lib/log.h"
#include "supervisor/events.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
quiet (enum log_level level, const char *id, const char *msg)
{
  (void) level, (void) id, (void) msg;
}

static int
count (const struct ctrd_event *ev, void *data)
{
  (void) ev;
  ++*(size_t *) data;
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  log_set_sink (quiet);
  const char *dir = fuzz_tmpdir ();
  fuzz_write (dir, "events.log", data, size);
  struct event_bus *bus = NULL;
  struct ctrd_error *err = NULL;
  /* a small window, so that the retention path runs too */
  if (event_bus_open (dir, 8, &bus, &err) < 0)
    {
      ctrd_error_free (&err);
      return 0;
    }
  event_bus_publish (bus, "exit", "c1", "init", 3);
  size_t n = 0;
  struct event_sub *sub = NULL;
  event_bus_subscribe (bus, NULL, true, 0, 0, true, count, &n, &sub);
  event_sub_free (sub);
  if (n > event_bus_stored_count (bus))
    abort (); /* a replay never gives more than the window holds */
  event_bus_free (bus);
  return 0;
}
