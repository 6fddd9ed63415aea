/* Load generator for bench/api-bench with ctrd's C client (the Python client
 * bounds calls/s well below what the server does).
 * Usage: api-bench-client ADDRESS unary N | streams N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.pb-c.h"
#include "api/client.h"
#include "lib/timeutil.h"
#include "lib/util.h"

int
main (int argc, char **argv)
{
  if (argc != 4)
    {
      fprintf (stderr, "usage: %s ADDRESS unary|streams N\n", argv[0]);
      return 2;
    }
  long n = strtol (argv[3], NULL, 10);
  cleanup_error struct ctrd_error *err = NULL;
  struct api_client *c = NULL;
  if (api_client_connect (argv[1], 5 * NSEC_PER_SEC, &c, &err) < 0)
    {
      fprintf (stderr, "connect: %s\n", err->msg);
      return 1;
    }
  int64_t t0 = time_now_mono_ns ();
  if (strcmp (argv[2], "unary") == 0)
    {
      Types__StateRequest req = TYPES__STATE_REQUEST__INIT;
      req.id = (char *) "c1";
      for (long i = 0; i < n; i++)
        {
          ProtobufCMessage *resp = NULL;
          if (api_client_call (c, "/types.API/State", &req.base, &types__state_response__descriptor,
                               &resp, 10 * NSEC_PER_SEC, &err)
              < 0)
            {
              fprintf (stderr, "call %ld: %s\n", i, err->msg);
              return 1;
            }
          protobuf_c_message_free_unpacked (resp, NULL);
        }
      double s = (double) (time_now_mono_ns () - t0) / 1e9;
      printf ("%ld sequential unary calls (C client): %.2f s, %.0f calls/s\n", n, s,
              (double) n / s);
    }
  else
    {
      Types__EventsRequest req = TYPES__EVENTS_REQUEST__INIT;
      req.id = (char *) "wait";
      struct api_stream **st = xmalloc0 ((size_t) n * sizeof *st);
      for (long i = 0; i < n; i++)
        {
          ProtobufCMessage *m = NULL;
          if (api_client_stream_open (c, "/types.API/Events", &req.base, &types__event__descriptor,
                                      &st[i], &err)
                  < 0
              || api_stream_next (st[i], &m, 10 * NSEC_PER_SEC, &err) != API_STREAM_MSG)
            {
              fprintf (stderr, "stream %ld: %s\n", i, err ? err->msg : "no message");
              return 1;
            }
          protobuf_c_message_free_unpacked (m, NULL);
        }
      printf ("%ld Events streams open (C client): %.2f s\n", n,
              (double) (time_now_mono_ns () - t0) / 1e9);
      fflush (stdout);
      /* wait for the driver to measure, then cancel all */
      char line[16];
      if (fgets (line, sizeof line, stdin) == NULL)
        return 1;
      for (long i = 0; i < n; i++)
        api_stream_free (st[i]);
      free (st);
      /* a round trip: the cancels have been processed when it returns */
      Types__StateRequest sreq = TYPES__STATE_REQUEST__INIT;
      ProtobufCMessage *resp = NULL;
      if (api_client_call (c, "/types.API/State", &sreq.base, &types__state_response__descriptor,
                           &resp, 10 * NSEC_PER_SEC, &err)
          == 0)
        protobuf_c_message_free_unpacked (resp, NULL);
      printf ("cancelled\n");
      fflush (stdout);
      if (fgets (line, sizeof line, stdin) == NULL)
        return 1;
    }
  api_client_free (c);
  return 0;
}
