/* Container and process IDs become directory names under the state dir and
 * arguments of runc: reject anything that could escape the directory or be
 * read as a flag. */
#ifndef CTRD_ID_H
#define CTRD_ID_H

#include "lib/error.h"

#define CTRD_ID_MAX 128

/* Valid: 1..CTRD_ID_MAX bytes; no '/', no control bytes (< 0x20, 0x7f);
 * does not start with '-' or '.' (so not "." or "..", and never a name the
 * state dir keeps for itself, such as .lock). `what` names the field in the
 * message ("container id", "process id"). On failure the error's gRPC code
 * is INVALID_ARGUMENT. */
int id_validate (const char *id, const char *what, struct ctrd_error **err);

#endif
