#!/bin/sh
# Docker 17.x on ctrd: the real dockerd and docker CLI against the built daemon
# and shim (../shared/docker-17.10 or $CTRD_DOCKER_DIR); TAP.
here=$(cd "$(dirname "$0")" && pwd)
top_src=${CTRD_TOP_SRCDIR:-$here/..}
docker_dir=${CTRD_DOCKER_DIR:-$top_src/../shared/docker-17.10}
if [ ! -x "$docker_dir/dockerd" ]; then echo "1..0 # SKIP no Docker 17.10 in $docker_dir (set CTRD_DOCKER_DIR)"; exit 0; fi
# The Docker binaries are there: skip_expected from here on.
skip_expected() {
  if [ "${CI:-}" = true ]; then printf '1..1\nnot ok 1 - %s (CI: expected part missing)\n' "$1"; exit 1; fi
  echo "1..0 # SKIP $1"; exit 0
}
if [ "$(id -u)" != 0 ]; then skip_expected "needs root"; fi
command -v python3 >/dev/null || skip_expected "python3 not installed"
CTRD_DOCKER_DIR=$docker_dir; export CTRD_DOCKER_DIR
exec python3 "$top_src/integration/$(basename "$0" .sh).py"
