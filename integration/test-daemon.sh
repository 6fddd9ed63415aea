#!/bin/sh
# End-to-end daemon tests (real containerd, shim, runc, crun); TAP.
. "$(cd "$(dirname "$0")" && pwd)/python-test.sh"
