/* Connecting the client's socket (private to api/client*.c). */
#ifndef CTRD_API_CLIENT_DIAL_H
#define CTRD_API_CLIENT_DIAL_H

#include <stdint.h>

#include "lib/error.h"

/* Connect to "unix:///abs", "unix://rel", "tcp://host:port" or a bare path,
 * waiting at most timeout_ns (0 = no bound). Returns a non-blocking,
 * close-on-exec fd and the :authority to send (malloc'd); -1 with a gRPC
 * error naming the address (UNAVAILABLE, INVALID_ARGUMENT for a bad one). */
int client_dial (const char *address, int64_t timeout_ns, char **authority,
                 struct ctrd_error **err);

#endif
