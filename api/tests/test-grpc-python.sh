#!/bin/sh
# Drive the test server with an independent client: Python grpcio (stubs
# generated from api.proto at test time), curl (HTTP/2 prior knowledge, for
# requests grpcio cannot make) and raw sockets. TAP output.
if [ -z "$GRPC_PYTHON" ]; then
  echo "1..0 # SKIP GRPC_PYTHON is empty (no python with grpcio)"
  exit 0
fi
top_src=${CTRD_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
top_build=${CTRD_TOP_BUILDDIR:-$(pwd)/..}
exec "$GRPC_PYTHON" "$top_src/api/tests/grpc_test.py" "$top_build/api/tests/test-server" "$top_src/api"
