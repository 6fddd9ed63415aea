/* OCI bundle specs: read and validate a bundle's config.json before anything
 * is spawned, validate its seccomp section against libseccomp, and build the
 * OCI process object of an exec (AddProcess).
 *
 * Every validation failure is GRPC_INVALID_ARGUMENT with a message naming the
 * bundle, the file and the offending key, e.g.
 *   "bundle /x: config.json: process.args: missing". */
#ifndef CTRD_SPECS_SPEC_H
#define CTRD_SPECS_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "lib/error.h"

/* Read <bundle>/config.json and check what the runtime would otherwise only
 * report obscurely after a shim was spawned: bundle absolute and existing,
 * JSON well-formed (json-c's error and position), an object, `process` an
 * object, `process.args` a non-empty array of strings, `process.cwd` an
 * absolute path, `root.path` naming an existing directory (relative to the
 * bundle unless absolute), `linux.seccomp` valid (spec_validate_seccomp).
 * Returns the parsed document (caller owns a reference) or NULL with *err. */
json_object *spec_load_bundle (const char *bundle, struct ctrd_error **err);

/* Validate a `linux.seccomp` object: defaultAction and every action known,
 * every architecture known to libseccomp, every syscall name resolvable on
 * the native architecture or one of the listed ones, every argument op known,
 * flags known. NULL is valid (no seccomp). Returns 0 or -1 with *err
 * (INVALID_ARGUMENT, message naming the bad value and where it is). */
int spec_validate_seccomp (json_object *seccomp, struct ctrd_error **err);

/* True when linux.namespaces has an entry of type "pid" without a path, i.e.
 * the container gets its own new PID namespace (its init's death kills all). */
bool spec_has_own_pid_ns (json_object *spec);

/* What an exec asks for: the API layer fills it from its request
 * (supervisor/api-add-process.c), so specs/ knows no wire type. Arrays are
 * (pointer, count); a string may be NULL (= not given). */
struct spec_user
{
  uint32_t uid, gid;
  const uint32_t *additional_gids;
  size_t n_additional_gids;
};

struct spec_rlimit
{
  const char *type; /* "RLIMIT_*"; NULL is an error */
  uint64_t hard, soft;
};

struct spec_exec
{
  bool terminal;
  const struct spec_user *user; /* NULL: the init's (config's process.user) */
  char *const *args;
  size_t n_args;
  char *const *env;
  size_t n_env;
  const char *cwd;
  char *const *capabilities;
  size_t n_capabilities;
  const struct spec_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  const char *apparmor_profile, *selinux_label;
};

/* The OCI process object of an exec (docs/api.md AddProcess,
 * docs/state-directory.md "process.json"), keys in the original's order: terminal (if true),
 * user {uid,gid[,additionalGids]} (the exec's, or the init's from config when
 * it has none), args, env (if any), cwd (the exec's, else config's
 * process.cwd, else "/"), capabilities (the exec's list in
 * bounding/effective/inheritable/permitted; omitted when the list is empty so
 * that runc uses the container's), rlimits, noNewPrivileges (if true),
 * apparmorProfile, selinuxLabel (if set). config may be NULL. Validation
 * (INVALID_ARGUMENT): args non-empty, cwd absolute, capability names
 * CAP_*, rlimit types RLIMIT_* and soft <= hard.
 * Returns a new object (caller owns) or NULL with *err. The caller appends
 * containerd's own keys (exec, containerdStdin, ...). */
json_object *spec_exec_process (json_object *config, const struct spec_exec *x,
                                struct ctrd_error **err);

#endif
