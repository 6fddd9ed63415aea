#!/bin/sh
# Docker 17.10 on ctrd: the real dockerd and docker CLI against the built
# daemon and shim (../shared/docker-17.10 or $CTRD_DOCKER_DIR); TAP.
docker_version=17.10 docker_dir=${CTRD_DOCKER_DIR:-} docker_dir_var=CTRD_DOCKER_DIR
. "$(cd "$(dirname "$0")" && pwd)/docker-suite.sh"
