/* ctr containers start / exec (docs/ctr.md), with the original's bugs fixed (docs/ctr.md §5):
 * without --attach no FIFOs are passed (the daemon uses /dev/null), the
 * runtime is sent only when --runtime is given, stdin EOF reaches the
 * container at once, and the temp dir is removed on every path. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.pb-c.h"
#include "ctr/attach.h"
#include "ctr/containers.h"
#include "lib/pb-cleanup.h"
#include "lib/util.h"

/* Subscribe to the container's events (before the process exists, so its
 * exit cannot be missed), run the creating RPC, then copy stdio until the
 * exit event. Returns the process's exit status or -1. */
static int
run_attached (struct ctr_ctx *ctx, struct attach *a, const char *method, const char *id,
              const char *pid, ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
              struct ctrd_error **err)
{
  Types__EventsRequest ereq = TYPES__EVENTS_REQUEST__INIT;
  ereq.id = (char *) id;
  void *stream = NULL;
  if (ctr_stream_open (ctx, "Events", id, &ereq.base, &types__event__descriptor, &stream, err) < 0)
    return -1;
  cleanup_pb ProtobufCMessage *resp = NULL;
  int r = ctr_rpc (ctx, method, id, req, resp_desc, &resp, err);
  if (r == 0)
    {
      attach_unlink (a);
      r = attach_wait (ctx, a, stream, id, pid, err);
    }
  ctx->transport->stream_free (ctx, stream);
  return r;
}

static const struct ctr_command cmd_start = { "start", "start a container", "ID BUNDLE", NULL };

int
containers_start_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  char *checkpoint = NULL, *checkpoint_dir = NULL, *runtime = NULL;
  char **labels = NULL, **runtime_args = NULL;
  bool attach = false, no_pivot = false;
  struct goflag flags[] = {
    { "checkpoint", "c", GOFLAG_STRING, &checkpoint, "checkpoint to restore the container from",
      NULL, false },
    { "checkpoint-dir", NULL, GOFLAG_STRING, &checkpoint_dir,
      "directory of the checkpoint (default: <bundle>/checkpoints)", NULL, false },
    { "attach", "a", GOFLAG_BOOL, &attach,
      "connect stdin, stdout and stderr to the container and exit with its status", NULL, false },
    { "label", "l", GOFLAG_STRINGS, &labels, "label for the container (repeatable)", NULL, false },
    { "no-pivot", NULL, GOFLAG_BOOL, &no_pivot, "do not use pivot root (runc --no-pivot)", NULL,
      false },
    { "runtime", "r", GOFLAG_STRING, &runtime,
      "runtime binary for the container (default: the daemon's --runtime)", NULL, false },
    { "runtime-args", NULL, GOFLAG_STRINGS, &runtime_args,
      "global argument for the runtime (repeatable; with --runtime)", NULL, false },
  };
  size_t n = sizeof flags / sizeof flags[0];
  struct attach *a = NULL;
  cleanup_free char *bundle = NULL;
  int ret = -1;
  int first = ctr_parse_flags (ctx, "containers start", &cmd_start, flags, n, argc, argv, err);
  if (first < 0)
    {
      ret = first == GOFLAG_HELP ? 0 : -1;
      goto out;
    }
  const char *id = ctr_arg (argc, argv, first);
  const char *bpath = ctr_arg (argc, argv, first + 1);
  if (*bpath == '\0')
    {
      ctrd_error_set (err, 0, "bundle path cannot be empty");
      goto out;
    }
  if (*id == '\0')
    {
      ctrd_error_set (err, 0, "container id cannot be empty");
      goto out;
    }
  if (ctr_check_args (argc, argv, first, 2, err) < 0)
    goto out;
  bundle = path_absolute (bpath);

  Types__CreateContainerRequest req = TYPES__CREATE_CONTAINER_REQUEST__INIT;
  req.id = (char *) id;
  req.bundlepath = bundle;
  req.checkpoint = checkpoint ? checkpoint : (char *) "";
  req.checkpointdir = checkpoint_dir ? checkpoint_dir : (char *) "";
  req.labels = labels;
  req.n_labels = strv_len (labels);
  req.nopivotroot = no_pivot;
  req.runtime = runtime ? runtime : (char *) "";
  req.runtimeargs = runtime_args;
  req.n_runtimeargs = strv_len (runtime_args);
  if (!attach)
    {
      cleanup_pb ProtobufCMessage *resp = NULL;
      ret = ctr_rpc (ctx, "CreateContainer", id, &req.base,
                     &types__create_container_response__descriptor, &resp, err);
      goto out;
    }
  bool tty = false;
  if (attach_bundle_terminal (bundle, &tty, err) < 0 || attach_prepare (tty, &a, err) < 0)
    goto out;
  req.stdin = (char *) attach_path (a, 0);
  req.stdout = (char *) attach_path (a, 1);
  req.stderr = (char *) attach_path (a, 2);
  ret = run_attached (ctx, a, "CreateContainer", id, "init", &req.base,
                      &types__create_container_response__descriptor, err);
out:
  attach_free (a);
  goflag_free_values (flags, n);
  return ret;
}

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const struct ctr_command cmd_exec = { "exec",
                                             "exec another process in an existing container",
                                             "ARGS...", NULL };

int
containers_exec_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  char *id = NULL, *pid = NULL, *cwd = xstrdup ("/");
  char **env = NULL;
  bool attach = false, tty = false;
  long long uid = 0, gid = 0;
  struct goflag flags[] = {
    { "id", NULL, GOFLAG_STRING, &id, "container id", NULL, false },
    { "pid", NULL, GOFLAG_STRING, &pid, "process id of the new process (unique in the container)",
      NULL, false },
    { "attach", "a", GOFLAG_BOOL, &attach,
      "connect stdin, stdout and stderr to the process and exit with its status", NULL, false },
    { "cwd", NULL, GOFLAG_STRING, &cwd, "current working directory for the process", "\"/\"",
      false },
    { "tty", "t", GOFLAG_BOOL, &tty, "create a terminal for the process", NULL, false },
    { "env", "e", GOFLAG_STRINGS, &env,
      "environment variable KEY=value (repeatable; PATH defaults to " DEFAULT_PATH ")", NULL,
      false },
    { "uid", "u", GOFLAG_INT, &uid, "user id of the process", "0", false },
    { "gid", "g", GOFLAG_INT, &gid, "group id of the process", "0", false },
  };
  size_t n = sizeof flags / sizeof flags[0];
  struct attach *a = NULL;
  int ret = -1;
  int first = ctr_parse_flags (ctx, "containers exec", &cmd_exec, flags, n, argc, argv, err);
  if (first < 0)
    {
      ret = first == GOFLAG_HELP ? 0 : -1;
      goto out;
    }
  if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX)
    {
      ctrd_error_set (err, 0, "uid and gid must be in [0, 4294967295]");
      goto out;
    }
  if (first >= argc)
    {
      ctrd_error_set (err, 0, "no command given to run in the container");
      goto out;
    }
  Types__User user = TYPES__USER__INIT;
  user.uid = (uint32_t) uid;
  user.gid = (uint32_t) gid;
  Types__AddProcessRequest req = TYPES__ADD_PROCESS_REQUEST__INIT;
  req.id = id ? id : (char *) "";
  req.pid = pid ? pid : (char *) "";
  req.args = argv + first;
  req.n_args = (size_t) (argc - first);
  req.cwd = cwd;
  req.terminal = tty;
  /* runc looks the command up in the process's own PATH: without one
   * (the original sent none) every relative command fails */
  bool has_path = false;
  for (char **e = env; e && *e; e++)
    has_path |= strncmp (*e, "PATH=", 5) == 0;
  if (!has_path)
    strv_push (&env, "PATH=" DEFAULT_PATH);
  req.env = env;
  req.n_env = strv_len (env);
  req.user = &user;
  if (!attach)
    {
      cleanup_pb ProtobufCMessage *resp = NULL;
      ret = ctr_rpc (ctx, "AddProcess", req.id, &req.base, &types__add_process_response__descriptor,
                     &resp, err);
      goto out;
    }
  if (attach_prepare (tty, &a, err) < 0)
    goto out;
  req.stdin = (char *) attach_path (a, 0);
  req.stdout = (char *) attach_path (a, 1);
  req.stderr = (char *) attach_path (a, 2);
  ret = run_attached (ctx, a, "AddProcess", req.id, req.pid, &req.base,
                      &types__add_process_response__descriptor, err);
out:
  attach_free (a);
  goflag_free_values (flags, n);
  return ret;
}
