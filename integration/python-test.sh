# Sourced by the wrappers integration/test-*.sh of the Python tests: checks
# what every one needs, then runs <wrapper name>.py with the grpcio python.
# A missing part skips the whole test; under CI=true (.ci/run,
# scripts/test.sh) a part that scripts/setup.sh provides must not be missing,
# and its absence is a failing check instead.
skip_expected() {
  if [ "${CI:-}" = true ]; then printf '1..1\nnot ok 1 - %s (CI: expected part missing)\n' "$1"; exit 1; fi
  echo "1..0 # SKIP $1"; exit 0
}
if [ -z "$GRPC_PYTHON" ]; then skip_expected "GRPC_PYTHON is empty (no python with grpcio)"; fi
if [ "$(id -u)" != 0 ]; then skip_expected "needs root"; fi
command -v runc >/dev/null || skip_expected "runc not installed"
here=$(cd "$(dirname "$0")" && pwd)
top_src=${CTRD_TOP_SRCDIR:-$here/..}
exec "$GRPC_PYTHON" "$top_src/integration/$(basename "$0" .sh).py"
