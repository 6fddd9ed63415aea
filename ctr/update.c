/* ctr containers update: resource limits (docs/ctr.md, with --cpu-shares and -1
 * = unlimited added). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ctr/containers.h"
#include "lib/util.h"

enum upd_kind
{
  UPD_UINT,    /* unsigned, base prefixes */
  UPD_UNLIMIT, /* unsigned, or -1 = unlimited (sent as 2^64-1, the server's int64 -1) */
  UPD_INT,     /* signed */
  UPD_STRING,
};

struct upd_field
{
  const char *flag;
  const char *usage;
  enum upd_kind kind;
  size_t offset; /* in Types__UpdateResource */
};

#define OFF(f) offsetof (Types__UpdateResource, f)
static const struct upd_field upd_fields[] = {
  { "memory-limit", "memory limit in bytes (-1: unlimited)", UPD_UNLIMIT, OFF (memorylimit) },
  { "memory-reservation", "memory soft limit in bytes (-1: unlimited)", UPD_UNLIMIT,
    OFF (memoryreservation) },
  { "memory-swap", "memory plus swap limit in bytes (-1: unlimited)", UPD_UNLIMIT,
    OFF (memoryswap) },
  { "cpu-shares", "relative CPU weight", UPD_UINT, OFF (cpushares) },
  { "cpu-quota", "CPU time in microseconds per period (-1: unlimited)", UPD_UNLIMIT,
    OFF (cpuquota) },
  { "cpu-period", "CFS period in microseconds", UPD_UINT, OFF (cpuperiod) },
  { "kernel-limit", "kernel memory limit in bytes (-1: unlimited)", UPD_UNLIMIT,
    OFF (kernelmemorylimit) },
  { "kernel-tcp-limit", "kernel TCP buffer limit in bytes (-1: unlimited)", UPD_UNLIMIT,
    OFF (kerneltcpmemorylimit) },
  { "blkio-weight", "block IO weight (10-1000)", UPD_UINT, OFF (blkioweight) },
  { "pids-limit", "maximum number of pids (-1: unlimited)", UPD_UNLIMIT, OFF (pidslimit) },
  { "cpu-realtime-period", "realtime period in microseconds", UPD_UINT, OFF (cpurealtimeperiod) },
  { "cpu-realtime-runtime", "realtime runtime in microseconds", UPD_INT, OFF (cpurealtimeruntime) },
  { "cpuset-cpus", "CPUs allowed (e.g. 0-2,4)", UPD_STRING, OFF (cpusetcpus) },
  { "cpuset-mems", "memory nodes allowed (e.g. 0,1)", UPD_STRING, OFF (cpusetmems) },
};
#define N_UPD (sizeof upd_fields / sizeof upd_fields[0])

static const struct ctr_command cmd_update = {
  "update", "update a containers resources (numbers take 0x/0 prefixes; 0 = unchanged)", "ID", NULL
};

static int
parse_field (const struct upd_field *f, const char *v, Types__UpdateResource *r,
             struct ctrd_error **err)
{
  void *dest = (char *) r + f->offset;
  if (f->kind == UPD_STRING)
    {
      *(char **) dest = (char *) v;
      return 0;
    }
  if (*v == '\0')
    return 0;
  const char *fn = f->kind == UPD_INT ? "ParseInt" : "ParseUint";
  int rc;
  if (f->kind == UPD_INT)
    {
      long long x;
      rc = goflag_parse_int (v, &x);
      if (rc == 0)
        *(int64_t *) dest = x;
    }
  else if (f->kind == UPD_UNLIMIT && strcmp (v, "-1") == 0)
    {
      *(uint64_t *) dest = UINT64_MAX;
      rc = 0;
    }
  else
    {
      unsigned long long x;
      rc = goflag_parse_uint (v, &x);
      if (rc == 0)
        *(uint64_t *) dest = x;
    }
  if (rc < 0)
    return ctrd_error_set (err, 0, "invalid value \"%s\" for --%s: strconv.%s: parsing \"%s\": %s",
                           v, f->flag, fn, v,
                           errno == ERANGE ? "value out of range" : "invalid syntax");
  return 0;
}

int
containers_update_run (struct ctr_ctx *ctx, int argc, char **argv, struct ctrd_error **err)
{
  char *vals[N_UPD] = { NULL };
  struct goflag flags[N_UPD];
  for (size_t i = 0; i < N_UPD; i++)
    flags[i] = (struct goflag){ upd_fields[i].flag,  NULL, GOFLAG_STRING, &vals[i],
                                upd_fields[i].usage, NULL, false };
  int ret = -1;
  int first =
      ctr_parse_flags (ctx, "containers update", &cmd_update, flags, N_UPD, argc, argv, err);
  if (first < 0)
    {
      ret = first == GOFLAG_HELP ? 0 : -1;
      goto out;
    }
  const char *id = ctr_arg (argc, argv, first);
  if (*id == '\0')
    {
      ctrd_error_set (err, 0, "container id cannot be empty");
      goto out;
    }
  if (ctr_check_args (argc, argv, first, 1, err) < 0)
    goto out;
  Types__UpdateResource res = TYPES__UPDATE_RESOURCE__INIT;
  for (size_t i = 0; i < N_UPD; i++)
    if (vals[i] && parse_field (&upd_fields[i], vals[i], &res, err) < 0)
      goto out;
  Types__UpdateContainerRequest req = TYPES__UPDATE_CONTAINER_REQUEST__INIT;
  req.id = (char *) id;
  req.pid = (char *) "init";
  req.resources = &res;
  ProtobufCMessage *resp = NULL;
  ret = ctr_rpc (ctx, "UpdateContainer", id, &req.base,
                 &types__update_container_response__descriptor, &resp, err);
  if (resp)
    protobuf_c_message_free_unpacked (resp, NULL);
out:
  goflag_free_values (flags, N_UPD);
  return ret;
}
