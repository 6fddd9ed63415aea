/* What spec.c, seccomp.c and translate.c share for reading a config.json
 * (json-util.c). */
#ifndef CTRD_SPECS_JSON_UTIL_H
#define CTRD_SPECS_JSON_UTIL_H

#include <stdbool.h>

#include <json-c/json.h>

/* o[key] when o is an object that has it, else NULL (also for o NULL). */
json_object *spec_get (json_object *o, const char *key);

/* CAP_ followed by upper-case letters, digits and '_' (runc 1.1 only warns
 * about names it does not know, so the exact list is not enforced). */
bool spec_cap_name_ok (const char *c);

#endif
