#!/bin/sh
# Docker 17.x on ctrd: the real dockerd and docker CLI against the built daemon
# and shim (../shared/docker-17.10 or $CTRD_DOCKER_DIR); TAP.
here=$(cd "$(dirname "$0")" && pwd)
top_src=${CTRD_TOP_SRCDIR:-$here/..}
docker_dir=${CTRD_DOCKER_DIR:-$top_src/../shared/docker-17.10}
if [ ! -x "$docker_dir/dockerd" ]; then echo "1..0 # SKIP no Docker 17.10 in $docker_dir (set CTRD_DOCKER_DIR)"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root"; exit 0; fi
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 not installed"; exit 0; }
CTRD_DOCKER_DIR=$docker_dir; export CTRD_DOCKER_DIR
exec python3 "$top_src/integration/$(basename "$0" .sh).py"
