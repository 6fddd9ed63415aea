#!/bin/sh
# Every flag that a binary's --help shows is in its man page and vice versa.
# Usage: check-man.sh  (env: CTRD_TOP_SRCDIR, CTRD_TOP_BUILDDIR). Prints TAP.
set -u
src=${CTRD_TOP_SRCDIR:-..}; bld=${CTRD_TOP_BUILDDIR:-..}
n=0; fail=0
flags() { grep -oE -- '(^|[^a-zA-Z0-9-])--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
check() { # name, help text file, man page
  n=$((n + 1))
  h=$(flags < "$2"); m=$(flags < "$3")
  only_help=$(printf '%s\n' "$h" | grep -vxF -e "$(printf '%s\n' "$m")" || true)
  only_man=$(printf '%s\n' "$m" | grep -vxF -e "$(printf '%s\n' "$h")" || true)
  if [ -z "$only_help" ] && [ -z "$only_man" ] && [ -n "$h" ]; then
    echo "ok $n - $1: --help and man page list the same flags"
  else
    echo "not ok $n - $1: --help and man page differ"
    [ -n "$only_help" ] && echo "# only in --help: $(echo $only_help)"
    [ -n "$only_man" ] && echo "# only in the man page: $(echo $only_man)"
    fail=1
  fi
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "1..2"
if [ -x "$bld/supervisor/containerd" ]; then
  "$bld/supervisor/containerd" --help > "$tmp/containerd.help" 2>&1
  check containerd "$tmp/containerd.help" "$src/man/containerd.8.scd"
else
  n=$((n + 1)); echo "ok $n - containerd: --help vs man page # SKIP containerd not built yet"
fi
if [ -x "$bld/ctr/ctr" ]; then
  # all commands' help pages together against the one man page
  { "$bld/ctr/ctr" --help
    for c in version state events containers checkpoints; do "$bld/ctr/ctr" "$c" --help; done
    for c in list start exec kill pause resume update stats watch state; do "$bld/ctr/ctr" containers "$c" --help; done
    for c in list create delete; do "$bld/ctr/ctr" checkpoints "$c" --help; done
  } > "$tmp/ctr.help" 2>&1
  check ctr "$tmp/ctr.help" "$src/man/ctr.1.scd"
else
  n=$((n + 1)); echo "ok $n - ctr: --help vs man page # SKIP ctr not built yet"
fi
exit $fail
