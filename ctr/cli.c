/* ctr: global flags, command dispatch, help (urfave/cli layout). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ctr/ctr.h"
#include "lib/timeutil.h"
#include "lib/util.h"

#define EXIT_STATUS_TEXT                                                                           \
  "   0 on success; 1 on any error (one line on standard error). With containers start\n"          \
  "   --attach and containers exec --attach: the exit status of the container's process,\n"        \
  "   129 if the connection to containerd is lost while waiting for it, 128+N if ctr is\n"         \
  "   stopped by signal N (the container keeps running).\n"

static const struct ctr_command top_commands[] = {
  { "checkpoints", "list all checkpoints", "[command] [ID]", ctr_checkpoints_run },
  { "containers", "interact with running containers", "[command] [ID]", ctr_containers_run },
  { "events", "receive events from the containerd daemon", "", ctr_events_run },
  { "state", "get a raw dump of the containerd state", "[ID]", ctr_state_run },
  { "version", "return the daemon version", "", ctr_version_run },
};
#define N_TOP (sizeof top_commands / sizeof top_commands[0])

const char *
ctr_arg (int argc, char **argv, int i)
{
  return i >= 0 && i < argc ? argv[i] : "";
}

int
ctr_check_args (int argc, char **argv, int first, int max, struct ctrd_error **err)
{
  if (argc - first > max)
    return ctrd_error_set (err, 0, "unexpected argument \"%s\" (flags go before arguments)",
                           argv[first + max]);
  return 0;
}

void
ctr_print_command_help (FILE *out, const char *path, const struct ctr_command *cmd,
                        const struct goflag *flags, size_t n)
{
  fprintf (out, "NAME:\n   %s %s - %s\n\nUSAGE:\n   %s %s%s %s\n", CTRD_CTR_NAME, path, cmd->usage,
           CTRD_CTR_NAME, path, n ? " [command options]" : "", cmd->args_usage);
  if (n)
    {
      fputs ("\nOPTIONS:\n", out);
      goflag_print_usage (out, flags, n);
    }
}

int
ctr_parse_flags (struct ctr_ctx *ctx, const char *path, const struct ctr_command *cmd,
                 struct goflag *flags, size_t n, int argc, char **argv, struct ctrd_error **err)
{
  int r = goflag_parse (flags, n, argc, argv, 1, err);
  if (r == GOFLAG_HELP)
    ctr_print_command_help (ctx->out, path, cmd, flags, n);
  return r;
}

static void
print_main_help (FILE *out, const struct goflag *flags, size_t n)
{
  fprintf (out,
           "NAME:\n   %s - command-line client of containerd (ctrd)\n\n"
           "USAGE:\n   %s [global options] command [command options] [arguments...]\n\n"
           "VERSION:\n   %d.%d.%d commit: %s\n\nCOMMANDS:\n",
           CTRD_CTR_NAME, CTRD_CTR_NAME, CTRD_VERSION_MAJOR, CTRD_VERSION_MINOR, CTRD_VERSION_PATCH,
           CTRD_REVISION);
  for (size_t i = 0; i < N_TOP; i++)
    fprintf (out, "     %-12s %s\n", top_commands[i].name, top_commands[i].usage);
  fprintf (out, "     %-12s %s\n", "help, h", "show the commands, or the help of one command");
  fputs ("\nGLOBAL OPTIONS:\n", out);
  goflag_print_usage (out, flags, n);
  fputs ("\nEXIT STATUS:\n" EXIT_STATUS_TEXT, out);
}

static const struct ctr_command *
find_command (const char *name)
{
  for (size_t i = 0; i < N_TOP; i++)
    if (strcmp (top_commands[i].name, name) == 0)
      return &top_commands[i];
  return NULL;
}

static int
ctr_main_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  const struct ctr_command *cmd = find_command (argv[0]);
  if (cmd == NULL)
    return ctrd_error_set (err, 0, "no such command \"%s\" (see %s --help)", argv[0],
                           CTRD_CTR_NAME);
  return cmd->run (ctx, argc, argv, err);
}

/* `ctr help [command [subcommand]]`: the same text as --help */
static int
run_help (struct ctr_ctx *ctx, int argc, char **argv, const struct goflag *flags, size_t n,
          struct ctrd_error **err)
{
  if (argc < 2)
    {
      print_main_help (ctx->out, flags, n);
      return 0;
    }
  if (find_command (argv[1]) == NULL)
    return ctrd_error_set (err, 0, "no help topic for '%s'", argv[1]);
  /* rewrite "help containers start" as "containers start --help" */
  char *v[4];
  int c = 0;
  v[c++] = argv[1];
  if (argc > 2)
    v[c++] = argv[2];
  v[c++] = (char *) "--help";
  v[c] = NULL;
  return ctr_main_run (ctx, c, v, err);
}

int
ctr_main (int argc, char **argv, FILE *out, FILE *errf, const struct ctr_transport *t, void *tdata)
{
  struct ctr_ctx ctx = { .out = out, .transport = t, .tdata = tdata };
  char *address = xstrdup (CTR_DEFAULT_ADDRESS);
  int64_t conn_timeout = NSEC_PER_SEC;
  bool debug = false, version = false;
  struct goflag flags[] = {
    { "debug", NULL, GOFLAG_BOOL, &debug, "enable debug output in the logs", NULL, false },
    { "address", NULL, GOFLAG_STRING, &address,
      "proto://address of the containerd API (the daemon's --listen)",
      "\"" CTR_DEFAULT_ADDRESS "\"", false },
    { "conn-timeout", NULL, GOFLAG_DURATION, &conn_timeout,
      "timeout for connecting to the containerd API", "1s", false },
    { "help", "h", GOFLAG_BOOL, NULL, "show help", NULL, false },
    { "version", "v", GOFLAG_BOOL, &version, "print the version", NULL, false },
  };
  size_t n = sizeof flags / sizeof flags[0];
  cleanup_error struct ctrd_error *err = NULL;
  int status;

  int first = goflag_parse (flags, n, argc, argv, 1, &err);
  if (first == GOFLAG_HELP || (first >= 0 && first == argc && !version))
    {
      print_main_help (out, flags, n);
      status = 0;
      goto done;
    }
  if (first < 0)
    goto fail;
  if (version)
    {
      fprintf (out, "%s version %d.%d.%d commit: %s\n", CTRD_CTR_NAME, CTRD_VERSION_MAJOR,
               CTRD_VERSION_MINOR, CTRD_VERSION_PATCH, CTRD_REVISION);
      status = 0;
      goto done;
    }
  if (strcmp (argv[first], "help") == 0 || strcmp (argv[first], "h") == 0)
    {
      status = run_help (&ctx, argc - first, argv + first, flags, n, &err);
      if (status < 0)
        goto fail;
      goto done;
    }
  if (strstr (address, "://") == NULL)
    {
      ctrd_error_set (&err, 0, "bad bind address format %s, expected proto://address", address);
      goto fail;
    }
  ctx.address = address;
  ctx.conn_timeout = conn_timeout;
  ctx.debug = debug;
  status = ctr_main_run (&ctx, argc - first, argv + first, &err);
  if (status >= 0)
    goto done;
fail:
  fflush (out);
  fprintf (errf, "%s: %s\n", CTRD_CTR_NAME, err && err->msg ? err->msg : "unknown error");
  status = 1;
done:
  fflush (out);
  if (t == &ctr_grpc_transport)
    ctr_grpc_close (&ctx);
  goflag_free_values (flags, n);
  return status;
}
