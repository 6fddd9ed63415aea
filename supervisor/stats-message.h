/* The Stats reply's CgroupStats from runtime/'s plain struct container_stats
 * (docs/api.md "Stats"): the one place that knows both. */
#ifndef CTRD_SUPERVISOR_STATS_MESSAGE_H
#define CTRD_SUPERVISOR_STATS_MESSAGE_H

#include "api/api.pb-c.h"
#include "runtime/stats.h"

/* A CgroupStats with every section set (cpu_stats with cpu_usage and
 * throttling_data, memory_stats with usage, swap_usage and kernel_usage,
 * blkio_stats, pids_stats), zero where s is; map entries (memory.stat
 * keys, huge page sizes) always carry key and value on the wire
 * (stats_strict_entry_descriptor). Copies what it needs from s. Free with
 * stats_message_free. */
Types__CgroupStats *stats_message_new (const struct container_stats *s);
void stats_message_free (Types__CgroupStats *m); /* NULL is fine */

/* The descriptor the entries of a map field get in the messages built
 * here (gen: the generated descriptor of MemoryStats.StatsEntry or
 * CgroupStats.HugetlbStatsEntry; any other aborts): the same message with
 * key and value always packed, zero or not (stats-message.c says why:
 * Docker 1.12 rejects an entry missing either). Anyone building such
 * entries for the wire sets e->base.descriptor to it. */
const ProtobufCMessageDescriptor *
stats_strict_entry_descriptor (const ProtobufCMessageDescriptor *gen);

#endif
