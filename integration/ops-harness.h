/* Harness of the ops integration tests: TAP output, a private containerd
 * (real shim and runc) started with NOTIFY_SOCKET readiness, the C client
 * with an Events stream, busybox bundles, counter files watched with
 * inotify, cgroup file reads, and cleanup of everything made. */
#ifndef CTRD_INTEGRATION_OPS_HARNESS_H
#define CTRD_INTEGRATION_OPS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/api.pb-c.h"
#include "api/client.h"
#include "lib/error.h"
#include "lib/timeutil.h"

#define MSEC NSEC_PER_MSEC
#define CALL_TIMEOUT (60 * NSEC_PER_SEC)

extern int tap_n, tap_failed;
extern const char *top_src, *top_build;
extern char *tmp, *sock_path, *log_path;
extern struct api_client *cli;

bool ok (bool cond, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* ok() that prints err's message as a diagnostic when cond is false. */
bool okd (bool cond, const struct ctrd_error *err, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
void diag (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void skip (const char *name, const char *reason);
/* CI=true in the environment: a part scripts/setup.sh provides must be there. */
bool in_ci (void);
/* A skip of such a part: "ok # SKIP" normally, "not ok" (counted as failed)
 * under CI=true. */
void skip_expected (const char *name, const char *reason);
/* Run argv (output discarded); exit status, 128+sig, or -1. */
int run (char *const argv[]);

/* Returns 0 when the daemon serves and the Events stream is open; 1 when
 * the whole test is skipped (plan printed); -1 on failure (a not ok was
 * printed). harness_finish cleans up, prints the plan, returns the exit code. */
int harness_start (void);
int harness_finish (void);
/* harness_finish without the plan (benchmarks). */
void harness_cleanup (void);

/* Unary call of /types.API/<method>; *resp_out (if non-NULL) to free with
 * protobuf_c_message_free_unpacked. */
int rpc (const char *method, const void *req, const ProtobufCMessageDescriptor *rd, void *resp_out,
         struct ctrd_error **err);
/* err is set with this gRPC code and a message containing msg_part (NULL: any). */
bool expect_error (struct ctrd_error *err, int code, const char *msg_part);

struct seen_event
{
  char *type, *id, *pid;
  uint32_t status;
  bool used;
};
/* First not yet consumed event of type for id (and pid unless NULL) within timeout_ms. */
struct seen_event *wait_event (const char *type, const char *id, const char *pid, int timeout_ms);

/* <tmp>/bundles/<name> running `sh -c script`; caller frees. */
char *make_bundle (const char *name, const char *script);
/* CreateContainer (restore when checkpoint is non-NULL); init's host pid or 0. */
uint32_t create (const char *id, const char *bundle, const char *checkpoint,
                 struct ctrd_error **err);
/* The same with CreateContainerRequest.runtime (NULL: the daemon's default). */
uint32_t create_with_runtime (const char *id, const char *bundle, const char *checkpoint,
                              const char *runtime, struct ctrd_error **err);
/* State's status of id (or "error: ..."); caller frees. */
char *container_status (const char *id);
int update (const char *id, const char *status, const Types__UpdateResource *res,
            struct ctrd_error **err);

struct counter_watch
{
  int fd;
  char *rootfs;
};
long counter_read (const char *rootfs);
void counter_watch_open (struct counter_watch *w, const char *rootfs);
void counter_watch_close (struct counter_watch *w);
void counter_watch_drain (struct counter_watch *w);
long counter_wait (struct counter_watch *w, long min, int timeout_ms);
long counter_next (struct counter_watch *w, int timeout_ms);
bool counter_quiet (struct counter_watch *w, int quiet_ms);

/* /sys/fs/cgroup/<controller><path of pid>/<file> (cgroup v1). */
char *cgroup_file (uint32_t pid, const char *controller, const char *file);
char *cgroup_read (uint32_t pid, const char *controller, const char *file);
bool cgroup_is (uint32_t pid, const char *controller, const char *file, const char *want);

#endif
