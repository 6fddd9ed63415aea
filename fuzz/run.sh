#!/bin/sh
# make fuzz: build the libFuzzer targets with clang (ASan + UBSan + libFuzzer)
# and run each for a bounded time on a copy of its seed corpus.
#   fuzz/run.sh SRCDIR BUILDDIR [SECONDS per target, default 60] [TARGET...]
# BUILDDIR must be configured and built (generated protobuf-c code, config.h).
# Prints one line per target: executions, corpus size, crashes; exits 1 when
# a target crashed (its reproducer stays in BUILDDIR/fuzz/<target>/crashes/).
set -eu
S=$(cd "$1" && pwd)
B=$(cd "$2" && pwd)
SECS=${3:-60}
shift 2; [ $# -gt 0 ] && shift
TARGETS=${*:-"shim-json spec statefile events server"}
CC=${FUZZ_CC:-clang}
# the targets write their inputs as files (events.log is fsynced): tmpfs
[ -n "${TMPDIR:-}" ] || { [ -d /dev/shm ] && TMPDIR=/dev/shm && export TMPDIR; }
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install clang)" >&2; exit 1; }

CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -I$S -I$B -I$B/api -include $B/config.h $(pkg-config --cflags json-c libprotobuf-c libsystemd)"
LIB="$S/lib/error.c $S/lib/log.c $S/lib/util.c $S/lib/id.c $S/lib/timeutil.c $S/lib/goflag.c
  $S/lib/gotext.c"
PB="$B/api/api.pb-c.c $B/api/google/protobuf/timestamp.pb-c.c"

sources() {
  case $1 in
    shim-json) echo "$S/fuzz/fuzz-shim-json.c $S/shim/json.c $LIB" ;;
    spec) echo "$S/fuzz/fuzz-spec.c $S/specs/spec.c $S/specs/seccomp.c $S/specs/json-util.c $LIB $PB" ;;
    statefile) echo "$S/fuzz/fuzz-statefile.c $S/runtime/statefile.c $LIB" ;;
    events) echo "$S/fuzz/fuzz-events.c $S/supervisor/events.c $S/runtime/statefile.c $LIB $PB" ;;
    server) echo "-DCTRD_LIBFUZZER $S/api/tests/fuzz-server.c $S/api/server.c $S/api/call.c
      $S/api/call-request.c $S/api/grpc-wire.c $LIB $PB" ;;
  esac
}
seeds() {
  case $1 in
    server) echo "$S/api/tests/fuzz-corpus" ;;
    *) echo "$S/fuzz/corpus/$1" ;;
  esac
}
LIBS="$(pkg-config --libs json-c libprotobuf-c libsystemd libnghttp2 libseccomp)"

fail=0
for t in $TARGETS; do
  W="$B/fuzz/$t"
  rm -rf "$W/corpus" "$W/crashes"
  mkdir -p "$W/corpus" "$W/crashes"
  # shellcheck disable=SC2046,SC2086
  $CC $CFLAGS -o "$W/fuzz-$t" $(sources "$t") $LIBS
  cp -r "$(seeds "$t")/." "$W/corpus/"
  nseed=$(ls "$W/corpus" | wc -l)
  set +e
  ( cd "$W" && "./fuzz-$t" -max_total_time="$SECS" -rss_limit_mb=1024 -print_final_stats=1 \
      -artifact_prefix="$W/crashes/" corpus > "$W/log" 2>&1 )
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$W/log" | tail -1)
  crashes=$(ls "$W/crashes" | wc -l)
  echo "fuzz-$t: ${SECS}s, ${execs:-?} executions, corpus $nseed -> $(ls "$W/corpus" | wc -l) inputs, $crashes crashes (exit $rc)"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    fail=1
    tail -40 "$W/log" >&2
  fi
done
exit $fail
