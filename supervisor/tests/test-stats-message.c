/* supervisor/stats-message: struct container_stats → the Stats reply's
 * CgroupStats, checked on the packed bytes: every section present, values
 * where runtime/ put them, packed repeated percpu_usage, map entries with
 * key and value (Docker 1.12's decoder), and a round trip through the
 * generated (tolerant) decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/util.h"
#include "supervisor/stats-message.h"

/* ---- map entries on the wire, read as Docker 1.12's decoder does ----
 * golang/protobuf of 2016 fails a whole message when an entry of a map
 * field lacks its key (field 1) or its value (field 2). A walker over the
 * raw bytes of a StatsResponse: every entry of MemoryStats.stats
 * (CgroupStats 2 → 5) and CgroupStats.hugetlb_stats (4) must carry both. */

static uint64_t
wire_varint (const uint8_t **p, const uint8_t *end)
{
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7)
    {
      assert_true (*p < end);
      uint8_t b = *(*p)++;
      v |= (uint64_t) (b & 0x7f) << shift;
      if (!(b & 0x80))
        return v;
    }
  fail_msg ("varint too long");
  return 0;
}

/* Calls fn on the body of every length-delimited field number want of the
 * message in [p, end); other fields are skipped by their wire type. */
static void
wire_each (const uint8_t *p, const uint8_t *end, uint64_t want,
           void (*fn) (const uint8_t *, const uint8_t *, void *), void *arg)
{
  while (p < end)
    {
      uint64_t tag = wire_varint (&p, end);
      switch (tag & 7)
        {
        case 0:
          wire_varint (&p, end);
          break;
        case 1:
          assert_true (end - p >= 8);
          p += 8;
          break;
        case 5:
          assert_true (end - p >= 4);
          p += 4;
          break;
        case 2:
          {
            uint64_t len = wire_varint (&p, end);
            assert_true (len <= (uint64_t) (end - p));
            if (tag >> 3 == want)
              fn (p, p + len, arg);
            p += len;
            break;
          }
        default:
          fail_msg ("wire type %u", (unsigned) (tag & 7));
        }
    }
}

struct entry_count
{
  size_t entries;
  int value_wire; /* the wire type the value must have */
};

static void
strict_entry (const uint8_t *p, const uint8_t *end, void *arg)
{
  struct entry_count *c = arg;
  bool key = false, value = false;
  while (p < end)
    {
      uint64_t tag = wire_varint (&p, end);
      if (tag == (1 << 3 | 2))
        key = true;
      else if (tag == (2 << 3 | (uint64_t) c->value_wire))
        value = true;
      else
        fail_msg ("map entry: unexpected tag %llu", (unsigned long long) tag);
      uint64_t v = wire_varint (&p, end);
      if ((tag & 7) == 2)
        {
          assert_true (v <= (uint64_t) (end - p));
          p += v;
        }
    }
  if (!key || !value)
    fail_msg ("map entry %zu without its %s (Docker 1.12: bad map data: missing key/val)",
              c->entries, key ? "value" : "key");
  c->entries++;
}

static void
strict_memory (const uint8_t *p, const uint8_t *end, void *arg)
{
  wire_each (p, end, 5, strict_entry, arg);
}

struct cgroup_count
{
  struct entry_count mem, huge;
};

static void
strict_cgroup (const uint8_t *p, const uint8_t *end, void *arg)
{
  struct cgroup_count *c = arg;
  wire_each (p, end, 2, strict_memory, &c->mem);
  wire_each (p, end, 4, strict_entry, &c->huge);
}

/* A container_stats as runtime/ fills it for a v1 host: memory.stat lines
 * and huge page counters that are 0, as in every real container (swap 0,
 * unevictable 0, ...). */
static void
sample (struct container_stats *s, uint64_t *percpu, struct stats_memory_kv *kv,
        struct stats_blkio_entry *blk, struct stats_hugetlb *huge)
{
  memset (s, 0, sizeof *s);
  s->cpu.total_usage = 600;
  s->cpu.usage_in_usermode = 1500000000;
  s->cpu.usage_in_kernelmode = 500000000;
  percpu[0] = 100, percpu[1] = 200, percpu[2] = 300;
  s->cpu.percpu_usage = percpu;
  s->cpu.n_percpu_usage = 3;
  s->cpu.periods = 10, s->cpu.throttled_periods = 3, s->cpu.throttled_time = 999;
  s->cpu.system_usage = 123456789000;
  s->memory.cache = 0;
  s->memory.usage = (struct stats_memory_data){ 4096, 8192, 1, UINT64_MAX };
  s->memory.swap_usage = (struct stats_memory_data){ 5000, 9000, 2, 7 };
  s->memory.kernel_usage = (struct stats_memory_data){ 10, 20, 0, 30 };
  kv[0] = (struct stats_memory_kv){ "cache", 0 };
  kv[1] = (struct stats_memory_kv){ "rss", 8192 };
  kv[2] = (struct stats_memory_kv){ "swap", 0 };
  kv[3] = (struct stats_memory_kv){ "unevictable", 0 };
  s->memory.stats = kv;
  s->memory.n_stats = 4;
  blk[0] = (struct stats_blkio_entry){ 8, 0, "Read", 10 };
  blk[1] = (struct stats_blkio_entry){ 8, 0, "Write", 0 };
  blk[2] = (struct stats_blkio_entry){ 8, 16, "", 77 };
  s->blkio[STATS_BLKIO_SERVICE_BYTES].v = blk;
  s->blkio[STATS_BLKIO_SERVICE_BYTES].n = 2;
  s->blkio[STATS_BLKIO_SECTORS].v = blk + 2;
  s->blkio[STATS_BLKIO_SECTORS].n = 1;
  huge[0] = (struct stats_hugetlb){ "2MB", 0, 0, 0 };
  huge[1] = (struct stats_hugetlb){ "1GB", 1073741824, 1073741824, 2 };
  s->hugetlb = huge;
  s->n_hugetlb = 2;
  s->pids.current = 7;
  s->pids.limit = 0;
}

/* Field 2 of CpuUsage (percpu_usage), found in the bytes of a StatsResponse:
 * proto3 packs repeated scalars (one length-delimited field), as Go's
 * protobuf wrote it. */
static void
packed_percpu (const uint8_t *p, const uint8_t *end, void *arg)
{
  *(size_t *) arg = (size_t) (end - p);
}

static void
cpu_usage (const uint8_t *p, const uint8_t *end, void *arg)
{
  wire_each (p, end, 2, packed_percpu, arg);
}

static void
cpu_stats (const uint8_t *p, const uint8_t *end, void *arg)
{
  wire_each (p, end, 1, cpu_usage, arg);
}

static void
cgroup_cpu (const uint8_t *p, const uint8_t *end, void *arg)
{
  wire_each (p, end, 1, cpu_stats, arg);
}

static void
test_wire (void **state UNUSED)
{
  struct container_stats s;
  uint64_t percpu[3];
  struct stats_memory_kv kv[4];
  struct stats_blkio_entry blk[3];
  struct stats_hugetlb huge[2];
  sample (&s, percpu, kv, blk, huge);
  Types__CgroupStats *m = stats_message_new (&s);

  /* as the Stats handler sends it */
  Types__StatsResponse resp = TYPES__STATS_RESPONSE__INIT;
  resp.cgroup_stats = m;
  size_t len = protobuf_c_message_get_packed_size (&resp.base);
  cleanup_free uint8_t *buf = xmalloc (len);
  assert_int_equal (protobuf_c_message_pack (&resp.base, buf), len);
  stats_message_free (m);

  struct cgroup_count c = { { 0, 0 }, { 0, 2 } };
  wire_each (buf, buf + len, 2, strict_cgroup, &c);
  assert_int_equal (c.mem.entries, 4);
  assert_int_equal (c.huge.entries, 2);
  size_t packed = 0;
  wire_each (buf, buf + len, 2, cgroup_cpu, &packed);
  assert_int_equal (packed, 5); /* one field: the varints 100 (1 byte), 200, 300 (2 each) */

  /* the generated decoder reads back what runtime/ reported */
  Types__StatsResponse *back = types__stats_response__unpack (NULL, len, buf);
  assert_non_null (back);
  const Types__CgroupStats *b = back->cgroup_stats;
  assert_non_null (b->cpu_stats);
  const Types__CpuUsage *u = b->cpu_stats->cpu_usage;
  assert_int_equal (u->total_usage, 600);
  assert_int_equal (u->n_percpu_usage, 3);
  assert_int_equal (u->percpu_usage[2], 300);
  assert_int_equal (u->usage_in_usermode, 1500000000);
  assert_int_equal (u->usage_in_kernelmode, 500000000);
  assert_int_equal (b->cpu_stats->throttling_data->periods, 10);
  assert_int_equal (b->cpu_stats->throttling_data->throttled_periods, 3);
  assert_int_equal (b->cpu_stats->throttling_data->throttled_time, 999);
  assert_int_equal (b->cpu_stats->system_usage, 123456789000);
  const Types__MemoryStats *ms = b->memory_stats;
  assert_int_equal (ms->usage->usage, 4096);
  assert_int_equal (ms->usage->max_usage, 8192);
  assert_int_equal (ms->usage->failcnt, 1);
  assert_int_equal (ms->usage->limit, UINT64_MAX);
  assert_int_equal (ms->swap_usage->limit, 7);
  assert_int_equal (ms->kernel_usage->limit, 30);
  assert_int_equal (ms->n_stats, 4);
  assert_string_equal (ms->stats[1]->key, "rss");
  assert_int_equal (ms->stats[1]->value, 8192);
  assert_string_equal (ms->stats[2]->key, "swap");
  assert_int_equal (ms->stats[2]->value, 0);
  const Types__BlkioStats *bl = b->blkio_stats;
  assert_int_equal (bl->n_io_service_bytes_recursive, 2);
  assert_string_equal (bl->io_service_bytes_recursive[1]->op, "Write");
  assert_int_equal (bl->io_service_bytes_recursive[0]->value, 10);
  assert_int_equal (bl->n_sectors_recursive, 1);
  assert_int_equal (bl->sectors_recursive[0]->minor, 16);
  assert_string_equal (bl->sectors_recursive[0]->op, "");
  assert_int_equal (bl->n_io_serviced_recursive, 0);
  assert_int_equal (b->n_hugetlb_stats, 2);
  assert_string_equal (b->hugetlb_stats[1]->key, "1GB");
  assert_int_equal (b->hugetlb_stats[1]->value->failcnt, 2);
  assert_int_equal (b->hugetlb_stats[1]->value->limit, 0);
  assert_int_equal (b->pids_stats->current, 7);
  types__stats_response__free_unpacked (back, NULL);
}

/* Nothing read (no controller): every section is still on the wire, as
 * the original sent it (Docker dereferences them), all zero. */
static void
test_empty (void **state UNUSED)
{
  struct container_stats s = { 0 };
  Types__CgroupStats *m = stats_message_new (&s);
  assert_non_null (m->cpu_stats->cpu_usage);
  assert_non_null (m->cpu_stats->throttling_data);
  assert_non_null (m->memory_stats->usage);
  assert_non_null (m->memory_stats->swap_usage);
  assert_non_null (m->memory_stats->kernel_usage);
  assert_non_null (m->blkio_stats);
  assert_non_null (m->pids_stats);
  assert_int_equal (m->n_hugetlb_stats, 0);
  assert_int_equal (m->memory_stats->n_stats, 0);
  size_t len = protobuf_c_message_get_packed_size (&m->base);
  cleanup_free uint8_t *buf = xmalloc (len);
  protobuf_c_message_pack (&m->base, buf);
  Types__CgroupStats *back = types__cgroup_stats__unpack (NULL, len, buf);
  assert_non_null (back);
  assert_non_null (back->cpu_stats);
  assert_non_null (back->memory_stats);
  assert_non_null (back->blkio_stats);
  assert_non_null (back->pids_stats);
  types__cgroup_stats__free_unpacked (back, NULL);
  stats_message_free (m);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_wire),
    cmocka_unit_test (test_empty),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
