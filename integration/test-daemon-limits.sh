#!/bin/sh
# Slow, idle and greedy clients: queue bounds, connection and stream limits, RSS (real containerd, shim, runc, grpcio); TAP.
. "$(cd "$(dirname "$0")" && pwd)/python-test.sh"
