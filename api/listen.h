/* Listening sockets for the API server. Every function returns a
 * non-blocking, close-on-exec listening fd, or -1 with *err set. */
#ifndef CTRD_API_LISTEN_H
#define CTRD_API_LISTEN_H

#include <sys/types.h>

#include "lib/error.h"

/* Unix socket at path: the parent directory is created (0700 when missing),
 * a stale socket file (nobody accepting) is replaced, a live socket or a
 * file that is not a socket is refused; the socket gets mode (e.g. 0660). */
int api_listen_unix (const char *path, mode_t mode, struct ctrd_error **err);
/* TCP on "host:port" ("[::1]:port" for IPv6, ":port" or "0.0.0.0:port" for all). */
int api_listen_tcp (const char *hostport, struct ctrd_error **err);
/* "unix:///abs/path", "unix://rel/path", "tcp://host:port" or a bare
 * absolute path (unix sockets get mode 0660). "fd://" is the daemon's job. */
int api_listen_address (const char *address, struct ctrd_error **err);

#endif
