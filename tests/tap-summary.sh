#!/bin/sh
# Adds up the results automake's TAP driver recorded in every .trs file under
# the build tree and prints "N passed, N failed, N skipped". XFAIL (a check
# marked "# TODO" that failed) is not a pass: it counts as failed, as do FAIL,
# XPASS and ERROR.
# Usage: tap-summary.sh BUILDDIR
dir=${1:-.}
find "$dir" -name '*.trs' -print0 | xargs -0 -r cat | awk '
  /^:test-result: PASS/  { p++ }
  /^:test-result: XFAIL/ { f++ }
  /^:test-result: FAIL/  { f++ }
  /^:test-result: XPASS/ { f++ }
  /^:test-result: ERROR/ { f++ }
  /^:test-result: SKIP/  { s++ }
  END { printf "%d passed, %d failed, %d skipped\n", p, f, s }'
