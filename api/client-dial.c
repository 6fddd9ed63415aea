/* Connecting the client: address forms of containerd 0.2's ctr and Docker
 * (unix:// URLs, bare socket paths) plus tcp://, with a bounded connect. */
#include "api/client-dial.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/timeutil.h"
#include "lib/util.h"

static int
connect_error (struct ctrd_error **err, const char *address, int errnum)
{
  char msg[256];
  snprintf (msg, sizeof msg, "%s", strerror (errnum));
  if (msg[0] >= 'A' && msg[0] <= 'Z' && !(msg[1] >= 'A' && msg[1] <= 'Z'))
    msg[0] = (char) (msg[0] - 'A' + 'a');
  ctrd_error_grpc (err, GRPC_UNAVAILABLE, "cannot connect to %s: %s", address, msg);
  if (err != NULL && *err != NULL)
    (*err)->status = errnum;
  return -1;
}

/* Unix socket: a blocking connect bounded by SO_SNDTIMEO (which also bounds
 * waiting for room in a full listen backlog). */
static int
connect_unix (const char *address, const char *path, int64_t timeout_ns, struct ctrd_error **err)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  if (path[0] == '\0' || strlen (path) >= sizeof sun.sun_path)
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "invalid socket path in address `%s`",
                            address);
  strcpy (sun.sun_path, path);
  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return connect_error (err, address, errno);
  struct timeval tv = { 0, 0 };
  if (timeout_ns > 0)
    {
      tv.tv_sec = timeout_ns / NSEC_PER_SEC;
      tv.tv_usec = (timeout_ns % NSEC_PER_SEC + NSEC_PER_USEC - 1) / NSEC_PER_USEC;
      if (setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        return connect_error (err, address, errno);
    }
  int r;
  do
    r = connect (fd, (struct sockaddr *) &sun, sizeof sun);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return connect_error (err, address,
                          errno == EAGAIN || errno == EINPROGRESS ? ETIMEDOUT : errno);
  tv = (struct timeval){ 0, 0 };
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return take_fd (&fd);
}

static int
connect_tcp (const char *address, int family, const char *hostport, int64_t timeout_ns,
             struct ctrd_error **err)
{
  cleanup_free char *host = xstrdup (hostport);
  char *colon = strrchr (host, ':');
  if (colon == NULL || colon[1] == '\0')
    return ctrd_error_grpc (err, GRPC_INVALID_ARGUMENT, "address `%s` lacks a port", address);
  *colon = '\0';
  char *h = host;
  if (h[0] == '[' && colon > h && colon[-1] == ']')
    {
      h++;
      colon[-1] = '\0';
    }
  struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM };
  struct addrinfo *res = NULL;
  int gr = getaddrinfo (h[0] ? h : NULL, colon + 1, &hints, &res);
  if (gr != 0)
    return ctrd_error_grpc (err, GRPC_UNAVAILABLE, "cannot connect to %s: %s", address,
                            gai_strerror (gr));
  int64_t deadline = timeout_ns > 0 ? time_now_mono_ns () + timeout_ns : -1;
  int last = ECONNREFUSED, fd = -1;
  for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
    {
      fd = socket (ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd < 0)
        {
          last = errno;
          continue;
        }
      if (connect (fd, ai->ai_addr, ai->ai_addrlen) < 0)
        {
          int e = errno;
          if (e == EINPROGRESS || e == EINTR)
            {
              struct pollfd pfd = { .fd = fd, .events = POLLOUT };
              int n;
              do
                {
                  int64_t left = deadline < 0 ? -1 : deadline - time_now_mono_ns ();
                  int ms = left < 0 ? (deadline < 0 ? -1 : 0) : (int) (left / NSEC_PER_MSEC + 1);
                  n = poll (&pfd, 1, ms);
                }
              while (n < 0 && errno == EINTR);
              socklen_t sl = sizeof e;
              if (n == 0)
                e = ETIMEDOUT;
              else if (n < 0 || getsockopt (fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
                e = errno;
            }
          if (e != 0)
            {
              last = e;
              close (fd);
              fd = -1;
            }
        }
    }
  freeaddrinfo (res);
  if (fd < 0)
    return connect_error (err, address, last);
  return fd;
}

int
client_dial (const char *address, int64_t timeout_ns, char **authority, struct ctrd_error **err)
{
  int fd;
  const char *auth = "localhost";
  if (strncmp (address, "unix://", 7) == 0)
    fd = connect_unix (address, address + 7, timeout_ns, err);
  else if (strncmp (address, "tcp://", 6) == 0)
    {
      fd = connect_tcp (address, AF_UNSPEC, address + 6, timeout_ns, err);
      auth = address + 6;
    }
  else if (strncmp (address, "tcp4://", 7) == 0 || strncmp (address, "tcp6://", 7) == 0)
    {
      /* as Go's net.Dial networks "tcp4" and "tcp6" */
      fd = connect_tcp (address, address[3] == '4' ? AF_INET : AF_INET6, address + 7, timeout_ns,
                        err);
      auth = address + 7;
    }
  else if (strstr (address, "://") == NULL)
    fd = connect_unix (address, address, timeout_ns, err);
  else
    return ctrd_error_grpc (
        err, GRPC_INVALID_ARGUMENT,
        "unsupported address `%s` (want unix://PATH, tcp[46]://HOST:PORT or a path)", address);
  if (fd < 0)
    return -1;
  if (fd_set_nonblock (fd, true) < 0)
    {
      int e = errno;
      close (fd);
      return connect_error (err, address, e);
    }

  *authority = xstrdup (auth);
  return fd;
}
