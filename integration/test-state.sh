#!/bin/sh
# State from memory (issue 13 #2): real containerd, shim, runc, grpcio; TAP.
. "$(cd "$(dirname "$0")" && pwd)/python-test.sh"
