#!/bin/sh
# A full or read-only state filesystem loses no exit status (real daemon, shim, runc); TAP.
. "$(cd "$(dirname "$0")" && pwd)/python-test.sh"
