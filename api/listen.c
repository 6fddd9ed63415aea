#include "api/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/util.h"

#define LISTEN_BACKLOG 128

static int
unix_addr (const char *path, struct sockaddr_un *sa, struct ctrd_error **err)
{
  memset (sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (path[0] == '\0' || strlen (path) >= sizeof sa->sun_path)
    return ctrd_error_set (err, ENAMETOOLONG, "invalid unix socket path `%s`", path);
  strcpy (sa->sun_path, path);
  return 0;
}

/* An existing socket file: stale (remove it) or live (refuse)? */
static int
unix_clear_stale (const char *path, const struct sockaddr_un *sa, struct ctrd_error **err)
{
  struct stat st;
  if (lstat (path, &st) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return ctrd_error_set (err, errno, "cannot stat `%s`", path);
    }
  if (!S_ISSOCK (st.st_mode))
    return ctrd_error_set (err, EEXIST, "`%s` exists and is not a socket", path);
  cleanup_close int probe = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0)
    return ctrd_error_set (err, errno, "cannot create socket");
  if (connect (probe, (const struct sockaddr *) sa, sizeof *sa) == 0)
    return ctrd_error_set (err, EADDRINUSE, "another process is listening on `%s`", path);
  if (errno != ECONNREFUSED)
    return ctrd_error_set (err, errno, "cannot probe existing socket `%s`", path);
  if (unlink (path) < 0 && errno != ENOENT)
    return ctrd_error_set (err, errno, "cannot remove stale socket `%s`", path);
  return 0;
}

int
api_listen_unix (const char *path, mode_t mode, struct ctrd_error **err)
{
  struct sockaddr_un sa;
  if (unix_addr (path, &sa, err) < 0)
    return -1;
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  if (slash && slash != dir)
    {
      *slash = '\0';
      if (mkdir_p (dir, 0700, err) < 0)
        return ctrd_error_wrap (err, "cannot create socket directory");
    }
  if (unix_clear_stale (path, &sa, err) < 0)
    return -1;
  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return ctrd_error_set (err, errno, "cannot create socket");
  /* Create the socket file with no access, then open it up to mode: no
   * window in which a wider umask lets others connect. */
  mode_t old = umask (0777);
  int r = bind (fd, (const struct sockaddr *) &sa, sizeof sa);
  int e = errno;
  umask (old);
  if (r < 0)
    return ctrd_error_set (err, e, "cannot bind `%s`", path);
  if (chmod (path, mode) < 0)
    {
      e = errno;
      unlink (path);
      return ctrd_error_set (err, e, "cannot chmod `%s`", path);
    }
  if (listen (fd, LISTEN_BACKLOG) < 0)
    {
      e = errno;
      unlink (path);
      return ctrd_error_set (err, e, "cannot listen on `%s`", path);
    }
  return take_fd (&fd);
}

int
api_listen_tcp (const char *hostport, struct ctrd_error **err)
{
  cleanup_free char *host = NULL;
  const char *colon = strrchr (hostport, ':');
  if (colon == NULL || colon[1] == '\0')
    return ctrd_error_set (err, EINVAL, "invalid tcp address `%s`: missing port", hostport);
  if (hostport[0] == '[')
    {
      const char *close_br = strchr (hostport, ']');
      if (close_br == NULL || close_br + 1 != colon)
        return ctrd_error_set (err, EINVAL, "invalid tcp address `%s`", hostport);
      host = xstrndup (hostport + 1, (size_t) (close_br - hostport - 1));
    }
  else
    host = xstrndup (hostport, (size_t) (colon - hostport));

  struct addrinfo hints = { .ai_family = AF_UNSPEC,
                            .ai_socktype = SOCK_STREAM,
                            .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
  struct addrinfo *res = NULL;
  int gr = getaddrinfo (host[0] ? host : NULL, colon + 1, &hints, &res);
  if (gr != 0)
    return ctrd_error_set (err, EINVAL, "cannot resolve `%s`: %s", hostport, gai_strerror (gr));
  int fd = -1, e = 0;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
    {
      fd = socket (ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0)
        {
          e = errno;
          continue;
        }
      int one = 1;
      setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (bind (fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen (fd, LISTEN_BACKLOG) == 0)
        break;
      e = errno;
      close (fd);
      fd = -1;
    }
  freeaddrinfo (res);
  if (fd < 0)
    return ctrd_error_set (err, e, "cannot listen on tcp `%s`", hostport);
  return fd;
}

int
api_listen_address (const char *address, struct ctrd_error **err)
{
  if (strncmp (address, "unix://", 7) == 0)
    {
      if (address[7] == '\0')
        return ctrd_error_set (err, EINVAL, "invalid address `%s`: empty path", address);
      return api_listen_unix (address + 7, 0660, err);
    }
  if (strncmp (address, "tcp://", 6) == 0)
    return api_listen_tcp (address + 6, err);
  if (address[0] == '/')
    return api_listen_unix (address, 0660, err);
  return ctrd_error_set (err, EINVAL,
                         "invalid address `%s`: expected unix://, tcp:// or an "
                         "absolute path",
                         address);
}
