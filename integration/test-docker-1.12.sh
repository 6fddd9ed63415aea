#!/bin/sh
# Docker 1.12 on ctrd: the Docker suite with dockerd and docker 1.12.6
# (../shared/docker-1.12 or $CTRD_DOCKER_1_12_DIR); TAP.
docker_version=1.12 docker_dir=${CTRD_DOCKER_1_12_DIR:-} docker_dir_var=CTRD_DOCKER_1_12_DIR
. "$(cd "$(dirname "$0")" && pwd)/docker-suite.sh"
