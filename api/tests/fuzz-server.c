/* Fuzz target for the gRPC server's input path: bytes from a client go
 * through nghttp2_session_mem_recv with the server's real callbacks, request
 * framing, decoding, dispatch to handlers (synchronous replies, held calls,
 * a stream), deadlines, cancellation and teardown. The harness sends the
 * client preface and an empty SETTINGS frame itself; the first input byte
 * picks the chunk size the rest is fed in.
 *
 * make check builds it with a plain driver (below): each file of the seed
 * corpus (api/tests/fuzz-corpus/, made by make-fuzz-corpus.py) plus 200
 * deterministic mutants of it. One TAP check per seed on what the server
 * answered it (decoded HTTP/2, against a table of expected answers), one for
 * the whole corpus of mutants (no crash or abort; memory errors and leaks
 * only under ASan+UBSan).
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

#include <nghttp2/nghttp2.h>

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

/* Where drain() keeps the server's output (the plain driver's seed runs);
 * NULL: discarded. */
static struct capture
{
  uint8_t *data;
  size_t len, cap;
} * capture;

static void
drain (int fd)
{
  uint8_t buf[65536];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0)
    if (capture)
      {
        if (capture->len + (size_t) n > capture->cap)
          {
            capture->cap = (capture->len + (size_t) n) * 2;
            capture->data = xrealloc (capture->data, capture->cap);
          }
        memcpy (capture->data + capture->len, buf, (size_t) n);
        capture->len += (size_t) n;
      }
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
/* Plain driver: replay the corpus and deterministic mutants of each seed.
 *
 * Each seed's run is also checked on what the server answered: its HTTP/2
 * output is split into frames and every header block decoded (nghttp2's
 * HPACK inflater, independent of the server's framing code), giving a
 * summary "<stream>:<item> ..." in output order, items being h<:status>,
 * g<grpc-status>, d<DATA payload length> (non-empty DATA only), r<RST_STREAM
 * code> and G<GOAWAY code> (stream 0). The seeds' expected summaries are in
 * the table below (what the gRPC contract says each request gets, docs/api.md). */
struct answer_text
{
  char s[1024];
};

static void
answer_add (struct answer_text *a, uint32_t stream, char kind, const char *v, size_t vlen)
{
  size_t n = strlen (a->s);
  snprintf (a->s + n, sizeof a->s - n, "%s%u:%c%.*s", n ? " " : "", stream, kind, (int) vlen, v);
}

/* Decode one complete header block of stream into a. False when HPACK fails. */
static bool
answer_headers (nghttp2_hd_inflater *inf, uint32_t stream, const uint8_t *in, size_t len,
                struct answer_text *a)
{
  for (;;)
    {
      nghttp2_nv nv;
      int flags = 0;
      ssize_t r = nghttp2_hd_inflate_hd2 (inf, &nv, &flags, in, len, 1);
      if (r < 0)
        return false;
      in += r;
      len -= (size_t) r;
      if (flags & NGHTTP2_HD_INFLATE_EMIT)
        {
          if (nv.namelen == 7 && memcmp (nv.name, ":status", 7) == 0)
            answer_add (a, stream, 'h', (const char *) nv.value, nv.valuelen);
          else if (nv.namelen == 11 && memcmp (nv.name, "grpc-status", 11) == 0)
            answer_add (a, stream, 'g', (const char *) nv.value, nv.valuelen);
        }
      if (flags & NGHTTP2_HD_INFLATE_FINAL)
        {
          nghttp2_hd_inflate_end_headers (inf);
          return true;
        }
      if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && len == 0)
        return false;
    }
}

static uint32_t
be32 (const uint8_t *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/* The summary of the server's output o (see above); "?..." when it is not
 * well-formed HTTP/2. */
static void
answer_summary (const struct capture *o, struct answer_text *a)
{
  a->s[0] = '\0';
  nghttp2_hd_inflater *inf = NULL;
  if (nghttp2_hd_inflate_new (&inf) != 0)
    abort ();
  uint8_t *block = NULL;
  size_t blen = 0;
  uint32_t bstream = 0;
  size_t off = 0;
  while (off + 9 <= o->len)
    {
      const uint8_t *f = o->data + off;
      size_t len = (size_t) f[0] << 16 | (size_t) f[1] << 8 | f[2];
      uint8_t type = f[3], fl = f[4];
      uint32_t stream = be32 (f + 5) & 0x7fffffffu;
      if (off + 9 + len > o->len)
        break;
      const uint8_t *p = f + 9;
      size_t plen = len;
      if (type == 1 || type == 9) /* HEADERS, CONTINUATION */
        {
          if (type == 1 && (fl & 0x8)) /* PADDED */
            {
              if (plen < 1u + p[0])
                break;
              plen -= 1u + p[0];
              p++;
            }
          if (type == 1 && (fl & 0x20)) /* PRIORITY */
            {
              if (plen < 5)
                break;
              p += 5;
              plen -= 5;
            }
          if (type == 1)
            blen = 0, bstream = stream;
          block = xrealloc (block, blen + plen + 1);
          memcpy (block + blen, p, plen);
          blen += plen;
          if ((fl & 0x4) && !answer_headers (inf, bstream, block, blen, a)) /* END_HEADERS */
            {
              answer_add (a, bstream, '?', "hpack", 5);
              break;
            }
        }
      else if (type == 0 && len > 0) /* DATA */
        {
          char n[24];
          int k = snprintf (n, sizeof n, "%zu", len);
          answer_add (a, stream, 'd', n, (size_t) k);
        }
      else if ((type == 3 && len == 4) || (type == 7 && len >= 8)) /* RST_STREAM, GOAWAY */
        {
          char n[24];
          int k = snprintf (n, sizeof n, "%u", be32 (p + (type == 7 ? 4 : 0)));
          answer_add (a, stream, type == 3 ? 'r' : 'G', n, (size_t) k);
        }
      off += 9 + len;
    }
  if (off != o->len)
    answer_add (a, 0, '?', "frame", 5);
  free (block);
  nghttp2_hd_inflate_del (inf);
}

/* What each seed must get (make-fuzz-corpus.py says what each sends). */
static const struct
{
  const char *seed, *answer;
} expected[] = {
  { "bad-ctype", "1:h415 1:g13" },
  { "bad-timeout", "1:h200 1:g13" }, /* malformed grpc-timeout: INTERNAL */
  { "compressed", "1:h200 1:g12" },  /* no decompressor: UNIMPLEMENTED */
  /* the client's GOAWAY names stream 1, which a server never opens: a
   * connection error (PROTOCOL_ERROR) before the request is answered */
  { "control-frames", "0:G1" },
  { "events-then-rst", "" }, /* reset before anything was sent */
  { "get", "1:h405 1:g13" },
  { "hang-deadline", "1:h200 1:g4" }, /* DEADLINE_EXCEEDED */
  { "hang-then-rst", "" },
  { "health", "1:h200 1:d7 1:g0" }, /* SERVING */
  { "health-unknown", "1:h200 1:g5" },
  /* the held calls (every third stream) are cancelled by the teardown */
  { "many-streams",
    "1:h200 1:d5 1:g0 5:h200 5:d5 5:g0 7:h200 7:d5 7:g0 11:h200 11:d5 11:g0 13:h200 13:d5 13:g0 "
    "17:h200 17:d5 17:g0 19:h200 19:d5 19:g0 23:h200 23:d5 23:g0 25:h200 25:d5 25:g0 29:h200 29:d5 "
    "29:g0 31:h200 31:d5 31:g0 35:h200 35:d5 35:g0 37:h200 37:d5 37:g0" },
  { "oversized", "1:h200 1:g8" }, /* RESOURCE_EXHAUSTED */
  { "split-data", "1:h200 1:d5 1:g0" },
  { "trailers", "1:h200 1:d5 1:g0" },
  { "truncated", "1:h200 1:g13" },
  { "two-messages", "1:h200 1:g13" }, /* two requests on a unary call */
  { "unary-fail", "1:h200 1:g2" },
  { "unary-state", "1:h200 1:d5 1:g0" },
  { "undecodable", "1:h200 1:g13" },
  { "unknown-path", "1:h200 1:g12" },
  { "version", "1:h200 1:d5 1:g0" },
};

static const char *
expected_answer (const char *seed)
{
  for (size_t i = 0; i < ARRAY_SIZE (expected); i++)
    if (strcmp (expected[i].seed, seed) == 0)
      return expected[i].answer;
  return NULL;
}

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
          case 0:
            buf[next_rand () % n] ^= (uint8_t) (1u << (next_rand () % 8));
            break;
          case 1:
            buf[next_rand () % n] = (uint8_t) next_rand ();
            break;
          case 2:
            n = next_rand () % n;
            break;
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
  int tests = 0, failed = 0, seeds = 0;
  for (int i = 0; i < n; i++)
    {
      if (names[i]->d_name[0] != '.')
        {
          const char *name = names[i]->d_name;
          cleanup_free char *path = path_join (dir, name);
          cleanup_free char *buf = NULL;
          size_t len = 0;
          cleanup_error struct ctrd_error *err = NULL;
          if (read_file (path, &buf, &len, 1 << 20, &err) < 0)
            {
              printf ("not ok %d - %s: %s\n", ++tests, name, err->msg);
              failed++;
            }
          else
            {
              struct capture out = { NULL, 0, 0 };
              capture = &out;
              LLVMFuzzerTestOneInput ((const uint8_t *) buf, len);
              capture = NULL;
              struct answer_text got;
              answer_summary (&out, &got);
              free (out.data);
              const char *want = expected_answer (name);
              bool good = want && strcmp (got.s, want) == 0;
              printf ("%sok %d - %s: the server answers %s\n", good ? "" : "not ", ++tests, name,
                      got.s);
              if (!good)
                {
                  printf ("# want %s\n", want ? want : "(no expected answer for this seed)");
                  failed++;
                }
              run_mutants ((const uint8_t *) buf, len, 200);
              seeds++;
            }
          fflush (stdout);
        }
      free (names[i]);
    }
  free (names);
  /* Reaching here is the check of the mutants: no crash, no abort (held
   * calls all ended), and under ASan+UBSan no memory error or leak. One
   * check for the corpus: a plain build catches little else. */
  printf ("ok %d - %d seeds x 200 mutants: no crash or abort%s\n", ++tests, seeds,
#if defined(__SANITIZE_ADDRESS__)
          " (ASan+UBSan)"
#else
          " (build without sanitizers: memory errors are found only under ASan)"
#endif
  );
  printf ("1..%d\n", tests);
  return failed ? 1 : 0;
}
#endif
