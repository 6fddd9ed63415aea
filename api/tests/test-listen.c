/* api/listen.c: unix socket creation (directory, mode, stale and live
 * sockets, non-socket files), tcp, address parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/listen.h"
#include "lib/util.h"
#include "lib/tests/testutil.h"

static char tmpdir[64];

static int
setup (void **state)
{
  (void) state;
  strcpy (tmpdir, "/tmp/ctrd-listen.XXXXXX");
  return mkdtemp (tmpdir) ? 0 : -1;
}

static int
teardown (void **state)
{
  (void) state;
  return rm_rf (tmpdir, NULL);
}

static bool
can_connect (const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  strncpy (sa.sun_path, path, sizeof sa.sun_path - 1);
  int fd = socket (AF_UNIX, SOCK_STREAM, 0);
  bool ok = connect (fd, (struct sockaddr *) &sa, sizeof sa) == 0;
  close (fd);
  return ok;
}

static void
assert_listening_fd (int fd)
{
  assert_true (fd >= 0);
  assert_true (fcntl (fd, F_GETFL) & O_NONBLOCK);
  assert_true (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  int v = 0;
  socklen_t len = sizeof v;
  assert_int_equal (getsockopt (fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len), 0);
  assert_int_equal (v, 1);
}

static void
test_unix_new_dir_and_mode (void **state)
{
  (void) state;
  cleanup_free char *path = xasprintf ("%s/a/b/api.sock", tmpdir);
  cleanup_error struct ctrd_error *err = NULL;
  mode_t old = umask (0);
  int fd = api_listen_unix (path, 0660, &err);
  umask (old);
  assert_null (err);
  assert_listening_fd (fd);
  struct stat st;
  assert_int_equal (stat (path, &st), 0);
  assert_true (S_ISSOCK (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0660);
  assert_true (can_connect (path));
  close (fd);
}

static void
test_unix_stale_replaced_live_refused (void **state)
{
  (void) state;
  cleanup_free char *path = xasprintf ("%s/stale.sock", tmpdir);
  cleanup_error struct ctrd_error *err = NULL;
  int fd = api_listen_unix (path, 0600, &err);
  assert_listening_fd (fd);
  /* live: refused, and the live socket keeps working */
  assert_int_equal (api_listen_unix (path, 0600, &err), -1);
  assert_non_null (strstr (err->msg, "another process is listening"));
  assert_int_equal (err->status, EADDRINUSE);
  assert_true (can_connect (path));
  ctrd_error_free (&err);
  /* stale (its listener is gone): replaced */
  close (fd);
  assert_false (can_connect (path));
  fd = api_listen_unix (path, 0600, &err);
  assert_null (err);
  assert_listening_fd (fd);
  assert_true (can_connect (path));
  close (fd);
}

static void
test_unix_refuses_non_socket (void **state)
{
  (void) state;
  cleanup_free char *path = xasprintf ("%s/file", tmpdir);
  cleanup_error struct ctrd_error *err = NULL;
  assert_int_equal (write_file (path, "keep", 4, 0644, NULL), 0);
  assert_int_equal (api_listen_unix (path, 0660, &err), -1);
  assert_non_null (strstr (err->msg, "is not a socket"));
  cleanup_free char *content = NULL;
  size_t len = 0;
  assert_int_equal (read_file (path, &content, &len, 100, NULL), 0);
  assert_string_equal (content, "keep");
  ctrd_error_free (&err);
  /* a path too long for sun_path */
  char longp[200];
  memset (longp, 'x', sizeof longp - 1);
  longp[0] = '/';
  longp[sizeof longp - 1] = '\0';
  assert_int_equal (api_listen_unix (longp, 0660, &err), -1);
  assert_non_null (err);
}

static void
test_address_forms (void **state)
{
  (void) state;
  cleanup_error struct ctrd_error *err = NULL;
  cleanup_free char *abs = xasprintf ("unix://%s/u1.sock", tmpdir);
  int fd = api_listen_address (abs, &err);
  assert_listening_fd (fd);
  close (fd);
  cleanup_free char *bare = xasprintf ("%s/u2.sock", tmpdir);
  fd = api_listen_address (bare, &err);
  assert_listening_fd (fd);
  struct stat st;
  assert_int_equal (stat (bare, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0660);
  close (fd);
  /* unix://rel is relative to the working directory */
  char cwd[4096];
  assert_non_null (getcwd (cwd, sizeof cwd));
  assert_int_equal (chdir (tmpdir), 0);
  fd = api_listen_address ("unix://rel.sock", &err);
  assert_int_equal (chdir (cwd), 0);
  assert_listening_fd (fd);
  close (fd);
  cleanup_free char *rel = xasprintf ("%s/rel.sock", tmpdir);
  assert_int_equal (stat (rel, &st), 0);

  fd = api_listen_address ("tcp://127.0.0.1:0", &err);
  assert_null (err);
  assert_listening_fd (fd);
  struct sockaddr_in sin;
  socklen_t sl = sizeof sin;
  assert_int_equal (getsockname (fd, (struct sockaddr *) &sin, &sl), 0);
  assert_int_equal (sin.sin_family, AF_INET);
  assert_int_equal (ntohl (sin.sin_addr.s_addr), INADDR_LOOPBACK);
  close (fd);

  const char *bad[] = {
    "foo", "unix://", "tcp://127.0.0.1", "tcp://127.0.0.1:", "tcp://[::1:80", "http://x:1", ""
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      assert_int_equal (api_listen_address (bad[i], &err), -1);
      assert_non_null (err);
      ctrd_error_free (&err);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_unix_new_dir_and_mode, setup, teardown),
    cmocka_unit_test_setup_teardown (test_unix_stale_replaced_live_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_unix_refuses_non_socket, setup, teardown),
    cmocka_unit_test_setup_teardown (test_address_forms, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
