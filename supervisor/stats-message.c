/* struct container_stats → Types__CgroupStats (stats-message.h). */
#include "supervisor/stats-message.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* ---- map entries: key and value always on the wire ----
 * protobuf-c packs a proto3 scalar only when it is not zero, and a map
 * entry is a message of two such fields (key 1, value 2): a memory.stat
 * line "swap 0" would go out as an entry with no value. Docker 1.12's Go
 * protobuf (golang/protobuf of 2016) rejects such an entry ("proto: bad map
 * data: missing key/val"), fails the whole Stats reply and retries it every
 * second: `docker stats` hangs. Current decoders take it, as proto3 says;
 * the encoders of containerd's era always wrote both fields.
 *
 * protobuf-c packs a sub-message with the descriptor of the instance
 * (message->descriptor), not the field's: each map entry built here points
 * at a copy of its generated descriptor whose two fields are
 * LABEL_REQUIRED, which protobuf-c always packs (0, "", or an empty message
 * for a NULL one). Everything else about the copy is the generated
 * descriptor's (name, offsets, sizes, magic), so freeing and packing work
 * as for the generated type; decoders (ctr) keep the generated, tolerant
 * descriptors. */
struct strict_entry
{
  ProtobufCMessageDescriptor desc;
  ProtobufCFieldDescriptor fields[2];
};

static struct strict_entry strict_mem_stat, strict_hugetlb;
static pthread_once_t strict_once = PTHREAD_ONCE_INIT;

static void
strict_entry_make (struct strict_entry *s, const ProtobufCMessageDescriptor *gen)
{
  /* a map entry has exactly the key and the value (protoc's MapEntry) */
  if (gen->n_fields != 2 || gen->fields[0].id != 1 || gen->fields[1].id != 2)
    abort ();
  s->desc = *gen;
  for (unsigned i = 0; i < 2; i++)
    {
      s->fields[i] = gen->fields[i];
      s->fields[i].label = PROTOBUF_C_LABEL_REQUIRED;
    }
  s->desc.fields = s->fields;
}

static void
strict_init (void)
{
  strict_entry_make (&strict_mem_stat, &types__memory_stats__stats_entry__descriptor);
  strict_entry_make (&strict_hugetlb, &types__cgroup_stats__hugetlb_stats_entry__descriptor);
}

const ProtobufCMessageDescriptor *
stats_strict_entry_descriptor (const ProtobufCMessageDescriptor *gen)
{
  pthread_once (&strict_once, strict_init);
  if (gen == &types__memory_stats__stats_entry__descriptor)
    return &strict_mem_stat.desc;
  if (gen == &types__cgroup_stats__hugetlb_stats_entry__descriptor)
    return &strict_hugetlb.desc;
  abort (); /* a map field of api.proto this file does not know */
}

/* ---- the sections ---- */

static Types__CpuStats *
cpu_message (const struct container_stats *s)
{
  Types__CpuStats *c = xmalloc (sizeof *c);
  types__cpu_stats__init (c);
  Types__CpuUsage *u = c->cpu_usage = xmalloc (sizeof *u);
  types__cpu_usage__init (u);
  u->total_usage = s->cpu.total_usage;
  u->usage_in_kernelmode = s->cpu.usage_in_kernelmode;
  u->usage_in_usermode = s->cpu.usage_in_usermode;
  if (s->cpu.n_percpu_usage)
    {
      u->percpu_usage = xmalloc (s->cpu.n_percpu_usage * sizeof *u->percpu_usage);
      memcpy (u->percpu_usage, s->cpu.percpu_usage,
              s->cpu.n_percpu_usage * sizeof *u->percpu_usage);
      u->n_percpu_usage = s->cpu.n_percpu_usage;
    }
  Types__ThrottlingData *t = c->throttling_data = xmalloc (sizeof *t);
  types__throttling_data__init (t);
  t->periods = s->cpu.periods;
  t->throttled_periods = s->cpu.throttled_periods;
  t->throttled_time = s->cpu.throttled_time;
  c->system_usage = s->cpu.system_usage;
  return c;
}

static Types__MemoryData *
memory_data (const struct stats_memory_data *d)
{
  Types__MemoryData *m = xmalloc (sizeof *m);
  types__memory_data__init (m);
  m->usage = d->usage;
  m->max_usage = d->max_usage;
  m->failcnt = d->failcnt;
  m->limit = d->limit;
  return m;
}

static Types__MemoryStats *
memory_message (const struct container_stats *s)
{
  Types__MemoryStats *m = xmalloc (sizeof *m);
  types__memory_stats__init (m);
  m->cache = s->memory.cache;
  m->usage = memory_data (&s->memory.usage);
  m->swap_usage = memory_data (&s->memory.swap_usage);
  m->kernel_usage = memory_data (&s->memory.kernel_usage);
  if (s->memory.n_stats)
    m->stats = xmalloc (s->memory.n_stats * sizeof *m->stats);
  const ProtobufCMessageDescriptor *strict =
      stats_strict_entry_descriptor (&types__memory_stats__stats_entry__descriptor);
  for (size_t i = 0; i < s->memory.n_stats; i++)
    {
      Types__MemoryStats__StatsEntry *e = xmalloc (sizeof *e);
      types__memory_stats__stats_entry__init (e);
      e->base.descriptor = strict;
      e->key = xstrdup (s->memory.stats[i].key);
      e->value = s->memory.stats[i].value;
      m->stats[m->n_stats++] = e;
    }
  return m;
}

static void
blkio_list (const struct container_stats *s, enum stats_blkio_list l, Types__BlkioStatsEntry ***out,
            size_t *n)
{
  if (!s->blkio[l].n)
    return;
  *out = xmalloc (s->blkio[l].n * sizeof **out);
  for (size_t i = 0; i < s->blkio[l].n; i++)
    {
      const struct stats_blkio_entry *b = &s->blkio[l].v[i];
      Types__BlkioStatsEntry *e = xmalloc (sizeof *e);
      types__blkio_stats_entry__init (e);
      e->major = b->major;
      e->minor = b->minor;
      e->op = xstrdup (b->op);
      e->value = b->value;
      (*out)[(*n)++] = e;
    }
}

static Types__BlkioStats *
blkio_message (const struct container_stats *s)
{
  Types__BlkioStats *b = xmalloc (sizeof *b);
  types__blkio_stats__init (b);
  blkio_list (s, STATS_BLKIO_SERVICE_BYTES, &b->io_service_bytes_recursive,
              &b->n_io_service_bytes_recursive);
  blkio_list (s, STATS_BLKIO_SERVICED, &b->io_serviced_recursive, &b->n_io_serviced_recursive);
  blkio_list (s, STATS_BLKIO_QUEUED, &b->io_queued_recursive, &b->n_io_queued_recursive);
  blkio_list (s, STATS_BLKIO_SERVICE_TIME, &b->io_service_time_recursive,
              &b->n_io_service_time_recursive);
  blkio_list (s, STATS_BLKIO_WAIT_TIME, &b->io_wait_time_recursive, &b->n_io_wait_time_recursive);
  blkio_list (s, STATS_BLKIO_MERGED, &b->io_merged_recursive, &b->n_io_merged_recursive);
  blkio_list (s, STATS_BLKIO_TIME, &b->io_time_recursive, &b->n_io_time_recursive);
  blkio_list (s, STATS_BLKIO_SECTORS, &b->sectors_recursive, &b->n_sectors_recursive);
  return b;
}

static void
hugetlb_entries (const struct container_stats *s, Types__CgroupStats *m)
{
  if (!s->n_hugetlb)
    return;
  m->hugetlb_stats = xmalloc (s->n_hugetlb * sizeof *m->hugetlb_stats);
  const ProtobufCMessageDescriptor *strict =
      stats_strict_entry_descriptor (&types__cgroup_stats__hugetlb_stats_entry__descriptor);
  for (size_t i = 0; i < s->n_hugetlb; i++)
    {
      const struct stats_hugetlb *h = &s->hugetlb[i];
      Types__CgroupStats__HugetlbStatsEntry *e = xmalloc (sizeof *e);
      types__cgroup_stats__hugetlb_stats_entry__init (e);
      e->base.descriptor = strict;
      e->key = xstrdup (h->size);
      e->value = xmalloc (sizeof *e->value);
      types__hugetlb_stats__init (e->value);
      e->value->usage = h->usage;
      e->value->max_usage = h->max_usage;
      e->value->failcnt = h->failcnt;
      m->hugetlb_stats[m->n_hugetlb_stats++] = e;
    }
}

Types__CgroupStats *
stats_message_new (const struct container_stats *s)
{
  Types__CgroupStats *m = xmalloc (sizeof *m);
  types__cgroup_stats__init (m);
  m->cpu_stats = cpu_message (s);
  m->memory_stats = memory_message (s);
  m->blkio_stats = blkio_message (s);
  hugetlb_entries (s, m);
  m->pids_stats = xmalloc (sizeof *m->pids_stats);
  types__pids_stats__init (m->pids_stats);
  m->pids_stats->current = s->pids.current;
  m->pids_stats->limit = s->pids.limit;
  return m;
}

void
stats_message_free (Types__CgroupStats *m)
{
  /* Everything hangs off m and was allocated with malloc: protobuf-c's
   * default allocator frees it the same way as an unpacked message. */
  if (m)
    protobuf_c_message_free_unpacked (&m->base, NULL);
}
