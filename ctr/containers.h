/* ctr containers: the subcommands split over several files. */
#ifndef CTRD_CTR_CONTAINERS_H
#define CTRD_CTR_CONTAINERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "api/api.pb-c.h"
#include "ctr/ctr.h"

int containers_start_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err);
int containers_exec_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err);
int containers_update_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err);
/* `ctr state` and `ctr containers state` (path names the command for --help) */
int containers_state (struct ctr_ctx *ctx, const char *path, int argc, char **argv,
                      struct ctrd_error **err);
/* The list outputs (sort resp->containers by id). */
void containers_write_table (FILE *out, Types__StateResponse *resp);
void containers_write_json (FILE *out, Types__StateResponse *resp);
/* `ctr containers stats` (stats.c) and its table, unit-tested. */
int containers_stats_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err);
struct stats_sample
{
  char id[256];
  bool valid;           /* its Stats call answered */
  uint64_t cpu, system; /* total_usage, system_usage (ns) */
  uint32_t ncpus;       /* entries of percpu_usage */
  uint64_t mem, mem_limit, blk_read, blk_write, pids;
};
void stats_sample_from (struct stats_sample *s, const char *id, const Types__StatsResponse *r);
/* The table of cur[0..n) (rows whose sample is not valid are left out);
 * prev[i] is the previous sample of cur[i]'s id (not valid, or prev NULL:
 * CPU % shows "--"). machine_mem in bytes; 0s when unknown. */
void stats_write_table (FILE *out, const struct stats_sample *prev, const struct stats_sample *cur,
                        size_t n, uint32_t machine_cpus, uint64_t machine_mem);
/* docker's units.BytesSize ("1.5MiB") and HumanSizeWithPrecision(v, 3) ("12.3kB") */
void stats_format_bytes (double v, char *buf, size_t len);
void stats_format_size (double v, char *buf, size_t len);

/* Help of a command group; the caller prints the default action's flags. */
void ctr_print_group_help (FILE *out, const char *group, const char *usage,
                           const struct ctr_command *subs, size_t n);

/* A command group (containers, checkpoints): subcommands, `help [sub]`,
 * --help, and the default action (list) for anything else. */
struct ctr_group
{
  const char *name, *usage;
  const struct ctr_command *subs;
  size_t n_subs;
  int (*list) (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err);
  const char *list_options; /* help lines of the list flags */
};
int ctr_group_dispatch (struct ctr_ctx *ctx, const struct ctr_group *g, int argc, char **argv,
                        struct ctrd_error **err);

#endif
