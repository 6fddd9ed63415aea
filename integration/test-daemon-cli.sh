#!/bin/sh
# End-to-end daemon tests (real containerd, shim, runc, crun); TAP.
if [ -z "$GRPC_PYTHON" ]; then echo "1..0 # SKIP GRPC_PYTHON is empty (no python with grpcio)"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root"; exit 0; fi
command -v runc >/dev/null || { echo "1..0 # SKIP runc not installed"; exit 0; }
here=$(cd "$(dirname "$0")" && pwd)
top_src=${CTRD_TOP_SRCDIR:-$here/..}
exec "$GRPC_PYTHON" "$top_src/integration/$(basename "$0" .sh).py"
