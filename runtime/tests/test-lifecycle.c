/* The lifecycle tables (docs/daemon.md "The container lifecycle", "The
 * process lifecycle"): every
 * (state, event) pair has an action (no hole), the events marked illegal
 * are refused without a change, and a few entries that carry the design
 * (an exit during the start is deferred, an OOM during an abort is not an
 * event, a cancel after the launch changes nothing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/util.h"
#include "runtime/internal.h"

static int n_emitted;
static char last_type[32];

static void
on_emit (void *data UNUSED, const char *type, const char *id UNUSED, const char *pid UNUSED,
         uint32_t status UNUSED)
{
  n_emitted++;
  snprintf (last_type, sizeof last_type, "%s", type);
}

static struct runtime *
test_runtime (void)
{
  struct runtime_config cfg = { .state_dir = "/nonexistent/ctrd-test",
                                .shim = "containerd-shim",
                                .runtime = "runc",
                                .emit = on_emit };
  return runtime_new (&cfg);
}

static void
test_container_table_complete (void **state UNUSED)
{
  size_t legal = 0;
  for (int s = 0; s < CONTAINER_NSTATES; s++)
    for (int e = 0; e < CONTAINER_NEVENTS; e++)
      {
        container_action_fn *fn =
            container_action ((enum container_state) s, (enum container_event) e);
        if (!fn)
          fail_msg ("no action for state %s event %s", container_state_name (s),
                    container_event_name (e));
        if (fn != container_illegal)
          legal++;
        assert_string_not_equal (container_state_name (s), "?");
        assert_string_not_equal (container_event_name (e), "?");
      }
  /* an index outside the table has no action */
  assert_null (container_action (CONTAINER_NSTATES, 0));
  assert_null (container_action (0, CONTAINER_NEVENTS));
  /* every state takes some event, and every event is legal somewhere */
  for (int s = 0; s < CONTAINER_NSTATES; s++)
    {
      int n = 0;
      for (int e = 0; e < CONTAINER_NEVENTS; e++)
        n += container_action (s, e) != container_illegal;
      assert_true (n > 0);
    }
  for (int e = 0; e < CONTAINER_NEVENTS; e++)
    {
      int n = 0;
      for (int s = 0; s < CONTAINER_NSTATES; s++)
        n += container_action (s, e) != container_illegal;
      assert_true (n > 0);
    }
  assert_true (legal < (size_t) CONTAINER_NSTATES * CONTAINER_NEVENTS);
}

/* Each illegal pair is refused (-1), the state stays, nothing is emitted. */
static void
test_container_illegal_rejected (void **state UNUSED)
{
  struct runtime *rt = test_runtime ();
  int refused = 0;
  for (int s = 0; s < CONTAINER_NSTATES; s++)
    for (int e = 0; e < CONTAINER_NEVENTS; e++)
      {
        if (container_action (s, e) != container_illegal)
          continue;
        struct container *c = container_alloc (rt, "c1");
        c->state = (enum container_state) s;
        struct container_ev ev = { .type = (enum container_event) e };
        n_emitted = 0;
        assert_int_equal (container_event (c, &ev), -1);
        assert_int_equal (c->state, s);
        assert_int_equal (n_emitted, 0);
        assert_null (c->job);
        container_free (c);
        refused++;
      }
  assert_true (refused > 0);
  /* LAUNCHED only while CREATING; JOB_DONE never while RUNNING */
  assert_ptr_equal (container_action (CONTAINER_RUNNING, CONTAINER_EV_LAUNCHED), container_illegal);
  assert_ptr_equal (container_action (CONTAINER_RUNNING, CONTAINER_EV_JOB_DONE), container_illegal);
  assert_ptr_not_equal (container_action (CONTAINER_CREATING, CONTAINER_EV_LAUNCHED),
                        container_illegal);
  runtime_free (rt);
}

/* Entries that need no loop: they change nothing but what they say. */
static void
test_container_entries (void **state UNUSED)
{
  struct runtime *rt = test_runtime ();
  struct container *c = container_alloc (rt, "c1");
  struct process *p = process_new (c, "init");
  /* an exit while the start runs waits for it: state and events unchanged */
  for (enum container_state s = CONTAINER_CREATING; s <= CONTAINER_STARTING; s++)
    {
      c->state = s;
      p->state = PROCESS_EXITED;
      struct container_ev ev = { .type = CONTAINER_EV_INIT_EXIT, .p = p };
      n_emitted = 0;
      assert_int_equal (container_event (c, &ev), 0);
      assert_int_equal (c->state, s);
      assert_int_equal (n_emitted, 0);
    }
  /* an OOM is reported, except while a failed start is undone */
  for (int s = 0; s < CONTAINER_NSTATES; s++)
    {
      c->state = (enum container_state) s;
      struct container_ev ev = { .type = CONTAINER_EV_OOM };
      n_emitted = 0;
      last_type[0] = '\0';
      assert_int_equal (container_event (c, &ev), 0);
      assert_int_equal (c->state, s);
      if (container_state_aborting (c->state))
        assert_int_equal (n_emitted, 0);
      else
        {
          assert_int_equal (n_emitted, 1);
          assert_string_equal (last_type, "oom");
        }
    }
  /* a cancel after the launch: the start completes normally */
  for (int s = CONTAINER_STARTING; s < CONTAINER_NSTATES; s++)
    {
      c->state = (enum container_state) s;
      struct container_ev ev = { .type = CONTAINER_EV_CANCEL };
      n_emitted = 0;
      assert_int_equal (container_event (c, &ev), 0);
      assert_int_equal (c->state, s);
      assert_int_equal (n_emitted, 0);
    }
  /* the sub-states of one phase are adjacent */
  assert_true (container_state_aborting (CONTAINER_ABORT_INSPECT));
  assert_true (container_state_aborting (CONTAINER_ABORT_SETTLE));
  assert_false (container_state_aborting (CONTAINER_STOPPING_DELETE));
  assert_false (container_state_aborting (CONTAINER_DRAINING));
  assert_true (container_state_draining (CONTAINER_DRAIN_DELETE));
  assert_true (container_state_stopping (CONTAINER_STOPPING_DELETE));
  container_free (c);
  runtime_free (rt);
}

static void
test_process_table (void **state UNUSED)
{
  for (int s = 0; s < PROCESS_NSTATES; s++)
    for (int e = 0; e < PROCESS_NEVENTS; e++)
      {
        if (!process_action (s, e))
          fail_msg ("no action for process state %s event %s", process_state_name (s),
                    process_event_name (e));
        assert_string_not_equal (process_state_name (s), "?");
        assert_string_not_equal (process_event_name (e), "?");
      }
  assert_null (process_action (PROCESS_NSTATES, 0));
  assert_null (process_action (0, PROCESS_NEVENTS));
  /* illegal pairs are refused with no change */
  struct runtime *rt = test_runtime ();
  struct container *c = container_alloc (rt, "c1");
  struct process *p = process_new (c, "e1");
  int refused = 0;
  for (int s = 0; s < PROCESS_NSTATES; s++)
    for (int e = 0; e < PROCESS_NEVENTS; e++)
      {
        if (process_action (s, e) != process_illegal)
          continue;
        p->state = (enum process_state) s;
        struct process_ev ev = { .type = (enum process_event) e };
        n_emitted = 0;
        assert_int_equal (process_event (p, &ev), -1);
        assert_int_equal (p->state, s);
        assert_int_equal (n_emitted, 0);
        refused++;
      }
  assert_true (refused > 0);
  /* a sync line only while STARTING, the pidfd only while EXITING */
  assert_ptr_equal (process_action (PROCESS_RUNNING, PROCESS_EV_SYNC_LINE), process_illegal);
  assert_ptr_equal (process_action (PROCESS_EXITED, PROCESS_EV_PID_GONE), process_illegal);
  /* once the status is known, exitStatus, an exit line and (EXITED) the
   * hang-up change nothing */
  for (enum process_state s = PROCESS_EXITING; s <= PROCESS_CLEANUP; s++)
    {
      p->state = s;
      struct process_ev ev = { .type = PROCESS_EV_EXIT_LINE, .status = 3 };
      assert_int_equal (process_event (p, &ev), 0);
      assert_false (ev.taken);
      assert_int_equal (p->state, s);
      ev.type = PROCESS_EV_STATUS_FILE;
      assert_int_equal (process_event (p, &ev), 0);
      assert_int_equal (p->state, s);
    }
  p->state = PROCESS_EXITED;
  struct process_ev hup = { .type = PROCESS_EV_SHIM_GONE };
  assert_int_equal (process_event (p, &hup), 0);
  assert_int_equal (p->state, PROCESS_EXITED);
  assert_true (process_has_status (p));
  p->state = PROCESS_CLEANUP;
  assert_true (process_has_status (p));
  p->state = PROCESS_EXITING;
  assert_false (process_has_status (p));
  container_free (c);
  runtime_free (rt);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_container_table_complete),
    cmocka_unit_test (test_container_illegal_rejected),
    cmocka_unit_test (test_container_entries),
    cmocka_unit_test (test_process_table),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
