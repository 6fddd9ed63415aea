#!/bin/sh
# ctr against the real daemon (integration/test-ctr.py); TAP.
if [ -z "$GRPC_PYTHON" ]; then echo "1..0 # SKIP GRPC_PYTHON is empty (the daemon harness needs grpcio)"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root"; exit 0; fi
command -v runc >/dev/null || { echo "1..0 # SKIP runc not installed"; exit 0; }
here=$(cd "$(dirname "$0")" && pwd)
top_src=${CTRD_TOP_SRCDIR:-$here/..}
exec "$GRPC_PYTHON" "$top_src/integration/test-ctr.py"
