/* ctr checkpoints: list, create, delete. */
#include <string.h>

#include "api/api.pb-c.h"
#include "ctr/containers.h"
#include "ctr/output.h"
#include "lib/pb-cleanup.h"
#include "lib/util.h"

void checkpoints_write_table (FILE *out, const Types__ListCheckpointResponse *resp);
void checkpoints_write_json (FILE *out, const Types__ListCheckpointResponse *resp);

void
checkpoints_write_table (FILE *out, const Types__ListCheckpointResponse *resp)
{
  struct table *t = table_new (20, 3);
  static const char *const head[] = { "NAME", "TCP", "UNIX SOCKETS", "SHELL" };
  table_add (t, 4, head);
  for (size_t i = 0; i < resp->n_checkpoints; i++)
    {
      const Types__Checkpoint *c = resp->checkpoints[i];
      const char *const row[] = { c->name, c->tcp ? "true" : "false",
                                  c->unixsockets ? "true" : "false", c->shell ? "true" : "false" };
      table_add (t, 4, row);
    }
  table_write (t, out);
  table_free (t);
}

void
checkpoints_write_json (FILE *out, const Types__ListCheckpointResponse *resp)
{
  fputc ('[', out);
  for (size_t i = 0; i < resp->n_checkpoints; i++)
    {
      if (i)
        fputc (',', out);
      json_write_message (out, &resp->checkpoints[i]->base, true);
    }
  fputs ("]\n", out);
}

static int
list_path (struct ctr_ctx *ctx, const char *path, const struct ctr_command *cmd, int argc,
           char **argv, struct ctrd_error **err)
{
  cleanup_free char *dir = NULL;
  bool json = false;
  struct goflag flags[] = {
    { "checkpoint-dir", NULL, GOFLAG_STRING, &dir,
      "directory of the checkpoints (default: <bundle>/checkpoints)", NULL, false },
    { "json", NULL, GOFLAG_BOOL, &json, "print a JSON array of the checkpoints", NULL, false },
  };
  int first = ctr_parse_flags (ctx, path, cmd, flags, 2, argc, argv, err);
  if (first < 0)
    return first == GOFLAG_HELP ? 0 : -1;
  const char *id = ctr_arg (argc, argv, first);
  if (*id == '\0')
    return ctrd_error_set (err, 0, "container id cannot be empty");
  if (ctr_check_args (argc, argv, first, 1, err) < 0)
    return -1;
  Types__ListCheckpointRequest req = TYPES__LIST_CHECKPOINT_REQUEST__INIT;
  req.id = (char *) id;
  req.checkpointdir = dir ? dir : (char *) "";
  cleanup_pb Types__ListCheckpointResponse *resp = NULL;
  if (ctr_rpc (ctx, "ListCheckpoint", id, &req.base, &types__list_checkpoint_response__descriptor,
               (ProtobufCMessage **) &resp, err)
      < 0)
    return -1;
  if (json)
    checkpoints_write_json (ctx->out, resp);
  else
    checkpoints_write_table (ctx->out, resp);
  return 0;
}

static const struct ctr_command cmd_list = { "list", "list all checkpoints for a container", "ID",
                                             NULL };

static int
list_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  return list_path (ctx, "checkpoints list", &cmd_list, argc, argv, err);
}

/* ID and NAME of create and delete */
static int
id_and_name (int argc, char **argv, int first, const char **id, const char **name,
             struct ctrd_error **err)
{
  *id = ctr_arg (argc, argv, first);
  *name = ctr_arg (argc, argv, first + 1);
  if (**id == '\0')
    return ctrd_error_set (err, 0, "container id cannot be empty");
  if (**name == '\0')
    return ctrd_error_set (err, 0, "checkpoint name cannot be empty");
  return ctr_check_args (argc, argv, first, 2, err);
}

static const struct ctr_command cmd_create = { "create",
                                               "create a new checkpoint for the container",
                                               "ID NAME", NULL };

static int
create_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  bool tcp = false, unix_sockets = false, exit_ = false, shell = false;
  char *dir = NULL;
  char **empty_ns = NULL;
  struct goflag flags[] = {
    { "tcp", NULL, GOFLAG_BOOL, &tcp, "checkpoint established TCP connections", NULL, false },
    { "unix-sockets", NULL, GOFLAG_BOOL, &unix_sockets, "checkpoint external unix sockets", NULL,
      false },
    { "exit", NULL, GOFLAG_BOOL, &exit_, "stop the container after the checkpoint", NULL, false },
    { "shell", NULL, GOFLAG_BOOL, &shell, "checkpoint a shell job", NULL, false },
    { "checkpoint-dir", NULL, GOFLAG_STRING, &dir,
      "directory of the checkpoints (default: <bundle>/checkpoints)", NULL, false },
    { "empty-ns", NULL, GOFLAG_STRINGS, &empty_ns,
      "namespace to leave empty in the checkpoint, e.g. network (repeatable)", NULL, false },
  };
  size_t n = sizeof flags / sizeof flags[0];
  int ret = -1;
  const char *id, *name;
  int first = ctr_parse_flags (ctx, "checkpoints create", &cmd_create, flags, n, argc, argv, err);
  if (first < 0)
    ret = first == GOFLAG_HELP ? 0 : -1;
  else if (id_and_name (argc, argv, first, &id, &name, err) == 0)
    {
      Types__Checkpoint cp = TYPES__CHECKPOINT__INIT;
      cp.name = (char *) name;
      cp.exit = exit_;
      cp.tcp = tcp;
      cp.unixsockets = unix_sockets;
      cp.shell = shell;
      cp.emptyns = empty_ns;
      cp.n_emptyns = strv_len (empty_ns);
      Types__CreateCheckpointRequest req = TYPES__CREATE_CHECKPOINT_REQUEST__INIT;
      req.id = (char *) id;
      req.checkpoint = &cp;
      req.checkpointdir = dir ? dir : (char *) "";
      cleanup_pb ProtobufCMessage *resp = NULL;
      ret = ctr_rpc (ctx, "CreateCheckpoint", id, &req.base,
                     &types__create_checkpoint_response__descriptor, &resp, err);
    }
  goflag_free_values (flags, n);
  return ret;
}

static const struct ctr_command cmd_delete = { "delete", "delete a container's checkpoint",
                                               "ID NAME", NULL };

static int
delete_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  cleanup_free char *dir = NULL;
  struct goflag flags[] = {
    { "checkpoint-dir", NULL, GOFLAG_STRING, &dir,
      "directory of the checkpoints (default: <bundle>/checkpoints)", NULL, false },
  };
  const char *id, *name;
  int first = ctr_parse_flags (ctx, "checkpoints delete", &cmd_delete, flags, 1, argc, argv, err);
  if (first < 0)
    return first == GOFLAG_HELP ? 0 : -1;
  if (id_and_name (argc, argv, first, &id, &name, err) < 0)
    return -1;
  Types__DeleteCheckpointRequest req = TYPES__DELETE_CHECKPOINT_REQUEST__INIT;
  req.id = (char *) id;
  req.name = (char *) name;
  req.checkpointdir = dir ? dir : (char *) "";
  cleanup_pb ProtobufCMessage *resp = NULL;
  return ctr_rpc (ctx, "DeleteCheckpoint", id, &req.base,
                  &types__delete_checkpoint_response__descriptor, &resp, err);
}

static const struct ctr_command subcommands[] = {
  { "create", "create a new checkpoint for the container", "ID NAME", create_run },
  { "delete", "delete a container's checkpoint", "ID NAME", delete_run },
  { "list", "list all checkpoints for a container", "ID", list_run },
};
#define N_SUB (sizeof subcommands / sizeof subcommands[0])

static const struct ctr_command cmd_group = { "checkpoints", "list all checkpoints", "ID", NULL };

static int
group_list (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  return list_path (ctx, "checkpoints", &cmd_group, argc, argv, err);
}

static const struct ctr_group group = {
  "checkpoints",
  "list all checkpoints",
  subcommands,
  N_SUB,
  group_list,
  "   --checkpoint-dir value  directory of the checkpoints (default: <bundle>/checkpoints)\n"
  "   --json                  print a JSON array of the checkpoints\n",
};

int
ctr_checkpoints_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  return ctr_group_dispatch (ctx, &group, argc, argv, err);
}
