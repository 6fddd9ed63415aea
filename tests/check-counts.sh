#!/bin/sh
# Every test file's expected number of checks: a file that ran fewer (its
# checks skipped, a "1..0 # SKIP", a missing .trs) falls short. Counted per
# .trs: PASS, FAIL, XFAIL and XPASS results (SKIP and the driver's ERROR
# lines are not checks that ran). Prints one line per shortfall and exits 1
# when there is one.
# Usage: check-counts.sh BUILDDIR [DIR...]   (DIRs: the subdirectories whose
#        tests ran in BUILDDIR, default all of them)
# The minimums are the counts of full runs on the CI machine (Debian 12, root,
# runc, crun, CRIU from scripts/setup.sh, grpcio); raise one with its test.
dir=${1:-.}
[ $# -gt 0 ] && shift
dirs=${*:-lib api specs runtime shim supervisor ctr integration tests}
top=$(cd "$(dirname "$0")/.." && pwd)
docker_dir=${CTRD_DOCKER_DIR:-$top/../shared/docker-17.10}
docker_1_13_dir=${CTRD_DOCKER_1_13_DIR:-$top/../shared/docker-1.13}
docker_1_12_dir=${CTRD_DOCKER_1_12_DIR:-$top/../shared/docker-1.12}

table() {
  cat <<'EOF'
lib/tests/test-lib 13
lib/tests/test-goflag 8
lib/tests/test-gotext 5
api/tests/test-grpc-wire 5
api/tests/test-listen 4
api/tests/fuzz-server 22
api/tests/test-client-server 33
api/tests/test-client 60
api/tests/test-grpc-python.sh 54
specs/tests/test-spec 11
specs/tests/no-wire-types.sh 1
specs/tests/test-translate 13
runtime/tests/test-stats 9
runtime/tests/test-oom 5
runtime/tests/test-core 7
runtime/tests/test-lifecycle 4
runtime/tests/test-spawn 3
runtime/tests/test-ops 9
runtime/tests/no-wire-types.sh 1
shim/tests/test-json 2
shim/tests/test-shim 21
supervisor/tests/test-options 6
supervisor/tests/test-events 7
supervisor/tests/test-reported 2
supervisor/tests/test-api-events 5
supervisor/tests/test-api-ops 4
supervisor/tests/test-stats-message 2
supervisor/tests/test-journal 3
supervisor/tests/test-metrics 5
supervisor/tests/test-promtext 3
ctr/tests/test-ctr 12
ctr/tests/test-ctr-output 8
ctr/tests/test-completion.sh 17
integration/test-daemon.sh 69
integration/test-daemon-faults.sh 57
integration/test-state-fs.sh 20
integration/test-crash.sh 22
integration/test-daemon-cli.sh 13
integration/test-daemon-limits.sh 19
integration/test-state.sh 14
integration/test-scale.sh 10
integration/test-translate.sh 56
integration/test-daemon-restart.sh 28
integration/test-cgroup2.sh 17
integration/test-ops 87
integration/test-ctr.sh 76
tests/test-install-dirs.sh 7
tests/format-check.sh 1
packaging/test-deb.py 17
integration/test-metrics.sh 52
EOF
  # packaging/: .ci/run's Debian package step (tests/test-deb.py, its .trs in
  # build/packaging/), counted only when asked for: check-counts.sh build packaging
  # Docker 17.10 is expected only where ../shared has it.
  if [ -x "$docker_dir/dockerd" ]; then echo "integration/test-docker.sh 48"; fi
  # the same suite with Docker 1.13 and 1.12 (1.12: 3 checkpoint checks SKIP)
  if [ -x "$docker_1_13_dir/dockerd" ]; then echo "integration/test-docker-1.13.sh 48"; fi
  if [ -x "$docker_1_12_dir/dockerd" ]; then echo "integration/test-docker-1.12.sh 45"; fi
}

short=0
for d in $dirs; do
  for entry in $(table | awk -v d="$d" 'index($1, d "/") == 1 { print $1 ":" $2 }'); do
    t=${entry%:*} want=${entry##*:}
    trs=$dir/$t.trs
    if [ -f "$trs" ]; then
      got=$(grep -cE '^:test-result: (PASS|FAIL|XFAIL|XPASS)' "$trs")
    else
      got=0
    fi
    if [ "$got" -lt "$want" ]; then
      echo "check-counts: $trs: $got checks ran, expected at least $want"
      short=$((short + 1))
    fi
  done
done
[ "$short" -eq 0 ]
