/* ctr containers: list, kill, pause, resume, update, state; the group
 * dispatch (start and exec are in start.c, watch in events.c, stats in
 * stats.c). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.pb-c.h"
#include "ctr/containers.h"
#include "ctr/output.h"
#include "lib/pb-cleanup.h"
#include "lib/util.h"

static const struct ctr_command cmd_list = { "list", "list all running containers", "[ID]", NULL };

static int
container_cmp (const void *a, const void *b)
{
  const Types__Container *ca = *(Types__Container *const *) a;
  const Types__Container *cb = *(Types__Container *const *) b;
  return strcmp (ca->id, cb->id);
}

/* The list table (docs/ctr.md): rows sorted by id, PROCESSES = process ids. */
void
containers_write_table (FILE *out, Types__StateResponse *resp)
{
  qsort (resp->containers, resp->n_containers, sizeof *resp->containers, container_cmp);
  struct table *t = table_new (20, 3);
  static const char *const head[] = { "ID", "PATH", "STATUS", "PROCESSES" };
  table_add (t, 4, head);
  for (size_t i = 0; i < resp->n_containers; i++)
    {
      Types__Container *c = resp->containers[i];
      char *procs = xstrdup ("");
      for (size_t k = 0; k < c->n_processes; k++)
        {
          char *n = xasprintf ("%s%s%s", procs, k ? "," : "", c->processes[k]->pid);
          free (procs);
          procs = n;
        }
      const char *const row[] = { c->id, c->bundlepath, c->status, procs };
      table_add (t, 4, row);
      free (procs);
    }
  table_write (t, out);
  table_free (t);
}

void
containers_write_json (FILE *out, Types__StateResponse *resp)
{
  qsort (resp->containers, resp->n_containers, sizeof *resp->containers, container_cmp);
  fputc ('[', out);
  for (size_t i = 0; i < resp->n_containers; i++)
    {
      if (i)
        fputc (',', out);
      json_write_message (out, &resp->containers[i]->base, true);
    }
  fputs ("]\n", out);
}

/* The one flag (--json), the optional [ID] and the State call of
 * `containers list`, `containers [ID]` and `state`: 1 with *resp, 0 after
 * --help, -1. */
static int
state_call (struct ctr_ctx *ctx, const char *path, const struct ctr_command *cmd,
            struct goflag *flag, int argc, char **argv, ProtobufCMessage **resp,
            struct ctrd_error **err)
{
  int first = ctr_parse_flags (ctx, path, cmd, flag, 1, argc, argv, err);
  if (first < 0)
    return first == GOFLAG_HELP ? 0 : -1;
  if (ctr_check_args (argc, argv, first, 1, err) < 0)
    return -1;
  Types__StateRequest req = TYPES__STATE_REQUEST__INIT;
  req.id = (char *) ctr_arg (argc, argv, first);
  if (ctr_rpc (ctx, "State", req.id, &req.base, &types__state_response__descriptor, resp, err) < 0)
    return -1;
  return 1;
}

static int
list_run_path (struct ctr_ctx *ctx, const char *path, const struct ctr_command *cmd, int argc,
               char **argv, struct ctrd_error **err)
{
  bool json = false;
  struct goflag flags[] = {
    { "json", NULL, GOFLAG_BOOL, &json, "print a JSON array of the containers", NULL, false },
  };
  cleanup_pb Types__StateResponse *resp = NULL;
  int r = state_call (ctx, path, cmd, flags, argc, argv, (ProtobufCMessage **) &resp, err);
  if (r <= 0)
    return r;
  if (json)
    containers_write_json (ctx->out, resp);
  else
    containers_write_table (ctx->out, resp);
  return 0;
}

static int
list_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  return list_run_path (ctx, "containers list", &cmd_list, argc, argv, err);
}

static int
require_id (const char *id, struct ctrd_error **err)
{
  if (*id == '\0')
    return ctrd_error_set (err, 0, "container id cannot be empty");
  return 0;
}

static const struct ctr_command cmd_kill = { "kill",
                                             "send a signal to a container or its processes", "ID",
                                             NULL };

static int
kill_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  cleanup_free char *pid = xstrdup ("init");
  long long sig = 15;
  struct goflag flags[] = {
    { "pid", "p", GOFLAG_STRING, &pid, "pid of the process to signal within the container",
      "\"init\"", false },
    { "signal", "s", GOFLAG_INT, &sig, "signal to send to the container", "15", false },
  };
  int first = ctr_parse_flags (ctx, "containers kill", &cmd_kill, flags, 2, argc, argv, err);
  if (first < 0)
    return first == GOFLAG_HELP ? 0 : -1;
  const char *id = ctr_arg (argc, argv, first);
  if (require_id (id, err) < 0 || ctr_check_args (argc, argv, first, 1, err) < 0)
    return -1;
  if (sig < 0 || sig > UINT32_MAX)
    return ctrd_error_set (err, 0, "invalid signal %lld", sig);
  Types__SignalRequest req = TYPES__SIGNAL_REQUEST__INIT;
  req.id = (char *) id;
  req.pid = pid;
  req.signal = (uint32_t) sig;
  cleanup_pb ProtobufCMessage *resp = NULL;
  return ctr_rpc (ctx, "Signal", id, &req.base, &types__signal_response__descriptor, &resp, err);
}

static int
set_status (struct ctr_ctx *ctx, const char *path, const struct ctr_command *cmd,
            const char *status, int argc, char **argv, struct ctrd_error **err)
{
  int first = ctr_parse_flags (ctx, path, cmd, NULL, 0, argc, argv, err);
  if (first < 0)
    return first == GOFLAG_HELP ? 0 : -1;
  const char *id = ctr_arg (argc, argv, first);
  if (require_id (id, err) < 0 || ctr_check_args (argc, argv, first, 1, err) < 0)
    return -1;
  Types__UpdateContainerRequest req = TYPES__UPDATE_CONTAINER_REQUEST__INIT;
  req.id = (char *) id;
  req.pid = (char *) "init";
  req.status = (char *) status;
  cleanup_pb ProtobufCMessage *resp = NULL;
  return ctr_rpc (ctx, "UpdateContainer", id, &req.base,
                  &types__update_container_response__descriptor, &resp, err);
}

static const struct ctr_command cmd_pause = { "pause", "pause a container", "ID", NULL };
static const struct ctr_command cmd_resume = { "resume", "resume a paused container", "ID", NULL };

static int
pause_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  return set_status (ctx, "containers pause", &cmd_pause, "paused", argc, argv, err);
}

static int
resume_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  return set_status (ctx, "containers resume", &cmd_resume, "running", argc, argv, err);
}

static const struct ctr_command cmd_state = { "state", "get a raw dump of the containerd state",
                                              "[ID]", NULL };

int
containers_state (struct ctr_ctx *ctx, const char *path, int argc, char **argv,
                  struct ctrd_error **err)
{
  bool json = false;
  struct goflag flags[] = {
    { "json", NULL, GOFLAG_BOOL, &json, "print JSON (the default and only format)", NULL, false },
  };
  cleanup_pb ProtobufCMessage *resp = NULL;
  int r = state_call (ctx, path, &cmd_state, flags, argc, argv, &resp, err);
  if (r <= 0)
    return r;
  json_write_message (ctx->out, resp, false);
  return 0;
}

static int
state_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  return containers_state (ctx, "containers state", argc, argv, err);
}

static const struct ctr_command subcommands[] = {
  { "exec", "exec another process in an existing container", "ARGS...", containers_exec_run },
  { "kill", "send a signal to a container or its processes", "ID", kill_run },
  { "list", "list all running containers", "[ID]", list_run },
  { "pause", "pause a container", "ID", pause_run },
  { "resume", "resume a paused container", "ID", resume_run },
  { "start", "start a container", "ID BUNDLE", containers_start_run },
  { "state", "get a raw dump of the containerd state", "[ID]", state_run },
  { "stats", "print resource usage of a container, or of all of them", "[ID]",
    containers_stats_run },
  { "watch", "print container events", "[ID]", ctr_watch_run },
  { "update", "update a containers resources", "ID", containers_update_run },
};
#define N_SUB (sizeof subcommands / sizeof subcommands[0])

void
ctr_print_group_help (FILE *out, const char *group, const char *usage,
                      const struct ctr_command *subs, size_t n)
{
  fprintf (out,
           "NAME:\n   %s %s - %s\n\nUSAGE:\n   %s %s command [command options] [arguments...]\n\n"
           "COMMANDS:\n",
           CTRD_CTR_NAME, group, usage, CTRD_CTR_NAME, group);
  for (size_t i = 0; i < n; i++)
    fprintf (out, "     %-8s %s\n", subs[i].name, subs[i].usage);
  fprintf (out, "\nWithout a command, or with an unknown word (taken as the ID): list.\n\n"
                "OPTIONS (of list):\n");
}

static bool
is_help_flag (const char *a)
{
  return strcmp (a, "--help") == 0 || strcmp (a, "-help") == 0 || strcmp (a, "-h") == 0
         || strcmp (a, "--h") == 0;
}

int
ctr_group_dispatch (struct ctr_ctx *ctx, const struct ctr_group *g, int argc, char **argv,
                    struct ctrd_error **err)
{
  const char *a1 = ctr_arg (argc, argv, 1);
  bool help = strcmp (a1, "help") == 0 || strcmp (a1, "h") == 0;
  const char *name = help ? ctr_arg (argc, argv, 2) : a1;
  for (size_t i = 0; *name && i < g->n_subs; i++)
    if (strcmp (name, g->subs[i].name) == 0)
      {
        if (!help)
          return g->subs[i].run (ctx, argc - 1, argv + 1, err);
        /* "help start" = "start --help" */
        char *v[] = { (char *) g->subs[i].name, (char *) "--help", NULL };
        return g->subs[i].run (ctx, 2, v, err);
      }
  if (help || is_help_flag (a1))
    {
      ctr_print_group_help (ctx->out, g->name, g->usage, g->subs, g->n_subs);
      fputs (g->list_options, ctx->out);
      return 0;
    }
  /* urfave/cli runs the group's action: list, with the word as the id */
  return g->list (ctx, argc, argv, err);
}

static const struct ctr_command cmd_group = { "containers", "interact with running containers",
                                              "[ID]", NULL };

static int
group_list (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  return list_run_path (ctx, "containers", &cmd_group, argc, argv, err);
}

static const struct ctr_group group = {
  "containers", "interact with running containers",
  subcommands,  N_SUB,
  group_list,   "   --json  print a JSON array of the containers\n",
};

int
ctr_containers_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  return ctr_group_dispatch (ctx, &group, argc, argv, err);
}
