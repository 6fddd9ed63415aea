/* Which exits the event log already holds, for restart recovery: a daemon
 * killed between appending a process's `exit` to events.log and removing
 * that process's directory left a directory whose exit was reported. Built
 * once from the stored events before runtime_restore (which asks through
 * runtime_config.exit_reported), freed after. */
#ifndef CTRD_SUPERVISOR_REPORTED_H
#define CTRD_SUPERVISOR_REPORTED_H

#include <stdbool.h>

struct event_bus;
struct reported;

/* The last start-container / start-process / exit event of every process
 * in the bus's stored window. */
struct reported *reported_build (struct event_bus *bus);
void reported_free (struct reported *r);
/* runtime_config.exit_reported: is the last such event of (id, pid) its
 * exit? (start-container counts as the start of pid "init".) */
bool reported_exit (void *r, const char *id, const char *pid);

#endif
