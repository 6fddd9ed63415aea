#!/bin/sh
# runtime/ knows no wire type (supervisor/stats-message.c translates the
# statistics): specs/'s check, on runtime/. TAP.
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../../specs/tests/no-wire-types.sh" "$(cd "$here/.." && pwd)"
