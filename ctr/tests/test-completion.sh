#!/bin/bash
# completion/ctr.bash offers, per command, exactly the flags of that
# command's --help (plus --help). TAP.
src=${CTRD_TOP_SRCDIR:-../..}; bld=${CTRD_TOP_BUILDDIR:-../..}
ctr=$bld/ctr/ctr
source "$src/completion/ctr.bash"
cmds=("containers start" "containers exec" "containers kill" "containers update"
      "containers list" "containers watch" "containers stats" "containers state"
      "containers pause" "containers resume"
      "checkpoints create" "checkpoints list" "checkpoints delete" "events" "state" "version")
echo "1..$((${#cmds[@]} + 1))"
n=0; fail=0
flags() { grep -oE -- '(^|[^a-zA-Z0-9-])--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
for c in "${cmds[@]}"; do
  n=$((n + 1))
  # shellcheck disable=SC2086
  want=$({ "$ctr" $c --help | flags; echo --help; } | sort -u | tr '\n' ' ')
  # shellcheck disable=SC2206
  COMP_WORDS=(ctr $c --); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
  _ctr
  got=$(printf '%s\n' "${COMPREPLY[@]}" | sort -u | tr '\n' ' ')
  if [ "$want" = "$got" ]; then echo "ok $n - $c: completion = --help flags"
  else echo "not ok $n - $c: completion [$got] --help [$want]"; fail=1; fi
done
n=$((n + 1))
COMP_WORDS=(ctr ""); COMP_CWORD=1; COMPREPLY=(); _ctr
got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
want=$("$ctr" --help | sed -n '/^COMMANDS:/,/^$/p' | awk 'NF > 1 && $1 != "COMMANDS:" { sub(",", "", $1); print $1 }' | sort | tr '\n' ' ')
if [ "$got" = "$want" ]; then echo "ok $n - top-level commands complete as in --help"
else echo "not ok $n - top-level: completion [$got] --help [$want]"; fail=1; fi
exit $fail
