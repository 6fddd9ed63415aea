/* ctr containers: the subcommands split over several files. */
#ifndef CTRD_CTR_CONTAINERS_H
#define CTRD_CTR_CONTAINERS_H

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
