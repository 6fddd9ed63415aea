#!/bin/sh
# The daemon SIGKILLed and restarted under live work (execs, OOM, restore, crun); TAP.
. "$(cd "$(dirname "$0")" && pwd)/python-test.sh"
