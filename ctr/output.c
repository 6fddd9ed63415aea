/* ctr output formats (see output.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctr/output.h"
#include "lib/gotext.h"
#include "lib/timeutil.h"
#include "lib/util.h"

struct table
{
  size_t minwidth, padding;
  size_t nrows;
  char ***rows; /* each a strv */
};

struct table *
table_new (size_t minwidth, size_t padding)
{
  struct table *t = xmalloc0 (sizeof *t);
  t->minwidth = minwidth;
  t->padding = padding;
  return t;
}

void
table_add (struct table *t, size_t n, const char *const *cells)
{
  char **row = xmalloc0 ((n + 1) * sizeof *row);
  for (size_t i = 0; i < n; i++)
    row[i] = xstrdup (cells[i] ? cells[i] : "");
  t->rows = xrealloc (t->rows, (t->nrows + 1) * sizeof *t->rows);
  t->rows[t->nrows++] = row;
}

/* tabwriter counts runes, not bytes */
static size_t
text_width (const char *s)
{
  size_t w = 0;
  for (; *s; s++)
    if (((unsigned char) *s & 0xc0) != 0x80)
      w++;
  return w;
}

static size_t
cell_width (size_t w, size_t minwidth, size_t padding)
{
  w += padding;
  return w < minwidth ? minwidth : w;
}

void
table_write (struct table *t, FILE *out)
{
  size_t ncols = 0;
  for (size_t r = 0; r < t->nrows; r++)
    if (strv_len (t->rows[r]) > ncols)
      ncols = strv_len (t->rows[r]);
  size_t *width = xmalloc0 ((ncols + 1) * sizeof *width);
  /* the last cell of a row ends with a newline, not a tab: it is not part
   * of a column and stays unpadded */
  for (size_t r = 0; r < t->nrows; r++)
    {
      size_t n = strv_len (t->rows[r]);
      for (size_t c = 0; c + 1 < n; c++)
        {
          size_t w = cell_width (text_width (t->rows[r][c]), t->minwidth, t->padding);
          if (w > width[c])
            width[c] = w;
        }
    }
  for (size_t r = 0; r < t->nrows; r++)
    {
      size_t n = strv_len (t->rows[r]);
      for (size_t c = 0; c < n; c++)
        {
          fputs (t->rows[r][c], out);
          if (c + 1 < n)
            for (size_t k = text_width (t->rows[r][c]); k < width[c]; k++)
              fputc (' ', out);
        }
      fputc ('\n', out);
    }
  free (width);
}

void
table_free (struct table *t)
{
  if (t == NULL)
    return;
  for (size_t r = 0; r < t->nrows; r++)
    strv_free (t->rows[r]);
  free (t->rows);
  free (t);
}

static const void *
field_ptr (const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
  return (const char *) m + f->offset;
}

static size_t
field_count (const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
  return *(const size_t *) ((const char *) m + f->quantifier_offset);
}

static size_t
scalar_size (ProtobufCType t)
{
  switch (t)
    {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
      return 8;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
      return sizeof (void *);
    case PROTOBUF_C_TYPE_BYTES:
      return sizeof (ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_BOOL:
      return sizeof (protobuf_c_boolean);
    default:
      return 4;
    }
}

/* Is the value at p the type's zero value (Go omitempty)? */
static bool
value_is_zero (ProtobufCType t, const void *p)
{
  switch (t)
    {
    case PROTOBUF_C_TYPE_STRING:
      return *(char *const *) p == NULL || **(char *const *) p == '\0';
    case PROTOBUF_C_TYPE_MESSAGE:
      return *(void *const *) p == NULL;
    case PROTOBUF_C_TYPE_BOOL:
      return !*(const protobuf_c_boolean *) p;
    case PROTOBUF_C_TYPE_BYTES:
      return ((const ProtobufCBinaryData *) p)->len == 0;
    default:
      {
        size_t n = scalar_size (t);
        const unsigned char *b = p;
        for (size_t i = 0; i < n; i++)
          if (b[i])
            return false;
        return true;
      }
    }
}

static void write_message (FILE *out, const ProtobufCMessage *m, bool emit_defaults);

static void
write_value (FILE *out, const ProtobufCFieldDescriptor *f, const void *p, bool emit_defaults)
{
  switch (f->type)
    {
    case PROTOBUF_C_TYPE_STRING:
      gotext_json_write (out, *(char *const *) p ? *(char *const *) p : "");
      break;
    case PROTOBUF_C_TYPE_BOOL:
      fputs (*(const protobuf_c_boolean *) p ? "true" : "false", out);
      break;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
      fprintf (out, "%" PRId32, *(const int32_t *) p);
      break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
      fprintf (out, "%" PRIu32, *(const uint32_t *) p);
      break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
      fprintf (out, "%" PRId64, *(const int64_t *) p);
      break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
      fprintf (out, "%" PRIu64, *(const uint64_t *) p);
      break;
    case PROTOBUF_C_TYPE_FLOAT:
      fprintf (out, "%g", (double) *(const float *) p);
      break;
    case PROTOBUF_C_TYPE_DOUBLE:
      fprintf (out, "%g", *(const double *) p);
      break;
    case PROTOBUF_C_TYPE_MESSAGE:
      if (*(void *const *) p == NULL)
        fputs ("null", out);
      else
        write_message (out, *(ProtobufCMessage *const *) p, emit_defaults);
      break;
    case PROTOBUF_C_TYPE_BYTES:
    default:
      /* no bytes fields in api.proto */
      fputs ("null", out);
      break;
    }
}

/* protoc-c turns map<K,V> into a repeated nested "…Entry" message {key=1, value=2} */
static bool
is_map_field (const ProtobufCFieldDescriptor *f)
{
  if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
    return false;
  const ProtobufCMessageDescriptor *d = f->descriptor;
  size_t l = strlen (d->name);
  return d->n_fields == 2 && l > 5 && strcmp (d->name + l - 5, "Entry") == 0
         && strcmp (d->fields[0].name, "key") == 0 && strcmp (d->fields[1].name, "value") == 0;
}

static int
entry_cmp (const void *a, const void *b)
{
  const ProtobufCMessage *ma = *(ProtobufCMessage *const *) a;
  const ProtobufCMessage *mb = *(ProtobufCMessage *const *) b;
  const ProtobufCFieldDescriptor *k = &ma->descriptor->fields[0];
  char *const *ka = field_ptr (ma, k);
  char *const *kb = field_ptr (mb, k);
  return strcmp (*ka ? *ka : "", *kb ? *kb : "");
}

static void
write_map (FILE *out, const ProtobufCFieldDescriptor *f, size_t n, ProtobufCMessage *const *entries,
           bool emit_defaults)
{
  ProtobufCMessage **sorted = xmalloc0 ((n + 1) * sizeof *sorted);
  memcpy (sorted, entries, n * sizeof *sorted);
  qsort (sorted, n, sizeof *sorted, entry_cmp);
  fputc ('{', out);
  const ProtobufCMessageDescriptor *d = f->descriptor;
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        fputc (',', out);
      char *const *key = field_ptr (sorted[i], &d->fields[0]);
      gotext_json_write (out, *key ? *key : "");
      fputc (':', out);
      write_value (out, &d->fields[1], field_ptr (sorted[i], &d->fields[1]), emit_defaults);
    }
  fputc ('}', out);
  free (sorted);
}

static void
write_message (FILE *out, const ProtobufCMessage *m, bool emit_defaults)
{
  const ProtobufCMessageDescriptor *d = m->descriptor;
  bool first = true;
  fputc ('{', out);
  for (unsigned i = 0; i < d->n_fields; i++)
    {
      const ProtobufCFieldDescriptor *f = &d->fields[i];
      /* tags kept only for Docker 1.11 compatibility: not in the Go struct */
      if (strncmp (f->name, "legacy", 6) == 0)
        continue;
      const void *p = field_ptr (m, f);
      if (f->label == PROTOBUF_C_LABEL_REPEATED)
        {
          size_t n = field_count (m, f);
          if (n == 0 && !emit_defaults)
            continue;
          fprintf (out, "%s\"%s\":", first ? "" : ",", f->name);
          first = false;
          if (is_map_field (f))
            {
              write_map (out, f, n, *(ProtobufCMessage *const *const *) p, emit_defaults);
              continue;
            }
          const char *arr = *(const char *const *) p;
          size_t sz = scalar_size (f->type);
          fputc ('[', out);
          for (size_t k = 0; k < n; k++)
            {
              if (k)
                fputc (',', out);
              write_value (out, f, arr + k * sz, emit_defaults);
            }
          fputc (']', out);
          continue;
        }
      if (value_is_zero (f->type, p) && (!emit_defaults || f->type == PROTOBUF_C_TYPE_MESSAGE))
        continue;
      fprintf (out, "%s\"%s\":", first ? "" : ",", f->name);
      first = false;
      write_value (out, f, p, emit_defaults);
    }
  fputc ('}', out);
}

void
json_write_message (FILE *out, const ProtobufCMessage *m, bool emit_defaults)
{
  write_message (out, m, emit_defaults);
}

void
event_format_time (const Types__Event *e, char *buf, size_t len)
{
  if (e->timestamp == NULL)
    {
      snprintf (buf, len, "0001-01-01T00:00:00Z");
      return;
    }
  int64_t ns = e->timestamp->seconds * NSEC_PER_SEC + e->timestamp->nanos;
  if (time_format_rfc3339_nano (ns, true, buf, len) < 0)
    snprintf (buf, len, "?");
}

static void
write_padded_row (FILE *out, size_t n, const char *const *cells)
{
  /* flushed after every row in the original: each row aligned alone */
  struct table *t = table_new (31, 1);
  table_add (t, n, cells);
  table_write (t, out);
  table_free (t);
  fflush (out);
}

void
event_write_header (FILE *out)
{
  static const char *const h[] = { "TIME", "TYPE", "ID", "PID", "STATUS" };
  write_padded_row (out, 5, h);
}

void
event_write_row (FILE *out, const Types__Event *e)
{
  char t[64], st[16];
  event_format_time (e, t, sizeof t);
  snprintf (st, sizeof st, "%" PRIu32, e->status);
  const char *const row[] = { t, e->type, e->id, e->pid, st };
  write_padded_row (out, 5, row);
}

void
event_write_json (FILE *out, const Types__Event *e)
{
  char t[64];
  event_format_time (e, t, sizeof t);
  fputs ("{\"type\":", out);
  gotext_json_write (out, e->type);
  fputs (",\"id\":", out);
  gotext_json_write (out, e->id);
  fputs (",\"pid\":", out);
  gotext_json_write (out, e->pid);
  fprintf (out, ",\"status\":%" PRIu32 ",\"timestamp\":", e->status);
  gotext_json_write (out, t);
  fputs ("}\n", out);
  fflush (out);
}

void
event_write_gosyntax (FILE *out, const Types__Event *e)
{
  fputs ("&types.Event{Type:", out);
  gotext_quote_write (out, e->type);
  fputs (", Id:", out);
  gotext_quote_write (out, e->id);
  fprintf (out, ", Status:0x%" PRIx32 ", Pid:", e->status);
  gotext_quote_write (out, e->pid);
  /* the original prints the pointer; its value is more useful */
  if (e->timestamp)
    fprintf (out, ", Timestamp:&timestamp.Timestamp{Seconds:%" PRId64 ", Nanos:%" PRId32 "}}\n",
             e->timestamp->seconds, e->timestamp->nanos);
  else
    fputs (", Timestamp:(*timestamp.Timestamp)(nil)}\n", out);
  fflush (out);
}
