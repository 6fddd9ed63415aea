/* ctr: the command-line client (docs/ctr.md). Shared by the command files.
 * Every command runs against a struct ctr_ctx whose transport is the real
 * gRPC client (rpc.c) or, in the unit tests, a recorder that checks the
 * requests and returns hand-built responses. */
#ifndef CTRD_CTR_H
#define CTRD_CTR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/error.h"
#include "lib/goflag.h"

#ifndef CTRD_CTR_NAME
#define CTRD_CTR_NAME "ctr"
#endif

#define CTR_DEFAULT_ADDRESS "unix:///run/containerd/containerd.sock"

struct ctr_ctx;

/* How requests reach the daemon. method is the bare name ("State"). */
struct ctr_transport
{
  int (*call) (struct ctr_ctx *ctx, const char *method, const ProtobufCMessage *req,
               const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
               struct ctrd_error **err);
  int (*stream_open) (struct ctr_ctx *ctx, const char *method, const ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *msg_desc, void **stream,
                      struct ctrd_error **err);
  /* enum api_stream_result semantics (api/client.h) */
  int (*stream_next) (struct ctr_ctx *ctx, void *stream, ProtobufCMessage **msg, int64_t timeout_ns,
                      struct ctrd_error **err);
  void (*stream_free) (struct ctr_ctx *ctx, void *stream);
  /* fd to poll for stream messages, -1 if none */
  int (*fd) (struct ctr_ctx *ctx);
};

struct ctr_ctx
{
  /* global flags */
  char *address;
  int64_t conn_timeout;
  bool debug;
  FILE *out; /* command output (stdout) */
  const struct ctr_transport *transport;
  void *tdata; /* the transport's state */
};

/* A command: parses its own flags from argv[0..argc) (argv[0] = its name). */
struct ctr_command
{
  const char *name;
  const char *usage;      /* one line */
  const char *args_usage; /* "ID BUNDLE" */
  /* Returns the exit status (>= 0), or -1 with *err set. */
  int (*run) (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err);
};

/* rpc.c */
extern const struct ctr_transport ctr_grpc_transport;
void ctr_grpc_close (struct ctr_ctx *ctx);
/* Unary call; errors become one clear line: an unknown container (per the
 * server's message) as "container <id> not found", others as the server's
 * text. */
int ctr_rpc (struct ctr_ctx *ctx, const char *method, const char *id, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
             struct ctrd_error **err);
int ctr_stream_open (struct ctr_ctx *ctx, const char *method, const char *id,
                     const ProtobufCMessage *req, const ProtobufCMessageDescriptor *msg_desc,
                     void **stream, struct ctrd_error **err);
/* Rewrites *err as ctr_rpc does. Returns -1. */
int ctr_rpc_error (const char *id, struct ctrd_error **err);

/* main.c: flag parsing with the command's help. Returns the index of the
 * first positional argument, or -1 with *err set, or GOFLAG_HELP after
 * printing the command's help to ctx->out. */
int ctr_parse_flags (struct ctr_ctx *ctx, const char *path, const struct ctr_command *cmd,
                     struct goflag *flags, size_t n, int argc, char **argv,
                     struct ctrd_error **err);
void ctr_print_command_help (FILE *out, const char *path, const struct ctr_command *cmd,
                             const struct goflag *flags, size_t n);
/* Full entry point (global flags too), used by main() and the tests. */
int ctr_main (int argc, char **argv, FILE *out, FILE *errf, const struct ctr_transport *t,
              void *tdata);

/* Command groups: each returns an exit status or -1 with *err. */
int ctr_containers_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err);
int ctr_checkpoints_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err);
int ctr_events_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err);
int ctr_watch_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err);
int ctr_version_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err);
int ctr_state_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err);

/* Positional argument i, or "" when absent (as urfave's Args().Get). */
const char *ctr_arg (int argc, char **argv, int i);
/* Error unless at most max positional arguments remain from index first. */
int ctr_check_args (int argc, char **argv, int first, int max, struct ctrd_error **err);

#endif
