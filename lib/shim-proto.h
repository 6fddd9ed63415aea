/* The daemon↔shim protocol's names that both sides need (docs/state-directory.md "The shim";
 * libc only: the shim includes it). */
#ifndef CTRD_LIB_SHIM_PROTO_H
#define CTRD_LIB_SHIM_PROTO_H

/* Exit codes of containerd-shim: 0 done (for an init: `<runtime> delete`
 * succeeded); 1 a shim error (shim-log.json says which); 2 an init's
 * `<runtime> delete` failed or could not be run, so the runtime's state may
 * still be there: the daemon runs `<runtime> delete -f` before the id is
 * free again, and logs the runtime's message from the init's log.json. */
#define SHIM_EXIT_OK 0
#define SHIM_EXIT_ERROR 1
#define SHIM_EXIT_DELETE_FAILED 2

#endif
