# Sourced by the Docker suite's wrappers integration/test-docker*.sh, which set
# docker_version (17.10, 1.13, 1.12) and docker_dir (their override variable,
# may be empty): runs test-docker.py against the dockerd and docker of that
# version, from docker_dir or <top_srcdir>/../shared/docker-<version>.
# Without those binaries the suite is skipped (they are not part of
# scripts/setup.sh); once they are there, a missing part is a skip, or under
# CI=true a failing check (python-test.sh's rule).
here=$(cd "$(dirname "$0")" && pwd)
top_src=${CTRD_TOP_SRCDIR:-$here/..}
docker_dir=${docker_dir:-$top_src/../shared/docker-$docker_version}
if [ ! -x "$docker_dir/dockerd" ]; then
  echo "1..0 # SKIP no Docker $docker_version in $docker_dir (set $docker_dir_var)"
  exit 0
fi
skip_expected() {
  if [ "${CI:-}" = true ]; then printf '1..1\nnot ok 1 - %s (CI: expected part missing)\n' "$1"; exit 1; fi
  echo "1..0 # SKIP $1"; exit 0
}
if [ "$(id -u)" != 0 ]; then skip_expected "needs root"; fi
command -v python3 >/dev/null || skip_expected "python3 not installed"
CTRD_DOCKER_DIR=$docker_dir CTRD_DOCKER_VERSION=$docker_version
export CTRD_DOCKER_DIR CTRD_DOCKER_VERSION
exec python3 "$top_src/integration/test-docker.py"
