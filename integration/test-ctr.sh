#!/bin/sh
# ctr against the real daemon (integration/test-ctr.py); TAP.
. "$(cd "$(dirname "$0")" && pwd)/python-test.sh"
