/* CreateContainer (docs/api.md, docs/daemon.md §4): validation, then the runtime's
 * asynchronous start; the reply carries the Container message. */
#include <stdlib.h>

#include "api/api.pb-c.h"
#include "api/server.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/util.h"
#include "runtime/runtime.h"
#include "supervisor/api-container.h"
#include "supervisor/api-handlers.h"
#include "supervisor/daemon.h"
#include "supervisor/metrics.h"

static char **
strv_from (char **v, size_t n)
{
  char **r = NULL;
  for (size_t i = 0; i < n; i++)
    strv_push (&r, v[i]);
  return r;
}

struct create_ctx
{
  struct api_call *call;
  struct daemon *d;
  char *id;
  int64_t t0; /* request arrival, for container-start-time */
};

/* The client gave up while the shim starts: kill it, undo (docs/daemon.md §4). */
static void
create_on_cancel (struct api_call *call UNUSED, void *data)
{
  struct create_ctx *x = data;
  /* Daemon shutdown cancels every call: containers are left alone then. */
  if (sd_event_get_state (x->d->loop) == SD_EVENT_FINISHED)
    return;
  runtime_container_create_cancel (x->d->rt, x->id);
}

static void
create_done (struct container *c, const struct ctrd_error *err, void *data)
{
  struct create_ctx *x = data;
  struct api_call *call = x->call;
  api_call_on_cancel (call, NULL, NULL);
  if (!err)
    metrics_timer_record (x->d->metrics, METRICS_START, time_now_mono_ns () - x->t0);
  free (x->id);
  free (x);
  if (err)
    {
      api_call_fail_error (call, err);
      return;
    }
  Types__CreateContainerResponse resp = TYPES__CREATE_CONTAINER_RESPONSE__INIT;
  resp.container = api_container_message (c);
  api_call_reply (call, &resp.base);
  protobuf_c_message_free_unpacked (&resp.container->base, NULL);
}

void
api_create_handle (struct api_call *call, const ProtobufCMessage *request, void *userdata)
{
  struct daemon *d = userdata;
  const Types__CreateContainerRequest *r = (const Types__CreateContainerRequest *) request;
  cleanup_strv char **labels = strv_from (r->labels, r->n_labels);
  cleanup_strv char **rargs = strv_from (r->runtimeargs, r->n_runtimeargs);
  struct container_create cc = {
    .id = r->id,
    .bundle = r->bundlepath,
    .stdin_path = r->stdin,
    .stdout_path = r->stdout,
    .stderr_path = r->stderr,
    .labels = labels,
    .no_pivot = r->nopivotroot,
    .runtime = r->runtime,
    .runtime_args = rargs,
    .checkpoint = r->checkpoint,
    .checkpoint_dir = r->checkpointdir,
  };
  cleanup_error struct ctrd_error *err = NULL;
  struct create_ctx *x = xmalloc0 (sizeof *x);
  x->call = call;
  x->d = d;
  x->id = xstrdup (r->id);
  x->t0 = time_now_mono_ns ();
  metrics_counter_add (d->metrics, METRICS_TASKS, 1);
  if (runtime_container_create (d->rt, &cc, create_done, x, &err) < 0)
    {
      free (x->id);
      free (x);
      log_msg (LOG_LVL_DEBUG, NULL, "CreateContainer %s: %s", r->id, err->msg);
      api_call_fail_error (call, err);
      return;
    }
  api_call_on_cancel (call, create_on_cancel, x);
  metrics_timer_record (d->metrics, METRICS_CREATE, time_now_mono_ns () - x->t0);
}
