#include "supervisor/events.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/gotext.h"
#include "lib/json-cleanup.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "runtime/statefile.h"

/* The window's text allocated at open (struct event_bus): type, id and pid
 * with their NULs. Docker's 64-character container and exec ids fit
 * ("start-container" 16 + 64 + 64 + 3 NULs = 147); an event with longer
 * ids (up to 128 bytes each, lib/id.h) keeps malloc'ed strings. Every slot's
 * page is touched as the window fills, so this is the window's resident
 * cost per event (with the 56-byte struct). */
#define RING_SLOT_TEXT 160
#define RING_TEXT_MAX 8192

struct event_sub
{
  struct event_bus *bus; /* NULL once detached by event_bus_free */
  struct event_sub *next;
  char *id_filter; /* NULL = all */
  event_sub_fn fn;
  void *data;
  uint64_t from_seq; /* first event sequence number it may receive live */
  bool removed;      /* unsubscribed during a dispatch; freed by the sweep */
};

struct event_bus
{
  char *path;
  int fd; /* events.log, O_APPEND; -1 when it must be rewritten */
  long long retain;

  /* Ring of the in-memory window, oldest first. Event k of the ring has
   * sequence number next_seq - len + k. */
  struct ctrd_event *ring;
  size_t cap, head, len;
  /* With a window of at most RING_TEXT_MAX events, the ring and the text of
   * its events are allocated once, at open: slot k's strings live in
   * text[k * RING_SLOT_TEXT …] (a longer event keeps malloc'ed strings).
   * Per-event strings malloc'ed among the containers' allocations would pin
   * pages all over the heap, and the daemon could not give back the memory
   * of containers that are gone (issue 13: RSS after a mass exit). */
  char *text;
  uint64_t next_seq;

  size_t file_lines; /* lines in events.log (bounded by 2×retain) */
  int64_t last_ts;

  struct event_sub *subs; /* in subscription order */
  size_t nsubs;           /* live, not removed */
  uint64_t dropped;       /* subscribers dropped as too slow */
  int dispatching;        /* depth of callbacks running */
  bool need_sweep;
};

/* ---- JSON line format ---------------------------------------------------- */

static void
event_write_line (FILE *f, const struct ctrd_event *ev)
{
  char ts[64];
  time_format_rfc3339_nano (ev->ts_ns, false, ts, sizeof ts);
  fputs ("{\"id\":", f);
  gotext_json_write (f, ev->id);
  fputs (",\"type\":", f);
  gotext_json_write (f, ev->type);
  fprintf (f, ",\"timestamp\":\"%s\"", ts);
  if (ev->pid[0] != '\0')
    {
      fputs (",\"pid\":", f);
      gotext_json_write (f, ev->pid);
    }
  if (ev->status != 0)
    fprintf (f, ",\"status\":%u", ev->status);
  fputs ("}\n", f);
}

char *
event_format_line (const struct ctrd_event *ev)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);
  if (f == NULL)
    abort ();
  event_write_line (f, ev);
  fclose (f);
  return buf;
}

/* A string field: absent or null → "", a string → copy, else invalid. */
static int
json_get_string (struct json_object *o, const char *key, char **out)
{
  struct json_object *v = NULL;
  if (!json_object_object_get_ex (o, key, &v) || v == NULL)
    {
      *out = xstrdup ("");
      return 0;
    }
  if (!json_object_is_type (v, json_type_string))
    return -1;
  *out = xstrdup (json_object_get_string (v));
  return 0;
}

static void
event_clear (struct ctrd_event *ev)
{
  free (ev->type);
  free (ev->id);
  free (ev->pid);
  memset (ev, 0, sizeof *ev);
}

/* Decode one line of events.log; -1 with a reason when it does not decode. */
static int
event_parse_line (const char *line, size_t len, struct ctrd_event *ev, const char **why)
{
  struct json_tokener *tok = json_tokener_new ();
  json_tokener_set_flags (tok, JSON_TOKENER_STRICT);
  cleanup_json struct json_object *o = json_tokener_parse_ex (tok, line, (int) len);
  enum json_tokener_error jerr = json_tokener_get_error (tok);
  size_t end = json_tokener_get_parse_end (tok);
  json_tokener_free (tok);
  int ret = -1;
  memset (ev, 0, sizeof *ev);

  *why = "not valid JSON";
  if (o == NULL || jerr != json_tokener_success)
    {
      if (jerr == json_tokener_continue)
        *why = "truncated";
      goto out;
    }
  for (; end < len; end++)
    if (strchr (" \t\r\n", line[end]) == NULL)
      goto out; /* trailing garbage */
  *why = "not an object";
  if (!json_object_is_type (o, json_type_object))
    goto out;
  *why = "a field has the wrong type";
  if (json_get_string (o, "id", &ev->id) < 0 || json_get_string (o, "type", &ev->type) < 0
      || json_get_string (o, "pid", &ev->pid) < 0)
    goto out;

  struct json_object *v = NULL;
  if (json_object_object_get_ex (o, "status", &v) && v != NULL)
    {
      if (!json_object_is_type (v, json_type_int))
        goto out;
      int64_t st = json_object_get_int64 (v);
      /* the legacy -1 and anything else out of range: unknown */
      ev->status = st < 0 || st > 255 ? 255 : (uint32_t) st;
    }

  *why = "missing or bad timestamp";
  int64_t sec;
  int32_t nsec;
  if (!json_object_object_get_ex (o, "timestamp", &v) || !json_object_is_type (v, json_type_string)
      || time_parse_rfc3339 (json_object_get_string (v), &sec, &nsec) < 0
      || sec > INT64_MAX / NSEC_PER_SEC - 1 || sec < INT64_MIN / NSEC_PER_SEC + 1)
    goto out;
  ev->ts_ns = sec * NSEC_PER_SEC + nsec;
  ret = 0;
out:
  if (ret < 0)
    event_clear (ev);
  return ret;
}

/* ---- the in-memory window ------------------------------------------------ */

static struct ctrd_event *
ring_at (const struct event_bus *b, size_t k)
{
  return &b->ring[(b->head + k) % b->cap];
}

static bool
ring_owns (const struct event_bus *b, const char *p)
{
  uintptr_t t = (uintptr_t) b->text, q = (uintptr_t) p;
  return b->text && q >= t && q < t + b->cap * RING_SLOT_TEXT;
}

/* event_clear for an event of the ring: its strings may be in b->text. */
static void
ring_clear (const struct event_bus *b, struct ctrd_event *ev)
{
  if (ring_owns (b, ev->type))
    ev->type = ev->id = ev->pid = NULL;
  event_clear (ev);
}

/* Move ev's strings into the text of ring slot idx when they fit. */
static void
ring_store_text (struct event_bus *b, size_t idx, struct ctrd_event *ev)
{
  size_t lt = strlen (ev->type) + 1, li = strlen (ev->id) + 1, lp = strlen (ev->pid) + 1;
  if (!b->text || lt + li + lp > RING_SLOT_TEXT)
    return;
  char *t = b->text + idx * RING_SLOT_TEXT;
  memcpy (t, ev->type, lt);
  memcpy (t + lt, ev->id, li);
  memcpy (t + lt + li, ev->pid, lp);
  free (ev->type);
  free (ev->id);
  free (ev->pid);
  ev->type = t;
  ev->id = t + lt;
  ev->pid = t + lt + li;
}

/* Append ev (taking its strings), evicting the oldest beyond the window. */
static void
ring_push (struct event_bus *b, struct ctrd_event *ev)
{
  if (b->retain > 0 && b->len == (size_t) b->retain)
    {
      ring_clear (b, ring_at (b, 0));
      b->head = (b->head + 1) % b->cap;
      b->len--;
    }
  if (b->len == b->cap)
    {
      size_t ncap = b->cap ? b->cap * 2 : 64;
      if (b->retain > 0 && ncap > (size_t) b->retain)
        ncap = (size_t) b->retain;
      struct ctrd_event *n = xmalloc (ncap * sizeof *n);
      for (size_t k = 0; k < b->len; k++)
        n[k] = *ring_at (b, k);
      free (b->ring);
      b->ring = n;
      b->cap = ncap;
      b->head = 0;
    }
  ring_store_text (b, (b->head + b->len) % b->cap, ev);
  *ring_at (b, b->len) = *ev;
  memset (ev, 0, sizeof *ev);
  b->len++;
  b->next_seq++;
}

/* Rewrite events.log atomically to exactly the window and reopen it for
 * appending. */
static int
log_rewrite (struct event_bus *b, struct ctrd_error **err)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);
  if (f == NULL)
    abort ();
  for (size_t k = 0; k < b->len; k++)
    event_write_line (f, ring_at (b, k));
  fclose (f);
  cleanup_free char *data = buf;

  if (b->fd >= 0)
    close (b->fd);
  b->fd = statefile_journal_rewrite (b->path, data, len, err);
  if (b->fd < 0)
    return -1;
  b->file_lines = b->len;
  return 0;
}

static int
log_load (struct event_bus *b, struct ctrd_error **err)
{
  cleanup_file FILE *f = NULL;
  if (statefile_journal_open (b->path, &f, err) < 0)
    return -1;
  if (f == NULL)
    return 0;
  char *line = NULL;
  size_t sz = 0, lineno = 0, skipped = 0;
  ssize_t n;
  while ((n = getline (&line, &sz, f)) >= 0)
    {
      lineno++;
      if (strspn (line, " \t\r\n") == (size_t) n)
        continue;
      struct ctrd_event ev;
      const char *why;
      if (event_parse_line (line, (size_t) n, &ev, &why) < 0)
        {
          /* damaged journal: skip only this line (docs/failure-modes.md #6) */
          log_warn ("containerd: Cannot parse event. Skipping. (%s line %zu: %s)", b->path, lineno,
                    why);
          skipped++;
          continue;
        }
      if (ev.ts_ns > b->last_ts)
        b->last_ts = ev.ts_ns;
      ring_push (b, &ev);
    }
  int e = errno;
  bool failed = ferror (f);
  free (line);
  if (failed)
    return ctrd_error_set (err, e, "cannot read `%s`", b->path);
  if (skipped)
    log_warn ("%s: %zu damaged line(s) skipped, %zu event(s) kept", b->path, skipped, b->len);
  return 0;
}

int
event_bus_open (const char *state_dir, long long retain_count, struct event_bus **out,
                struct ctrd_error **err)
{
  if (mkdir_p (state_dir, 0755, err) < 0)
    return -1;
  struct event_bus *b = xmalloc0 (sizeof *b);
  b->path = statefile_journal_path (state_dir);
  b->fd = -1;
  b->retain = retain_count > 0 ? retain_count : 0;
  b->last_ts = INT64_MIN;
  if (b->retain > 0 && b->retain <= RING_TEXT_MAX)
    {
      b->cap = (size_t) b->retain;
      b->ring = xmalloc0 (b->cap * sizeof *b->ring);
      b->text = xmalloc (b->cap * RING_SLOT_TEXT);
    }
  if (log_load (b, err) < 0)
    {
      event_bus_free (b);
      return -1;
    }
  cleanup_error struct ctrd_error *e = NULL;
  if (log_rewrite (b, &e) < 0)
    {
      /* A full or read-only state filesystem must not keep the daemon from
       * reporting the exits that happened while it was down: the events
       * are in memory (replayed to subscribers), the old file is intact,
       * and the next append tries the rewrite again. */
      log_error ("events: cannot rewrite the event log: %s", e->msg);
    }
  *out = b;
  return 0;
}

/* ---- subscribers ----------------------------------------------------------- */

static void
sub_destroy (struct event_sub *s)
{
  free (s->id_filter);
  free (s);
}

static void
bus_sweep (struct event_bus *b)
{
  if (b->dispatching > 0 || !b->need_sweep)
    return;
  struct event_sub **pp = &b->subs;
  while (*pp)
    {
      struct event_sub *s = *pp;
      if (s->removed)
        {
          *pp = s->next;
          sub_destroy (s);
        }
      else
        pp = &s->next;
    }
  b->need_sweep = false;
}

void
event_sub_free (struct event_sub *s)
{
  if (s == NULL)
    return;
  struct event_bus *b = s->bus;
  if (b == NULL)
    {
      sub_destroy (s);
      return;
    }
  if (s->removed)
    return;
  s->removed = true;
  b->nsubs--;
  b->need_sweep = true;
  bus_sweep (b);
}

static bool
sub_matches (const char *filter, const struct ctrd_event *ev)
{
  return filter == NULL || strcmp (filter, ev->id) == 0;
}

void
event_bus_free (struct event_bus *b)
{
  if (b == NULL)
    return;
  for (struct event_sub *s = b->subs, *next; s; s = next)
    {
      next = s->next;
      if (s->removed)
        sub_destroy (s);
      else
        s->bus = NULL;
    }
  for (size_t k = 0; k < b->len; k++)
    ring_clear (b, ring_at (b, k));
  free (b->ring);
  free (b->text);
  if (b->fd >= 0)
    close (b->fd);
  free (b->path);
  free (b);
}

/* Append the newest event to events.log, trimming the file to the window
 * once it holds 2×retain lines. */
static void
log_append (struct event_bus *b)
{
  cleanup_error struct ctrd_error *err = NULL;
  if (b->fd < 0 || (b->retain > 0 && b->file_lines >= 2 * (size_t) b->retain))
    {
      if (log_rewrite (b, &err) < 0)
        log_error ("events: cannot rewrite the event log: %s", err->msg);
      return;
    }
  cleanup_free char *line = event_format_line (ring_at (b, b->len - 1));
  size_t n = strlen (line);
  if (write_all (b->fd, line, n) != (ssize_t) n)
    {
      /* a partial line would corrupt the next one: rewrite whole next time */
      log_error ("events: cannot append to `%s`: %s", b->path, strerror (errno));
      close (b->fd);
      b->fd = -1;
      return;
    }
  b->file_lines++;
}

void
event_bus_publish (struct event_bus *b, const char *type, const char *id, const char *pid,
                   uint32_t status)
{
  int64_t now = time_now_real_ns ();
  /* strictly increasing unless the clock stepped back by a second or more */
  if (now <= b->last_ts && b->last_ts - now < NSEC_PER_SEC)
    now = b->last_ts + 1;
  b->last_ts = now;

  struct ctrd_event ev = {
    .type = xstrdup (type ? type : ""),
    .id = xstrdup (id ? id : ""),
    .pid = xstrdup (pid ? pid : ""),
    .status = status > 255 ? 255 : status,
    .ts_ns = now,
  };
  ring_push (b, &ev);
  uint64_t seq = b->next_seq - 1;
  log_append (b);
  if (b->subs == NULL)
    return;

  /* Deliver. The event is copied by value so that a callback that
   * publishes (and evicts it from the ring) cannot pull it from under us. */
  struct ctrd_event cur = *ring_at (b, b->len - 1);
  cur.type = xstrdup (cur.type);
  cur.id = xstrdup (cur.id);
  cur.pid = xstrdup (cur.pid);
  b->dispatching++;
  for (struct event_sub *s = b->subs; s; s = s->next)
    {
      if (s->removed || seq < s->from_seq || !sub_matches (s->id_filter, &cur))
        continue;
      int r = s->fn (&cur, s->data);
      if (r == EVENT_SUB_TOO_SLOW)
        b->dropped++;
      if (r < 0 && !s->removed)
        event_sub_free (s);
    }
  b->dispatching--;
  bus_sweep (b);
  event_clear (&cur);
}

static bool
after (int64_t ts_ns, int64_t sec, int32_t nsec)
{
  int64_t es = ts_ns / NSEC_PER_SEC, en = ts_ns % NSEC_PER_SEC;
  if (en < 0)
    es--, en += NSEC_PER_SEC;
  return es > sec || (es == sec && en > nsec);
}

int
event_bus_subscribe (struct event_bus *b, const char *id_filter, bool replay, int64_t from_sec,
                     int32_t from_nsec, bool stored_only, event_sub_fn fn, void *data,
                     struct event_sub **out)
{
  const char *filter = id_filter && id_filter[0] ? id_filter : NULL;
  *out = NULL;
  if (replay)
    {
      /* By sequence number, so that events a callback publishes meanwhile
       * are replayed too and then not delivered live again. */
      for (uint64_t seq = b->next_seq - b->len; seq < b->next_seq; seq++)
        {
          uint64_t first = b->next_seq - b->len;
          if (seq < first)
            seq = first;
          if (seq >= b->next_seq)
            break;
          struct ctrd_event *ev = ring_at (b, (size_t) (seq - first));
          if (!after (ev->ts_ns, from_sec, from_nsec) || !sub_matches (filter, ev))
            continue;
          struct ctrd_event cur = { xstrdup (ev->type), xstrdup (ev->id), xstrdup (ev->pid),
                                    ev->status, ev->ts_ns };
          b->dispatching++;
          int r = fn (&cur, data);
          b->dispatching--;
          bus_sweep (b);
          event_clear (&cur);
          if (r == EVENT_SUB_TOO_SLOW)
            b->dropped++;
          if (r < 0)
            return 0;
        }
    }
  if (stored_only)
    return 0;
  struct event_sub *s = xmalloc0 (sizeof *s);
  s->bus = b;
  s->id_filter = filter ? xstrdup (filter) : NULL;
  s->fn = fn;
  s->data = data;
  s->from_seq = b->next_seq;
  struct event_sub **pp = &b->subs;
  while (*pp)
    pp = &(*pp)->next;
  *pp = s;
  b->nsubs++;
  *out = s;
  return 0;
}

size_t
event_bus_subscriber_count (const struct event_bus *b)
{
  return b->nsubs;
}

uint64_t
event_bus_dropped_total (const struct event_bus *b)
{
  return b->dropped;
}

size_t
event_bus_stored_count (const struct event_bus *b)
{
  return b->len;
}

const char *
event_bus_log_path (const struct event_bus *b)
{
  return b->path;
}
