/* Pre-1.0 OCI bundles (runtime-spec 0.x and 1.0.0-rcN, as Docker 1.11-1.13
 * write them) translated to runtime-spec 1.0, which today's runtimes (runc
 * 1.1, crun) read: what they reject (process.capabilities as a list, the
 * seccomp syscall `name`, uint64 "-1" memory limits) or read differently
 * (resources.disableOOMKiller, resources.oomScoreAdj, blkio* names) gets the
 * 1.0 form with the meaning runc 1.0.0-rc2 gave it. docs/oci-translation.md
 * has the table, field by field.
 *
 * The client's files are never changed: the caller writes the translated
 * document into a bundle directory of its own (<state>/<id>/.bundle) and gives
 * that to the runtime; root.path then names the client's rootfs by absolute
 * path. A bundle of 1.0.0 or later is not translated at all. */
#ifndef CTRD_SPECS_TRANSLATE_H
#define CTRD_SPECS_TRANSLATE_H

#include <stdbool.h>

#include <json-c/json.h>

#include "lib/error.h"

/* The ociVersion a translated document gets. */
#define SPEC_TRANSLATED_VERSION "1.0.2"

/* True when s is a semantic version (MAJOR.MINOR.PATCH, optional
 * -PRERELEASE and +BUILD) older than 1.0.0: any 0.x.y, or 1.0.0 with a
 * pre-release ("1.0.0-rc2", "1.0.0-rc2-dev"). False for 1.0.0 and later and
 * for anything that is not a semantic version (passed on as it is). */
bool spec_version_before_1_0 (const char *s);

/* True when config's ociVersion is a string spec_version_before_1_0 accepts. */
bool spec_needs_translation (json_object *config);

/* Translate config (a document of spec_load_bundle, changed in place) to
 * runtime-spec SPEC_TRANSLATED_VERSION. bundle is the client's bundle
 * directory: a relative root.path, and a relative bind-mount source, become
 * absolute paths under it. Every field is only changed when it has a pre-1.0
 * form, so a config already partly in the 1.0 form keeps that part.
 * On success returns 0 and, when summary is not NULL, *summary (caller
 * frees): "; "-separated notes of what was changed, for the log. A value
 * with no 1.0 form (platform.os not linux, an architecture not this host's,
 * a capability that is not CAP_*, a relative namespace path, a wrongly typed
 * field) is -1 with *err INVALID_ARGUMENT
 * "bundle <b>: config.json: <field>: <why>"; config is then undefined. */
int spec_translate (json_object *config, const char *bundle, char **summary,
                    struct ctrd_error **err);

#endif
