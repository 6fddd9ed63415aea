/* Reading a config.json: what the specs/ files share (json-util.h). */
#include <string.h>

#include "specs/json-util.h"

json_object *
spec_get (json_object *o, const char *key)
{
  json_object *v = NULL;
  if (o && json_object_is_type (o, json_type_object))
    json_object_object_get_ex (o, key, &v);
  return v;
}

bool
spec_cap_name_ok (const char *c)
{
  if (strncmp (c, "CAP_", 4) != 0 || !c[4])
    return false;
  for (c += 4; *c; c++)
    if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
      return false;
  return true;
}
