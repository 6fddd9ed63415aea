#!/bin/sh
# Docker 1.13 on ctrd: the Docker suite with dockerd and docker 1.13.1
# (../shared/docker-1.13 or $CTRD_DOCKER_1_13_DIR); TAP.
docker_version=1.13 docker_dir=${CTRD_DOCKER_1_13_DIR:-} docker_dir_var=CTRD_DOCKER_1_13_DIR
. "$(cd "$(dirname "$0")" && pwd)/docker-suite.sh"
