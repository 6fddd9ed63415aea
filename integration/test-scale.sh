#!/bin/sh
# 100 containers at once, all SIGKILLed: invariants of a mass exit (issue 13); TAP.
. "$(cd "$(dirname "$0")" && pwd)/python-test.sh"
