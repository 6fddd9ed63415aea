/* ctr output: Go tabwriter tables, Go encoding/json of protobuf messages,
 * event lines. Pure functions over FILE *, unit-tested from hand-built
 * messages. */
#ifndef CTRD_CTR_OUTPUT_H
#define CTRD_CTR_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "api/api.pb-c.h"

/* A table as text/tabwriter with flags 0 and pad char ' ': every cell but
 * the last of a row is padded to max(minwidth, width + padding) over its
 * column. */
struct table;
struct table *table_new (size_t minwidth, size_t padding);
/* Append a row of n cells (copied). */
void table_add (struct table *t, size_t n, const char *const *cells);
void table_write (struct table *t, FILE *out);
void table_free (struct table *t);

/* Go encoding/json of the generated Go struct (docs/ctr.md §3): proto field
 * names as keys, zero scalars and empty lists omitted (unless emit_defaults),
 * present messages always printed ("{}" when empty), maps as objects with
 * sorted keys, strings escaped as Go does (<>& as \u003c…). No newline. */
void json_write_message (FILE *out, const ProtobufCMessage *m, bool emit_defaults);

/* Event as one `ctr events` row (tab writer min width 31, padding 1,
 * flushed per row): TIME TYPE ID PID STATUS. header prints the header row. */
void event_write_header (FILE *out);
void event_write_row (FILE *out, const Types__Event *e);
/* One JSON object per line: {"type":…,"id":…,"pid":…,"status":N,"timestamp":"RFC3339Nano"} */
void event_write_json (FILE *out, const Types__Event *e);
/* Go's %#v of the event (`ctr containers watch`). */
void event_write_gosyntax (FILE *out, const Types__Event *e);

/* Event time as RFC 3339 nano UTC ("" buffer when no timestamp). */
void event_format_time (const Types__Event *e, char *buf, size_t len);

#endif
