/* Exits already in the event log (reported.h). */
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "supervisor/events.h"
#include "supervisor/reported.h"

struct entry
{
  char *id, *pid;
  size_t seq;
  bool exit;
};

struct reported
{
  struct entry *v;
  size_t n;
};

static int
collect (const struct ctrd_event *ev, void *data)
{
  struct reported *r = data;
  const char *pid;
  if (strcmp (ev->type, EVENT_START_CONTAINER) == 0)
    pid = "init";
  else if (strcmp (ev->type, EVENT_START_PROCESS) == 0 || strcmp (ev->type, EVENT_EXIT) == 0)
    pid = ev->pid;
  else
    return 0;
  r->v = xrealloc (r->v, (r->n + 1) * sizeof *r->v);
  r->v[r->n] =
      (struct entry){ xstrdup (ev->id), xstrdup (pid), r->n, strcmp (ev->type, EVENT_EXIT) == 0 };
  r->n++;
  return 0;
}

static int
cmp_key (const char *id, const char *pid, const struct entry *e)
{
  int c = strcmp (id, e->id);
  return c ? c : strcmp (pid, e->pid);
}

/* By (id, pid), the newest last. */
static int
cmp_entry (const void *a, const void *b)
{
  const struct entry *x = a, *y = b;
  int c = cmp_key (x->id, x->pid, y);
  return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct reported *
reported_build (struct event_bus *bus)
{
  struct reported *r = xmalloc0 (sizeof *r);
  struct event_sub *sub = NULL;
  if (event_bus_subscribe (bus, NULL, true, 0, 0, true, collect, r, &sub) < 0)
    return r;
  event_sub_free (sub);
  if (r->n)
    qsort (r->v, r->n, sizeof *r->v, cmp_entry);
  return r;
}

void
reported_free (struct reported *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->n; i++)
    {
      free (r->v[i].id);
      free (r->v[i].pid);
    }
  free (r->v);
  free (r);
}

bool
reported_exit (void *data, const char *id, const char *pid)
{
  struct reported *r = data;
  size_t lo = 0, hi = r ? r->n : 0;
  /* the first entry past (id, pid); the one before it is the newest of it */
  while (lo < hi)
    {
      size_t mid = lo + (hi - lo) / 2;
      if (cmp_key (id, pid, &r->v[mid]) >= 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo > 0 && cmp_key (id, pid, &r->v[lo - 1]) == 0 && r->v[lo - 1].exit;
}
