/* The request side of a call: headers, the length-prefixed message, the
 * deadline, the health check, dispatch to the handler. */
#include "api/server-private.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "api/grpc-wire.h"
#include "lib/timeutil.h"
#include "lib/util.h"

#define MAX_PATH_LEN 1024

/* ---- request -------------------------------------------------------------- */

static bool
header_is (const uint8_t *name, size_t namelen, const char *want)
{
  return namelen == strlen (want) && memcmp (name, want, namelen) == 0;
}

void
call_on_header (struct api_call *call, const uint8_t *name, size_t namelen, const uint8_t *value,
                size_t valuelen)
{
  if (header_is (name, namelen, ":method"))
    {
      call->saw_method = true;
      call->saw_post = valuelen == 4 && memcmp (value, "POST", 4) == 0;
    }
  else if (header_is (name, namelen, ":path"))
    {
      free (call->path);
      call->path =
          xstrndup ((const char *) value, valuelen < MAX_PATH_LEN ? valuelen : MAX_PATH_LEN);
    }
  else if (header_is (name, namelen, "content-type"))
    call->ctype_ok = grpc_wire_content_type_ok ((const char *) value, valuelen);
  else if (header_is (name, namelen, "grpc-timeout"))
    {
      int64_t ns;
      if (grpc_wire_parse_timeout ((const char *) value, valuelen, &ns) < 0)
        call->timeout_bad = true;
      else
        {
          int64_t now = (int64_t) time_now_mono_ns ();
          call->deadline = ns > INT64_MAX - now ? INT64_MAX : now + ns;
        }
    }
  else if (header_is (name, namelen, "grpc-encoding"))
    call->compressed_encoding = !(valuelen == 8 && memcmp (value, "identity", 8) == 0);
}

static int
call_on_deadline (sd_event_source *src UNUSED, uint64_t usec UNUSED, void *userdata)
{
  struct api_call *call = userdata;
  call_stop_timer (call);
  if (!call->dispatched)
    {
      if (!call->rejected)
        call_reject_now (call, GRPC_DEADLINE_EXCEEDED, "context deadline exceeded");
      return 0;
    }
  if (call->finished)
    return 0;
  /* discard what the handler queued: the client only gets the status (and
   * the end of a message already begun on the wire) */
  call_discard_unsent (call);
  call_send_status (call, GRPC_DEADLINE_EXCEEDED, "context deadline exceeded");
  call_cancel (call);
  return 0;
}

void
call_on_headers_end (struct api_call *call)
{
  if (call->rejected)
    return;
  if (!call->saw_post)
    {
      call_reject_http (call, GRPC_INTERNAL, "grpc: method must be POST", "405");
      return;
    }
  if (!call->ctype_ok)
    {
      call_reject_http (call, GRPC_INTERNAL, "grpc: invalid content-type", "415");
      return;
    }
  if (call->timeout_bad)
    {
      call_reject (call, GRPC_INTERNAL, "grpc: malformed grpc-timeout");
      return;
    }
  call->method = call->path ? server_lookup_method (call->s, call->path) : NULL;
  if (call->method == NULL)
    {
      const char *p = call->path ? call->path : "";
      const char *svc = p[0] == '/' ? p + 1 : p;
      const char *slash = strchr (svc, '/');
      bool known_service = false;
      for (size_t i = 0; slash && i < call->s->n_methods; i++)
        {
          const char *mp = call->s->methods[i].m.path + 1;
          known_service |= strncmp (mp, svc, (size_t) (slash - svc + 1)) == 0;
        }
      cleanup_free char *msg =
          known_service ? xasprintf ("unknown method %s", slash + 1)
                        : xasprintf ("unknown service %.*s",
                                     (int) (slash ? (size_t) (slash - svc) : strlen (svc)), svc);
      call_reject (call, GRPC_UNIMPLEMENTED, msg);
      return;
    }
  if (call->deadline > 0)
    {
      int r = sd_event_add_time (call->s->loop, &call->timer, CLOCK_MONOTONIC,
                                 (uint64_t) call->deadline / 1000, 0, call_on_deadline, call);
      if (r < 0)
        call_reject (call, GRPC_RESOURCE_EXHAUSTED, "grpc: cannot arm deadline timer");
    }
}

void
call_on_data (struct api_call *call, const uint8_t *data, size_t len)
{
  size_t max = call->s->max_message;
  while (len > 0 && !call->rejected)
    {
      if (call->prefix_len == 5 && call->msg_have == call->msg_len)
        call->prefix_len = 0; /* the previous frame is complete: another one starts */
      if (call->prefix_len < 5)
        {
          size_t take = 5 - call->prefix_len < len ? 5 - call->prefix_len : len;
          memcpy (call->prefix + call->prefix_len, data, take);
          call->prefix_len += take;
          data += take;
          len -= take;
          if (call->prefix_len < 5)
            return;
          uint32_t be;
          memcpy (&be, call->prefix + 1, 4);
          size_t mlen = ntohl (be);
          if (++call->n_msgs > 1)
            {
              call_reject (call, GRPC_INTERNAL, "grpc: more than one request message");
              return;
            }
          if (call->prefix[0] == 1)
            {
              call_reject (call, GRPC_UNIMPLEMENTED, "grpc: compressed messages are not supported");
              return;
            }
          if (call->prefix[0] != 0)
            {
              call_reject (call, GRPC_INTERNAL, "grpc: invalid message compression flag");
              return;
            }
          if (mlen > max)
            {
              cleanup_free char *m =
                  xasprintf ("grpc: received message larger than max (%zu vs. %zu)", mlen, max);
              call_reject_now (call, GRPC_RESOURCE_EXHAUSTED, m);
              return;
            }
          call->msg_len = mlen;
          call->msg_have = 0;
        }
      size_t take = call->msg_len - call->msg_have < len ? call->msg_len - call->msg_have : len;
      if (take == 0)
        continue;
      /* Grow with what arrives, not with what the prefix claims: a prefix
       * alone must not reserve max_message bytes. */
      if (call->msg_have + take > call->msg_cap)
        {
          size_t cap = call->msg_cap ? call->msg_cap * 2 : 4096;
          if (cap < call->msg_have + take)
            cap = call->msg_have + take;
          if (cap > call->msg_len)
            cap = call->msg_len;
          call->msg = xrealloc (call->msg, cap);
          call->msg_cap = cap;
        }
      call->conn->buffered += take;
      if (call->conn->buffered > API_CONN_BUFFER_LIMIT)
        {
          call->conn->buffered -= take;
          call_reject_now (call, GRPC_RESOURCE_EXHAUSTED,
                           "grpc: too much unprocessed request data on this connection");
          return;
        }
      memcpy (call->msg + call->msg_have, data, take);
      call->msg_have += take;
      data += take;
      len -= take;
    }
}

static void
call_answer_health (struct api_call *call)
{
  char *service = NULL;
  if (grpc_wire_health_decode (call->msg, call->msg_len, &service) < 0)
    {
      call_reject (call, GRPC_INTERNAL, "grpc: error unmarshalling request");
      return;
    }
  if (service[0] != '\0')
    call_reject (call, GRPC_NOT_FOUND, "unknown service");
  else
    {
      /* HealthCheckResponse { status = SERVING (1) } */
      static const uint8_t serving[] = { 0, 0, 0, 0, 2, 0x08, 0x01 };
      call->rejected = true; /* answered by the server, never dispatched */
      call_start_response (call);
      call->out = xmalloc (sizeof serving);
      call->out_cap = sizeof serving;
      call->s->out_alloc += sizeof serving;
      memcpy (call->out, serving, sizeof serving);
      call->out_len = sizeof serving;
      call->s->out_bytes += sizeof serving;
      call_send_status (call, GRPC_OK, NULL);
    }
  free (service);
}

void
call_on_request_end (struct api_call *call)
{
  call->in_complete = true;
  if (call->rejected)
    {
      if (call->reject_msg)
        call_send_status_http (call, call->reject_code, call->reject_msg, call->reject_http);
      return;
    }
  if (call->method == NULL)
    return;
  if (call->n_msgs == 0 || call->prefix_len < 5 || call->msg_have < call->msg_len)
    {
      call_reject (call, GRPC_INTERNAL,
                   call->n_msgs == 0 ? "grpc: no request message"
                                     : "grpc: truncated request message");
      return;
    }
  if (call->method->health)
    {
      call_answer_health (call);
      return;
    }
  /* protobuf-c would cut a string at a NUL ("ab\0cd" → "ab") and the call
   * would act on another id or path than the client sent. */
  const char *nul = grpc_wire_nul_string_field (call->method->m.request, call->msg, call->msg_len);
  if (nul)
    {
      cleanup_free char *m = xasprintf ("string field %s contains a NUL byte", nul);
      call_reject (call, GRPC_INVALID_ARGUMENT, m);
      return;
    }
  call->request =
      protobuf_c_message_unpack (call->method->m.request, NULL, call->msg_len, call->msg);
  call_drop_msg (call);
  if (call->request == NULL)
    {
      call_reject (call, GRPC_INTERNAL, "grpc: error unmarshalling request");
      return;
    }
  call->dispatched = true;
  call->method->m.handler (call, call->request, call->method->userdata);
}
