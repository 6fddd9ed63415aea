/* Fuzz target for the gRPC server's input path: bytes from a client go
 * through nghttp2_session_mem_recv with the server's real callbacks, request
 * framing, decoding, dispatch to handlers (synchronous replies, held calls,
 * a stream), deadlines, cancellation and teardown. The harness sends the
 * client preface and an empty SETTINGS frame itself; the first input byte
 * picks the chunk size the rest is fed in.
 *
 * make check builds it with a plain driver (below): each file of the seed
 * corpus (api/tests/fuzz-corpus/, made by make-fuzz-corpus.py) plus 200
 * deterministic mutants of it, one TAP line per seed.
 *
 * Long run with libFuzzer (clang; the server sources are compiled into the
 * target so that they are instrumented). From a configured build dir B:
 *
 *   S=/path/to/ctrd; B=/path/to/build
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DCTRD_LIBFUZZER \
 *     -I$S -I$B -I$B/api -include $B/config.h -o fuzz-server \
 *     $S/api/tests/fuzz-server.c $S/api/server.c $S/api/call.c $S/api/call-request.c \
 *     $S/api/grpc-wire.c $B/api/api.pb-c.c $B/api/google/protobuf/timestamp.pb-c.c \
 *     $B/lib/libctrd.a -lprotobuf-c -lnghttp2 -lsystemd
 *   mkdir -p corpus && cp -r $S/api/tests/fuzz-corpus/. corpus/
 *   ./fuzz-server -max_total_time=3600 -rss_limit_mb=512 corpus
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api.pb-c.h"
#include "api/server-private.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define MAX_HELD 32

struct harness
{
  struct api_call *held[MAX_HELD];
  size_t n_held;
};

static void
reply_empty (struct api_call *call, const ProtobufCMessageDescriptor *desc)
{
  ProtobufCMessage *resp = xmalloc0 (desc->sizeof_message);
  protobuf_c_message_init (desc, resp);
  api_call_reply (call, resp);
  free (resp);
}

static void
held_on_cancel (struct api_call *call, void *data)
{
  struct harness *h = data;
  for (size_t i = 0; i < h->n_held; i++)
    if (h->held[i] == call)
      {
        h->held[i] = h->held[--h->n_held];
        break;
      }
  api_call_end (call, GRPC_CANCELLED, "context canceled");
}

static void
handle_unary (struct api_call *call, const ProtobufCMessage *req, void *userdata)
{
  struct harness *h = userdata;
  const ProtobufCMessageDescriptor *out = NULL;
  if (req->descriptor == &types__state_request__descriptor)
    {
      const Types__StateRequest *r = (const Types__StateRequest *) req;
      if (r->id && strcmp (r->id, "hang") == 0 && h->n_held < MAX_HELD)
        {
          h->held[h->n_held++] = call;
          api_call_on_cancel (call, held_on_cancel, h);
          return;
        }
      if (r->id && r->id[0] == 'f')
        {
          api_call_fail (call, GRPC_UNKNOWN, "fail %s\n%%", r->id);
          return;
        }
      out = &types__state_response__descriptor;
    }
  else
    out = &types__get_server_version_response__descriptor;
  reply_empty (call, out);
}

static void
handle_events (struct api_call *call, const ProtobufCMessage *req UNUSED, void *userdata)
{
  struct harness *h = userdata;
  Types__Event ev = TYPES__EVENT__INIT;
  ev.type = (char *) "exit";
  ev.id = (char *) "c";
  api_call_send (call, &ev.base);
  api_call_send (call, &ev.base);
  if (h->n_held < MAX_HELD)
    {
      h->held[h->n_held++] = call;
      api_call_on_cancel (call, held_on_cancel, h);
    }
  else
    api_call_end (call, GRPC_OK, NULL);
}

static void
drain (int fd)
{
  uint8_t buf[65536];
  while (read (fd, buf, sizeof buf) > 0)
    ;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                   "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
  struct harness h = { .n_held = 0 };
  sd_event *loop = NULL;
  struct api_server *s = NULL;
  int sv[2];
  if (sd_event_new (&loop) < 0 || api_server_new (loop, &s, NULL) < 0
      || socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
    abort ();
  api_server_set_max_message (s, 4096);
  const struct api_method methods[] = {
    { "/types.API/State", &types__state_request__descriptor, &types__state_response__descriptor,
      false, handle_unary },
    { "/types.API/GetServerVersion", &types__get_server_version_request__descriptor,
      &types__get_server_version_response__descriptor, false, handle_unary },
    { "/types.API/Events", &types__events_request__descriptor, &types__event__descriptor, true,
      handle_events },
  };
  for (size_t i = 0; i < ARRAY_SIZE (methods); i++)
    api_server_register (s, &methods[i], &h);
  api_server_register_health (s);

  struct conn *c = server_conn_new (s, sv[0], NULL);
  if (c == NULL)
    abort ();
  bool alive = conn_input (c, preface, sizeof preface - 1) == 0;
  size_t stride = size > 0 ? (size_t) data[0] * 7 + 1 : 1;
  for (size_t off = 1; alive && off < size; off += stride)
    {
      size_t n = size - off < stride ? size - off : stride;
      alive = conn_input (c, data + off, n) == 0;
      drain (sv[1]);
    }
  /* let queued writes and expired deadlines run */
  for (int i = 0; i < 8 && sd_event_run (loop, 0) > 0; i++)
    drain (sv[1]);
  /* finish half of the held calls normally, the rest by teardown */
  while (h.n_held > MAX_HELD / 2 || (h.n_held > 0 && size % 2 == 0))
    {
      struct api_call *call = h.held[--h.n_held];
      api_call_on_cancel (call, NULL, NULL);
      if (api_call_path (call) && strcmp (api_call_path (call), "/types.API/Events") == 0)
        api_call_end (call, GRPC_OK, NULL);
      else
        reply_empty (call, &types__state_response__descriptor);
    }
  for (int i = 0; i < 4 && sd_event_run (loop, 0) > 0; i++)
    drain (sv[1]);
  api_server_free (s);
  if (h.n_held != 0)
    abort (); /* teardown must cancel every held call */
  close (sv[1]);
  sd_event_unref (loop);
  return 0;
}

#ifndef CTRD_LIBFUZZER
/* Plain driver: replay the corpus and deterministic mutants of each seed. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next_rand (void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void
run_mutants (const uint8_t *seed, size_t len, int count)
{
  uint8_t *buf = xmalloc (len + 64);
  for (int i = 0; i < count; i++)
    {
      size_t n = len;
      memcpy (buf, seed, len);
      int edits = 1 + (int) (next_rand () % 4);
      for (int e = 0; e < edits && n > 0; e++)
        switch (next_rand () % 4)
          {
          case 0: buf[next_rand () % n] ^= (uint8_t) (1u << (next_rand () % 8)); break;
          case 1: buf[next_rand () % n] = (uint8_t) next_rand (); break;
          case 2: n = next_rand () % n; break;
          default:
            if (n < len + 64)
              {
                size_t at = next_rand () % n;
                memmove (buf + at + 1, buf + at, n - at);
                buf[at] = (uint8_t) next_rand ();
                n++;
              }
          }
      LLVMFuzzerTestOneInput (buf, n);
    }
  free (buf);
}

int
main (int argc, char **argv)
{
  const char *top = getenv ("CTRD_TOP_SRCDIR");
  cleanup_free char *dflt = xasprintf ("%s/api/tests/fuzz-corpus", top ? top : ".");
  const char *dir = argc > 1 ? argv[1] : dflt;
  struct dirent **names = NULL;
  int n = scandir (dir, &names, NULL, alphasort);
  if (n < 0)
    {
      printf ("Bail out! cannot read corpus %s: %s\n", dir, strerror (errno));
      return 1;
    }
  int tests = 0;
  for (int i = 0; i < n; i++)
    {
      if (names[i]->d_name[0] != '.')
        {
          cleanup_free char *path = path_join (dir, names[i]->d_name);
          cleanup_free char *buf = NULL;
          size_t len = 0;
          cleanup_error struct ctrd_error *err = NULL;
          if (read_file (path, &buf, &len, 1 << 20, &err) < 0)
            printf ("not ok %d - %s: %s\n", ++tests, names[i]->d_name, err->msg);
          else
            {
              LLVMFuzzerTestOneInput ((const uint8_t *) buf, len);
              run_mutants ((const uint8_t *) buf, len, 200);
              /* reaching here is the test: no crash, no abort, (ASan) no leak */
              printf ("ok %d - %s and 200 mutants\n", ++tests, names[i]->d_name);
            }
          fflush (stdout);
        }
      free (names[i]);
    }
  free (names);
  printf ("1..%d\n", tests);
  return 0;
}
#endif
