/* Unit tests for supervisor/metrics: go-metrics log layout, graphite lines,
 * percentiles, rates, the epoll fd count, and a real graphite flush to a
 * local TCP listener driven by the loop. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/util.h"
#include "supervisor/metrics.h"

static void
set_counters (struct metrics *m, void *data)
{
  metrics_counter_set (m, METRICS_CONTAINERS, *(int *) data);
}

static void
test_log_layout (void **state UNUSED)
{
  struct metrics *m = NULL;
  int containers = 3;
  struct metrics_config cfg = { .refresh = set_counters, .data = &containers };
  assert_int_equal (metrics_new (&cfg, &m, NULL), 0);
  for (int i = 1; i <= 100; i++)
    metrics_timer_record (m, METRICS_CREATE, i * 1000);
  metrics_counter_add (m, METRICS_TASKS, 7);
  char *t = metrics_format_log (m, 1496160783);
  /* every line carries Go's log prefix */
  for (char *l = t; *l; l = strchr (l, '\n') + 1)
    assert_memory_equal (l, "[containerd] ", 13);
  assert_non_null (strstr (t, "counter containers\n"));
  assert_non_null (strstr (t, "  count:               3\n"));
  assert_non_null (strstr (t, "counter tasks\n"));
  assert_non_null (strstr (t, "  count:               7\n"));
  assert_non_null (strstr (t, "gauge fds\n"));
  assert_non_null (strstr (t, "gauge memory-used\n"));
  assert_non_null (strstr (t, "timer container-create-time\n"));
  assert_non_null (strstr (t, "  count:             100\n"));
  assert_non_null (strstr (t, "  min:              1000.00ns\n"));
  assert_non_null (strstr (t, "  max:            100000.00ns\n"));
  assert_non_null (strstr (t, "  mean:            50500.00ns\n"));
  /* pos = 0.5 * 101 = 50.5 → between the 50th and 51st values */
  assert_non_null (strstr (t, "  median:          50500.00ns\n"));
  assert_non_null (strstr (t, "  99.9%:          100000.00ns\n"));
  assert_non_null (strstr (t, "timer exit-process-time\n"));
  free (t);
  metrics_free (m);
}

static void
test_graphite_lines_and_rates (void **state UNUSED)
{
  struct metrics *m = NULL;
  struct metrics_config cfg = { 0 };
  assert_int_equal (metrics_new (&cfg, &m, NULL), 0);
  for (int i = 0; i < 50; i++)
    metrics_timer_record (m, METRICS_STATS, 2000);
  metrics_tick (m); /* 50 in 5 s → 10/s */
  char *t = metrics_format_graphite (m, 1496160783);
  assert_non_null (strstr (t, "metrics.containers.count 0 1496160783\n"));
  assert_non_null (strstr (t, "metrics.container-stats-time.count 50 1496160783\n"));
  assert_non_null (strstr (t, "metrics.container-stats-time.min 2000 1496160783\n"));
  assert_non_null (strstr (t, "metrics.container-stats-time.999-percentile 2000.00 1496160783\n"));
  assert_non_null (strstr (t, "metrics.container-stats-time.one-minute 10.00 1496160783\n"));
  assert_non_null (strstr (t, "metrics.goroutines.value 1 1496160783\n"));
  free (t);
  metrics_tick (m); /* nothing new: the 1-minute rate decays */
  t = metrics_format_graphite (m, 1);
  assert_null (strstr (t, "one-minute 10.00"));
  free (t);
  metrics_free (m);
}

static void
test_bad_graphite (void **state UNUSED)
{
  struct metrics *m = NULL;
  struct ctrd_error *err = NULL;
  struct metrics_config cfg = { .graphite = "localhost" };
  assert_int_equal (metrics_new (&cfg, &m, &err), -1);
  assert_non_null (strstr (err->msg, "missing port"));
  ctrd_error_free (&err);
}

static void
test_epoll_count (void **state UNUSED)
{
  int ep = epoll_create1 (EPOLL_CLOEXEC);
  int p[2];
  assert_int_equal (pipe (p), 0);
  assert_int_equal (metrics_epoll_fd_count (ep), 0);
  struct epoll_event ev = { .events = EPOLLIN };
  epoll_ctl (ep, EPOLL_CTL_ADD, p[0], &ev);
  epoll_ctl (ep, EPOLL_CTL_ADD, p[1], &ev);
  assert_int_equal (metrics_epoll_fd_count (ep), 2);
  close (p[0]);
  close (p[1]);
  close (ep);
}

/* A graphite "server" in the same loop: accept, then read (without
 * blocking the loop, which the sender needs) until EOF. */
struct gserver
{
  char buf[65536];
  size_t len;
  char *got;
  sd_event_source *conn;
};

static int
on_conn (sd_event_source *s, int fd, uint32_t ev UNUSED, void *data)
{
  struct gserver *g = data;
  ssize_t n = read (fd, g->buf + g->len, sizeof g->buf - 1 - g->len);
  if (n > 0)
    {
      g->len += (size_t) n;
      return 0;
    }
  if (n < 0 && errno == EAGAIN)
    return 0;
  g->buf[g->len] = '\0';
  g->got = xstrdup (g->buf);
  sd_event_exit (sd_event_source_get_event (s), 0);
  sd_event_source_set_enabled (s, SD_EVENT_OFF);
  close (fd);
  return 0;
}

static int
on_accept (sd_event_source *s, int fd, uint32_t ev UNUSED, void *data)
{
  struct gserver *g = data;
  int c = accept4 (fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  assert_true (c >= 0);
  assert_int_equal (
      sd_event_add_io (sd_event_source_get_event (s), &g->conn, c, EPOLLIN, on_conn, g), 0);
  return 0;
}

static void
test_graphite_flush (void **state UNUSED)
{
  sd_event *loop = NULL;
  assert_int_equal (sd_event_new (&loop), 0);
  int lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  assert_int_equal (bind (lfd, (struct sockaddr *) &a, sizeof a), 0);
  socklen_t al = sizeof a;
  getsockname (lfd, (struct sockaddr *) &a, &al);
  assert_int_equal (listen (lfd, 4), 0);
  char addr[64];
  snprintf (addr, sizeof addr, "127.0.0.1:%u", ntohs (a.sin_port));
  struct gserver g = { .len = 0 };
  sd_event_source *src = NULL;
  assert_int_equal (sd_event_add_io (loop, &src, lfd, EPOLLIN, on_accept, &g), 0);
  struct metrics *m = NULL;
  struct metrics_config cfg = {
    .loop = loop, .interval_ns = 1, .graphite = addr, .graphite_interval_ns = 20 * 1000000LL
  };
  assert_int_equal (metrics_new (&cfg, &m, NULL), 0);
  metrics_timer_record (m, METRICS_EXEC, 5);
  /* the first flush is due 20 ms after start: the loop runs until it arrived */
  assert_int_equal (sd_event_loop (loop), 0);
  assert_non_null (g.got);
  assert_non_null (strstr (g.got, "metrics.exec-process-time.count 1 "));
  free (g.got);
  metrics_free (m);
  sd_event_source_unref (g.conn);
  sd_event_source_unref (src);
  close (lfd);
  sd_event_unref (loop);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_log_layout),     cmocka_unit_test (test_graphite_lines_and_rates),
    cmocka_unit_test (test_bad_graphite),   cmocka_unit_test (test_epoll_count),
    cmocka_unit_test (test_graphite_flush),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
